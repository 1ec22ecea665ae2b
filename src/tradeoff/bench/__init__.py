"""Benchmarks behind ``tradeoff bench <name> --json``.

Pure logic (workloads, statistics, result shaping) lives apart from the modules that start servers,
brokers and databases, so it can be unit-tested without timing anything.
"""

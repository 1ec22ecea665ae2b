"""Tradeoff: a privacy-first IoT platform for small retailers and vending operators."""

__version__ = "0.1.0"

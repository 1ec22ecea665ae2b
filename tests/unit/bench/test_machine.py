"""Reading the CPU model for the report."""

from tradeoff.bench.machine import cpu_model


def test_cpu_model_comes_from_the_first_model_name() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\n"
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert cpu_model("nothing here") == "unknown"

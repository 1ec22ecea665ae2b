"""The JSON shape of ``tradeoff bench ingest`` and the checks behind its verdicts."""

from typing import Any

from tradeoff.bench.report import (
    ExactlyOnce,
    Measurement,
    PathResult,
    bench_report,
    best_of,
    check_exactly_once,
    measure_deliveries,
)


def test_exactly_once_when_every_id_is_stored_once() -> None:
    check = check_exactly_once(["a", "b", "c"], ["c", "a", "b"])
    assert check.ok
    assert (check.expected, check.stored) == (3, 3)


def test_exactly_once_reports_missing_duplicated_and_unexpected_ids() -> None:
    check = check_exactly_once(["a", "b", "c"], ["a", "a", "c", "x"])
    assert not check.ok
    assert (check.missing, check.duplicated, check.unexpected, check.stored) == (1, 1, 1, 4)


def test_deliveries_count_each_index_once_from_first_send_to_last_delivery() -> None:
    sent = [10.0, 10.5, 11.0]
    measured = measure_deliveries(sent, [(10.2, 0), (10.9, 1), (10.95, 1), (12.0, 2)])
    assert measured.events == 3
    assert measured.seconds == 2.0
    assert sorted(round(x, 3) for x in measured.latencies) == [0.2, 0.4, 1.0]


def path(events_per_s: float, raw_events_per_s: float, *, ok: bool = True, target: float | None = 100.0) -> PathResult:
    once = ExactlyOnce(expected=10, stored=10, missing=0 if ok else 1, duplicated=0, unexpected=0)
    return PathResult(
        name="p",
        description="d",
        path=Measurement(int(events_per_s), 1.0, [0.010, 0.020, 0.030]),
        raw=Measurement(int(raw_events_per_s), 1.0, [0.001]),
        raw_description="r",
        exactly_once=once,
        target_events_per_s=target,
    )


def test_path_json_carries_rate_latency_ratio_and_verdict() -> None:
    out: dict[str, Any] = path(600, 1000).to_json()
    assert out["events_per_s"] == 600
    assert out["raw_events_per_s"] == 1000
    assert out["ratio_to_raw"] == 0.6
    assert out["ack_p50_ms"] == 20.0
    assert out["meets_target"] is True
    assert out["stored_exactly_once"] is True
    expected_keys = {"name", "events", "events_per_s", "ack_p50_ms", "ack_p99_ms", "raw_events_per_s"}
    assert expected_keys | {"ratio_to_raw", "target_events_per_s", "meets_target"} <= out.keys()


def test_a_target_needs_the_rate_the_ratio_and_exactly_once() -> None:
    assert not path(90, 100).meets_target  # below the absolute target
    assert not path(400, 1000).meets_target  # below half the raw limit
    assert not path(600, 1000, ok=False).meets_target  # lost an event
    assert path(60, 100, target=None).meets_target  # only the ratio applies


def test_report_lists_paths_and_whether_all_targets_were_met() -> None:
    report = bench_report(date="2026-11-29", machine={"cpu_count": 2}, paths=[path(600, 1000), path(10, 1000)])
    assert [p["name"] for p in report["paths"]] == ["p", "p"]
    assert report["all_targets_met"] is False
    assert bench_report(date="d", machine={}, paths=[])["all_targets_met"] is False


def test_best_of_takes_the_fastest_runs_but_never_hides_a_loss() -> None:
    ok = ExactlyOnce(expected=1, stored=1, missing=0, duplicated=0, unexpected=0)
    lost = ExactlyOnce(expected=1, stored=0, missing=1, duplicated=0, unexpected=0)
    slow, fast = Measurement(100, 1.0, [0.1]), Measurement(200, 1.0, [0.1])
    path, raw, stored = best_of([(slow, fast, ok), (fast, slow, lost)])
    assert (path, raw) == (fast, fast)
    assert stored == lost
    assert best_of([(slow, slow, ok)])[2] == ok

"""The committed tail serves only unbroken runs of seqs: a gap always sends the runner to the log."""

from datetime import UTC, datetime

from tradeoff.core.events import Event
from tradeoff.platform.tail import CommittedTail

AT = datetime(2026, 11, 29, 12, tzinfo=UTC)


def event(seq: int, type_: str = "device.heartbeat") -> Event:
    return Event(seq, "t", f"e{seq}", type_, 1, "gw-1", AT, AT, "http", {})


def test_an_unbroken_run_after_the_position_is_served() -> None:
    tail = CommittedTail()
    tail.publish([event(5), event(6), event(7, "device.telemetry"), event(8)])
    wanted, end = tail.run_after(4, types=["device.heartbeat"], limit=100) or ([], 0)
    assert [e.seq for e in wanted] == [5, 6, 8] and end == 8
    assert tail.run_after(8, types=None, limit=100) is None  # nothing after the last entry
    assert tail.run_after(3, types=None, limit=100) is None  # seq 4 is not held: read the log


def test_a_gap_ends_the_run() -> None:
    tail = CommittedTail()
    tail.publish([event(1), event(2)])
    tail.publish([event(4), event(5)])  # seq 3: another writer's, or a rolled-back value
    assert tail.run_after(0, types=None, limit=100) == ([event(1), event(2)], 2)
    assert tail.run_after(2, types=None, limit=100) is None


def test_the_limit_counts_wanted_entries_and_the_end_stops_there() -> None:
    tail = CommittedTail()
    tail.publish([event(1), event(2, "x"), event(3), event(4)])
    assert tail.run_after(0, types=["device.heartbeat"], limit=2) == ([event(1), event(3)], 3)
    assert tail.run_after(0, types=["y"], limit=2) == ([], 4)  # nothing wanted: the run is still covered


def test_publishing_out_of_order_still_joins_up() -> None:
    tail = CommittedTail()
    tail.publish([event(3), event(4)])  # the later commit's thread published first
    assert tail.run_after(0, types=None, limit=10) is None
    tail.publish([event(1), event(2)])
    assert tail.run_after(0, types=None, limit=10) == ([event(1), event(2), event(3), event(4)], 4)


def test_capacity_and_trim_forget_the_oldest() -> None:
    tail = CommittedTail(capacity=3)
    tail.publish([event(seq) for seq in range(1, 6)])
    assert len(tail) == 3 and tail.run_after(2, types=None, limit=10) == ([event(3), event(4), event(5)], 5)
    tail.trim(4)
    assert len(tail) == 1 and tail.run_after(4, types=None, limit=10) == ([event(5)], 5)


def test_runs_of_unwanted_types_are_passed_whole_and_a_position_inside_a_run_is_served() -> None:
    tail = CommittedTail()
    dex = [event(3, "vending.dex"), event(4, "vending.dex"), event(6, "vending.dex")]
    tail.publish([event(1), event(2)])
    tail.publish(dex[:2])
    tail.publish([event(5), dex[2]])
    assert tail.run_after(0, types=["vending.dex"], limit=10) == (dex, 6)
    assert tail.run_after(0, types=["device.telemetry"], limit=10) == ([], 6)
    assert tail.run_after(3, types=None, limit=2) == ([dex[1], event(5)], 5)
    tail.trim(3)
    assert len(tail) == 3 and tail.run_after(2, types=None, limit=10) is None

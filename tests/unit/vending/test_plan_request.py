"""Opening hours and truck shifts as absolute UTC windows (overnight shifts, day boundaries, DST)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tradeoff.vending.fleet import Machine, Truck
from tradeoff.vending.plan_request import next_shift, opening_windows

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # Monday 06:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def machine(hours: dict[str, list[list[str]]]) -> Machine:
    return Machine("m", "t", "M", None, None, None, None, 0, 0, "Europe/Berlin", hours, 10, 4, None, NOW)


def truck(start: str, end: str) -> Truck:
    return Truck("k", "t", "d", "T", 100, None, start, end, NOW)


def iso(windows: list[tuple[datetime, datetime]]) -> list[tuple[str, str]]:
    return [(a.isoformat(), b.isoformat()) for a, b in windows]


def test_no_hours_means_open_throughout() -> None:
    (window,) = opening_windows(machine({}), NOW, NOW + timedelta(days=2))
    assert (window.start, window.end) == (NOW, NOW + timedelta(days=2))


def test_windows_are_clipped_and_in_utc() -> None:
    hours = {"mon": [["05:00", "12:00"]], "tue": [["08:00", "24:00"]], "wed": [["00:00", "02:00"]]}
    windows = opening_windows(machine(hours), NOW, NOW + timedelta(days=3))
    assert iso([(w.start, w.end) for w in windows]) == [
        ("2026-11-30T05:00:00+00:00", "2026-11-30T11:00:00+00:00"),  # opened before now: from now
        ("2026-12-01T07:00:00+00:00", "2026-12-02T01:00:00+00:00"),  # Tue 08:00 to Wed 02:00, merged over midnight
    ]


def test_summer_time_shifts_the_utc_window() -> None:
    summer = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
    (window,) = opening_windows(machine({"mon": [["07:00", "19:00"]]}), summer, summer + timedelta(days=1))
    assert (window.start.hour, window.end.hour) == (5, 17)  # CEST is UTC+2


def test_shift_in_progress_starts_now_and_overnight_shift_ends_next_day() -> None:
    assert next_shift(truck("06:00", "14:00"), BERLIN, NOW + timedelta(hours=2)) == (
        NOW + timedelta(hours=2),
        NOW + timedelta(hours=8),
    )
    start, end = next_shift(truck("22:00", "06:00"), BERLIN, NOW + timedelta(hours=3))  # 09:00 local
    assert (start.isoformat(), end.isoformat()) == ("2026-11-30T21:00:00+00:00", "2026-12-01T05:00:00+00:00")
    start, _ = next_shift(truck("06:00", "14:00"), BERLIN, NOW + timedelta(hours=10))  # after today's shift
    assert start.isoformat() == "2026-12-01T05:00:00+00:00"

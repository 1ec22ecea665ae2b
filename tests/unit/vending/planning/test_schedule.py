import numpy as np

from tradeoff.vending.planning.schedule import Candidate, ZoneTuning, today, zones


def test_zones_group_machines_within_the_radius() -> None:
    # depot 0; machines 1, 2 close together, 3 far away
    distance = np.array([[0, 5000, 5200, 9000], [5000, 0, 800, 12000], [5200, 800, 0, 12000], [9000, 12000, 12000, 0]])
    assert zones(distance, locations=[1, 2, 3], radius_m=1000) == [0, 0, 1]
    assert zones(distance, locations=[1, 2, 3], radius_m=100) == [0, 1, 2]


def test_a_zone_visited_today_takes_its_soon_due_machines_along() -> None:
    tuning = ZoneTuning(early_m=1000)
    candidates = [Candidate(0, zone=0, last=0, units=50), Candidate(1, zone=0, last=2, units=50)]
    serve, open_today = today(candidates, zone_cost=[8000], capacity=1000, tuning=tuning)
    assert serve == {0, 1} and open_today == {0}  # 2 days early (2,000) beats another trip (8,000)


def test_a_zone_nobody_needs_today_waits() -> None:
    candidates = [Candidate(0, zone=0, last=0, units=50), Candidate(1, zone=1, last=2, units=50)]
    serve, open_today = today(candidates, zone_cost=[8000, 8000], capacity=1000, tuning=ZoneTuning())
    assert serve == {0} and open_today == {0}


def test_capacity_pushes_pulled_machines_to_later_days() -> None:
    candidates = [Candidate(0, zone=0, last=0, units=80), Candidate(1, zone=0, last=1, units=80)]
    serve, _ = today(candidates, zone_cost=[8000], capacity=100, tuning=ZoneTuning())
    assert serve == {0}


def test_no_candidates() -> None:
    assert today([], zone_cost=[], capacity=10, tuning=ZoneTuning()) == (set(), set())

import orjson
import pytest

from tests.unit.vending.planning.fixtures import column, machine, request
from tradeoff.core.errors import InvalidInput
from tradeoff.vending.planning.codec import plan_to_json, request_from_json, request_to_json
from tradeoff.vending.planning.planner import plan


def test_request_round_trips_through_json() -> None:
    original = request([machine("a", east_m=1500, columns=(column(on_hand=12, rate=8),), called=True)], policy="case")
    parsed = request_from_json(orjson.loads(orjson.dumps(request_to_json(original))))
    assert parsed.now == original.now and parsed.case_policy == "case"
    assert parsed.machines[0] == original.machines[0]
    assert list(parsed.trucks) == list(original.trucks)


def test_plan_serializes() -> None:
    result = plan(request([machine("a", east_m=1500, columns=(column(on_hand=12, rate=8),))]), seconds=0.05)
    data = orjson.loads(orjson.dumps(plan_to_json(result)))
    assert data["trucks"][0]["stops"][0]["machine_id"] == "a" and data["trucks"][0]["stops"][0]["picks"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("now"), "now"),
        (lambda d: d.update(now="2026-03-02T06:00:00"), "now"),
        (lambda d: d.update(case_policy="pallet"), "case_policy"),
        (lambda d: d["machines"][0].pop("location"), "machines[0].location"),
        (lambda d: d["machines"][0]["columns"][0].update(on_hand="lots"), "machines[0].columns[0].on_hand"),
        (lambda d: d["trucks"][0].update(truck_id=""), "trucks[0].truck_id"),
    ],
)
def test_bad_input_names_the_field(mutate: object, field: str) -> None:
    data = request_to_json(request([machine("a", east_m=1500, columns=(column(on_hand=12, rate=8),))]))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as error:
        request_from_json(data)
    assert error.value.field == field

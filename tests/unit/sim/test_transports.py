from collections.abc import Callable

import httpx
import orjson
import pytest

from tradeoff.sim.base import EventDict, EventFactory
from tradeoff.sim.mqtt_sender import event_topic
from tradeoff.sim.transports import HttpSender

Handler = Callable[[httpx.Request], httpx.Response]


def event(source: str, n: int) -> EventDict:
    return {
        "event_id": f"r-{source}-hb-{n}",
        "type": "device.heartbeat",
        "occurred_at": "2026-11-27T15:00:00Z",
        "source": source,
        "payload": {},
    }


def accept_all(request: httpx.Request) -> httpx.Response:
    items = orjson.loads(request.content)["events"]
    results = [{"index": i, "status": "accepted", "event_id": e["event_id"]} for i, e in enumerate(items)]
    return httpx.Response(200, json={"results": results})


def sender(handler: Handler, *, batch_size: int = 500, max_attempts: int = 6) -> HttpSender:
    client = httpx.Client(base_url="http://platform", transport=httpx.MockTransport(handler))
    keys = {"a": "key-a", "b": "key-b"}
    return HttpSender(
        "http://platform",
        keys=keys,
        client=client,
        sleep=lambda _s: None,
        batch_size=batch_size,
        max_attempts=max_attempts,
    )


def test_batches_go_out_per_device_key() -> None:
    seen: list[tuple[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events"
        body = orjson.loads(request.content)
        seen.append((request.headers["authorization"], [e["source"] for e in body["events"]]))
        return accept_all(request)

    http = sender(handler, batch_size=2)
    http.send([event("a", 1), event("b", 1), event("a", 2), event("a", 3), event("nobody", 1)])
    assert seen == [("Bearer key-a", ["a", "a"]), ("Bearer key-a", ["a"]), ("Bearer key-b", ["b"])]
    assert (http.stats.attempted, http.stats.delivered, http.stats.failed) == (5, 4, 1)


def test_retries_connection_errors_and_5xx_then_counts_results() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused")
        if calls["n"] == 2:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        results = [
            {"index": 0, "status": "accepted", "event_id": "r-a-hb-1"},
            {"index": 1, "status": "duplicate", "event_id": "r-a-hb-2"},
            {"index": 2, "status": "rejected", "error": {"field": "payload", "reason": "bad"}},
        ]
        return httpx.Response(200, json={"results": results})

    http = sender(handler)
    http.send([event("a", 1), event("a", 2), event("a", 3)])
    assert calls["n"] == 3
    stats = http.stats
    assert (stats.delivered, stats.duplicates, stats.rejected, stats.retries, stats.failed) == (1, 1, 1, 2, 0)


def test_client_errors_are_not_retried_and_retries_are_bounded() -> None:
    calls = {"n": 0}

    def unauthorized(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(401, json={"error": {"message": "unknown API key"}})

    http = sender(unauthorized)
    http.send([event("a", 1)])
    assert calls["n"] == 1 and http.stats.failed == 1

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    http = sender(down, max_attempts=3)
    http.send([event("a", 1), event("a", 2)])
    assert (http.stats.failed, http.stats.retries) == (2, 2)


@pytest.mark.parametrize("prefix", ["tradeoff", "test-1"])
def test_mqtt_topic_follows_the_platform_scheme(prefix: str) -> None:
    assert event_topic(prefix, "demo", event("vm-1", 1)) == f"{prefix}/demo/vm-1/device.heartbeat"


def raw_dex(source: str) -> EventDict:
    return EventFactory("r").raw(source=source, format="dex", body=b"DXS*1*VA*V0/6*1\r\n", type="vending.dex_audit")


def test_a_vendor_format_message_is_posted_alone_as_its_body_with_its_decoder() -> None:
    seen: list[tuple[str | None, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("format") == "dex":
            seen.append((request.url.params.get("format"), request.content))
            return httpx.Response(200, json={"results": [{"index": 0, "status": "accepted", "event_id": "x"}]})
        return accept_all(request)

    http = sender(handler)
    http.send([event("a", 1), raw_dex("a"), event("a", 2)])
    assert seen == [("dex", b"DXS*1*VA*V0/6*1\r\n")]
    assert (http.stats.attempted, http.stats.delivered) == (3, 3)


def test_a_vendor_format_message_goes_to_its_decoder_topic() -> None:
    assert event_topic("tradeoff", "demo", raw_dex("vm-1")) == "tradeoff/demo/vm-1/dex"

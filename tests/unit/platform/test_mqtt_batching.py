"""How the MQTT ingestor cuts its inbox into batches: at once when quiet, lingering for more under load."""

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tradeoff.platform import mqtt
from tradeoff.platform.mqtt import MqttIngestor, Received


def _ingestor(batch_max: int) -> MqttIngestor:
    pipeline: Any = SimpleNamespace(engine=None)  # batching never touches the pipeline
    return MqttIngestor(pipeline=pipeline, url="mqtt://127.0.0.1:1", client_id="batching-test", batch_max=batch_max)


def _message(mid: int) -> Received:
    return Received(1, mid, 1, "tradeoff/t/d/device.telemetry", b"{}")


def _put_later(ingestor: MqttIngestor, mids: range, delay: float) -> threading.Thread:
    def put() -> None:
        time.sleep(delay)
        for mid in mids:
            ingestor._inbox.put(_message(mid))

    thread = threading.Thread(target=put)
    thread.start()
    return thread


def test_quiet_inbox_is_committed_at_once_without_waiting_for_later_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "LINGER_SECONDS", 5.0)
    ingestor = _ingestor(batch_max=10)
    ingestor._inbox.put(_message(1))
    later = _put_later(ingestor, range(2, 4), delay=0.3)
    try:
        assert [m.mid for m in ingestor._next_batch()] == [1]  # the previous batch was empty: no load
    finally:
        later.join()
    assert [m.mid for m in ingestor._next_batch()] == [2, 3]


def test_under_load_a_batch_waits_for_more_until_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "LINGER_SECONDS", 5.0)
    ingestor = _ingestor(batch_max=12)
    for mid in range(mqtt.LINGER_MIN_BATCH):
        ingestor._inbox.put(_message(mid))
    assert len(ingestor._next_batch()) == mqtt.LINGER_MIN_BATCH  # arrived at once: a high rate
    ingestor._inbox.put(_message(100))
    later = _put_later(ingestor, range(101, 112), delay=0.1)
    try:
        batch = ingestor._next_batch()  # returns once full, long before the 5 s linger ends
    finally:
        later.join()
    assert [m.mid for m in batch] == list(range(100, 112))


def test_a_slow_trickle_is_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt, "LINGER_SECONDS", 5.0)
    ingestor = _ingestor(batch_max=100)
    ingestor._taken_at, ingestor._taken_count = time.monotonic() - 1.0, 50  # 50 messages/s
    ingestor._inbox.put(_message(1))
    later = _put_later(ingestor, range(2, 3), delay=0.3)
    try:
        assert [m.mid for m in ingestor._next_batch()] == [1]
    finally:
        later.join()

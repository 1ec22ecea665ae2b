import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from tests.unit.sim.fakes import FakeTime, RecordingSender
from tradeoff.sim.base import EventDict, GeneratorContext
from tradeoff.sim.clock import SimClock
from tradeoff.sim.generators import build_generators
from tradeoff.sim.runner import Simulator
from tradeoff.sim.transports import assign_transports
from tradeoff.sim.world import demo_world

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def make(speed: float = 60, step: float = 1.0) -> tuple[Simulator, RecordingSender, RecordingSender, FakeTime]:
    fake = FakeTime()
    clock = SimClock(start=START, speed=speed, monotonic=fake.monotonic, sleep=fake.sleep)
    world = demo_world()
    ctx = GeneratorContext(world=world, start=START, seed=1, run_id="t")
    http, mqtt = RecordingSender("http"), RecordingSender("mqtt")
    routes = assign_transports([d.external_id for d in world.devices], mqtt=True)
    sim = Simulator(
        clock=clock,
        generators=build_generators(ctx),
        senders={"http": http, "mqtt": mqtt},
        routes=routes,
        step_seconds=step,
        info={"seed": 1},
    )
    return sim, http, mqtt, fake


def test_run_for_a_duration_covers_speed_times_the_simulated_time() -> None:
    sim, http, mqtt, fake = make(speed=60)
    summary = sim.run(duration=10)  # ten real seconds = ten simulated minutes
    assert sim.last == START + timedelta(minutes=10)
    assert sum(fake.slept) == 10 and sim.steps == 10
    routes = sim.routes
    assert http.events and mqtt.events
    assert all(routes[e["source"]] == "http" for e in http.events)
    assert all(routes[e["source"]] == "mqtt" for e in mqtt.events)
    assert {routes[d] for d in routes} == {"http", "mqtt"}
    assert summary["seed"] == 1 and summary["events"] == len(http.events) + len(mqtt.events)
    assert summary["sent"]["http"]["device.heartbeat"] == sum(1 for e in http.events if e["type"] == "device.heartbeat")
    assert summary["delivery"]["mqtt"]["delivered"] == len(mqtt.events)
    assert summary["sim_now"] == "2026-11-27T15:10:00.000Z"
    sim.close()
    sim.close()  # idempotent
    assert http.closed and mqtt.closed


def test_a_stopped_simulator_ends_at_the_next_step() -> None:
    sim, http, _mqtt, _fake = make()
    sim.on_step = lambda s: s.stop() if s.steps == 3 else None
    sim.run()
    assert sim.steps == 3 and sim.stopped


def test_stop_from_another_thread_while_sleeping() -> None:
    clock = SimClock(start=START, speed=1)
    sender = RecordingSender("http")
    sim = Simulator(clock=clock, generators=[], senders={"http": sender}, step_seconds=30)
    thread = threading.Thread(target=sim.run)
    thread.start()
    sim.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


class Interrupting(RecordingSender):
    def send(self, events: Sequence[EventDict]) -> None:
        raise KeyboardInterrupt


def test_ctrl_c_ends_the_run_cleanly() -> None:
    fake = FakeTime()
    clock = SimClock(start=START, speed=60, monotonic=fake.monotonic, sleep=fake.sleep)
    ctx = GeneratorContext(world=demo_world(), start=START, seed=1, run_id="t")
    sim = Simulator(clock=clock, generators=build_generators(ctx), senders={"http": Interrupting("http")})
    summary = sim.run(duration=60)
    assert sim.stopped and summary["steps"] == 0


class Fixed:
    name = "fixed"

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        yield {"event_id": f"x-{now.isoformat()}", "type": "t.x", "source": "unknown-device", "payload": {}}


def test_unrouted_sources_use_the_default_transport() -> None:
    fake = FakeTime()
    clock = SimClock(start=START, speed=1, monotonic=fake.monotonic, sleep=fake.sleep)
    http, mqtt = RecordingSender("http"), RecordingSender("mqtt")
    sim = Simulator(clock=clock, generators=[Fixed()], senders={"http": http, "mqtt": mqtt}, routes={"a": "mqtt"})
    assert sim.step(START + timedelta(seconds=1)) == 1
    assert len(http.events) == 1 and not mqtt.events
    assert sim.transport_for("a") == "mqtt"


def test_assign_transports() -> None:
    devices = ["c", "a", "b", "d"]
    assert set(assign_transports(devices, mqtt=False).values()) == {"http"}
    assert assign_transports(devices, mqtt=True) == {"a": "http", "b": "mqtt", "c": "http", "d": "mqtt"}

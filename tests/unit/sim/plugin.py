"""A capability's simulator module stand-in: importing it registers a generator."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from tradeoff.sim.base import EventDict, GeneratorContext
from tradeoff.sim.generators import register_generator


class Knock:
    name = "knock"

    def __init__(self, ctx: GeneratorContext) -> None:
        self.ctx = ctx

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        yield self.ctx.events.make(type="test.knock", source="pos-1", occurred_at=now, payload={})


register_generator("knock", Knock)

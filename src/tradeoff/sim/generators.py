"""The generator registry: capabilities plug their generators in here.

A generator factory takes a ``GeneratorContext`` (world, start, seed, run id, shared event factory) and
returns a ``Generator``. Register it under a name once, at import time of the capability's ``sim`` module::

    from tradeoff.sim.generators import register_generator

    register_generator("shoppers", lambda ctx: ShopperGenerator(ctx))

and list that module in ``GENERATOR_MODULES`` (as capabilities list themselves in
``platform.container.CAPABILITIES``), so it is imported before any simulator is built.
``build_generators`` instantiates the chosen ones (all registered by default) in registration order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from tradeoff.sim.base import EventDict, EventFactory, Every, Generator, GeneratorContext, iso
from tradeoff.sim.devices import HEARTBEAT, TELEMETRY, HeartbeatGenerator, TelemetryGenerator

GeneratorFactory = Callable[[GeneratorContext], Generator]

GENERATORS: dict[str, GeneratorFactory] = {}

# Modules whose import registers more generators, e.g. "tradeoff.presence.sim" (imported lazily).
GENERATOR_MODULES: list[str] = ["tradeoff.sim.probe", "tradeoff.presence.sim", "tradeoff.vending.sim"]


def register_generator(name: str, factory: GeneratorFactory, *, replace: bool = False) -> None:
    if name in GENERATORS and not replace:
        raise ValueError(f"generator {name!r} is already registered")
    GENERATORS[name] = factory


def load_generator_modules() -> None:
    for module in GENERATOR_MODULES:
        importlib.import_module(module)


def build_generators(ctx: GeneratorContext, names: Iterable[str] | None = None) -> list[Generator]:
    load_generator_modules()
    chosen = list(GENERATORS) if names is None else list(names)
    unknown = [name for name in chosen if name not in GENERATORS]
    if unknown:
        raise ValueError(f"unknown generator(s) {', '.join(unknown)}; known: {', '.join(GENERATORS)}")
    return [GENERATORS[name](ctx) for name in chosen]


register_generator("heartbeat", HeartbeatGenerator)
register_generator("telemetry", TelemetryGenerator)

__all__ = [
    "GENERATORS",
    "GENERATOR_MODULES",
    "HEARTBEAT",
    "TELEMETRY",
    "EventDict",
    "EventFactory",
    "Every",
    "Generator",
    "GeneratorContext",
    "GeneratorFactory",
    "HeartbeatGenerator",
    "TelemetryGenerator",
    "build_generators",
    "iso",
    "load_generator_modules",
    "register_generator",
]

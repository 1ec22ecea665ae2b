"""Simulator of a demo tenant: a store with a floor plan, devices, a clock, and pluggable generators that
feed the platform through its real transports (HTTP and MQTT). See ``docs/simulator.md``."""

from tradeoff.sim.clock import SimClock
from tradeoff.sim.generators import Generator, GeneratorContext, build_generators, register_generator
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import DEMO_PASSWORD, DEMO_USERNAME, Credentials, seed_world
from tradeoff.sim.session import SimOptions, build_simulator
from tradeoff.sim.world import World, demo_world

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "Credentials",
    "Generator",
    "GeneratorContext",
    "SimClock",
    "SimOptions",
    "Simulator",
    "World",
    "build_generators",
    "build_simulator",
    "demo_world",
    "register_generator",
    "seed_world",
]

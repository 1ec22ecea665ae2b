"""The exact sensitive values the simulator planted in raw inputs, for the breach drill.

``<var_dir>/sim/planted.json`` is ``{"kind": ["value", …]}`` (see ``tradeoff.privacy.breach.load_planted``);
``tradeoff privacy breach-drill`` counts every occurrence of every value in the database dump, the logs
and the backups. Several runs against the same platform add to the file: what any run sent must be absent.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

# Kinds the probe plants (the file may hold others a later generator adds).
KINDS = ("pan", "track", "sad", "name", "email", "phone", "mac", "device_id", "card_fingerprint", "loyalty_id")
MIN_LENGTH = 6  # shorter values would match by accident anywhere in a binary dump


class PlantedValues:
    """A thread-safe set of values per kind, saved by merging into the planted file."""

    def __init__(self) -> None:
        self._values: dict[str, set[str]] = {}
        self._dirty = False
        self._lock = threading.Lock()

    def add(self, kind: str, *values: str) -> None:
        with self._lock:
            known = self._values.setdefault(kind, set())
            for value in values:
                if len(value) >= MIN_LENGTH and value not in known:
                    known.add(value)
                    self._dirty = True

    def as_dict(self) -> dict[str, list[str]]:
        with self._lock:
            return {kind: sorted(values) for kind, values in sorted(self._values.items())}

    def count(self) -> int:
        with self._lock:
            return sum(len(values) for values in self._values.values())

    def save(self, path: Path) -> bool:
        """Merge into ``path`` (created with its folder; replaced atomically); False when nothing new."""
        with self._lock:
            if not self._dirty:
                return False
            merged = {kind: set(values) for kind, values in self._values.items()}
            self._dirty = False
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for kind, values in json.loads(path.read_text()).items():
                merged.setdefault(str(kind), set()).update(str(v) for v in values)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({kind: sorted(values) for kind, values in sorted(merged.items())}, indent=1))
        os.replace(tmp, path)
        return True

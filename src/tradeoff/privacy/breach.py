"""Breach drill: take what an attacker would take — the database dump, the logs, the backups — and
look for anything that identifies a person or a card.

Detectors: Luhn-valid PANs with a known issuer prefix (as stored text writes them: one digit run or the
groupings printed on cards, not every digit sequence a binary dump happens to juxtapose), e-mail addresses,
international phone numbers, MAC addresses, the platform's own secrets, and exact values the simulator
planted in raw inputs (raw device ids, names, card numbers however they are glued…). A clean drill finds
zero of each.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tradeoff.privacy.scrub.cards import find_stored_pans
from tradeoff.privacy.scrub.detectors import find_emails, find_macs, find_phones, find_secrets

DETECTED_KINDS = ("pan", "email", "phone", "mac", "secret")


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    artifact: str
    sample: str  # masked: enough to find it, not enough to use it


@dataclass
class BreachReport:
    counts: dict[str, int]
    artifacts: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())

    def to_json(self, max_findings: int = 50) -> dict[str, object]:
        return {
            **self.counts,
            "clean": self.clean,
            "artifacts": self.artifacts,
            "findings": [
                {"kind": f.kind, "artifact": f.artifact, "sample": f.sample} for f in self.findings[:max_findings]
            ],
        }


def mask(value: str) -> str:
    return value[:2] + "…" + value[-2:] if len(value) > 6 else "…"


def scan(artifacts: Iterable[Artifact], planted: Mapping[str, Iterable[str]] | None = None) -> BreachReport:
    plants = {kind: sorted({v for v in values if v}) for kind, values in (planted or {}).items()}
    counts = dict.fromkeys((*DETECTED_KINDS, *plants), 0)
    report = BreachReport(counts=counts, artifacts=[])
    for artifact in artifacts:
        report.artifacts.append(artifact.name)
        text = artifact.data.decode("utf-8", errors="replace")
        for kind, detected in _detect(text):
            counts[kind] += len(detected)
            report.findings.extend(Finding(kind, artifact.name, mask(hit)) for hit in detected)
        lowered = text.lower()
        for kind, values in plants.items():
            for value in values:
                hits = lowered.count(value.lower())
                if hits:
                    counts[kind] += hits
                    report.findings.append(Finding(kind, artifact.name, mask(value)))
    return report


def _detect(text: str) -> Iterator[tuple[str, list[str]]]:
    yield "pan", [text[start:end] for start, end in find_stored_pans(text)]
    yield "email", find_emails(text)
    yield "phone", find_phones(text)
    yield "mac", find_macs(text)
    yield "secret", find_secrets(text)


def database_dump(database_url: str) -> list[Artifact]:
    """SQLite: the raw file and its WAL (free pages hold deleted rows too); PostgreSQL: ``pg_dump``."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        return [Artifact(str(p), p.read_bytes()) for p in (path, Path(f"{path}-wal")) if p.exists()]
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    dumped = subprocess.run(["pg_dump", "--no-owner", libpq], capture_output=True, env=env, check=True, timeout=600)
    return [Artifact(f"pg_dump {url.database}", dumped.stdout)]


def files_under(paths: Iterable[Path]) -> list[Artifact]:
    found: list[Artifact] = []
    for root in paths:
        if not root.exists():
            continue
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        found.extend(Artifact(str(p), p.read_bytes()) for p in candidates)
    return found


def load_planted(path: Path) -> dict[str, list[str]]:
    """What the simulator planted in raw inputs: ``{"kind": ["value", …]}``; empty when absent."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(kind): [str(v) for v in values] for kind, values in data.items()}

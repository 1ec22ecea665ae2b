"""Data-subject requests: export (access, portability) and erasure across every table holding a subject's
data, found through the personal-data registry (``registry.py``). Importing this package registers the
erasure hook that makes ledger replays after a backup restore delete the subject's rows again.
See ``docs/privacy-dsr.md``."""

from tradeoff.privacy.dsr.erase import DsrErasureHook, ErasureReport, Forgotten, erase_subject, forget_subject
from tradeoff.privacy.dsr.export import FORMAT, export_subject, require_subject
from tradeoff.privacy.dsr.registry import (
    HANDLED_OTHERWISE,
    ErasureRule,
    PersonalDataRegistry,
    PersonalTable,
    build_registry,
    check_tables,
    default_registry,
)
from tradeoff.privacy.dsr.service import RequestedBy, dsr_log, erase, export_for

__all__ = [
    "FORMAT",
    "HANDLED_OTHERWISE",
    "DsrErasureHook",
    "ErasureReport",
    "ErasureRule",
    "Forgotten",
    "PersonalDataRegistry",
    "PersonalTable",
    "RequestedBy",
    "build_registry",
    "check_tables",
    "default_registry",
    "dsr_log",
    "erase",
    "erase_subject",
    "export_for",
    "export_subject",
    "forget_subject",
    "require_subject",
]

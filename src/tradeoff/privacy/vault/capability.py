"""Wiring the vault into a server process: build it once and re-apply the erasure ledger at startup.

``register(platform)`` returns the process's ``Vault``; keep it where the other capabilities can reach it
(e.g. ``platform.vault``). Replaying at startup means a server started on a restored old backup never
serves an erased subject's data, even before an operator runs ``tradeoff privacy replay-erasures``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.vault.config import build_vault
from tradeoff.privacy.vault.service import Vault

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform

log = logging.getLogger(__name__)


def register(platform: Platform, *, provider: KeyProvider | None = None, replay: bool = True) -> Vault:
    """Build the vault on the platform's engine (share ``provider`` with the privacy gate, so tokens and
    pseudonyms come from the same keys) and, unless ``replay=False``, replay the erasure ledger."""
    vault = build_vault(platform.settings, platform.engine, provider=provider)
    if replay:
        report = vault.replay_erasures()
        if report.reshredded:
            log.warning(
                "erasure ledger replay removed %d erased subjects' data again (%d data keys, %d derived rows): "
                "was an old database backup restored?",
                report.reshredded,
                report.keys_deleted,
                report.derived_rows_deleted,
            )
    return vault

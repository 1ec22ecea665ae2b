"""Column helper that forces every stored column to declare its privacy class and retention.

The privacy rules say a column without a class is a bug; ``classified`` makes the class a required
argument, and ``tests/unit/platform/test_privacy_classes.py`` checks the whole metadata.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Column


class PrivacyClass(StrEnum):
    PERSONAL = "personal"  # identifies a person (encrypted per subject)
    PSEUDONYMOUS = "pseudonymous"  # about a person under a pseudonym
    ANONYMOUS = "anonymous"  # aggregate or never about a person
    OPERATIONAL = "operational"  # devices, configuration, bookkeeping


KEEP = None  # retention: kept while the owning record exists


def classified(
    name: str,
    type_: Any,
    *args: Any,
    privacy: PrivacyClass,
    retention_days: int | None = KEEP,
    subject_key: bool = False,
    pseudonym_key: bool = False,
    encrypted: bool = False,
    secret: bool = False,
    **kwargs: Any,
) -> Column[Any]:
    """Data-subject export and erasure (``privacy/dsr``) are driven by these flags:

    - ``subject_key=True``: the column naming the data subject a row belongs to (the subject id);
    - ``pseudonym_key=True``: the column holding the subject's keyed pseudonym (``ps_…``/``pd_…``);
    - ``encrypted=True``: vault ciphertext under the row's subject (decrypted into exports);
    - ``secret=True``: an operational secret (a token verifier, a wrapped key), never exported."""
    info = {
        "privacy": privacy,
        "retention_days": retention_days,
        "subject_key": subject_key,
        "pseudonym_key": pseudonym_key,
        "encrypted": encrypted,
        "secret": secret,
    }
    return Column(name, type_, *args, info=info, **kwargs)

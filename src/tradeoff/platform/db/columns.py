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
    **kwargs: Any,
) -> Column[Any]:
    """``subject_key=True`` marks the column naming the data subject a row belongs to: data-subject
    export and erasure find every table holding a person's data through it."""
    info = {"privacy": privacy, "retention_days": retention_days, "subject_key": subject_key}
    return Column(name, type_, *args, info=info, **kwargs)

"""Release guard: minimum group size, per-subject contribution bounds, OpenDP Laplace noise and a per-tenant
ε budget for every merchant-facing number; a unicity gate for row-level exports.
See ``docs/privacy-audit-and-release.md``."""

from tradeoff.privacy.release.budget import DEFAULT_EPSILON_PER_WEEK, BudgetExhausted, BudgetStatus, period_start
from tradeoff.privacy.release.guard import DEFAULT_DELTA, DEFAULT_MIN_GROUP_SIZE, ReleaseConfig, ReleaseGuard
from tradeoff.privacy.release.mechanisms import Cell, GroupKey, Statistic
from tradeoff.privacy.release.result import Release
from tradeoff.privacy.release.unicity import (
    ExportRefused,
    UnicityReport,
    check_row_export,
    measure,
    traces_from_rows,
    unicity,
)

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_EPSILON_PER_WEEK",
    "DEFAULT_MIN_GROUP_SIZE",
    "BudgetExhausted",
    "BudgetStatus",
    "Cell",
    "ExportRefused",
    "GroupKey",
    "Release",
    "ReleaseConfig",
    "ReleaseGuard",
    "Statistic",
    "UnicityReport",
    "check_row_export",
    "measure",
    "period_start",
    "traces_from_rows",
    "unicity",
]

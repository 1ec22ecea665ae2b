"""A quiet HiGHS instance.

Why: HiGHS prints its copyright banner to the process's standard output (at C level) when the first instance
is created, which would corrupt ``--json`` output; the banner is sent to stderr instead and logging is off.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

import highspy


def quiet_highs(*, threads: int = 1, seed: int = 0) -> highspy.Highs:
    """A HiGHS solver with logging off, a fixed random seed and a bounded thread count."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        solver = highspy.Highs()  # type: ignore[no-untyped-call]
        solver.setOptionValue("output_flag", False)
        _flush_c_stdout()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    solver.setOptionValue("threads", threads)
    solver.setOptionValue("random_seed", seed)
    return solver


def _flush_c_stdout() -> None:
    """Flush C's stdio buffer while fd 1 still points at stderr (the banner is printed with printf)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)

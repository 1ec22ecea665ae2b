"""The one error the DEX parser raises: input that holds no readable audit."""

from __future__ import annotations


class DexError(ValueError):
    """Not a DEX audit (no segments, or garbage where segments must be); names the line and segment."""

    def __init__(self, line: int, segment: str | None, reason: str) -> None:
        where = f"line {line}" + (f", segment {segment}" if segment else "")
        super().__init__(f"{where}: {reason}")
        self.line = line
        self.segment = segment
        self.reason = reason

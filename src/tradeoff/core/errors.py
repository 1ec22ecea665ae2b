"""Domain errors. Each carries a stable machine code, a human message and optional details."""

from __future__ import annotations

from typing import Any


class TradeoffError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(TradeoffError):
    """Input that can never succeed as sent; names the field and the reason."""

    code = "invalid_input"
    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", details={"field": field, "reason": reason})
        self.field = field
        self.reason = reason


class NotFound(TradeoffError):
    code = "not_found"
    status = 404


class Conflict(TradeoffError):
    code = "conflict"
    status = 409


class Unauthenticated(TradeoffError):
    code = "unauthenticated"
    status = 401


class Forbidden(TradeoffError):
    code = "forbidden"
    status = 403


class TooLarge(TradeoffError):
    code = "too_large"
    status = 413

"""``/v1/dead-letters``: what was rejected, when and why (admins diagnose devices with it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.eventlog import recent_dead_letters
from tradeoff.platform.http.deps import ConnDep, roles

router = APIRouter(prefix="/v1/dead-letters", tags=["events"])


@router.get("")
def list_dead_letters(
    conn: ConnDep,
    principal: Annotated[Principal, roles(Role.ADMIN)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    letters = recent_dead_letters(conn, tenant_id=principal.tenant_id, limit=limit)
    return {
        "dead_letters": [
            {
                "id": d.id,
                "transport": d.transport,
                "source": d.source,
                "reason_code": d.reason_code,
                "reason": d.reason,
                "received_at": d.received_at.isoformat(),
                "raw": d.raw_text,
            }
            for d in letters
        ]
    }

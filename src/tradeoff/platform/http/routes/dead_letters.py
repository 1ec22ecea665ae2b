"""``/v1/dead-letters``: what was rejected, when and why (admins diagnose devices with it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.db.tables import dead_letters
from tradeoff.platform.http.deps import ConnDep, roles

router = APIRouter(prefix="/v1/dead-letters", tags=["events"])


@router.get("")
def list_dead_letters(
    conn: ConnDep,
    principal: Annotated[Principal, roles(Role.ADMIN)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    query = (
        select(dead_letters)
        .where(dead_letters.c.tenant_id == principal.tenant_id)
        .order_by(dead_letters.c.id.desc())
        .limit(limit)
    )
    return {
        "dead_letters": [
            {
                "id": row.id,
                "transport": row.transport,
                "source": row.source,
                "reason_code": row.reason_code,
                "reason": row.reason,
                "received_at": row.received_at.isoformat(),
                "raw": row.raw.decode("utf-8", errors="replace"),
            }
            for row in conn.execute(query)
        ]
    }

"""``/v1/sites/{site_id}/zone-model``: install, inspect and remove the site's calibrated fingerprint model.

The body of ``PUT`` is the model file ``tradeoff presence calibrate`` wrote (``curl -T store.json``), or
``{"model": <that file>, "zones": {class: zone}, "receivers": {beacon column: receiver key}}`` when the
model's classes or beacon columns need mapping. Admins and staff of the site's tenant; another tenant's
site is 403, a missing one 404, a model that does not load or fit the floor plan 422.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, status

from tradeoff.core.errors import InvalidInput
from tradeoff.platform.auth import Principal
from tradeoff.platform.http.body import read_body
from tradeoff.platform.http.deps import READERS, ConnDep, PlatformDep, roles
from tradeoff.presence.model.calibration import FORMAT
from tradeoff.presence.setup import zone_model

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["store setup"])
Manager = Annotated[Principal, roles(*READERS)]

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": f"a {FORMAT} file, or {{model, zones?, receivers?}}",
                    "properties": {
                        "model": {"type": "object", "description": f"a {FORMAT} document"},
                        "zones": {"type": "object", "additionalProperties": {"type": "string"}},
                        "receivers": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            }
        },
    }
}


async def _json_body(request: Request, platform: PlatformDep) -> Any:
    raw = await read_body(request, platform.settings.max_body_bytes)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "not JSON") from None


def created_by(principal: Principal) -> str:
    if principal.username:
        return f"user:{principal.username}"
    return f"key:{principal.key_id}" if principal.key_id else principal.role.value


@router.put(
    "/zone-model",
    summary="Install the site's calibrated fingerprint model (replaces the one installed)",
    openapi_extra=_BODY_DOC,
)
def put_zone_model(
    conn: ConnDep, principal: Manager, site_id: str, body: Annotated[Any, Depends(_json_body)]
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("body", f"expected a {FORMAT} document or {{model, zones, receivers}}")
    wrapped = "model" in body and body.get("format") != FORMAT
    extra = sorted(set(body) - {"model", "zones", "receivers"}) if wrapped else []
    if extra:
        raise InvalidInput(extra[0], "unknown field (expected model, zones, receivers)")
    summary = zone_model.install(
        conn,
        tenant_id=principal.tenant_id,
        site_id=site_id,
        model=body["model"] if wrapped else body,
        zones=body.get("zones") if wrapped else None,
        receivers=body.get("receivers") if wrapped else None,
        created_by=created_by(principal),
    )
    return summary.to_json()


@router.get("/zone-model", summary="The installed fingerprint model: classes, zones, receivers, parameters")
def get_zone_model(conn: ConnDep, principal: Manager, site_id: str) -> dict[str, Any]:
    return zone_model.get(conn, tenant_id=principal.tenant_id, site_id=site_id).to_json()


@router.delete(
    "/zone-model", status_code=status.HTTP_204_NO_CONTENT, summary="Remove the model: back to path-loss zones"
)
def delete_zone_model(conn: ConnDep, principal: Manager, site_id: str) -> None:
    zone_model.remove(conn, tenant_id=principal.tenant_id, site_id=site_id)

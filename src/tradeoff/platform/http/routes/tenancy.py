"""``/v1/tenant``, ``/v1/sites``, ``/v1/devices``, ``/v1/keys``: the caller's own tenant only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Principal, Role, create_api_key, list_api_keys, revoke_api_key
from tradeoff.platform.device_state import list_device_status
from tradeoff.platform.http.deps import READERS, ConnDep, roles

router = APIRouter(prefix="/v1", tags=["tenancy"])
Admin = Annotated[Principal, roles(Role.ADMIN)]
Reader = Annotated[Principal, roles(*READERS)]


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = "store"
    timezone: str = "UTC"
    floor_plan: dict[str, Any] | None = None


class DeviceIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=128)
    kind: str
    name: str = ""
    site_id: str | None = None


class KeyIn(BaseModel):
    role: Role
    name: str = Field(default="", max_length=200)
    device_id: str | None = None


@router.get("/tenant", summary="The caller's tenant")
def get_tenant(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return asdict(tenancy.get_tenant(conn, principal.tenant_id))


@router.get("/sites")
def list_sites(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"sites": [asdict(s) for s in tenancy.list_sites(conn, tenant_id=principal.tenant_id)]}


@router.post("/sites", status_code=status.HTTP_201_CREATED)
def create_site(conn: ConnDep, principal: Annotated[Principal, roles(*READERS)], body: SiteIn) -> dict[str, Any]:
    site = tenancy.create_site(conn, tenant_id=principal.tenant_id, **body.model_dump())
    return asdict(site)


@router.get("/sites/{site_id}")
def get_site(conn: ConnDep, principal: Reader, site_id: str) -> dict[str, Any]:
    return asdict(tenancy.get_site(conn, tenant_id=principal.tenant_id, site_id=site_id))


@router.get("/devices")
def list_devices(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"devices": [asdict(d) for d in tenancy.list_devices(conn, tenant_id=principal.tenant_id)]}


@router.post("/devices", status_code=status.HTTP_201_CREATED)
def create_device(conn: ConnDep, principal: Reader, body: DeviceIn) -> dict[str, Any]:
    return asdict(tenancy.create_device(conn, tenant_id=principal.tenant_id, **body.model_dump()))


@router.get("/devices/{device_id}")
def get_device(conn: ConnDep, principal: Reader, device_id: str) -> dict[str, Any]:
    return asdict(tenancy.get_device(conn, tenant_id=principal.tenant_id, device_id=device_id))


@router.get("/device-status", summary="Last contact and latest telemetry per event source")
def device_status(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"devices": [asdict(s) for s in list_device_status(conn, tenant_id=principal.tenant_id)]}


@router.get("/keys")
def list_keys(conn: ConnDep, principal: Admin) -> dict[str, Any]:
    return {"keys": [asdict(k) for k in list_api_keys(conn, tenant_id=principal.tenant_id)]}


@router.post("/keys", status_code=status.HTTP_201_CREATED, summary="Issue a key; the secret is shown once")
def create_key(conn: ConnDep, principal: Admin, body: KeyIn) -> dict[str, Any]:
    issued = create_api_key(
        conn, tenant_id=principal.tenant_id, role=body.role, name=body.name, device_id=body.device_id
    )
    return {**asdict(issued.info), "secret": issued.secret}


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(conn: ConnDep, principal: Admin, key_id: str) -> None:
    revoke_api_key(conn, tenant_id=principal.tenant_id, key_id=key_id)

"""Create a world's sites, devices and device keys through the HTTP API, with an admin key.

This is how ``tradeoff simulate --api-key …`` prepares a running platform it has no database access to.
Sites (by name) and devices (by external id) that exist are reused. Device keys are issued for this run
only (named ``sim:<run>:<device>``) and revoked again by ``revoke_keys`` when the run ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from tradeoff.sim.seed import Credentials
from tradeoff.sim.world import World


class ApiError(RuntimeError):
    """The platform refused a provisioning call."""


@dataclass(frozen=True, slots=True)
class Provisioned:
    world: World  # with the tenant slug the admin key belongs to
    credentials: Credentials
    key_ids: tuple[str, ...]  # keys issued for this run, to revoke afterwards


def _call(client: httpx.Client, method: str, path: str, key: str, body: Any = None) -> Any:
    response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text
        raise ApiError(f"{method} {path} → HTTP {response.status_code}: {message}")
    return response.json() if response.content else None


def provision_via_api(
    client: httpx.Client,
    world: World,
    *,
    admin_key: str,
    tenant: str | None = None,
    key_devices: Iterable[str] = (),
    run_tag: str = "run",
) -> Provisioned:
    """Make ``world`` exist in the admin key's tenant; ``tenant`` (slug or id), if given, must match it."""
    owner = _call(client, "GET", "/v1/tenant", admin_key)
    if tenant is not None and tenant not in (owner["slug"], owner["id"]):
        raise ApiError(f"the API key belongs to tenant {owner['slug']!r}, not {tenant!r}")
    world = world.with_slug(owner["slug"])
    sites = {s["name"]: s["id"] for s in _call(client, "GET", "/v1/sites", admin_key)["sites"]}
    site_ids: dict[str, str] = {}
    for spec in world.sites:
        if spec.name not in sites:
            body = {
                "name": spec.name,
                "kind": spec.kind,
                "timezone": spec.timezone,
                "floor_plan": spec.floor_plan.to_json() if spec.floor_plan else None,
            }
            sites[spec.name] = _call(client, "POST", "/v1/sites", admin_key, body)["id"]
        site_ids[spec.key] = sites[spec.name]
    devices = {d["external_id"]: d["id"] for d in _call(client, "GET", "/v1/devices", admin_key)["devices"]}
    for device in world.devices:
        if device.external_id not in devices:
            body = {
                "external_id": device.external_id,
                "kind": device.kind,
                "name": device.name,
                "site_id": site_ids[device.site],
            }
            devices[device.external_id] = _call(client, "POST", "/v1/devices", admin_key, body)["id"]
    secrets: dict[str, str] = {}
    key_ids: list[str] = []
    for external_id in sorted(set(key_devices)):
        body = {"role": "device", "name": f"sim:{run_tag}:{external_id}", "device_id": devices[external_id]}
        issued = _call(client, "POST", "/v1/keys", admin_key, body)
        secrets[external_id] = issued["secret"]
        key_ids.append(issued["id"])
    credentials = Credentials(
        tenant_id=owner["id"], tenant_slug=owner["slug"], admin_key=admin_key, device_keys=secrets
    )
    return Provisioned(world=world, credentials=credentials, key_ids=tuple(key_ids))


def revoke_keys(client: httpx.Client, *, admin_key: str, key_ids: Iterable[str]) -> None:
    for key_id in key_ids:
        _call(client, "DELETE", f"/v1/keys/{key_id}", admin_key)

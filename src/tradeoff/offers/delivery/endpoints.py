"""The app's webhook endpoints per tenant: where offer notifications are POSTed, and their secrets.

A secret is ``HMAC(tenant MAC root for "offer-webhooks", "<endpoint id>/v<version>")`` computed by the key
provider: deterministic (every server process signs alike, a restored backup still verifies), never
written to the database, and replaced by bumping ``secret_version``. During a rotation the previous
secret keeps signing too (a second signature in the header) until ``previous_valid_until``, so the app
backend can switch without losing a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, delete, insert, select, update

from tradeoff.core.errors import InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.offers.delivery.signing import WebhookSecret
from tradeoff.offers.delivery.store import offer_webhook_endpoints
from tradeoff.privacy.keys import KeyProvider

SECRET_PURPOSE = "offer-webhooks"
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 5
e = offer_webhook_endpoints.c


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    tenant_id: str
    url: str
    description: str
    enabled: bool
    secret_version: int
    previous_valid_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "enabled": self.enabled,
            "secret_version": self.secret_version,
            "previous_secret_valid_until": self.previous_valid_until.isoformat() if self.previous_valid_until else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def secret_of(keys: KeyProvider, endpoint: Endpoint, *, version: int | None = None) -> WebhookSecret:
    """The endpoint's signing secret (``version`` defaults to the current one)."""
    label = f"{endpoint.id}/v{endpoint.secret_version if version is None else version}".encode()
    return WebhookSecret(keys.mac(endpoint.tenant_id, SECRET_PURPOSE, label))


def signing_secrets(keys: KeyProvider, endpoint: Endpoint, *, at: datetime) -> list[WebhookSecret]:
    """The secrets that sign a request now: the current one, and the previous one during a rotation."""
    secrets = [secret_of(keys, endpoint)]
    if endpoint.previous_valid_until is not None and at < endpoint.previous_valid_until:
        secrets.append(secret_of(keys, endpoint, version=endpoint.secret_version - 1))
    return secrets


def check_url(url: str, *, allow_http: bool = False) -> str:
    """An absolute https URL without credentials (http only where the deployment allows it, e.g. tests)."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("url", "must be an absolute https:// URL")
    if parts.scheme == "http" and not allow_http:
        raise InvalidInput("url", "must use https (webhooks carry offers to a shopper)")
    if parts.username or parts.password:
        raise InvalidInput("url", "must not carry credentials; the signature authenticates us")
    if parts.fragment:
        raise InvalidInput("url", "must not have a #fragment")
    if not allow_http and _private_host(parts.hostname):
        raise InvalidInput("url", "must point to a public host, not a loopback or private address")
    return text


def _private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False  # a name: resolved at send time by the HTTP client
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        description=row.description,
        enabled=bool(row.enabled),
        secret_version=row.secret_version,
        previous_valid_until=row.previous_valid_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def create_endpoint(
    conn: Connection, *, tenant_id: str, url: str, description: str = "", now: datetime, allow_http: bool = False
) -> Endpoint:
    """A new enabled endpoint; show ``secret_of(...).reveal()`` to the app developer."""
    checked = check_url(url, allow_http=allow_http)
    if len(description) > 200:
        raise InvalidInput("description", "at most 200 characters")
    if len(list_endpoints(conn, tenant_id=tenant_id)) >= MAX_ENDPOINTS:
        raise InvalidInput("url", f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints")
    endpoint_id = new_id()
    conn.execute(
        insert(offer_webhook_endpoints).values(
            id=endpoint_id, tenant_id=tenant_id, url=checked, description=description, enabled=True,
            secret_version=1, previous_valid_until=None, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    return get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)


def list_endpoints(conn: Connection, *, tenant_id: str, enabled_only: bool = False) -> list[Endpoint]:
    query = select(offer_webhook_endpoints).where(e.tenant_id == tenant_id).order_by(e.created_at)
    if enabled_only:
        query = query.where(e.enabled.is_(True))
    return [_endpoint(row) for row in conn.execute(query)]


def get_endpoint(conn: Connection, *, tenant_id: str, endpoint_id: str) -> Endpoint:
    row = conn.execute(select(offer_webhook_endpoints).where(e.tenant_id == tenant_id, e.id == endpoint_id)).first()
    if row is None:
        raise NotFound("no such webhook endpoint in this tenant")
    return _endpoint(row)


def set_enabled(conn: Connection, *, tenant_id: str, endpoint_id: str, enabled: bool, now: datetime) -> Endpoint:
    get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)
    conn.execute(
        update(offer_webhook_endpoints)
        .where(e.tenant_id == tenant_id, e.id == endpoint_id)
        .values(enabled=enabled, updated_at=now)
    )
    return get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)


def rotate_secret(
    conn: Connection, *, tenant_id: str, endpoint_id: str, now: datetime, overlap: timedelta = ROTATION_OVERLAP
) -> Endpoint:
    """Move to the next secret; the old one keeps signing alongside it for ``overlap``."""
    get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)
    conn.execute(
        update(offer_webhook_endpoints)
        .where(e.tenant_id == tenant_id, e.id == endpoint_id)
        .values(secret_version=e.secret_version + 1, previous_valid_until=now + overlap, updated_at=now)
    )
    return get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)


def delete_endpoint(conn: Connection, *, tenant_id: str, endpoint_id: str) -> None:
    get_endpoint(conn, tenant_id=tenant_id, endpoint_id=endpoint_id)
    conn.execute(delete(offer_webhook_endpoints).where(e.tenant_id == tenant_id, e.id == endpoint_id))

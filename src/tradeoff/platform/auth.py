"""API keys and dashboard users: who is calling, for which tenant, in which role.

API keys are 256-bit random secrets, so a single SHA-256 is a safe verifier (no brute force to slow down);
only the hash and a lookup prefix are stored. Passwords are human-chosen and get scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from tradeoff.core.ids import new_id
from tradeoff.platform.db.tables import api_keys, devices, users


class Role(StrEnum):
    ADMIN = "admin"  # everything in its tenant, including keys
    STAFF = "staff"  # reads dashboards and data, manages sites and devices
    DEVICE = "device"  # sends events (optionally only as one device)
    POS = "pos"  # sends POS transactions and redeems coupons


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    tenant_id: str
    role: Role
    key_id: str | None = None
    device_external_id: str | None = None
    username: str | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"role {self.role.value!r} may not do this (needs one of: {allowed})")

    def require_tenant(self, tenant_id: str) -> None:
        if tenant_id != self.tenant_id:
            raise Forbidden("this object belongs to another tenant")


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    tenant_id: str
    prefix: str
    role: str
    name: str
    device_id: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    info: ApiKeyInfo
    secret: str  # shown once; never stored


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    conn: Connection, *, tenant_id: str, role: Role, name: str, device_id: str | None = None
) -> IssuedKey:
    if device_id is not None:
        row = conn.execute(select(devices.c.tenant_id).where(devices.c.id == device_id)).first()
        if row is None or row.tenant_id != tenant_id:
            raise InvalidInput("device_id", "no such device in this tenant")
    prefix = secrets.token_hex(6)
    secret = f"tk_{prefix}_{secrets.token_urlsafe(32)}"
    info = ApiKeyInfo(
        id=new_id(),
        tenant_id=tenant_id,
        prefix=prefix,
        role=role.value,
        name=name or role.value,
        device_id=device_id,
        created_at=utcnow(),
        revoked_at=None,
    )
    values = {name_: getattr(info, name_) for name_ in info.__slots__}
    conn.execute(insert(api_keys).values(secret_hash=_hash_secret(secret), **values))
    return IssuedKey(info=info, secret=secret)


def list_api_keys(conn: Connection, *, tenant_id: str) -> list[ApiKeyInfo]:
    cols = [c for c in api_keys.c if c.name != "secret_hash"]
    query = select(*cols).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.created_at)
    return [ApiKeyInfo(**row._mapping) for row in conn.execute(query)]


def revoke_api_key(conn: Connection, *, tenant_id: str, key_id: str) -> None:
    row = conn.execute(select(api_keys.c.tenant_id).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"api key {key_id} not found")
    if row.tenant_id != tenant_id:
        raise Forbidden("this key belongs to another tenant")
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=utcnow()))


def authenticate_key(conn: Connection, secret: str) -> Principal:
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != "tk":
        raise Unauthenticated("malformed API key")
    query = (
        select(api_keys, devices.c.external_id)
        .outerjoin(devices, devices.c.id == api_keys.c.device_id)
        .where(api_keys.c.prefix == parts[1])
    )
    row = conn.execute(query).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash_secret(secret)):
        raise Unauthenticated("unknown API key")
    if row.revoked_at is not None:
        raise Unauthenticated("API key revoked")
    return Principal(tenant_id=row.tenant_id, role=Role(row.role), key_id=row.id, device_external_id=row.external_id)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt_hex, digest_hex = stored.split("$")
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def create_user(conn: Connection, *, tenant_id: str, username: str, password: str, role: Role) -> str:
    if role not in (Role.ADMIN, Role.STAFF):
        raise InvalidInput("role", "dashboard users are admin or staff")
    if len(password) < 8:
        raise InvalidInput("password", "at least 8 characters")
    user_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(users).values(
                    id=user_id,
                    tenant_id=tenant_id,
                    username=username,
                    password_hash=hash_password(password),
                    role=role.value,
                    created_at=utcnow(),
                )
            )
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} already exists") from exc
    return user_id


def authenticate_user(conn: Connection, *, username: str, password: str) -> Principal:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not verify_password(password, row.password_hash):
        raise Unauthenticated("wrong username or password")
    return Principal(tenant_id=row.tenant_id, role=Role(row.role), username=row.username)

"""Tenancy and credentials on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import Engine, select

from tradeoff.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from tradeoff.platform import tenancy
from tradeoff.platform.auth import (
    Role,
    authenticate_key,
    authenticate_user,
    create_api_key,
    create_user,
    list_api_keys,
    revoke_api_key,
)
from tradeoff.platform.db.tables import api_keys


def test_tenant_site_device_lifecycle(engine: Engine) -> None:
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme")
        other = tenancy.create_tenant(conn, slug="other", name="Other", kind="vending_operator")
        site = tenancy.create_site(conn, tenant_id=acme.id, name="Main St", floor_plan={"zones": []})
        device = tenancy.create_device(conn, tenant_id=acme.id, external_id="gw-1", kind="gateway", site_id=site.id)
    with engine.begin() as conn:
        assert [t.slug for t in tenancy.list_tenants(conn)] == ["acme", "other"]
        assert tenancy.get_site(conn, tenant_id=acme.id, site_id=site.id).floor_plan == {"zones": []}
        assert tenancy.list_devices(conn, tenant_id=other.id) == []
        with pytest.raises(Forbidden):
            tenancy.get_device(conn, tenant_id=other.id, device_id=device.id)
        with pytest.raises(NotFound):
            tenancy.get_device(conn, tenant_id=acme.id, device_id="nope")
        with pytest.raises(Conflict):
            tenancy.create_tenant(conn, slug="acme", name="again")
        with pytest.raises(Conflict):
            tenancy.create_device(conn, tenant_id=acme.id, external_id="gw-1", kind="gateway")
        with pytest.raises(InvalidInput, match="kind"):
            tenancy.create_device(conn, tenant_id=acme.id, external_id="x", kind="toaster")
        with pytest.raises(Forbidden):  # a site of another tenant cannot be used
            tenancy.create_device(conn, tenant_id=other.id, external_id="x", kind="pos", site_id=site.id)
        # the failed inserts above rolled back to their savepoints; the transaction is still usable
        assert tenancy.tenant_by_ref(conn, "acme").id == acme.id


def test_api_keys_are_hashed_scoped_and_revocable(engine: Engine) -> None:
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme")
        dev = tenancy.create_device(conn, tenant_id=acme.id, external_id="vm-9", kind="vending_machine")
        issued = create_api_key(conn, tenant_id=acme.id, role=Role.DEVICE, name="vm", device_id=dev.id)
    with engine.begin() as conn:
        stored = conn.execute(select(api_keys.c.secret_hash)).scalar_one()
        assert issued.secret not in stored and len(stored) == 64
        principal = authenticate_key(conn, issued.secret)
        assert (principal.tenant_id, principal.role, principal.device_external_id) == (
            acme.id,
            Role.DEVICE,
            "vm-9",
        )
        for bad in ("", "tk_x", issued.secret + "x", "tk_000000000000_guess"):
            with pytest.raises(Unauthenticated):
                authenticate_key(conn, bad)
        revoke_api_key(conn, tenant_id=acme.id, key_id=issued.info.id)
        with pytest.raises(Unauthenticated, match="revoked"):
            authenticate_key(conn, issued.secret)
        assert list_api_keys(conn, tenant_id=acme.id)[0].revoked_at is not None


def test_dashboard_users(engine: Engine) -> None:
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme")
        create_user(conn, tenant_id=acme.id, username="ann", password="correct horse", role=Role.ADMIN)
        with pytest.raises(InvalidInput):
            create_user(conn, tenant_id=acme.id, username="bob", password="short", role=Role.STAFF)
        with pytest.raises(InvalidInput):
            create_user(conn, tenant_id=acme.id, username="bob", password="long enough", role=Role.DEVICE)
    with engine.begin() as conn:
        assert authenticate_user(conn, username="ann", password="correct horse").role is Role.ADMIN
        with pytest.raises(Unauthenticated):
            authenticate_user(conn, username="ann", password="wrong password")
        with pytest.raises(Unauthenticated):
            authenticate_user(conn, username="nobody", password="correct horse")

"""``tradeoff tenants|keys|users …``: operator commands that work straight on the database."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.table import Table

from tradeoff.cli.common import console, print_json, transaction
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key, create_user, list_api_keys, revoke_api_key

tenants_app = typer.Typer(no_args_is_help=True, help="Tenants: merchants and vending operators")
keys_app = typer.Typer(no_args_is_help=True, help="API keys (stored hashed; the secret is shown once)")
users_app = typer.Typer(no_args_is_help=True, help="Dashboard users")

JSON = typer.Option(False, "--json", help="machine-readable output")


@tenants_app.command("create")
def tenants_create(
    slug: str,
    name: str = typer.Option(..., help="display name"),
    kind: str = typer.Option("merchant", help="merchant | vending_operator"),
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        tenant = tenancy.create_tenant(conn, slug=slug, name=name, kind=kind)
    if as_json:
        print_json(asdict(tenant))
    else:
        console.print(f"created tenant [bold]{tenant.slug}[/bold] ({tenant.id})")


@tenants_app.command("list")
def tenants_list(as_json: bool = JSON) -> None:
    with transaction() as conn:
        found = tenancy.list_tenants(conn)
    if as_json:
        print_json([asdict(t) for t in found])
        return
    table = Table("slug", "name", "kind", "id")
    for t in found:
        table.add_row(t.slug, t.name, t.kind, t.id)
    console.print(table)


@keys_app.command("create")
def keys_create(
    tenant: str = typer.Option(..., help="tenant slug or id"),
    role: Role = typer.Option(..., help="admin | staff | device | pos"),
    name: str = typer.Option("", help="what the key is for"),
    device: str = typer.Option(None, help="bind a device key to one device (its external id)"),
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        owner = tenancy.tenant_by_ref(conn, tenant)
        device_id = None
        if device is not None:
            matches = [d for d in tenancy.list_devices(conn, tenant_id=owner.id) if d.external_id == device]
            if not matches:
                raise typer.BadParameter(f"no device {device!r} in tenant {owner.slug}")
            device_id = matches[0].id
        issued = create_api_key(conn, tenant_id=owner.id, role=role, name=name, device_id=device_id)
    if as_json:
        print_json({**asdict(issued.info), "secret": issued.secret})
    else:
        console.print(f"key {issued.info.id} ({role.value}) for {owner.slug} — shown once:")
        console.print(issued.secret, markup=False, highlight=False)


@keys_app.command("list")
def keys_list(tenant: str = typer.Option(..., help="tenant slug or id"), as_json: bool = JSON) -> None:
    with transaction() as conn:
        owner = tenancy.tenant_by_ref(conn, tenant)
        keys = list_api_keys(conn, tenant_id=owner.id)
    if as_json:
        print_json([asdict(k) for k in keys])
        return
    table = Table("id", "prefix", "role", "name", "revoked")
    for k in keys:
        table.add_row(k.id, k.prefix, k.role, k.name, "yes" if k.revoked_at else "")
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, tenant: str = typer.Option(..., help="tenant slug or id")) -> None:
    with transaction() as conn:
        owner = tenancy.tenant_by_ref(conn, tenant)
        revoke_api_key(conn, tenant_id=owner.id, key_id=key_id)
    console.print(f"revoked {key_id}")


@users_app.command("create")
def users_create(
    username: str,
    tenant: str = typer.Option(..., help="tenant slug or id"),
    role: Role = typer.Option(Role.STAFF, help="admin | staff"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    with transaction() as conn:
        owner = tenancy.tenant_by_ref(conn, tenant)
        create_user(conn, tenant_id=owner.id, username=username, password=password, role=role)
    console.print(f"created {role.value} user {username} in {owner.slug}")

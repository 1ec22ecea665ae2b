"""Tenant isolation in PostgreSQL itself: forced row-level security on every tenant-owned table.

Request handlers run on an application role (``TRADEOFF_APP_DATABASE_URL``) that is neither superuser,
owner nor BYPASSRLS, with ``app.tenant_id`` set for the transaction; the policies then hide every other
tenant's rows even if a query forgets its tenant filter. Migrations, processors and transports, which
work across tenants, use the owner connection (``TRADEOFF_DATABASE_URL``).
"""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, Table, text

POLICY = "tenant_isolation"
SETTING = "app.tenant_id"


def tenant_column(table: Table) -> str | None:
    if "tenant_id" in table.c:
        return "tenant_id"
    if table.name == "tenants":
        return "id"
    return None


def scope_to_tenant(conn: Connection, tenant_id: str) -> None:
    """Bind this transaction to one tenant (PostgreSQL; a no-op elsewhere)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config(:name, :tenant, true)"), {"name": SETTING, "tenant": tenant_id})


def ensure_rls(conn: Connection, metadata: MetaData) -> list[str]:
    """Enable and force RLS with the isolation policy on every tenant-owned table; idempotent."""
    changed = []
    existing = {
        row[0] for row in conn.execute(text("SELECT tablename FROM pg_policies WHERE policyname = :p"), {"p": POLICY})
    }
    for table in metadata.sorted_tables:
        column = tenant_column(table)
        if column is None:
            continue
        name = conn.dialect.identifier_preparer.quote(table.name)
        conn.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
        if table.name not in existing:
            condition = f"{column} = current_setting('{SETTING}', true)"
            conn.execute(text(f"CREATE POLICY {POLICY} ON {name} USING ({condition}) WITH CHECK ({condition})"))
            changed.append(table.name)
    return changed


def grant_app_role(conn: Connection, metadata: MetaData, role: str) -> None:
    """Let an existing login role use the tables (and nothing more)."""
    quoted = conn.dialect.identifier_preparer.quote(role)
    attributes = conn.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if attributes is None:
        raise ValueError(f"role {role!r} does not exist; create it first (CREATE ROLE … LOGIN PASSWORD …)")
    if attributes.rolsuper or attributes.rolbypassrls:
        raise ValueError(f"role {role!r} is superuser or BYPASSRLS: it would not be isolated")
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    for table in metadata.sorted_tables:
        name = conn.dialect.identifier_preparer.quote(table.name)
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {quoted}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))


def unprotected_tables(conn: Connection, metadata: MetaData) -> list[str]:
    """Tenant-owned tables without forced RLS and the policy (what the tests and ``readyz`` check)."""
    rows = conn.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = :p) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ),
        {"p": POLICY},
    ).all()
    protected = {name for name, enabled, forced, has_policy in rows if enabled and forced and has_policy}
    return sorted(t.name for t in metadata.sorted_tables if tenant_column(t) and t.name not in protected)

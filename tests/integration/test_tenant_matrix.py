"""Cross-tenant matrix over every route of the served app, on PostgreSQL with row-level security.

Two tenants get every kind of object (sites, devices, keys, users, events, dead letters, shoppers with
consent, app events, data-subject requests, an erased subject). Then every route the app has — found by
walking the app, so routes other capabilities add later are covered without editing this file — is
called as tenant A (admin key, staff key, a shopper's app token, admin and staff dashboard sessions, a
shopper portal session), with path and query parameters filled with tenant B's ids and bodies naming
B's objects. No response may contain anything of B's, no call naming B's object may succeed, and B's
objects must be untouched afterwards.

A route with a path parameter this file does not know fails the test: add what tenant B's object of that
kind is to ``ids_for_b`` below.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import insert

from tests.support.services import free_port, rls_databases
from tradeoff.offers.coupons import coupon_key, make_code
from tradeoff.offers.store import offer_coupons
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key, create_user
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.settings import Settings
from tradeoff.presence.model import calibration
from tradeoff.privacy.capability import privacy_of
from tradeoff.server import create_server_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Not tenant data: documentation, static files and liveness.
SKIPPED_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/healthz", "/readyz"}
SKIPPED_PREFIXES = ("/static",)
PASSWORD = "matrix-password-1"
NOW = datetime.now(UTC).replace(microsecond=0).isoformat()
# Optional query parameters worth setting: start listings and streams at the beginning of the log.
OPTIONAL_QUERY = {"after_seq": "0"}
STREAM_SECONDS = 1.5  # how long a streaming response (SSE) is read
# A stream that stays silent this long is done showing what it shows (the SSE routes are silent between
# heartbeats, so each costs this much per principal); a page not answering within it fails the call. As
# httpx's default, which the principals' own logins and registrations already have to meet.
READ_TIMEOUT = 5.0
# Values that make a body valid, so the call gets as far as the cross-tenant reference it carries.
VALUE_HINTS: dict[str, Any] = {"kind": "gateway", "role": "device", "tier": 2, "policy_version": "2026-11"}
# Body fields that refer to an object by id: a call naming B's object there must not succeed.
REFERENCES = {"tenant_id", "site_id", "device_id", "key_id", "event_id", "subject_id", "dead_letter_id"}
KEY_FIELDS = re.compile(r"(^|_)(id|ids|ref|slug|name|source|subject|secret|token|prefix|username|raw)$")


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """(owner URL, application-role URL) of a fresh database migrated with row-level security."""
    with rls_databases() as urls:
        yield urls


@dataclass
class Server:
    app: FastAPI
    url: str


@pytest.fixture
def server(databases: tuple[str, str], tmp_path: Path) -> Iterator[Server]:
    settings = Settings(
        database_url=databases[0],
        app_database_url=databases[1],
        var_dir=tmp_path / "var",
        keyring_path=tmp_path / "keys" / "keyring.json",
        processor_poll_seconds=0.2,
        vending_plan_seconds=0.2,
        vending_dispatch=False,  # plans are made on request here (the seed asks for one)
    )
    app = create_server_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="matrix-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield Server(app, url)
    finally:
        uv.should_exit = True
        thread.join(timeout=30)


# -- the two tenants -------------------------------------------------------------------------------------


@dataclass
class Tenant:
    slug: str
    id: str = ""
    keys: dict[str, str] = field(default_factory=dict)  # role → secret
    ids: dict[str, str] = field(default_factory=dict)  # object kind → id
    markers: set[str] = field(default_factory=set)  # strings that are this tenant's and nobody else's
    users: dict[str, str] = field(default_factory=dict)  # role → username

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def _ok(response: httpx.Response, *expected: int) -> Any:
    assert response.status_code in (expected or (200, 201)), f"{response.request.url}: {response.text[:500]}"
    return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


def _routes_named(app: FastAPI) -> set[tuple[str, str]]:
    return {(method, path) for method, path, _ in discover_routes(app)}


def seed(client: httpx.Client, owner_url: str, app: FastAPI, slug: str) -> Tenant:
    """Every kind of object for one tenant, through the API where there is one."""
    tag = secrets.token_hex(6)
    tenant = Tenant(slug=f"{slug}-{tag}")
    engine = make_engine(owner_url)
    with engine.begin() as conn:
        tenant.id = tenancy.create_tenant(conn, slug=tenant.slug, name=f"{slug} grocer {tag}").id
        tenant.keys["admin"] = create_api_key(conn, tenant_id=tenant.id, role=Role.ADMIN, name=f"admin-{tag}").secret
        for role in (Role.ADMIN, Role.STAFF):
            username = f"{slug}-{role.value}-{tag}"
            create_user(conn, tenant_id=tenant.id, username=username, password=PASSWORD, role=role)
            tenant.users[role.value] = username
    engine.dispose()
    tenant.markers |= {tenant.id, tenant.slug, f"{slug} grocer {tag}", *tenant.users.values(), tenant.keys["admin"]}
    admin = tenant.auth("admin")
    site = _ok(client.post("/v1/sites", headers=admin, json={"name": f"{slug}-site-{tag}", "kind": "store"}))
    tenant.ids["site"] = site["id"]
    for kind in ("gateway", "pos"):
        body = {
            "external_id": f"{slug}-{kind}-{tag}",
            "kind": kind,
            "name": f"{slug} {kind} {tag}",
            "site_id": site["id"],
        }
        device = _ok(client.post("/v1/devices", headers=admin, json=body))
        tenant.ids[kind] = device["id"]
        tenant.ids[f"{kind}:external"] = device["external_id"]
    site_url = f"/v1/sites/{site['id']}"
    zone = {"name": f"{slug}-zone-{tag}", "polygon": [[0, 0], [5, 0], [5, 5]]}
    plan = {"width_m": 20, "height_m": 10, "zones": [zone]}
    _ok(client.put(f"{site_url}/floor-plan", headers=admin, json=plan))
    _ok(client.put(f"{site_url}/floor-plan/image", headers=admin, content=f"<svg>{slug}-img-{tag}</svg>".encode()))
    beacon_body = {
        "kind": "eddystone",
        "id": f"{tag}{tag[:8]}/{tag}",
        "label": f"{slug}-beacon-{tag}",
        "x_m": 1,
        "y_m": 1,
        "skus": [f"{slug}-sku-{tag}"],
    }
    beacon = _ok(client.post(f"{site_url}/beacons", headers=admin, json=beacon_body))
    tenant.ids["beacon"] = beacon["id"]
    tenant.markers |= {f"{slug}-zone-{tag}", f"{slug}-img-{tag}", f"{slug}-beacon-{tag}", beacon["id"]}
    _ok(client.put(f"{site_url}/gateways/{tenant.ids['gateway']}/placement", headers=admin, json={"x_m": 2, "y_m": 2}))
    if ("PUT", "/v1/sites/{site_id}/zone-model") in _routes_named(app):  # a calibrated model for live tracking
        _seed_zone_model(client, tenant, site_url, zone["name"])
    for role, device in (("staff", None), ("device", "gateway"), ("pos", "pos")):
        body = {"role": role, "name": f"{slug}-{role}-key-{tag}"}
        if device:
            body["device_id"] = tenant.ids[device]
        issued = _ok(client.post("/v1/keys", headers=admin, json=body))
        tenant.keys[role] = issued["secret"]
        tenant.ids[f"key:{role}"] = issued["id"]
    gateway = tenant.ids["gateway:external"]
    batch = {
        "events": [
            {"event_id": f"{slug}-ev-{tag}-1", "type": "device.heartbeat", "occurred_at": NOW, "source": gateway,
             "payload": {"marker": f"{slug}-payload-{tag}", "uptime_s": 5}},
            {"event_id": f"{slug}-ev-{tag}-2", "type": "presence.sighting", "occurred_at": NOW, "source": gateway,
             "payload": {"zone": "entrance", "phone_mac": "02:11:22:33:44:55", "rssi": -60}},
            {"event_id": f"{slug}-ev-{tag}-3", "type": "device.telemetry", "occurred_at": "not a time",
             "source": gateway, "payload": {"marker": f"{slug}-dead-{tag}"}},
        ]
    }  # fmt: skip
    _ok(client.post("/v1/events", headers=tenant.auth("device"), json=batch))
    tenant.ids["event"] = f"{slug}-ev-{tag}-1"
    tenant.markers |= {f"{slug}-ev-{tag}-1", f"{slug}-ev-{tag}-2", f"{slug}-payload-{tag}", f"{slug}-dead-{tag}"}
    # Shoppers: one at tier 3 with app events and a linked basket, one erased afterwards.
    consent = {"tier": 3, "policy_version": "2026-11", "source": "app"}
    for which in ("subject", "erased"):
        doc = _ok(client.post("/v1/me/register", headers=tenant.auth("device"), json={"consent": consent}))
        tenant.ids[which] = doc["subject_id"]
        tenant.ids[f"{which}:token"] = doc["app_token"]
        app_auth = {"Authorization": f"Bearer {doc['app_token']}"}
        _ok(client.put("/v1/me/consent", headers=app_auth, json={**consent, "tier": 2}))
        events = [
            {"event_id": f"app-{tag}-{which}-{n}", "type": t, "occurred_at": NOW,
             "payload": {"zone": "dairy", "install_id": f"{slug}-install-{tag}", "marker": f"{slug}-app-{tag}"}}
            for n, t in enumerate(("presence.zone_enter", "offers.viewed"))
        ]  # fmt: skip
        _ok(client.post("/v1/me/events", headers=app_auth, json={"events": events}))
        basket = {"subject": doc["subject_id"], "loyalty_id": f"{slug}-loyal-{tag}"}
        event = {"event_id": f"{slug}-basket-{tag}-{which}", "type": "pos.basket.linked", "occurred_at": NOW}
        linked = {"events": [{**event, "source": tenant.ids["pos:external"], "payload": basket}]}
        _ok(client.post("/v1/events", headers=tenant.auth("pos"), json=linked))
        tenant.markers |= {doc["subject_id"], doc["app_token"]}
    tenant.markers |= {f"{slug}-app-{tag}", f"{slug}-basket-{tag}-subject"}
    routes = _routes_named(app)
    if ("GET", "/v1/privacy/subjects/{subject_id}/export") in routes:
        _ok(client.get(f"/v1/privacy/subjects/{tenant.ids['subject']}/export", headers=admin))
    if ("DELETE", "/v1/privacy/subjects/{subject_id}") in routes:
        _ok(client.delete(f"/v1/privacy/subjects/{tenant.ids['erased']}", headers=admin))
    if ("POST", "/v1/vending/depots") in routes:  # the vending fleet: one of each object, a fill and a fault
        v, owned = "/v1/vending", {"name": f"{slug}-depot-{tag}", "lat": 1, "lon": 1}
        depot = _ok(client.post(f"{v}/depots", headers=admin, json=owned))
        body = {"depot_id": depot["id"], "name": f"{slug}-truck-{tag}", "capacity_units": 100}
        truck = _ok(client.post(f"{v}/trucks", headers=admin, json=body))
        body = {"sku": f"{slug}-sku-{tag}", "name": f"{slug} cola {tag}"}
        product = _ok(client.post(f"{v}/products", headers=admin, json=body))
        body = {"name": f"{slug}-vm-{tag}", "lat": 1, "lon": 1, "depot_id": depot["id"],
                "dex_serial": f"{slug}-serial-{tag}", "device_id": tenant.ids["gateway"]}  # fmt: skip
        machine = _ok(client.post(f"{v}/machines", headers=admin, json=body))
        columns = [{"selection": "1", "product": product["id"], "capacity": 10}]
        _ok(client.put(f"{v}/machines/{machine['id']}/planogram", headers=admin, json={"columns": columns}))
        _ok(client.post(f"{v}/machines/{machine['id']}/fills", headers=admin, json={"all_to_par": True}))
        fault = {"event_id": f"{slug}-fault-{tag}", "type": "vending.telemetry", "occurred_at": NOW, "source": gateway,
                 "payload": {"kind": "fault", "code": f"{slug}-code-{tag}"}}  # fmt: skip
        _ok(client.post("/v1/events", headers=tenant.auth("device"), json={"events": [fault]}))
        tenant.ids |= {"depot": depot["id"], "truck": truck["id"], "product": product["id"], "machine": machine["id"]}
        (plan,) = _ok(client.post(f"{v}/plans", headers=admin, json={"seconds": 0.2}))["plans"]
        tenant.ids["plan"] = plan["id"]
        tenant.markers |= {f"{slug}-depot-{tag}", f"{slug}-truck-{tag}", f"{slug}-sku-{tag}", f"{slug}-vm-{tag}",
                           f"{slug}-serial-{tag}", f"{slug}-code-{tag}"}  # fmt: skip
    _seed_offers(client, owner_url, app, tenant, slug, tag)
    letters = _ok(client.get("/v1/dead-letters", headers=admin))["dead_letters"]
    assert letters, "the invalid event was dead-lettered"
    tenant.ids["dead_letter"] = str(letters[0]["id"])
    return tenant


def _seed_zone_model(client: httpx.Client, tenant: Tenant, site_url: str, zone: str) -> None:
    scans = np.array([[-60.0], [-61.0], [-80.0], [-82.0]])
    store = calibration.calibrate(scans, np.array([zone, zone, "aisle", "aisle"]), ("column",))
    receivers = {"column": tenant.ids["gateway:external"]}
    body = {"model": calibration.to_dict(store), "zones": {zone: zone}, "receivers": receivers}
    installed = _ok(client.put(f"{site_url}/zone-model", headers=tenant.auth("admin"), json=body))
    tenant.ids["zone_model"] = installed["sha256"]
    tenant.markers.add(installed["sha256"])


def _seed_offers(client: httpx.Client, owner_url: str, app: FastAPI, tenant: Tenant, slug: str, tag: str) -> None:
    """A campaign through the API and one issued coupon (written directly: issuing needs a shopper's visit)."""
    now = datetime.now(UTC)
    body = {
        "name": f"{slug}-campaign-{tag}",
        "status": "active",
        "trigger": {"kind": "enter_zone", "zone": "dairy"},
        "offer": {"kind": "percent", "percent_off": 10, "title": f"{slug}-offer-title-{tag}"},
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
    }
    campaign = _ok(client.post("/v1/offers/campaigns", headers=tenant.auth("admin"), json=body))
    tenant.ids["campaign"] = campaign["id"]
    engine = make_engine(owner_url)
    with engine.begin() as conn:
        conn.execute(
            insert(offer_coupons).values(
                id=f"cp{campaign['id'][:20]}",
                tenant_id=tenant.id,
                campaign_id=campaign["id"],
                pseudonym="ps_matrix",
                serial=0,
                status="issued",
                issued_at=now,
                expires_at=now + timedelta(days=1),
                transaction_id=None,
                hold_until=None,
                rolled_back_by=None,
                void_reason=None,
                version=0,
                redeemed_at=None,
                updated_at=now,
            )
        )
    engine.dispose()
    key = coupon_key(keys=privacy_of(app.state.platform).keys, tenant_id=tenant.id)
    tenant.ids["coupon_code"] = make_code(key=key, serial=0)
    tenant.ids["coupon"] = f"cp{campaign['id'][:20]}"
    tenant.markers |= {f"{slug}-campaign-{tag}", f"{slug}-offer-title-{tag}", tenant.ids["coupon_code"]}
    url = f"https://{slug}-{tag}.example.com/hooks"
    webhook = _ok(client.post("/v1/offers/webhooks", headers=tenant.auth("admin"), json={"url": url}))
    tenant.ids["webhook"] = webhook["id"]
    tenant.markers.add(url)
    if ("PUT", "/v1/offers/segments") in _routes_named(app):  # a segment catalogue and a shopper's released choice
        segment = {"key": f"s-{tag}", "label": f"{slug}-segment-{tag}", "description": f"{slug}-seg-text-{tag}"}
        _ok(client.put("/v1/offers/segments", headers=tenant.auth("admin"), json={"segments": [segment]}))
        shopper = {"Authorization": f"Bearer {tenant.ids['subject:token']}"}
        _ok(client.put("/v1/me/preferences", headers=shopper, json={"segments": [segment["key"]]}))
        tenant.markers |= {segment["key"], segment["label"], segment["description"]}


def collect_own_values(client: httpx.Client, app: FastAPI, tenant: Tenant) -> set[str]:
    """The identifying values a tenant's own listings show (ids, names, pseudonyms, tokens…)."""
    found: set[str] = set()
    base_url = str(client.base_url)
    for method, path, _ in discover_routes(app):
        if method != "GET" or "{" in path or not path.startswith("/v1/"):
            continue
        for headers in (tenant.auth("admin"), {"Authorization": f"Bearer {tenant.ids['subject:token']}"}):
            status, body = perform(base_url, Call("GET", path, path, dict(OPTIONAL_QUERY)), Principal("own", headers))
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if status == 200 and doc is not None:
                found |= set(_identifying_strings(doc))
            found |= set(_identifying_strings(body))  # pseudonyms and tokens anywhere (streams, pages)
    return found


def _identifying_strings(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _identifying_strings(v, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _identifying_strings(item, key)
    elif isinstance(value, str) and len(value) >= 8 and KEY_FIELDS.search(key.lower()):
        yield value
    if isinstance(value, str):
        yield from re.findall(r"\b(?:ps|pd)_[a-z2-7]{26}\b|\btokd?_[a-z_]+_[a-z2-7]{52}\b|\bk_[a-z2-7]{26}\b", value)


# -- the routes -------------------------------------------------------------------------------------------


def discover_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path, route) for every route the app serves, including those of included routers."""
    try:  # FastAPI ≥ 0.16x keeps included routers lazily; this walks them
        from fastapi.routing import iter_route_contexts

        contexts: list[Any] = list(iter_route_contexts(app.routes))
        routes = [(context.original_route, context.path, context.methods) for context in contexts]
    except ImportError:  # older FastAPI: app.routes is flat
        routes = [(route, getattr(route, "path", None), getattr(route, "methods", None)) for route in app.routes]
    found = []
    for route, path, methods in routes:
        if path is None:
            continue
        if not methods:  # a mount (static files)
            assert path.startswith(SKIPPED_PREFIXES), f"unexpected mount {path}: serve it or skip it here"
            continue
        found += [(method, path, route) for method in sorted(methods - {"HEAD", "OPTIONS"})]
    return found


def ids_for_b(b: Tenant) -> dict[str, str]:
    """What to put in a parameter of this name to aim at tenant B's object."""
    return {
        "tenant_id": b.id,
        "tenant": b.slug,
        "slug": b.slug,
        "site_id": b.ids["site"],
        "device_id": b.ids["gateway"],
        "external_id": b.ids["gateway:external"],
        "source": b.ids["gateway:external"],
        "key_id": b.ids["key:staff"],
        "event_id": b.ids["event"],
        "subject_id": b.ids["subject"],
        "dead_letter_id": b.ids["dead_letter"],
        "username": b.users["staff"],
        "depot_id": b.ids.get("depot", "no-depot"),
        "truck_id": b.ids.get("truck", "no-truck"),
        "product_id": b.ids.get("product", "no-product"),
        "machine_id": b.ids.get("machine", "no-machine"),
        "plan_id": b.ids.get("plan", "no-plan"),
        "campaign_id": b.ids["campaign"],
        "code": b.ids["coupon_code"],
        "coupon_id": b.ids["coupon"],
        "endpoint_id": b.ids["webhook"],
        "beacon_id": b.ids["beacon"],
        "outbox_id": "1",  # row ids are global: tenant B's rows are among the first ones
    }


def _schema_example(schema: dict[str, Any], components: dict[str, Any], b_ids: dict[str, str], depth: int = 0) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_example(components[name], components, b_ids, depth + 1)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if s.get("type") != "null"]
            return _schema_example(options[0], components, b_ids, depth + 1) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        out = {}
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            if name in REFERENCES:
                out[name] = b_ids[name]
            elif name in VALUE_HINTS and (name in required or "default" not in prop):
                out[name] = VALUE_HINTS[name]
            elif name in required and depth < 6:
                out[name] = _schema_example(prop, components, b_ids, depth + 1)
        return out
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return NOW
    return "matrix-" + "x" * max(0, int(schema.get("minLength", 0)) - 7)


@dataclass
class Call:
    method: str
    path: str
    url: str
    params: dict[str, str]
    json: Any = None
    form: dict[str, str] | None = None
    names_b: bool = False  # the path or a reference field of the body names B's object

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


def _flat_params(dependant: Any) -> tuple[list[Any], list[Any]]:
    """Query and body parameters of a route and of every dependency it has, recursively."""
    query, body = list(dependant.query_params), list(dependant.body_params)
    for sub in dependant.dependencies:
        more_query, more_body = _flat_params(sub)
        query += more_query
        body += more_body
    return query, body


def plan_calls(app: FastAPI, b: Tenant) -> list[Call]:
    b_ids = ids_for_b(b)
    openapi = app.openapi()
    components = openapi.get("components", {}).get("schemas", {})
    calls = []
    for method, path, route in discover_routes(app):
        if path in SKIPPED_PATHS:
            continue
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        unknown = [name for name in names if name not in b_ids]
        assert not unknown, (
            f"{method} {path} has path parameter(s) {unknown}: add what tenant B's object of that kind is "
            "to ids_for_b() in tests/integration/test_tenant_matrix.py"
        )
        url = re.sub(r"{(\w+)(?::\w+)?}", lambda m: b_ids[m.group(1)], path)
        params: dict[str, str] = {}
        form: dict[str, str] | None = None
        names_b = bool(names)
        if isinstance(route, APIRoute):
            query_params, body_params = _flat_params(route.dependant)
            for param in query_params:
                name = param.alias or param.name
                if name in b_ids:
                    params[name] = b_ids[name]
                elif name in OPTIONAL_QUERY:
                    params[name] = OPTIONAL_QUERY[name]
                else:
                    assert not param.field_info.is_required(), (
                        f"{method} {path} requires query parameter {name!r}: add it to ids_for_b() (B's object) "
                        "or OPTIONAL_QUERY in tests/integration/test_tenant_matrix.py"
                    )
            if body_params and all(type(p.field_info).__name__ in ("Form", "File") for p in body_params):
                fields = [p.alias or p.name for p in body_params]
                form = {f: str(b_ids[f] if f in REFERENCES else VALUE_HINTS.get(f, "matrix")) for f in fields}
                names_b = names_b or any((p.alias or p.name) in REFERENCES for p in body_params)
        operation = openapi.get("paths", {}).get(path, {}).get(method.lower(), {})
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        json_body: Any = None
        if form is None and body_schema is not None:
            json_body = _schema_example(body_schema, components, b_ids)
            names_b = names_b or (isinstance(json_body, dict) and any(k in REFERENCES for k in json_body))
        elif form is None and method in ("POST", "PUT", "PATCH"):
            # A route reading its body itself (event batches): events about B's subject, from B's device.
            json_body = {
                "events": [
                    {"event_id": f"matrix-{secrets.token_hex(4)}", "type": "presence.sighting", "occurred_at": NOW,
                     "source": "matrix-source", "payload": {"subject": b_ids["subject_id"], "zone": "entrance"}}
                ]
            }  # fmt: skip
        calls.append(Call(method, path, url, params, json_body, form, names_b))
    return calls


# -- tenant A's principals --------------------------------------------------------------------------------


@dataclass
class Principal:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: httpx.Cookies | None = None
    csrf: str | None = None


def _csrf_of(html: str) -> str | None:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    return found.group(1) if found else None


def principals_of(base_url: str, a: Tenant, app: FastAPI) -> dict[str, Callable[[], Principal | None]]:
    """Makers of tenant A's credentials, called again after any call that may have spent them (log out,
    rotate a token, erase its shopper)."""
    routes = _routes_named(app)

    def key(role: str) -> Callable[[], Principal]:
        return lambda: Principal(f"{role} key", headers=a.auth(role))

    def shopper() -> tuple[str, str]:
        consent = {"tier": 3, "policy_version": "2026-11", "source": "app"}
        doc = _ok(httpx.post(f"{base_url}/v1/me/register", headers=a.auth("device"), json={"consent": consent}))
        return doc["subject_id"], doc["app_token"]

    def app_token() -> Principal:
        return Principal("app token", headers={"Authorization": f"Bearer {shopper()[1]}"})

    def session(role: str) -> Callable[[], Principal]:
        def login() -> Principal:
            with httpx.Client(base_url=base_url) as client:
                csrf = _csrf_of(client.get("/login").text)
                form = {"username": a.users[role], "password": PASSWORD, "csrf_token": csrf or "", "next": "/"}
                _ok(client.post("/login", data=form), 303)
                csrf = _csrf_of(client.get("/").text)
                return Principal(f"{role} session", cookies=client.cookies, csrf=csrf)

        return login

    def portal() -> Principal | None:
        if ("POST", "/v1/me/portal-link") not in routes:
            return None
        token = shopper()[1]
        link = _ok(httpx.post(f"{base_url}/v1/me/portal-link", headers={"Authorization": f"Bearer {token}"}))
        with httpx.Client(base_url=base_url, follow_redirects=True) as client:
            page = client.get(link["url"])
            assert page.status_code == 200, page.text[:300]
            return Principal("portal session", cookies=client.cookies, csrf=_csrf_of(page.text))

    return {
        "admin key": key("admin"),
        "staff key": key("staff"),
        "app token": app_token,
        "admin session": session("admin"),
        "staff session": session("staff"),
        "portal session": portal,
    }


def perform(base_url: str, call: Call, who: Principal) -> tuple[int, str]:
    headers = dict(who.headers)
    form = dict(call.form) if call.form is not None else None
    if who.csrf:
        headers["X-CSRF-Token"] = who.csrf
        if form is not None and "csrf_token" in form:
            form["csrf_token"] = who.csrf
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT)
    with httpx.Client(base_url=base_url, cookies=who.cookies, timeout=timeout) as client:
        request = client.build_request(
            call.method, call.url, params=call.params, headers=headers, json=call.json, data=form
        )
        response = client.send(request, stream=True)
        chunks: list[bytes] = []
        deadline = time.monotonic() + STREAM_SECONDS
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    break  # a stream (SSE): what it sent so far is what it shows
        except httpx.ReadTimeout:
            pass
        finally:
            response.close()
    return response.status_code, b"".join(chunks).decode("utf-8", errors="replace")


# -- the test ---------------------------------------------------------------------------------------------


def test_no_route_shows_or_touches_another_tenants_data(server: Server, databases: tuple[str, str]) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        a = seed(client, databases[0], server.app, "acme")
        b = seed(client, databases[0], server.app, "zeta")
        b.markers |= collect_own_values(client, server.app, b) - collect_own_values(client, server.app, a)
        a_markers = collect_own_values(client, server.app, a)
        b_events_before = _ok(client.get("/v1/events", headers=b.auth("admin"), params={"limit": 1000}))["events"]
    assert not (a.markers & b.markers)
    b_markers = {m for m in b.markers if len(m) >= 8}
    assert any(m.startswith("ps_") for m in b_markers) and any(m.startswith("tok") for m in b_markers)
    for path in ("/v1/events", "/v1/devices", "/v1/dead-letters"):  # the markers are what B's own reads show
        status, body = perform(server.url, Call("GET", path, path, {}), Principal("B", b.auth("admin")))
        assert status == 200 and sum(m in body for m in b_markers) >= 2, path
    calls = plan_calls(server.app, b)
    assert {c.path for c in calls} >= {"/v1/events", "/v1/devices/{device_id}", "/v1/me", "/"}  # discovery works
    principals = principals_of(server.url, a, server.app)
    held: dict[str, Principal | None] = {}  # reused until a call may have spent it (logins hash passwords)
    problems: list[str] = []
    succeeded = 0
    for call in calls:
        sent = " ".join([call.url, str(call.params), str(call.json), str(call.form)])
        spends = call.method != "GET" or "logout" in call.path  # may log out, rotate a token, erase a shopper
        for name, make in principals.items():
            who = held[name] if name in held else held.setdefault(name, make())
            if spends:
                del held[name]
            if who is None:
                continue
            status, body = perform(server.url, call, who)
            leaked = sorted(m for m in b_markers if m in body and m not in sent)
            if leaked:
                problems.append(f"{call} as A's {name} → {status} shows B's {leaked[:3]}")
            if call.names_b and 200 <= status < 300:
                problems.append(f"{call} as A's {name} → {status}: succeeded on B's object")
            if 200 <= status < 300:
                succeeded += 1
    assert not problems, "\n".join(problems)
    assert succeeded >= 40, succeeded  # the calls were made with working credentials (not all 401s)
    assert len(a_markers) > 10

    # B is untouched: keys, shopper, objects and events as before.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for role in ("admin", "staff"):
            assert client.get("/v1/tenant", headers=b.auth(role)).json()["id"] == b.id
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {b.ids['subject:token']}"})
        assert me.status_code == 200 and me.json()["tier"] == 2
        device = _ok(client.get(f"/v1/devices/{b.ids['gateway']}", headers=b.auth("admin")))
        assert device["name"].startswith("zeta gateway")
        assert _ok(client.get(f"/v1/sites/{b.ids['site']}", headers=b.auth("admin")))["id"] == b.ids["site"]
        if "zone_model" in b.ids:
            zone_model = _ok(client.get(f"/v1/sites/{b.ids['site']}/zone-model", headers=b.auth("admin")))
            assert zone_model["sha256"] == b.ids["zone_model"]
        keys = {k["id"]: k for k in _ok(client.get("/v1/keys", headers=b.auth("admin")))["keys"]}
        assert all(keys[b.ids[f"key:{role}"]]["revoked_at"] is None for role in ("staff", "device", "pos"))
        events = _ok(client.get("/v1/events", headers=b.auth("admin"), params={"limit": 1000}))["events"]
        assert events == b_events_before

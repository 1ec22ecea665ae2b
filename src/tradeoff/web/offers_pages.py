"""Offer pages (admin and staff): ``/campaigns`` (list with funnel), the campaign editor (``/campaigns/new``,
``/campaigns/{id}/edit``), one campaign's funnel and holdout (``/campaigns/{id}``), and the live store map
(``/live``, ``/stores/{site_id}/live`` + its JSON poll).

Every number shown to the merchant passes the release guard's minimum group size k (read from the guard,
never hard-coded): a funnel step reached by fewer than k distinct shoppers, or a zone with fewer than k
occupants, shows "< k", and a rate is shown only when both of its numbers are. The editor posts plain
forms (CSRF) through ``offers.service``; validation is ``CampaignSpec``'s, every error next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, FastAPI, Request
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Connection, Table, func, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tradeoff.core.errors import Conflict, InvalidInput, TradeoffError
from tradeoff.offers import service
from tradeoff.offers.campaigns import Campaign, CampaignSpec, Status, TriggerKind
from tradeoff.offers.delivery.store import offer_receipts
from tradeoff.offers.segments import service as segments
from tradeoff.offers.store import offer_coupons, offer_decisions
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.presence.setup import floorplan
from tradeoff.presence.setup import service as setup_service
from tradeoff.presence.store import presence_zone_occupancy
from tradeoff.privacy.capability import privacy_of
from tradeoff.web.nav import add_nav_item
from tradeoff.web.render import PAGE_HEADERS, page_roles, render
from tradeoff.web.session import CSRF_FIELD, csrf_valid
from tradeoff.web.store_setup import plan_drawing

router = APIRouter(include_in_schema=False)
StaffDep = Annotated[Principal, page_roles(Role.ADMIN, Role.STAFF)]
LIVE_POLL_SECONDS = 5


def min_group_size(platform: Platform) -> int:
    """k: the release guard's floor, so the pages follow ``TRADEOFF_RELEASE_MIN_GROUP_SIZE`` too."""
    return privacy_of(platform).release_guard.config.min_group_size


# -- suppression -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shown:
    """A count as the merchant may see it: ``value`` is None when fewer than k shoppers are behind it."""

    value: int | None
    k: int

    @property
    def text(self) -> str:
        return f"< {self.k}" if self.value is None else f"{self.value:,}"


def shown(count: int, *, subjects: int, k: int) -> Shown:
    """Publish ``count`` only when at least k distinct shoppers (or anonymous entities) make it up."""
    return Shown(count if subjects >= k and count >= k else None, k)


def rate(part: Shown, whole: Shown) -> str:
    if part.value is None or whole.value is None or whole.value == 0:
        return "—"
    return f"{100 * part.value / whole.value:.1f} %"


# -- the funnel (read model) -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    title: str
    count: Shown
    from_previous: str  # conversion from the step before ("—" when either side is suppressed)
    from_issued: str


@dataclass(frozen=True, slots=True)
class Funnel:
    steps: tuple[Step, ...]
    held_out: Shown
    redemption_rate: str  # treatment: redeemed / issued
    skipped: tuple[tuple[str, Shown], ...]


def _count(conn: Connection, table: Table, *where: ColumnElement[bool]) -> tuple[int, int]:
    """Rows and distinct shoppers (pseudonyms) matching ``where``."""
    row = conn.execute(select(func.count(), func.count(table.c.pseudonym.distinct())).where(*where)).one()
    return int(row[0]), int(row[1])


def funnel(conn: Connection, *, tenant_id: str, campaign_id: str, k: int) -> Funnel:
    """Issued → delivered → shown → opened → redeemed. Counters give the counts (they survive erasure); the
    pseudonymous ledgers give how many distinct shoppers stand behind each, which decides suppression."""
    stats = service.campaign_stats(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    d, r, c = offer_decisions.c, offer_receipts.c, offer_coupons.c
    mine_d = (d.tenant_id == tenant_id, d.campaign_id == campaign_id)
    mine_r = (r.tenant_id == tenant_id, r.campaign_id == campaign_id)
    _, issued_subjects = _count(conn, offer_decisions, *mine_d, d.outcome == "issue")
    _, held_subjects = _count(conn, offer_decisions, *mine_d, d.outcome == "holdout")
    _, redeemed_subjects = _count(
        conn, offer_coupons, c.tenant_id == tenant_id, c.campaign_id == campaign_id, c.status == "redeemed"
    )
    raw = [
        ("issued", "Issued", stats["issued"], issued_subjects),
        ("delivered", "Delivered", *_count(conn, offer_receipts, *mine_r, r.delivered_at.is_not(None))),
        ("displayed", "Shown", *_count(conn, offer_receipts, *mine_r, r.displayed_at.is_not(None))),
        ("opened", "Opened", *_count(conn, offer_receipts, *mine_r, r.opened_at.is_not(None))),
        ("redeemed", "Redeemed", stats["redeemed"], redeemed_subjects),
    ]
    counts = [shown(count, subjects=subjects, k=k) for _, _, count, subjects in raw]
    steps = tuple(
        Step(key, title, counts[i], rate(counts[i], counts[i - 1]) if i else "—", rate(counts[i], counts[0]))
        for i, (key, title, _, _) in enumerate(raw)
    )
    skipped = tuple(
        (reason, shown(int(n), subjects=int(n), k=k)) for reason, n in sorted(stats["skipped"].items())
    )  # occasions, not shoppers: a count under k is suppressed; the page says so
    held_out = shown(stats["held_out"], subjects=held_subjects, k=k)
    return Funnel(steps, held_out, rate(counts[-1], counts[0]), skipped)


# -- the editor's form <-> CampaignSpec ------------------------------------------------------------------------

# Form field names are the spec's dotted paths, so a pydantic error's location names its field.
FIELDS = frozenset({
    "name", "status", "priority", "trigger.kind", "trigger.zone", "trigger.dwell_s", "trigger.beacon",
    "audience.min_tier", "audience.segments", "offer.kind", "offer.title", "offer.percent_off",
    "offer.amount_off_minor", "offer.currency", "offer.scope", "offer.products", "offer.categories",
    "offer.min_basket_minor", "starts_at", "ends_at", "timezone", "coupon_valid_hours", "budget.max_issued",
    "budget.max_redemptions", "caps.per_day", "caps.per_week", "caps.per_campaign", "quiet_hours", "holdout",
})  # fmt: skip
GROUPS = frozenset({"trigger", "audience", "offer", "budget", "caps"})  # errors about the group as a whole
CHOICES: dict[str, tuple[str, ...]] = {
    "status": get_args(Status),
    "trigger.kind": get_args(TriggerKind),
    "audience.min_tier": ("2", "3"),
    "offer.kind": ("percent", "amount"),
    "offer.scope": ("basket", "products", "categories"),
}
LOCAL = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">, in the campaign's timezone
NEEDS_ZONE = ("enter_zone", "dwell", "exit_zone")


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def _local(text: str | None, zone: ZoneInfo) -> Any:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text  # CampaignSpec names the field
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _quiet(text: str) -> list[dict[str, str]]:
    periods = (part.partition("-") for part in _split(text))
    return [{"start": start.strip(), "end": end.strip()} for start, _, end in periods]


def _zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # the timezone field gets its own error


def spec_data(form: Mapping[str, str]) -> dict[str, Any]:
    """The form as ``CampaignSpec`` input; fields that do not apply to the chosen kinds are left out."""

    def v(name: str) -> str | None:
        return form.get(name, "").strip() or None

    kind, offer_kind, scope = v("trigger.kind"), v("offer.kind"), v("offer.scope") or "basket"
    zone = _zone_of(v("timezone"))
    trigger = {
        "kind": kind,
        "zone": v("trigger.zone") if kind in NEEDS_ZONE else None,
        "dwell_s": v("trigger.dwell_s") if kind == "dwell" else None,
        "beacon": v("trigger.beacon") if kind == "near_beacon" else None,
    }
    offer = {
        "kind": offer_kind,
        "title": v("offer.title"),
        "percent_off": v("offer.percent_off") if offer_kind == "percent" else None,
        "amount_off_minor": v("offer.amount_off_minor") if offer_kind == "amount" else None,
        "currency": (v("offer.currency") or "").upper() or None,
        "scope": scope,
        "products": _split(form.get("offer.products", "")) if scope == "products" else [],
        "categories": _split(form.get("offer.categories", "")) if scope == "categories" else [],
        "min_basket_minor": v("offer.min_basket_minor") or 0,
    }
    data = {
        "name": v("name"),
        "status": v("status"),
        "priority": v("priority"),
        "trigger": {key: value for key, value in trigger.items() if value is not None},
        "audience": {"min_tier": v("audience.min_tier") or 2, "segments": _split(form.get("audience.segments", ""))},
        "offer": {key: value for key, value in offer.items() if value is not None},
        "starts_at": _local(v("starts_at"), zone),
        "ends_at": _local(v("ends_at"), zone),
        "timezone": v("timezone"),
        "coupon_valid_hours": v("coupon_valid_hours"),
        "budget": {"max_issued": v("budget.max_issued"), "max_redemptions": v("budget.max_redemptions")},
        "caps": {"per_day": v("caps.per_day"), "per_week": v("caps.per_week"), "per_campaign": v("caps.per_campaign")},
        "quiet_hours": _quiet(form.get("quiet_hours", "")),
        "holdout": v("holdout"),
    }
    return {key: value for key, value in data.items() if value is not None}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first error per field (or per group, for rules across a group's fields)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        while key and key not in FIELDS and key not in GROUPS:
            key = key.rpartition(".")[0]
        out.setdefault(key or "ends_at", str(error["msg"]).removeprefix("Value error, "))  # "": the window rule
    return out


def _text(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}"


def values_of(spec: CampaignSpec) -> dict[str, str]:
    """A stored campaign as the form shows it (times in the campaign's timezone)."""
    t, o, zone = spec.trigger, spec.offer, spec.zone
    return {
        "name": spec.name, "status": spec.status, "priority": str(spec.priority),
        "trigger.kind": t.kind, "trigger.zone": t.zone or "", "trigger.dwell_s": _text(t.dwell_s),
        "trigger.beacon": t.beacon or "", "audience.min_tier": str(spec.audience.min_tier),
        "audience.segments": ", ".join(spec.audience.segments), "offer.kind": o.kind, "offer.title": o.title,
        "offer.percent_off": _text(o.percent_off), "offer.amount_off_minor": _text(o.amount_off_minor),
        "offer.currency": o.currency or "", "offer.scope": o.scope, "offer.products": ", ".join(o.products),
        "offer.categories": ", ".join(o.categories), "offer.min_basket_minor": str(o.min_basket_minor),
        "starts_at": spec.starts_at.astimezone(zone).strftime(LOCAL),
        "ends_at": spec.ends_at.astimezone(zone).strftime(LOCAL), "timezone": spec.timezone,
        "coupon_valid_hours": str(spec.coupon_valid_hours), "budget.max_issued": _text(spec.budget.max_issued),
        "budget.max_redemptions": _text(spec.budget.max_redemptions), "caps.per_day": _text(spec.caps.per_day),
        "caps.per_week": _text(spec.caps.per_week), "caps.per_campaign": _text(spec.caps.per_campaign),
        "quiet_hours": ", ".join(f"{q.start}-{q.end}" for q in spec.quiet_hours), "holdout": _text(spec.holdout),
    }  # fmt: skip


def defaults(now: datetime) -> dict[str, str]:
    """A new campaign: a draft for the next 30 days, one offer per shopper per day, no holdout."""
    start = now.astimezone(UTC).replace(second=0, microsecond=0)
    return {
        "status": "draft", "priority": "0", "trigger.kind": "enter_store", "audience.min_tier": "2",
        "offer.kind": "percent", "offer.scope": "basket", "offer.min_basket_minor": "0", "timezone": "UTC",
        "starts_at": start.strftime(LOCAL), "ends_at": (start + timedelta(days=30)).strftime(LOCAL),
        "coupon_valid_hours": "168", "caps.per_day": "1", "holdout": "0",
    }  # fmt: skip


# -- helpers -------------------------------------------------------------------------------------------------


def _read(platform: Platform, tenant_id: str, work: Callable[[Connection], Any]) -> Any:
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, tenant_id)
        return work(conn)


def _error(request: Request, exc: TradeoffError, title: str) -> Response:
    return render(request, "error.html", {"title": title, "message": exc.message}, status_code=exc.status)


def _zone_names(conn: Connection, tenant_id: str) -> list[str]:
    """The tenant's zone names (unique per tenant), offered as suggestions in the trigger's zone field."""
    plans = (floorplan.stored_plan(site.floor_plan) for site in tenancy.list_sites(conn, tenant_id=tenant_id))
    names = {zone.name for plan in plans if plan for zone in plan.zones}
    return sorted(names)


def _segment_hint(catalogue: list[segments.Segment]) -> str:
    """The audience's segment choices: the keys of the tenant's catalogue (what shoppers pick from)."""
    if not catalogue:
        return "Empty: everyone in the tier. No segments defined yet (PUT /v1/offers/segments)."
    return "Empty: everyone in the tier. Choose from: " + ", ".join(f"{s.key} ({s.label})" for s in catalogue) + "."


# -- campaigns -----------------------------------------------------------------------------------------------


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, user: StaffDep, platform: PlatformDep) -> Response:
    k = min_group_size(platform)

    def rows(conn: Connection) -> list[tuple[Campaign, Funnel]]:
        campaigns = service.list_campaigns(conn, tenant_id=user.tenant_id)
        return [(c, funnel(conn, tenant_id=user.tenant_id, campaign_id=c.id, k=k)) for c in campaigns]

    context = {"title": "Campaigns", "rows": _read(platform, user.tenant_id, rows), "k": k}
    return render(request, "offers_campaigns.html", context)


def _editor(
    request: Request,
    platform: Platform,
    tenant_id: str,
    *,
    campaign: Campaign | None,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "title": f"Edit {campaign.spec.name}" if campaign else "New campaign",
        "campaign": campaign,
        "values": values,
        "errors": errors or {},
        "zones": _read(platform, tenant_id, lambda conn: _zone_names(conn, tenant_id)),
        "segment_hint": _segment_hint(
            _read(platform, tenant_id, lambda conn: segments.catalogue(conn, tenant_id=tenant_id))
        ),
        "choices": CHOICES,
    }
    return render(request, "offers_edit.html", context, status_code=status)


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign_page(request: Request, user: StaffDep, platform: PlatformDep) -> Response:
    values = defaults(platform.pipeline.clock.now())
    return _editor(request, platform, user.tenant_id, campaign=None, values=values)


@router.get("/campaigns/{campaign_id}/edit", response_class=HTMLResponse)
def edit_campaign_page(request: Request, user: StaffDep, platform: PlatformDep, campaign_id: str) -> Response:
    try:
        campaign = _read(platform, user.tenant_id, lambda conn: _get(conn, user.tenant_id, campaign_id))
    except TradeoffError as exc:
        return _error(request, exc, "Campaign")
    return _editor(request, platform, user.tenant_id, campaign=campaign, values=values_of(campaign.spec))


def _get(conn: Connection, tenant_id: str, campaign_id: str) -> Campaign:
    return service.get_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)


def _save(
    request: Request, platform: Platform, tenant_id: str, form: dict[str, str], campaign_id: str | None
) -> Response:
    """Validate the form as ``CampaignSpec``, then create or replace through ``offers.service``."""
    campaign = None
    try:
        if campaign_id is not None:
            campaign = _read(platform, tenant_id, lambda conn: _get(conn, tenant_id, campaign_id))
    except TradeoffError as exc:
        return _error(request, exc, "Campaign")
    if not csrf_valid(request.session, form.get(CSRF_FIELD, "")):
        context = {"title": "Form expired", "message": "This form has expired. Please reload the page and try again."}
        return render(request, "error.html", context, status_code=403)
    try:
        spec = CampaignSpec.model_validate(spec_data(form))
    except ValidationError as exc:
        errors = field_errors(exc)
        return _editor(request, platform, tenant_id, campaign=campaign, values=form, errors=errors, status=422)
    now = platform.pipeline.clock.now()
    try:
        with write_transaction(platform.app_engine) as conn:
            scope_to_tenant(conn, tenant_id)
            already = campaign.spec.audience.segments if campaign is not None else ()
            segments.check_audience(conn, tenant_id=tenant_id, spec=spec, already=already)
            if campaign_id is None:
                saved = service.create_campaign(conn, tenant_id=tenant_id, spec=spec, now=now)
            else:
                saved = service.update_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id, spec=spec, now=now)
    except TradeoffError as exc:
        field = str(exc.details.get("field", "")) if isinstance(exc, Conflict | InvalidInput) else ""
        errors = {field or "form": exc.message}
        return _editor(request, platform, tenant_id, campaign=campaign, values=form, errors=errors, status=exc.status)
    return RedirectResponse(f"/campaigns/{saved.id}", status_code=303, headers={"Cache-Control": "no-store"})


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


@router.post("/campaigns/new")
async def create_campaign(request: Request, user: StaffDep, platform: PlatformDep) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_save, request, platform, user.tenant_id, form, None)


@router.post("/campaigns/{campaign_id}/edit")
async def edit_campaign(request: Request, user: StaffDep, platform: PlatformDep, campaign_id: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_save, request, platform, user.tenant_id, form, campaign_id)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, user: StaffDep, platform: PlatformDep, campaign_id: str) -> Response:
    k = min_group_size(platform)

    def work(conn: Connection) -> tuple[Campaign, Funnel]:
        campaign = _get(conn, user.tenant_id, campaign_id)
        return campaign, funnel(conn, tenant_id=user.tenant_id, campaign_id=campaign_id, k=k)

    try:
        campaign, result = _read(platform, user.tenant_id, work)
    except TradeoffError as exc:
        return _error(request, exc, "Campaign")
    context = {"title": campaign.spec.name, "campaign": campaign, "funnel": result, "k": k}
    return render(request, "offers_campaign.html", context)


# -- the live map --------------------------------------------------------------------------------------------


@router.get("/live", response_class=HTMLResponse)
def live_index(request: Request, user: StaffDep, platform: PlatformDep) -> Response:
    def sites(conn: Connection) -> list[tuple[tenancy.Site, floorplan.Plan | None]]:
        return [(s, floorplan.stored_plan(s.floor_plan)) for s in tenancy.list_sites(conn, tenant_id=user.tenant_id)]

    context = {"title": "Live map", "sites": _read(platform, user.tenant_id, sites), "k": min_group_size(platform)}
    return render(request, "live_map.html", context)


def occupancy(conn: Connection, *, tenant_id: str, zones: list[str], k: int) -> dict[str, Any]:
    """Each zone's anonymous occupancy now, as the merchant may see it; ``level`` (0–1) shades the map."""
    o = presence_zone_occupancy.c
    rows = conn.execute(
        select(o.zone, o.occupants, o.updated_at).where(o.tenant_id == tenant_id, o.zone.in_(zones))
    ).all()
    found = {row.zone: (int(row.occupants), row.updated_at) for row in rows}
    counts = {zone: shown(found.get(zone, (0, None))[0], subjects=found.get(zone, (0, None))[0], k=k) for zone in zones}
    top = max((s.value for s in counts.values() if s.value is not None), default=0)
    updated = max((at for _, at in found.values()), default=None)
    return {
        "k": k,
        "updated_at": updated.isoformat() if updated else None,
        "zones": [
            {"zone": zone, "text": s.text, "level": round(s.value / top, 3) if s.value and top else 0.0}
            for zone, s in counts.items()
        ],
    }


def _live(platform: Platform, tenant_id: str, site_id: str) -> tuple[setup_service.FloorPlanView, dict[str, Any]]:
    def work(conn: Connection) -> tuple[setup_service.FloorPlanView, dict[str, Any]]:
        view = setup_service.get_floor_plan(conn, tenant_id=tenant_id, site_id=site_id)
        zones = [zone.name for zone in view.plan.zones] if view.plan else []
        return view, occupancy(conn, tenant_id=tenant_id, zones=zones, k=min_group_size(platform))

    result: tuple[setup_service.FloorPlanView, dict[str, Any]] = _read(platform, tenant_id, work)
    return result


@router.get("/stores/{site_id}/live", response_class=HTMLResponse)
def live_page(request: Request, user: StaffDep, platform: PlatformDep, site_id: str) -> Response:
    try:
        view, live = _live(platform, user.tenant_id, site_id)
    except TradeoffError as exc:
        return _error(request, exc, "Live map")
    context = {
        "title": f"Live: {view.site_name}",
        "site_id": site_id,
        "view": view,
        "drawing": plan_drawing(view.plan, [], []) if view.plan else None,
        "live": live,
        "counts": {z["zone"]: z for z in live["zones"]},
        "poll_seconds": LIVE_POLL_SECONDS,
    }
    return render(request, "live_map.html", context)


@router.get("/stores/{site_id}/live.json")
def live_json(user: StaffDep, platform: PlatformDep, site_id: str) -> Response:
    try:
        _, live = _live(platform, user.tenant_id, site_id)
    except TradeoffError as exc:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)
    return JSONResponse(live, headers={"Cache-Control": PAGE_HEADERS["Cache-Control"]})


def install(app: FastAPI, platform: Platform) -> None:
    """Add the pages and their nav links (the dashboard's ``PAGES`` lists this)."""
    app.include_router(router)
    add_nav_item(app, "Campaigns", "/campaigns", roles={Role.ADMIN, Role.STAFF}, order=50)
    add_nav_item(app, "Live map", "/live", roles={Role.ADMIN, Role.STAFF}, order=45)

"""What the portal pages show: the tiers as the shopper reads them, the consent in force, and rendering
(its own layout, ``portal_base.html``; the merchant dashboard's context — user, nav, session — stays out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tradeoff import __version__
from tradeoff.privacy.consent import GPC_RESTRICTED, Basis, ConsentState, Purpose
from tradeoff.web.portal_session import Shopper
from tradeoff.web.render import PAGE_HEADERS, TEMPLATES_DIR, compact_json, format_dt

# The version of the tier texts below: recorded with every choice made in the portal. Change it whenever
# the texts change, so the ledger says which words the shopper agreed to.
POLICY_VERSION = "portal-2026-12"
PORTAL_HEADERS = {**PAGE_HEADERS, "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True, slots=True)
class TierText:
    tier: int
    title: str
    text: str


TIERS = (
    TierText(0, "Nothing about me", "Only anonymous counts (how many people were in the store). Nothing about you."),
    TierText(
        1,
        "Anonymous analytics",
        "Your visits count in the store's statistics under a name that changes every day. The store sees only "
        "totals of many people.",
    ),
    TierText(
        2,
        "Personalized offers",
        "The store recognizes your visits under a stable pseudonym to send you offers and coupons.",
    ),
    TierText(
        3,
        "Linked purchases",
        "Your purchases are linked to your visits through a keyed token of your card or loyalty id (never the "
        "card number).",
    ),
)
PURPOSE_LABELS = {
    Purpose.ANALYTICS: "Anonymous analytics",
    Purpose.PERSONALIZATION: "Personalized offers",
    Purpose.PURCHASE_LINKING: "Purchase linking",
}


def consent_view(state: ConsentState, at: datetime) -> dict[str, Any]:
    """The consent in force per purpose, with when it was given, its renewal date and GPC's part in it."""
    purposes = []
    for purpose in Purpose:
        record = state.latest.get(purpose)
        purposes.append(
            {
                "name": purpose.value,
                "label": PURPOSE_LABELS[purpose],
                "granted": state.allows(purpose, at),
                "recorded_at": record.recorded_at if record else None,
                "renew_by": record.renew_by if record and state.allows(purpose, at) else None,
                "policy_version": record.policy_version if record else None,
                "gpc": record is not None and record.basis in (Basis.GPC, Basis.GPC_CONFLICT),
                "gpc_restricted": purpose in GPC_RESTRICTED,
            }
        )
    tier = state.tier(at)
    return {
        "tier": tier,
        "tier_title": TIERS[tier].title,
        "purposes": purposes,
        "renewal_due": state.renewal_due(at),
        "gpc_applied": any(p["gpc"] for p in purposes),
    }


def _date(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d")


portal_templates = Jinja2Templates(directory=TEMPLATES_DIR)
portal_templates.env.filters["dt"] = format_dt
portal_templates.env.filters["date"] = _date
portal_templates.env.filters["compact_json"] = compact_json


def render_portal(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200, *, signed_in: bool = True
) -> HTMLResponse:
    """Render a portal page; ``context`` must carry ``csrf_token`` (the portal session's)."""
    full = {"version": __version__, "signed_in": signed_in, **context}
    return portal_templates.TemplateResponse(request, name, full, status_code=status_code, headers=PORTAL_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(
        path, status_code=303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def form_expired(request: Request, shopper: Shopper) -> Response:
    context = {"title": "Form expired", "message": "This form has expired. Please go back and try again."}
    return render_portal(request, "portal_message.html", {**context, "csrf_token": shopper.session.csrf}, 403)

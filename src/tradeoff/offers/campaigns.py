"""Merchant-defined campaigns: what triggers an offer, who may get it, what it gives, and the limits.

Validation is strict and names the field, because a campaign that silently does something else than the
merchant meant (a weekly cap below the daily one, a holdout of 90 %, a tier-1 audience) is worse than a
422. The rules that protect shoppers are not options: the audience needs personalization consent (tier
2+), caps and a validity window are mandatory parts of the model, and the holdout is capped at 50 %.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tradeoff.core.errors import InvalidInput

TriggerKind = Literal["enter_store", "enter_zone", "dwell", "near_beacon", "exit_zone", "exit_store"]
Status = Literal["draft", "active", "paused", "ended"]
MAX_HOLDOUT = 0.5
MAX_WINDOW_DAYS = 366
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_NEEDS_ZONE = {"enter_zone", "dwell", "exit_zone"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Model):
    """``enter_store``: first zone of a visit; ``exit_store``: the visit ended; ``dwell``: at least
    ``dwell_s`` in ``zone``; ``near_beacon``: the shopper's phone came within about a metre of ``beacon``."""

    kind: TriggerKind
    zone: str | None = Field(default=None, min_length=1, max_length=64)
    dwell_s: float | None = Field(default=None, gt=0, le=86_400)
    beacon: str | None = Field(default=None, min_length=3, max_length=128, description="e.g. ibeacon:<uuid>/1/2")

    @model_validator(mode="after")
    def _shape(self) -> Trigger:
        if self.kind in _NEEDS_ZONE and self.zone is None:
            raise ValueError(f"a {self.kind} trigger needs a zone")
        if self.kind not in _NEEDS_ZONE and self.zone is not None:
            raise ValueError(f"a {self.kind} trigger takes no zone")
        if (self.kind == "dwell") != (self.dwell_s is not None):
            raise ValueError("dwell_s is required for a dwell trigger and only there")
        if (self.kind == "near_beacon") != (self.beacon is not None):
            raise ValueError("beacon is required for a near_beacon trigger and only there")
        return self


class Audience(_Model):
    min_tier: int = Field(default=2, description="2: personalized offers; 3: also linked purchases")
    segments: tuple[str, ...] = Field(default=(), max_length=20, description="any of; empty: everyone")

    @field_validator("min_tier")
    @classmethod
    def _tier(cls, value: int) -> int:
        if value not in (2, 3):
            raise ValueError("must be 2 or 3: offers need the shopper's personalization consent (tier 2)")
        return value


class Offer(_Model):
    kind: Literal["percent", "amount"]
    title: str = Field(min_length=1, max_length=120)
    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off_minor: int | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    scope: Literal["basket", "products", "categories"] = "basket"
    products: tuple[str, ...] = Field(default=(), max_length=500)
    categories: tuple[str, ...] = Field(default=(), max_length=100)
    min_basket_minor: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Offer:
        if self.kind == "percent" and (self.percent_off is None or self.amount_off_minor is not None):
            raise ValueError("a percent offer needs percent_off and no amount_off_minor")
        if self.kind == "amount" and (self.amount_off_minor is None or self.percent_off is not None):
            raise ValueError("an amount offer needs amount_off_minor and no percent_off")
        if (self.kind == "amount" or self.min_basket_minor) and self.currency is None:
            raise ValueError("currency is required with an amount off or a minimum basket")
        if (self.scope == "products") != bool(self.products):
            raise ValueError("products are required for scope 'products' and only there")
        if (self.scope == "categories") != bool(self.categories):
            raise ValueError("categories are required for scope 'categories' and only there")
        return self


class Budget(_Model):
    max_issued: int | None = Field(default=None, ge=1)
    max_redemptions: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Budget:
        if self.max_issued is not None and self.max_redemptions is not None and self.max_redemptions > self.max_issued:
            raise ValueError("max_redemptions cannot exceed max_issued")
        return self


class Caps(_Model):
    """Per shopper, counted over rolling windows (any 24 h, any 7 days) and over the whole campaign."""

    per_day: int | None = Field(default=1, ge=1)
    per_week: int | None = Field(default=None, ge=1)
    per_campaign: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Caps:
        pairs = (("per_day", "per_week"), ("per_week", "per_campaign"), ("per_day", "per_campaign"))
        for small, large in pairs:
            low, high = getattr(self, small), getattr(self, large)
            if low is not None and high is not None and low > high:
                raise ValueError(f"{small} ({low}) cannot exceed {large} ({high})")
        return self


class QuietHours(_Model):
    """Local times (the campaign's timezone) when nothing is issued; ``start > end`` spans midnight."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time HH:MM (00:00–23:59)")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are equal: an empty (or all-day) quiet period is ambiguous")
        return self

    def contains(self, local: time) -> bool:
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        at = local.replace(second=0, microsecond=0, tzinfo=None)
        return start <= at < end if start < end else at >= start or at < end


class CampaignSpec(_Model):
    """What the merchant writes (API body and stored JSON)."""

    name: str = Field(min_length=1, max_length=200)
    status: Status = "draft"
    trigger: Trigger
    audience: Audience = Audience()
    offer: Offer
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str = "UTC"
    coupon_valid_hours: int = Field(default=168, ge=1, le=24 * 366)
    budget: Budget = Budget()
    caps: Caps = Caps()
    quiet_hours: tuple[QuietHours, ...] = Field(default=(), max_length=6)
    holdout: float = Field(default=0.0, ge=0.0, le=MAX_HOLDOUT, description="fraction held out for lift, 0–0.5")
    priority: int = Field(default=0, ge=-1000, le=1000, description="higher is considered first")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _window(self) -> CampaignSpec:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).days > MAX_WINDOW_DAYS:
            raise ValueError(f"a campaign runs at most {MAX_WINDOW_DAYS} days")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def live_at(self, at: datetime) -> bool:
        return self.status == "active" and self.starts_at <= at < self.ends_at

    def quiet_at(self, at: datetime) -> bool:
        local = at.astimezone(self.zone).time()
        return any(period.contains(local) for period in self.quiet_hours)


class Campaign(_Model):
    id: str
    tenant_id: str
    spec: CampaignSpec
    created_at: AwareDatetime
    updated_at: AwareDatetime


def parse_spec(data: Any) -> CampaignSpec:
    """``InvalidInput`` naming the first bad field (``caps``, ``trigger.zone``…) instead of a raw error."""
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "campaign"
        raise InvalidInput(field, str(first["msg"]).removeprefix("Value error, ")) from None

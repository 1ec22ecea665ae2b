"""The webhook sender: a background service that delivers the offer outbox to the tenant's app backend.

Each round, in one short write transaction, it claims due rows (``pending``/``failed``, ``next_attempt_at``
≤ now, of tenants with an enabled endpoint): ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several servers
share the work; on SQLite the write transaction is the single writer. Claiming takes a lease (attempts + 1,
``next_attempt_at`` = now + lease), so a sender that dies mid-send only delays the row. In the same
transaction consent is read again: a subject who withdrew personalization (or was erased) since the
coupon was issued gets nothing — the row becomes ``dropped``; a coupon past its window or no longer
usable becomes ``expired``. Then, outside any transaction, each row is POSTed, signed (``signing``), to
every enabled endpoint; a second short transaction marks it ``sent`` (and the coupon delivered), or
``failed`` with the next attempt after the backoff (``retry``), or ``dead`` after the last attempt. The
update is conditional on the claim (same attempt count), so a row re-claimed after its lease is not
overwritten by a late finisher. Delivery is at least once: receivers dedupe by ``webhook-id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Connection, Engine, select, update

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.offers.coupons import lifecycle
from tradeoff.offers.delivery import receipts
from tradeoff.offers.delivery.endpoints import Endpoint, list_endpoints, signing_secrets
from tradeoff.offers.delivery.pull import CHANNEL, USABLE
from tradeoff.offers.delivery.retry import RetryPolicy
from tradeoff.offers.delivery.signing import sign_headers
from tradeoff.offers.delivery.store import offer_webhook_endpoints
from tradeoff.offers.processor import PseudonymResolver
from tradeoff.offers.store import offer_coupons, offer_outbox
from tradeoff.platform.db.engine import write_transaction
from tradeoff.privacy.consent.ledger import consent_state
from tradeoff.privacy.consent.model import Purpose
from tradeoff.privacy.keys import KeyProvider

log = logging.getLogger(__name__)
o, k = offer_outbox.c, offer_coupons.c
EVENT_TYPE = "offer.issued"
USER_AGENT = "Tradeoff-Webhooks/1"


class Status:
    PENDING, SENT, FAILED, DEAD, DROPPED, EXPIRED = "pending", "sent", "failed", "dead", "dropped", "expired"
    DUE = (PENDING, FAILED)


@dataclass(frozen=True, slots=True)
class SenderConfig:
    batch_size: int = 20
    poll_seconds: float = 1.0
    lease: timedelta = timedelta(seconds=60)
    connect_timeout: float = 2.0
    timeout: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True, slots=True)
class Claimed:
    outbox_id: int
    tenant_id: str
    coupon_id: str
    campaign_id: str
    pseudonym: str
    subject_id: str
    attempt: int
    payload: dict[str, Any]
    created_at: datetime
    endpoints: tuple[Endpoint, ...]


@dataclass
class RoundReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    dropped: int = 0
    expired: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.dead + self.dropped + self.expired


def message_id(coupon_id: str) -> str:
    """The ``webhook-id``: one per coupon, the same on every retry."""
    return f"msg_{coupon_id}"


def webhook_body(item: Claimed) -> bytes:
    """What the app backend receives: enough to notify the shopper, and no code (the app fetches it with
    its own token, so the code never passes through push services or the backend's logs)."""
    data = {
        "subject_id": item.subject_id,
        "coupon_id": item.coupon_id,
        "campaign_id": item.campaign_id,
        "title": item.payload.get("title"),
        "offer": item.payload.get("offer"),
        "expires_at": item.payload.get("expires_at"),
        "fetch_url": f"/v1/me/offers/{item.coupon_id}",
    }
    doc = {"type": EVENT_TYPE, "id": message_id(item.coupon_id), "created_at": item.created_at.isoformat()}
    return orjson.dumps({**doc, "data": data})


class OfferSender:
    """Background service (platform ``Transport`` shape: ``start``/``stop``/``connected``)."""

    def __init__(
        self,
        engine: Engine,
        *,
        keys: KeyProvider,
        resolver: PseudonymResolver,
        clock: Clock | None = None,
        config: SenderConfig | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.resolver = resolver
        self.clock = clock or SystemClock()
        self.config = config or SenderConfig()
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="offer-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._own_client:
            self.client.close()

    def wake(self) -> None:
        """Look for due rows now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # keep the thread alive; the next round retries
                log.exception("offer webhook round failed")
                report = RoundReport()
            if report.handled < self.config.batch_size:
                self._wake.wait(self.config.poll_seconds)
                self._wake.clear()

    def run_once(self) -> RoundReport:
        """One round: claim, send, record. Returns what happened to the rows it looked at."""
        report = RoundReport()
        claimed = self._claim(self.clock.now(), report)
        for item in claimed:
            errors = self._send(item)
            self._finish(item, errors, report)
        return report

    # -- claim -----------------------------------------------------------------------------------------

    def _claim(self, now: datetime, report: RoundReport) -> list[Claimed]:
        enabled = select(offer_webhook_endpoints.c.tenant_id).where(offer_webhook_endpoints.c.enabled.is_(True))
        query = (
            select(o.id, o.tenant_id, o.coupon_id, o.campaign_id, o.pseudonym, o.attempts, o.payload, o.created_at)
            .where(o.channel == CHANNEL, o.status.in_(Status.DUE), o.next_attempt_at <= now,
                   o.tenant_id.in_(enabled))
            .order_by(o.next_attempt_at, o.id)
            .limit(self.config.batch_size)
        )  # fmt: skip
        claimed: list[Claimed] = []
        with write_transaction(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=offer_outbox)
            endpoints: dict[str, tuple[Endpoint, ...]] = {}
            for row in conn.execute(query).all():
                verdict = self._still_deliverable(conn, row, now)
                if isinstance(verdict, tuple):
                    status, reason = verdict
                    _set(conn, row.id, status=status, last_error=reason)
                    report.dropped += status == Status.DROPPED
                    report.expired += status == Status.EXPIRED
                    continue
                if row.tenant_id not in endpoints:
                    endpoints[row.tenant_id] = tuple(list_endpoints(conn, tenant_id=row.tenant_id, enabled_only=True))
                attempt = int(row.attempts) + 1
                _set(conn, row.id, attempts=attempt, next_attempt_at=now + self.config.lease)
                claimed.append(
                    Claimed(row.id, row.tenant_id, row.coupon_id, row.campaign_id, row.pseudonym, verdict, attempt,
                            dict(row.payload or {}), row.created_at, endpoints[row.tenant_id])
                )  # fmt: skip
        return claimed

    def _still_deliverable(self, conn: Connection, row: Any, now: datetime) -> str | tuple[str, str]:
        """The subject id when the row may go out now; otherwise ``(status, reason)``."""
        subject_id = self.resolver.subject_of(conn, row.tenant_id, row.pseudonym)
        if subject_id is None:
            return Status.DROPPED, "subject unknown or erased"
        state = consent_state(conn, tenant_id=row.tenant_id, subject_id=subject_id)
        if not state.allows(Purpose.PERSONALIZATION, now):
            return Status.DROPPED, "personalization consent withdrawn"
        coupon = conn.execute(
            select(k.serial, k.status, k.issued_at, k.expires_at, k.transaction_id, k.hold_until).where(
                k.tenant_id == row.tenant_id, k.id == row.coupon_id
            )
        ).first()
        if coupon is None:
            return Status.DROPPED, "coupon no longer exists"
        usable = lifecycle.Coupon(
            serial=coupon.serial, valid_from=coupon.issued_at, valid_until=coupon.expires_at,
            state=lifecycle.CouponState(coupon.status), transaction_id=coupon.transaction_id,
            hold_until=coupon.hold_until,
        )  # fmt: skip
        state_now = lifecycle.effective_state(usable, at=now)
        if state_now not in USABLE:
            return Status.EXPIRED, f"coupon is {state_now.value}"
        return subject_id

    # -- send ------------------------------------------------------------------------------------------

    def _send(self, item: Claimed) -> list[str]:
        """POST to every enabled endpoint; the errors (empty when every one answered 2xx)."""
        if not item.endpoints:
            return ["no enabled webhook endpoint"]
        body = webhook_body(item)
        errors = []
        for endpoint in item.endpoints:
            at = self.clock.now()
            headers = sign_headers(
                signing_secrets(self.keys, endpoint, at=at), msg_id=message_id(item.coupon_id), body=body, at=at
            )
            headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
            try:
                response = self.client.post(endpoint.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                errors.append(f"endpoint {endpoint.id}: {type(exc).__name__}: {exc}")
                continue
            if not 200 <= response.status_code < 300:
                errors.append(f"endpoint {endpoint.id}: HTTP {response.status_code}")
        return errors

    def _finish(self, item: Claimed, errors: Sequence[str], report: RoundReport) -> None:
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            claim = (o.id == item.outbox_id, o.attempts == item.attempt, o.status.in_(Status.DUE))
            if not errors:
                conn.execute(
                    update(offer_outbox).where(*claim).values(status=Status.SENT, sent_at=now, last_error=None)
                )
                receipts.record(
                    conn, tenant_id=item.tenant_id, coupon_id=item.coupon_id, campaign_id=item.campaign_id,
                    pseudonym=item.pseudonym, milestone=receipts.Milestone.DELIVERED, via=receipts.Via.WEBHOOK,
                    at=now,
                )  # fmt: skip
                report.sent += 1
                return
            error = "; ".join(errors)[:500]
            policy = self.config.retry
            if policy.exhausted(item.attempt):
                conn.execute(update(offer_outbox).where(*claim).values(status=Status.DEAD, last_error=error))
                report.dead += 1
                log.warning("offer webhook %s dead after %d attempts: %s", item.outbox_id, item.attempt, error)
                return
            retry_at = now + policy.delay(item.attempt)
            conn.execute(
                update(offer_outbox)
                .where(*claim)
                .values(status=Status.FAILED, next_attempt_at=retry_at, last_error=error)
            )
            report.failed += 1


def _set(conn: Connection, outbox_id: int, **values: Any) -> None:
    conn.execute(update(offer_outbox).where(o.id == outbox_id).values(**values))

"""Installing a calibrated fingerprint model for a site, and loading the installed ones for live tracking.

One model per site (``presence_zone_models``); installing replaces it, removing goes back to path-loss.
The model document is validated by loading it (``calibration.from_json``: no pickle, plain numbers), its
size is bounded (every sighting is scored against every fingerprint), and the zones it produces must be
zones of the site's floor plan when the plan has zones (``zones`` maps the model's classes to them).
Every function takes the tenant it works for; another tenant's site is ``Forbidden``, a missing one
``NotFound`` (``tenancy.get_site``).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput, NotFound
from tradeoff.platform import tenancy
from tradeoff.presence.model import calibration
from tradeoff.presence.model.calibration import StoreModel
from tradeoff.presence.setup import floorplan, service
from tradeoff.presence.store import presence_zone_models
from tradeoff.presence.tracking.fingerprint import FingerprintZones, class_zones

log = logging.getLogger(__name__)

MAX_FINGERPRINTS = 20_000
MAX_BEACONS = 256
MAX_CLASSES = 2_000
MAX_KEY_CHARS = 128
MAX_ZONE_CHARS = 48
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class ZoneModelSummary:
    site_id: str
    classes: dict[str, str | None]  # class → zone (None: in no zone)
    zones: list[str]
    receivers: list[str]  # the live receiver keys the model reads
    unknown_receivers: list[str]  # of those, the ones no beacon or gateway of this site is (typos, room names)
    scans: int
    fingerprints: int
    params: dict[str, Any]
    selection: str | None
    sha256: str
    created_at: datetime
    created_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "classes": self.classes,
            "zones": self.zones,
            "receivers": self.receivers,
            "unknown_receivers": self.unknown_receivers,
            "scans": self.scans,
            "fingerprints": self.fingerprints,
            "params": self.params,
            "selection": self.selection,
            "sha256": self.sha256,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def parse_model(document: Any) -> StoreModel:
    """A model document (dict, JSON text or bytes) → ``StoreModel``; anything else is ``InvalidInput``."""
    if isinstance(document, dict):
        declared = document.get("fingerprints")
        if isinstance(declared, list) and len(declared) > MAX_FINGERPRINTS:
            raise InvalidInput("model", f"{len(declared)} fingerprints; at most {MAX_FINGERPRINTS} are accepted")
        data: bytes | str = orjson.dumps(document)
    elif isinstance(document, bytes | str):
        data = document
    else:
        raise InvalidInput("model", "expected a tradeoff-presence-model JSON document")
    try:
        store = calibration.from_json(data)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        reason = str(exc) if isinstance(exc, ValueError) else f"malformed model document ({type(exc).__name__}: {exc})"
        raise InvalidInput("model", reason) from None
    fingerprints = len(store.model.fingerprints)
    if fingerprints > MAX_FINGERPRINTS:
        raise InvalidInput("model", f"{fingerprints} fingerprints; at most {MAX_FINGERPRINTS} are accepted")
    if not 0 < len(store.beacons) <= MAX_BEACONS or len(set(store.beacons)) != len(store.beacons):
        raise InvalidInput("model", f"the model needs 1 to {MAX_BEACONS} distinct beacons")
    if len(store.model.classes_) > MAX_CLASSES:
        raise InvalidInput("model", f"{len(store.model.classes_)} classes; at most {MAX_CLASSES} are accepted")
    return store


def _string_map(value: Any, field: str, keys: set[str], what: str, limit: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput(field, "expected an object of strings")
    unknown = sorted(str(k) for k in value if k not in keys)
    if unknown:
        raise InvalidInput(field, f"not {what} of the model: {', '.join(unknown[:10])}")
    out = {str(k): v.strip() for k, v in value.items()}
    bad = sorted(k for k, v in out.items() if not v or len(v) > limit)
    if bad:
        raise InvalidInput(field, f"empty or longer than {limit} characters for {', '.join(bad[:10])}")
    return out


def install(
    conn: Connection,
    *,
    tenant_id: str,
    site_id: str,
    model: Any,
    zones: Any = None,
    receivers: Any = None,
    created_by: str,
) -> ZoneModelSummary:
    """Validate and install (replacing what the site had). The presence processor picks it up when it next
    reloads its estimators (``processor.ESTIMATOR_TTL_S``)."""
    site = tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    store = parse_model(model)
    classes = {str(label) for label in store.model.classes_}
    zone_map = _string_map(zones, "zones", classes, "classes", MAX_ZONE_CHARS)
    receiver_map = _string_map(receivers, "receivers", set(store.beacons), "beacons", MAX_KEY_CHARS)
    try:
        estimator = FingerprintZones(store, zone_map or None, receiver_map or None)
    except ValueError as exc:
        raise InvalidInput("receivers", str(exc)) from None
    too_long = sorted(key for key in estimator.covered if len(key) > MAX_KEY_CHARS)
    if too_long:
        raise InvalidInput("receivers", f"receiver keys longer than {MAX_KEY_CHARS} characters: {too_long[0][:40]}…")
    mapping = class_zones(store, zone_map or None)
    produced = sorted({zone for zone in mapping.values() if zone is not None})
    if not produced:
        raise InvalidInput("zones", "the model puts no class in any zone")
    long_zones = [zone for zone in produced if len(zone) > MAX_ZONE_CHARS]
    if long_zones:
        raise InvalidInput("zones", f"zone names longer than {MAX_ZONE_CHARS} characters: {long_zones[0][:40]}…")
    plan = floorplan.stored_plan(site.floor_plan)
    if plan is not None and plan.zones:
        missing = [zone for zone in produced if plan.zone(zone) is None]
        if missing:
            raise InvalidInput(
                "zones",
                f"not zones of this site's floor plan: {', '.join(missing[:10])}; map the model's classes to the "
                "plan's zones (zones = {class: zone}, classes left out are in no zone)",
            )
    document = calibration.to_dict(store)
    sha256 = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    row = {
        "site_id": site.id,
        "tenant_id": tenant_id,
        "model": document,
        "zone_map": zone_map,
        "receiver_map": receiver_map,
        "classes": mapping,
        "receivers": sorted(estimator.covered),
        "scans": int(store.info.get("scans") or len(store.model.fingerprints)),
        "sha256": sha256,
        "created_at": utcnow(),
        "created_by": created_by[:128],
    }
    t = presence_zone_models
    conn.execute(delete(t).where(t.c.site_id == site.id, t.c.tenant_id == tenant_id))
    conn.execute(insert(t).values(**row))
    return _summary(conn, tenant_id, row)


def get(conn: Connection, *, tenant_id: str, site_id: str) -> ZoneModelSummary:
    """The installed model's summary; ``NotFound`` when the site uses path-loss only."""
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    t = presence_zone_models
    found = conn.execute(select(t).where(t.c.site_id == site_id, t.c.tenant_id == tenant_id)).first()
    if found is None:
        raise NotFound("this site has no zone model installed (zones come from the path-loss model)")
    return _summary(conn, tenant_id, dict(found._mapping))


def remove(conn: Connection, *, tenant_id: str, site_id: str) -> bool:
    """Back to path-loss for this site; whether a model was installed."""
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    t = presence_zone_models
    return conn.execute(delete(t).where(t.c.site_id == site_id, t.c.tenant_id == tenant_id)).rowcount > 0


def _summary(conn: Connection, tenant_id: str, row: Mapping[str, Any]) -> ZoneModelSummary:
    known = _site_receivers(conn, tenant_id, row["site_id"])
    document = row["model"]
    classes: dict[str, str | None] = dict(row["classes"])
    return ZoneModelSummary(
        site_id=row["site_id"],
        classes=classes,
        zones=sorted({zone for zone in classes.values() if zone is not None}),
        receivers=list(row["receivers"]),
        unknown_receivers=[key for key in row["receivers"] if key not in known],
        scans=int(row["scans"]),
        fingerprints=len(document.get("fingerprints") or []),
        params=dict(document.get("params") or {}),
        selection=(document.get("info") or {}).get("selection"),
        sha256=row["sha256"],
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def _site_receivers(conn: Connection, tenant_id: str, site_id: str) -> set[str]:
    """Receiver keys the site knows: its gateways (external id), beacons (identity key) and plan receivers."""
    known = {gateway.external_id for gateway in service.list_gateways(conn, tenant_id=tenant_id, site_id=site_id)}
    known |= {view.beacon.key for view in service.list_beacons(conn, tenant_id=tenant_id, site_id=site_id)}
    site = tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    for item in site.floor_plan.get("receivers", []) or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            known.add(item["key"])
    return known


# -- for zone estimation ----------------------------------------------------------------------------------

_loaded: OrderedDict[str, FingerprintZones] = OrderedDict()


def estimators(conn: Connection, *, tenant_id: str) -> dict[str, FingerprintZones]:
    """The tenant's installed models as estimators, by site. Parsed models are kept (by content) between
    the processor's reloads; a stored model that no longer loads is skipped with a warning."""
    t = presence_zone_models
    query = select(t.c.site_id, t.c.model, t.c.zone_map, t.c.receiver_map, t.c.sha256).where(t.c.tenant_id == tenant_id)
    out: dict[str, FingerprintZones] = {}
    for site_id, model, zone_map, receiver_map, sha256 in conn.execute(query).all():
        maps = orjson.dumps([zone_map, receiver_map], option=orjson.OPT_SORT_KEYS).decode()
        key = f"{sha256}:{hashlib.sha256(maps.encode()).hexdigest()}"
        estimator = _loaded.get(key)
        if estimator is None:
            try:
                estimator = FingerprintZones(parse_model(model), zone_map or None, receiver_map or None)
            except (InvalidInput, ValueError) as exc:
                log.warning("zone model of site %s does not load, path-loss is used: %s", site_id, exc)
                continue
            _loaded[key] = estimator
            while len(_loaded) > _CACHE_SIZE:
                _loaded.popitem(last=False)
        else:
            _loaded.move_to_end(key)
        out[site_id] = estimator
    return out

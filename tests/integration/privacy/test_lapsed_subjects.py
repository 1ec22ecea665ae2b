"""The retention job erases shoppers whose consent has been out of force for the grace period."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from tradeoff.platform import tenancy
from tradeoff.platform.container import build_platform
from tradeoff.platform.settings import Settings
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent.ledger import record_consent
from tradeoff.privacy.consent.model import Purpose, Source
from tradeoff.privacy.dsr.lapsed import erase_lapsed
from tradeoff.privacy.subjects.service import register_subject
from tradeoff.privacy.subjects.store import subjects

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_only_long_lapsed_subjects_are_erased(engine: Engine, database_url: str, tmp_path: Path) -> None:
    platform = build_platform(
        Settings(database_url=database_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json")
    )
    services = privacy_of(platform)
    people: dict[str, str] = {}
    with engine.begin() as conn:
        tenant_id = tenancy.create_tenant(conn, slug="acme", name="Acme").id

        def person(name: str, registered: datetime, consent_at: datetime | None, grant: bool = True) -> None:
            subject = register_subject(conn, tenant_id=tenant_id, at=registered).subject.subject_id
            people[name] = subject
            if consent_at is not None:
                record_consent(
                    conn,
                    tenant_id=tenant_id,
                    subject_id=subject,
                    changes={Purpose.ANALYTICS: grant},
                    policy_version="2026-01",
                    source=Source.APP,
                    gpc=False,
                    at=consent_at,
                )

        person("active", NOW - timedelta(days=400), NOW - timedelta(days=100))
        person("expired_long_ago", NOW - timedelta(days=900), NOW - timedelta(days=900))  # renewal lapsed ~6 months ago
        person("expired_recently", NOW - timedelta(days=760), NOW - timedelta(days=760))  # lapsed ~30 days ago
        person("never_consented", NOW - timedelta(days=200), None)
        person("new_without_consent", NOW - timedelta(days=10), None)
        person("withdrew_long_ago", NOW - timedelta(days=300), NOW - timedelta(days=200), grant=False)
    for subject_id in people.values():  # each person has data under their key
        services.vault.encrypt(tenant_id, subject_id, b"secret", table="t", column="c", row_id="1")

    erased = erase_lapsed(engine, vault=services.vault, audit=services.audit, now=NOW)

    with engine.connect() as conn:
        closed = {row.subject_id for row in conn.execute(select(subjects).where(subjects.c.closed_at.is_not(None)))}
    assert erased == 3
    assert closed == {people["expired_long_ago"], people["never_consented"], people["withdrew_long_ago"]}
    assert erase_lapsed(engine, vault=services.vault, audit=services.audit, now=NOW) == 0  # already done
    platform.close()

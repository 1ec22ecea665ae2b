"""The dashboard's pure parts: nav registry, redirect targets, session secret and principal, formatting."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI

from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.settings import Settings
from tradeoff.web.nav import NavItem, add_nav_item, nav_of
from tradeoff.web.render import compact_json, format_ago, format_dt, safe_next
from tradeoff.web.session import (
    csrf_token,
    csrf_valid,
    login_session,
    logout_session,
    session_principal,
    session_secret,
)


def test_nav_is_per_app_sorted_and_filtered_by_role() -> None:
    app, other = FastAPI(), FastAPI()
    add_nav_item(app, "Events", "/events", order=30)
    add_nav_item(app, "Overview", "/", order=10)
    add_nav_item(app, "Dead letters", "/dead-letters", roles={Role.ADMIN}, order=90)
    assert [i.path for i in nav_of(app).for_role(Role.ADMIN)] == ["/", "/events", "/dead-letters"]
    assert [i.path for i in nav_of(app).for_role(Role.STAFF)] == ["/", "/events"]
    assert nav_of(other).items == []
    with pytest.raises(ValueError, match="already registered"):
        add_nav_item(app, "Again", "/events")


def test_nav_items_are_local_paths_and_know_when_they_are_active() -> None:
    with pytest.raises(ValueError):
        NavItem("Evil", "https://evil.example/")
    with pytest.raises(ValueError):
        NavItem("Evil", "//evil.example/")
    with pytest.raises(ValueError):
        NavItem(" ", "/x")
    assert NavItem("Overview", "/").is_active("/") and not NavItem("Overview", "/").is_active("/events")
    machines = NavItem("Machines", "/machines")
    assert machines.is_active("/machines") and machines.is_active("/machines/42")
    assert not machines.is_active("/machines-old")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/events", "/events"),
        ("/events?type=x", "/events?type=x"),
        (None, "/"),
        ("", "/"),
        ("events", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
    ],
)
def test_safe_next_only_allows_local_paths(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_session_secret_prefers_the_setting(tmp_path: Path) -> None:
    assert session_secret(Settings(secret_key="s3cret", var_dir=tmp_path / "var")) == "s3cret"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_session_secret_is_generated_once_privately(tmp_path: Path) -> None:
    settings = Settings(secret_key="", var_dir=tmp_path / "deep" / "var")
    first = session_secret(settings)
    assert len(first) >= 40
    assert session_secret(settings) == first
    path = tmp_path / "deep" / "var" / "secret_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert os.listdir(path.parent) == ["secret_key"]  # no temporary files left behind


def test_session_round_trip_and_rejection_of_odd_contents() -> None:
    session: dict[str, object] = {"csrf_token": "pre-login"}
    login_session(session, Principal(tenant_id="t1", role=Role.STAFF, username="sam"))
    assert session["csrf_token"] != "pre-login"  # a new token after login
    assert session_principal(session) == Principal(tenant_id="t1", role=Role.STAFF, username="sam")
    assert session_principal({**session, "role": "device"}) is None  # API-only roles never get a session
    assert session_principal({**session, "role": "root"}) is None
    assert session_principal({**session, "tenant_id": ""}) is None
    assert session_principal({}) is None and session_principal(None) is None
    logout_session(session)
    assert session == {}


def test_csrf_tokens() -> None:
    session: dict[str, object] = {}
    token = csrf_token(session)
    assert csrf_token(session) == token
    assert csrf_valid(session, token)
    assert not csrf_valid(session, token + "x")
    assert not csrf_valid(session, "")
    assert not csrf_valid(session, None)
    assert not csrf_valid({}, token)
    assert not csrf_valid(None, token)


def test_formatting() -> None:
    now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert format_dt(now) == "2026-11-29 10:00:00 UTC"
    assert format_dt(None) == "—"
    assert format_ago(now - timedelta(seconds=5), now) == "5 s ago"
    assert format_ago(now - timedelta(minutes=7), now) == "7 min ago"
    assert format_ago(now - timedelta(hours=3), now) == "3 h ago"
    assert format_ago(now - timedelta(days=2), now) == "2 d ago"
    assert format_ago(None) == "never"
    assert compact_json({"a": 1}) == '{"a":1}'
    assert compact_json(None) == ""
    long = compact_json({"k": "x" * 500}, limit=20)
    assert len(long) == 20 and long.endswith("…")

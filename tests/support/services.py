"""Finding the real services tests need; skip when absent unless TRADEOFF_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("TRADEOFF_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


def services_required() -> bool:
    return os.environ.get("TRADEOFF_REQUIRE_SERVICES") == "1"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need(service: str, host: str, port: int) -> None:
    if port_open(host, port):
        return
    message = f"{service} does not answer on {host}:{port}"
    if services_required():
        pytest.fail(f"{message} (TRADEOFF_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    need("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    name = f"tradeoff_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def private_mosquitto(max_queued: int = 0) -> Iterator[int]:
    """A Mosquitto of our own on a free port, configured to queue without limit for offline sessions.

    The system broker keeps Debian's defaults (1000 queued messages per offline client); tests that kill
    the subscriber while 10,000 messages arrive need the production setting documented in the README.
    """
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        if services_required():
            pytest.fail("mosquitto binary not found")
        pytest.skip("mosquitto binary not found")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"max_queued_messages {max_queued}\nmax_inflight_messages 0\n"
        )
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not port_open("127.0.0.1", port):
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("private mosquitto did not start")
                time.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def pg_admin(sql: str) -> None:
    """Run one statement as the PostgreSQL superuser (roles, databases)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def rls_databases() -> Iterator[tuple[str, str]]:
    """(owner URL, application-role URL) of a fresh database migrated with row-level security, the app
    role a fresh login role that is neither superuser nor BYPASSRLS; both dropped afterwards."""
    from tradeoff.platform.db.migrate import upgrade

    role = f"tradeoff_app_{uuid.uuid4().hex[:8]}"
    need("PostgreSQL", "127.0.0.1", 5432)
    pg_admin(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    try:
        with postgres_database() as url:
            upgrade(url, app_role=role)
            yield url, url.replace("postgres@", f"{role}@", 1)
    finally:
        pg_admin(f"DROP ROLE IF EXISTS {role}")

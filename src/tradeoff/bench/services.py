"""The real things a benchmark runs against: fresh databases, the server process and brokers."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.tenancy import create_tenant


class BenchError(RuntimeError):
    """The benchmark could not run (a service is missing or a process failed)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite:///{directory / name}.db"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server ``admin_url`` points at; dropped afterwards."""
    name = f"tradeoff_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise BenchError(f"cannot create a PostgreSQL database via {_redact(admin_url)}: {exc}") from exc
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_version(admin_url: str) -> str | None:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    except Exception:
        return None
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class BenchTenant:
    id: str
    slug: str
    api_key: str


def prepare_database(url: str, slug: str | None = None) -> BenchTenant:
    """Migrate ``url`` and create the tenant and device key the load is sent as."""
    upgrade(url)
    slug = slug or f"bench-{uuid.uuid4().hex[:8]}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tenant = create_tenant(conn, slug=slug, name="Benchmark")
            key = create_api_key(conn, tenant_id=tenant.id, role=Role.DEVICE, name="bench")
    finally:
        engine.dispose()
    return BenchTenant(tenant.id, tenant.slug, key.secret)


@contextmanager
def managed_process(
    args: list[str],
    *,
    log_path: Path,
    ready: Callable[[subprocess.Popen[bytes]], bool],
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends; output goes to ``log_path``, shown if the process fails."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(env or os.environ))
    try:
        deadline = time.monotonic() + timeout
        while not ready(proc):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"{Path(args[0]).name} did not become ready:\n{_tail(log_path)}")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def platform_env(workdir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEOFF_")}
    env.update(
        TRADEOFF_DATABASE_URL=database_url,
        TRADEOFF_VAR_DIR=str(workdir / "var"),
        TRADEOFF_LOG_LEVEL="WARNING",
        TRADEOFF_SECRET_KEY=uuid.uuid4().hex,
    )
    env.update({f"TRADEOFF_{key.upper()}": value for key, value in extra.items()})
    return env


@contextmanager
def tradeoff_server(workdir: Path, database_url: str, *, workers: int = 0) -> Iterator[str]:
    """``tradeoff serve`` (one uvicorn process, as shipped) on a free port; yields its base URL. With
    ``workers`` > 0 the server only ingests and serves, and that many ``tradeoff worker`` processes apply
    the events (the scale-out topology)."""
    port = free_port()
    args = [sys.executable, "-c", "from tradeoff.cli import main; main()", "serve"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    env = platform_env(workdir, database_url, **split_topology(workers))
    with (
        processor_workers(workdir, database_url, workers),
        managed_process(
            args,
            log_path=workdir / f"server-{port}.log",
            ready=lambda _proc: port_open("127.0.0.1", port),
            env=env,
        ),
    ):
        yield f"http://127.0.0.1:{port}"


def split_topology(workers: int) -> dict[str, str]:
    """Settings for a serving process whose events are applied by separate workers."""
    return {"run_processors": "false"} if workers > 0 else {}


def _says_running(log_path: Path, _proc: subprocess.Popen[bytes]) -> bool:
    return b"worker running" in log_path.read_bytes()


@contextmanager
def processor_workers(workdir: Path, database_url: str, count: int) -> Iterator[None]:
    """``count`` ``tradeoff worker`` processes for the duration of the block."""
    with ExitStack() as stack:
        for index in range(count):
            log_path = workdir / f"worker-{index}-{uuid.uuid4().hex[:6]}.log"
            args = [sys.executable, "-c", "from tradeoff.cli import main; main()", "worker"]
            stack.enter_context(
                managed_process(
                    args,
                    log_path=log_path,
                    ready=functools.partial(_says_running, log_path),
                    env=platform_env(workdir, database_url),
                )
            )
        yield


@contextmanager
def private_mosquitto(workdir: Path) -> Iterator[int]:
    """A Mosquitto of our own that never drops queued QoS 1 messages; yields its port."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise BenchError("mosquitto binary not found (or pass --mqtt-url)")
    port = free_port()
    conf = workdir / f"mosquitto-{port}.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    with managed_process(
        [binary, "-c", str(conf)],
        log_path=workdir / f"mosquitto-{port}.log",
        ready=lambda _proc: port_open("127.0.0.1", port),
    ):
        yield port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)

"""What the benchmark ran on: CPU, Python and the versions of the storage and broker it measured."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return "unknown"


def mosquitto_version(binary: str | None = None) -> str | None:
    path = binary or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(path).exists():
        return None
    try:
        result = subprocess.run([path, "-h"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"mosquitto version (\S+)", result.stdout + result.stderr)
    return found.group(1) if found else None


def machine_info(*, postgres_version: str | None) -> dict[str, Any]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres_version,
        "mosquitto": mosquitto_version(),
    }

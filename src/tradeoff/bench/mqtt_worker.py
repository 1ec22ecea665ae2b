"""``tradeoff serve`` exactly as shipped, plus a listener that records when each commit happened.

Run as ``python -m tradeoff.bench.mqtt_worker COMMITS PORT`` with the ``TRADEOFF_*`` environment of a
server (``TRADEOFF_MQTT_URL`` set). On SIGTERM the server shuts down as usual and the worker writes
``[[commit_time, max_seq], ...]`` (monotonic clock, in commit order) to COMMITS; that is how the MQTT
path's publish → durable-commit latency is measured.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import orjson
from fastapi import FastAPI

from tradeoff import server
from tradeoff.cli.serve import serve
from tradeoff.platform.container import Platform


def main(argv: list[str]) -> int:
    commits_path, port = Path(argv[0]), int(argv[1])
    commits: list[tuple[float, int]] = []
    build = server.app_from_env

    def recorded_app() -> FastAPI:
        app = build()
        platform: Platform = app.state.platform
        platform.pipeline.on_commit(lambda top: commits.append((time.monotonic(), top)))
        return app

    server.app_from_env = recorded_app  # what `tradeoff serve` hands to uvicorn
    # uvicorn shuts down gracefully on SIGTERM, then raises it again for the handler found at start:
    # make that one return, so the commit log below still gets written.
    signal.signal(signal.SIGTERM, lambda *_args: None)
    try:
        serve(host="127.0.0.1", port=port)
    finally:
        commits_path.write_bytes(orjson.dumps(commits))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Configuration from ``TRADEOFF_*`` environment variables, with defaults that run on a bare laptop."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADEOFF_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/tradeoff.db",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host/db",
    )
    app_database_url: str = Field(
        default="",
        description="PostgreSQL URL of the row-level-security-bound role request handlers use; empty: database_url",
    )
    mqtt_url: str = Field(default="", description="mqtt://host:port; empty disables the MQTT transport")
    mqtt_client_id: str = Field(default="tradeoff-ingest", description="stable id: the broker keeps our session")
    mqtt_topic_prefix: str = "tradeoff"
    mqtt_shared_group: str = Field(default="", description="MQTT 5 shared-subscription group for several servers")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = Field(default="", description="signs dashboard sessions; generated into var/ when empty")
    secure_cookies: bool = Field(default=False, description="mark the session cookie Secure (behind TLS)")
    var_dir: Path = Path("var")
    keyring_path: Path = Field(
        default=Path("var/keys/keyring.json"),
        description="tenant key-encryption and MAC keys; keep it outside the database and its backups",
    )
    log_level: str = "INFO"
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch_events: int = 5000
    processor_poll_seconds: float = 1.0
    run_processors: bool = Field(
        default=True,
        description="false: this process ingests and serves only; `tradeoff worker` processes apply events",
    )
    require_services: bool = False
    vending_dispatch: bool = Field(
        default=True, description="plan vending routes on a schedule and on calls (where processors run)"
    )
    vending_plan_seconds: float = Field(default=5.0, description="routing search seconds per routing pass")
    vending_dispatch_hour: int = Field(default=5, ge=0, le=23, description="daily plan at this depot-local hour")
    vending_replan_hours: float = Field(default=6.0, gt=0, description="safety replan this often (clock time)")
    vending_call_poll_seconds: float = Field(default=30.0, gt=0, description="how often to look for calling machines")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

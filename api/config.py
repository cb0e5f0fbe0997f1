"""Service configuration: one pydantic-settings class, read from `COALITION_*` variables.

`DATABASE_URL` (no prefix) is honoured too, as container platforms set it; it wins over
`COALITION_DATABASE_URL`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class Settings(BaseSettings):
    """Every knob of the REST service and its workers, each with a safe default."""

    model_config = SettingsConfigDict(env_prefix="COALITION_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the HTTP server.")
    database_url: str = Field(
        "sqlite:///./var/coalition.db",
        validation_alias=AliasChoices("DATABASE_URL", "COALITION_DATABASE_URL", "database_url"),
        description="SQLAlchemy URL: SQLite file (embedded default) or postgresql+psycopg://...",
    )
    datasets_dir: Path | None = Field(
        None, description="Directory of shipped datasets (exported as COALITION_DATASETS_DIR)."
    )

    workers: int = Field(2, ge=0, le=64, description="Local solver worker processes (W).")
    worker_mode: Literal["process", "thread"] = Field(
        "process", description="Local workers as processes (production) or threads (tests)."
    )
    queue_max: int = Field(100, ge=1, description="Queued jobs allowed before 429 (Q).")
    max_time_limit_s: float = Field(
        300.0, gt=0, le=86_400, description="Largest solver time limit a job may use."
    )
    sync_max_time_limit_s: float = Field(
        60.0, gt=0, le=3_600, description="Largest solver time limit for POST /v1/solve."
    )
    sync_wait_grace_s: float = Field(
        60.0, ge=0, description="Extra seconds POST /v1/solve waits beyond the time limit."
    )
    lease_s: float = Field(30.0, gt=0, description="A job's lease; extended by heartbeats.")
    heartbeat_s: float = Field(2.0, gt=0, description="Seconds between worker heartbeats.")
    poll_s: float = Field(0.5, gt=0, description="Seconds an idle worker waits between claims.")
    max_attempts: int = Field(3, ge=1, le=20, description="Attempts before a lost job fails.")
    result_retention_days: float = Field(
        30.0,
        ge=0,
        le=36_500,
        description=(
            "Finished jobs (state, result and log) older than this many days are deleted;"
            " 0 keeps them forever."
        ),
    )
    retention_check_s: float = Field(
        3_600.0, gt=0, description="Seconds between purges of expired jobs (at startup, then by each worker)."
    )

    analysis_backend: Literal["local", "dask"] = Field(
        "local", description="Where analysis sweeps run: in the worker, or on a Dask cluster."
    )
    dask_scheduler: str | None = Field(
        None, description="Dask scheduler address for analysis_backend=dask (e.g. tcp://dask-scheduler:8786)."
    )
    analysis_workers: int = Field(
        1, ge=1, le=64, description="Processes one analysis job may use (local) or ask for (dask)."
    )

    max_body_bytes: int = Field(1_000_000, ge=1_024, description="Largest request body (413).")
    max_json_depth: int = Field(32, ge=4, le=1_000, description="Deepest JSON nesting accepted.")
    log_max_bytes: int = Field(2_000_000, ge=1_024, description="Stored log per job, at most.")
    log_page_bytes: int = Field(65_536, ge=1_024, description="Largest log page per request.")

    require_api_key: Literal["auto", "true", "false"] = Field(
        "auto", description="auto: keys are required iff the host is not a loopback address."
    )
    log_level: str = Field("INFO", description="Python logging level of the service.")

    @field_validator("require_api_key", mode="before")
    @classmethod
    def _normalise_flag(cls, value: object) -> object:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            lowered = value.strip().lower()
            return {"1": "true", "yes": "true", "0": "false", "no": "false"}.get(lowered, lowered)
        return value

    @property
    def api_key_required(self) -> bool:
        """Whether every route but the health checks needs an X-API-Key."""
        if self.require_api_key == "auto":
            return self.host.strip() not in LOOPBACK_HOSTS
        return self.require_api_key == "true"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is an SQLite file (or memory)."""
        return self.database_url.startswith("sqlite")

    def export_environment(self) -> None:
        """Make the datasets directory visible to the library and to child processes."""
        if self.datasets_dir is not None:
            os.environ["COALITION_DATASETS_DIR"] = str(self.datasets_dir)

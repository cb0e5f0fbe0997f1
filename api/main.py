"""The application factory: `create_app(settings)` wires routes, middleware, storage, workers."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from api.config import Settings
from api.errors import install_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.openapi import install_openapi
from api.routes import compare, datasets, health, jobs, solve, ui
from api.storage.db import make_engine, make_sessionmaker, upgrade_schema

logger = logging.getLogger(__name__)

STARTUP_DB_WAIT_S = 60.0
DESCRIPTION = """
Plan rare-earth supply chains that do not depend on an adversary: a coalition allocation
LP (Pyomo + HiGHS) as a service.

* `POST /v1/solve` solves one scenario and waits (time limit clamped, echoed in
  `X-Effective-Time-Limit`); `POST /v1/jobs` queues any job and returns at once (202).
* Solver status (`optimal`, `infeasible`, `unbounded`, `time_limit`, `error`) is in the
  result body; HTTP errors are for bad requests and faults, always as
  `{"error": {"code", "message", "field", "request_id"}}`.
* Send `X-API-Key` when the server listens beyond loopback (scopes `read`, `submit`,
  `admin`). A key sees and manages only the jobs it submitted (another key's job is a 404);
  `admin` widens that to every owner's jobs (`GET /v1/jobs?owner=key:<id>`).
"""


def _migrate_with_retry(settings: Settings, app: FastAPI) -> None:
    deadline = time.monotonic() + STARTUP_DB_WAIT_S
    while True:
        try:
            upgrade_schema(app.state.engine)
            return
        except SQLAlchemyError as exc:
            if time.monotonic() > deadline:
                raise
            logger.warning("database not ready (%s); retrying", type(exc).__name__)
            time.sleep(2.0)


def _purge_expired(settings: Settings, app: FastAPI) -> None:
    """Apply the result retention period once at startup (workers repeat it periodically)."""
    from api.storage.repository import purge_expired

    try:
        purge_expired(app.state.sessions, settings.result_retention_days)
    except SQLAlchemyError as exc:
        logger.warning("retention purge skipped (database error: %s)", type(exc).__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Upgrade the schema, start the local workers; stop them on shutdown."""
    settings: Settings = app.state.settings
    await run_in_threadpool(_migrate_with_retry, settings, app)
    await run_in_threadpool(_purge_expired, settings, app)
    if settings.workers > 0:
        from api.workers import WorkerPool

        app.state.pool = WorkerPool(settings)
        app.state.pool.start()
    try:
        yield
    finally:
        if app.state.pool is not None:
            await run_in_threadpool(app.state.pool.stop)
            app.state.pool = None
        app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app for `settings` (default: from the environment)."""
    settings = settings or Settings()
    settings.export_environment()
    keys_required = settings.api_key_required
    app = FastAPI(
        title="Coalition supply-chain optimizer",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Beyond loopback every route but the health checks needs a key: the schema is then
        # served by a keyed route below, and the browser UIs (which cannot send it) are off.
        openapi_url=None if keys_required else "/openapi.json",
        docs_url=None if keys_required else "/docs",
        redoc_url=None if keys_required else "/redoc",
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(app.state.engine)
    app.state.pool = None
    install_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(solve.router)
    app.include_router(jobs.router)
    app.include_router(compare.build_router())
    app.include_router(datasets.router)
    app.include_router(ui.router)
    if keys_required:
        app.include_router(health.keyed_openapi_router(app))
    return app

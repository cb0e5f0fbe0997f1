"""`coalition serve`, `coalition worker` and `coalition keys ...` (added to the main CLI).

Heavy modules (FastAPI, SQLAlchemy, uvicorn, the solver) are imported inside commands so
that `coalition --help` stays fast.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or ./var/coalition.db)."),
]
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


class RequestIdFilter(logging.Filter):
    """Stamp every log record with the id of the request being served ('-' outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `record.request_id`."""
        from api.errors import request_id_var

        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def configure_logging(level: str) -> None:
    """Log to stderr with request ids."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def redacted_url(url: str) -> str:
    """A database URL fit for logs: the password masked (and nothing shown if it will not parse)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        if "password" in parsed.query:
            parsed = parsed.update_query_dict({"password": "***"})
        return parsed.render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


def _settings(**overrides: Any) -> Any:
    from api.config import Settings

    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _migrated_sessions(database_url: str | None) -> Any:
    from api.storage.db import make_engine, make_sessionmaker, upgrade_schema

    settings = _settings(database_url=database_url)
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    return make_sessionmaker(engine)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (beyond loopback, API keys are required).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Local solver worker processes (0 = none; run `coalition worker`).")
    ] = None,
    database_url: DatabaseUrl = None,
    datasets_dir: Annotated[str | None, typer.Option(help="Directory of shipped datasets.")] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run the REST API and its local worker pool (SQLite by default: one command, no setup)."""
    import uvicorn

    from api.main import create_app

    configure_logging(log_level)
    settings = _settings(
        host=host,
        port=port,
        workers=workers,
        database_url=database_url,
        datasets_dir=datasets_dir,
        log_level=log_level,
    )
    logging.getLogger(__name__).info(
        "serving on %s:%d with %d local worker(s); API keys %s; database %s",
        host,
        port,
        settings.workers,
        "required" if settings.api_key_required else "not required (loopback)",
        redacted_url(settings.database_url),
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes to run.")] = 1,
    database_url: DatabaseUrl = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run solver workers only, against DATABASE_URL (for docker-compose and scale-out)."""
    import signal
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from api.storage.db import make_engine, upgrade_schema
    from api.workers import JobWorker, WorkerPool, stop_on_signals

    configure_logging(log_level)
    settings = _settings(database_url=database_url, workers=concurrency, log_level=log_level)
    settings.export_environment()
    engine = make_engine(settings.database_url)
    for attempt in range(30):
        try:
            upgrade_schema(engine)
            break
        except SQLAlchemyError as exc:
            if attempt == 29:
                raise
            logging.getLogger(__name__).warning("database not ready (%s); retrying", type(exc).__name__)
            time.sleep(2)
    engine.dispose()
    stop = stop_on_signals((signal.SIGTERM, signal.SIGINT))
    if concurrency <= 1:
        JobWorker(settings, stop).run()
        return
    pool = WorkerPool(settings, size=concurrency)
    pool.start()
    while not stop.wait(1.0):
        pass
    pool.stop()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help=(
                "read, submit and/or admin (repeat the option). A key sees only its own jobs;"
                " admin widens read/submit to every owner's jobs (it needs read or submit with it)."
            ),
        ),
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print it once (only its SHA-256 is stored)."""
    from api.security import create_api_key, owner_label, scope_problem
    from api.storage.db import transaction

    problem = scope_problem(scope)
    if problem is not None:
        typer.echo(f"error: --scope: {problem}", err=True)
        raise typer.Exit(2)
    with transaction(_migrated_sessions(database_url)) as session:
        key_id, key = create_api_key(session, name, scope)
    typer.echo(
        f"key id {key_id} ({name}; scopes: {' '.join(sorted(set(scope)))}; its jobs' owner: {owner_label(key_id)})",
        err=True,
    )
    typer.echo("store this key now; it is not shown again:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list(database_url: DatabaseUrl = None) -> None:
    """List API keys (id, name, prefix, scopes, created, revoked, owner label of their jobs); never the keys."""
    from api.security import owner_label
    from api.storage import repository

    with _migrated_sessions(database_url)() as session:
        rows = repository.list_api_keys(session)
    typer.echo("id\tname\tprefix\tscopes\tcreated\trevoked\towner")
    for row in rows:
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
        created = row.created_at.isoformat(timespec="seconds")
        typer.echo(
            f"{row.id}\t{row.name}\tck_{row.prefix}_...\t{row.scopes}\t{created}\t{revoked}\t{owner_label(row.id)}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="Key id (see `coalition keys list`).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API key (it stops working at once)."""
    from api.storage import repository
    from api.storage.db import transaction

    with transaction(_migrated_sessions(database_url)) as session:
        found = repository.revoke_api_key(session, key_id)
    if not found:
        typer.echo(f"error: no key with id {key_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked key {key_id}")


def register(app: typer.Typer) -> None:
    """Add `serve`, `worker` and `keys` to the `coalition` command line."""
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(keys_app, name="keys")

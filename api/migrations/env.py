"""Alembic environment: upgrades run on the service's own connection, or from the CLI.

Programmatic use (the service at startup) passes a connection in
`config.attributes["connection"]`; the `alembic -c api/alembic.ini ...` command line
builds an engine from the service settings (DATABASE_URL / COALITION_DATABASE_URL).
"""

from __future__ import annotations

from alembic import context

from api.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    from api.config import Settings
    from api.storage.db import make_engine

    engine = make_engine(Settings().database_url)
    with engine.begin() as conn:
        run_on(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()

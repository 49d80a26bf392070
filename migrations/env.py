"""Alembic environment: the URL comes from registry.ops.schema (or SAMENOP_DATABASE_URL)."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from registry.core import models  # noqa: F401  (registers every table on the metadata)
from registry.core.db import Base, engine_for

config = context.config
target_metadata = Base.metadata

# plain `alembic ...` reads alembic.ini, which says what to log; registry.ops.schema's
# configuration has no file and leaves logging to the application
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from registry.core.config import load

    return str(load()["DATABASE_URL"])


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = engine_for(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()  # also after a failed migration: no connection is left to the collector


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, "OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
            # on SQLite each revision commits on its own: check each one before it does
            on_version_apply=[_refuse_dangling_references] if sqlite else [],
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, "ON")


def _sqlite_foreign_keys(connection: Connection, state: str) -> None:
    """Batch mode copies a table, drops the original and renames the copy. With foreign keys
    enforced, that DROP deletes every row first: refused while other tables refer to them
    (plan_versions to plans), and ON DELETE CASCADE would empty plan_shares unnoticed. SQLite
    ignores the pragma inside a transaction, so it goes to the driver before Alembic begins one."""
    raw = connection.connection.driver_connection
    assert raw is not None
    if not raw.in_transaction:
        raw.execute(f"PRAGMA foreign_keys={state}")


def _refuse_dangling_references(*, ctx: MigrationContext, step: Any, **_: Any) -> None:
    """What enforcement would have refused, checked after each revision, before its commit:
    an error here rolls the revision back."""
    assert ctx.connection is not None
    dangling = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise RuntimeError(
            f"{step} leaves rows that refer to rows that do not exist: {dangling[:5]}"
            " (table, rowid, referred table, foreign key)"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Creating and upgrading the schema: only ever through the Alembic migrations."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app, has_app_context

from registry.core.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
# revision files sort by the day they were written: 20261122_23f28ed23653_audit_append_only.py
# (alembic.ini at the repository root says the same, for plain `alembic`)
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


def alembic_config(database_url: str, script_location: str | Path | None = None) -> Config:
    """The Alembic configuration for one database; `script_location` is another copy of
    migrations/ (the tests write revisions into a temporary one)."""
    config = Config(stdout=sys.stdout)  # the default is the stdout at import, not a CLI runner's
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", FILE_TEMPLATE)
    # the revision that encrypts the TOTP secrets needs the app's key; outside an app (plain
    # `alembic`, the tests) it reads SAMENOP_TOTP_KEY or instance/totp_key itself
    if has_app_context() and current_app.config.get("TOTP_KEY"):
        config.attributes["totp_key"] = current_app.config["TOTP_KEY"]
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def analyze(database_url: str) -> None:
    """Refresh the query planner's statistics. Without them SQLite walks every plan for an
    'IN (...)' of matched persons (seconds at 100 000 plans instead of a fraction of a ms)."""
    from registry.core.db import engine_for

    engine = engine_for(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()

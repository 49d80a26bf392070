"""Creating and upgrading the schema: only ever through the Alembic migrations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from registry.core.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
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

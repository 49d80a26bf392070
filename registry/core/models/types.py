"""Column types and limits every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    TypeDecorator,
)

# the largest id an Integer primary key holds (PostgreSQL's integer): a larger one names no row,
# and asking the database for it fails (SQLite: too large for its integers)
MAX_ID = 2**31 - 1

# the vocabulary columns hold the codes of registry/core/vocabulary.py's enums, named beside them


class UTCDateTime(TypeDecorator[datetime]):
    """An aware moment, stored in UTC and read back aware on every database.

    SQLite keeps no offset: without this, an Amsterdam wall-clock time would be read back
    as if it were UTC. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: say which time zone it is in")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

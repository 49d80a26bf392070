"""The NEN 7513 audit log: hash-chained rows and the chain's head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class AuditEntry(Base):
    """NEN 7513 log row; append-only and hash-chained to its predecessor."""

    __tablename__ = "audit_entries"

    # ids are handed out under the chain lock: contiguous, so a removed row shows as a gap
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the id of the request that wrote the row (X-Request-ID, and in its log lines); hashed only
    # when present, so the rows written before the column keep their hashes
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The newest chain link, so that removing the last rows is detected too, and the oldest
    one kept (the checkpoint), from which verification starts once retention removed rows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    # rows present, from first_entry_id up to last_entry_id
    count: Mapped[int] = mapped_column(BigInteger)
    # the checkpoint: the first row kept and the hash it follows; the purge that moves it
    # writes the same pair into the chain, so a moved checkpoint does not verify
    first_entry_id: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    first_prev_hash: Mapped[str] = mapped_column(String(64), server_default="0" * 64)

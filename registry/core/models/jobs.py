"""The scheduled jobs' last runs (`samenop worker`): one row per job, shown to the coordinator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime


class JobRun(Base):
    """A job's last run. `due_at` is the due time it served: a worker that holds the job's lock
    and finds it at or past the current due time does not run it again (registry.ops.worker)."""

    __tablename__ = "job_runs"

    # the job's name; a job of each server (the search index's compaction) adds "@<host>"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))  # JobOutcome
    message: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(255), default="")
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

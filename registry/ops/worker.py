"""`samenop worker`: one process that runs the periodic jobs on their schedules, on any number of
servers, each job once per due time.

Each job is one of the command line's commands (JOBS), run in the worker's process with its
output kept as the job's message. Before a job runs, the worker takes the job's lock: on
PostgreSQL a session advisory lock (`pg_try_advisory_lock`) on a connection of its own, which
PostgreSQL releases by itself should the worker die; on SQLite (one machine) an exclusive
`flock` on a file beside the database. Holding it, the worker reads the job's row in
`job_runs`: a row that already served the current due time means another worker ran it, and
nothing happens. Otherwise the job runs, and its outcome, message and due time are written
before the lock is let go. A worker that finds the lock taken passes: the other one runs it.

The search index is per server: its compaction is a job of each server (`index_compact@<host>`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from registry import observe
from registry.core import dutch
from registry.core.config import PRIVATE_DIRECTORY
from registry.core.db import db
from registry.core.models import JobRun
from registry.core.timeutil import utcnow
from registry.core.vocabulary import JobOutcome

log = logging.getLogger(__name__)

#: how often the worker looks for due jobs
TICK_SECONDS = 5.0
MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Schedule:
    """Every `every` (counted from midnight UTC, 1 January 1970), or each day at local time `at`
    on the `weekdays` (Monday is 0)."""

    every: timedelta | None = None
    at: time | None = None
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

    def due_at(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The latest due time at or before `now` (aware, UTC)."""
        if self.every is not None:
            step = self.every.total_seconds()
            return datetime.fromtimestamp(now.timestamp() // step * step, tz=now.tzinfo)
        assert self.at is not None
        local = now.astimezone(zone)
        for back in range(8):
            day = local.date() - timedelta(days=back)
            moment = datetime.combine(day, self.at, tzinfo=zone)
            if day.weekday() in self.weekdays and moment <= local:
                return moment.astimezone(now.tzinfo)
        raise ValueError("a schedule without weekdays")

    def describe(self) -> str:
        """In the users' words: 'elke 5 minuten', 'maandag t/m vrijdag om 07.00 uur'."""
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            if seconds % 3600 == 0:
                hours = seconds // 3600
                return "elk uur" if hours == 1 else f"elke {hours} uur"
            if seconds % 60 == 0:
                minutes = seconds // 60
                return "elke minuut" if minutes == 1 else f"elke {minutes} minuten"
            return f"elke {seconds} seconden"
        assert self.at is not None
        hour = f"{self.at.hour:02d}.{self.at.minute:02d} uur"
        if self.weekdays == (0, 1, 2, 3, 4, 5, 6):
            return f"dagelijks om {hour}"
        if self.weekdays == (0, 1, 2, 3, 4):
            return f"maandag t/m vrijdag om {hour}"
        return ", ".join(dutch.weekday(day) for day in self.weekdays) + f" om {hour}"


@dataclass(frozen=True)
class Job:
    name: str
    label: str  # Dutch, for the page
    command: tuple[str, ...]  # the command line's words: `samenop <command>`
    schedule: Schedule
    #: a job of each server (its own search index), not of the installation
    per_server: bool = False
    #: a due time the worker gets to later than this is passed over (the morning digest of a day
    #: the worker was down is not sent in the afternoon); None: always caught up
    grace: timedelta | None = None

    def row_name(self) -> str:
        return f"{self.name}@{socket.gethostname()}" if self.per_server else self.name


def _every(**kwargs: float) -> Schedule:
    return Schedule(every=timedelta(**kwargs))


#: the jobs, in the order a worker looks at them (the times are the configured zone's)
JOBS = (
    Job("outbox_deliver", "E-mail en webhooks versturen", ("outbox", "deliver"), _every(seconds=30)),
    Job(
        "feedback_escalate", "Te late spoedmeldingen naar de coördinatoren", ("feedback", "escalate"),
        _every(minutes=5),
    ),
    Job("index_compact", "Zoekindex bijwerken", ("index", "compact"), _every(minutes=5), per_server=True),
    Job("privacy_scan", "Ongebruikelijke raadplegingen signaleren", ("privacy", "scan"), _every(hours=1)),
    Job(
        "plans_expire", "Handelingskaders laten verlopen, regiehouders herinneren", ("plans", "expire"),
        Schedule(at=time(0, 30)),
    ),
    Job("purge", "Bewaartermijn: persoonsgegevens verwijderen", ("purge",), Schedule(at=time(1, 15))),
    Job(
        "feedback_digest", "Dagoverzicht terugkoppeling", ("feedback", "digest"),
        Schedule(at=time(7, 0), weekdays=(0, 1, 2, 3, 4)), grace=timedelta(hours=4),
    ),
)  # fmt: skip


# --- locks --------------------------------------------------------------------------------------

_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


def lock_key(name: str) -> int:
    """The job's PostgreSQL advisory lock: a signed 64-bit number from its name."""
    digest = hashlib.blake2b(f"samenop.job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take the job's lock without waiting. -> whether this worker holds it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = {"key": lock_key(name)}
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()
        return
    database = make_url(engine.url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        with _memory_guard:
            lock = _memory_locks.setdefault(f"{database}:{name}", threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    directory = Path(f"{database}.jobs")
    directory.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)
    descriptor = os.open(directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # lets the lock go


# --- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """What a worker did with a job: an outcome of its own run (JobOutcome), or `busy` (another
    worker held the lock) or `not_due` (the current due time was served already)."""

    job: str
    outcome: str
    message: str = ""


def available(app: Flask, job: Job) -> bool:
    """Whether this app has the job's command (the index's comes with the lookup package)."""
    command: click.Command | None = app.cli
    for word in job.command:
        if not isinstance(command, click.Group):
            return False
        command = command.commands.get(word)
    return command is not None


def run_due(app: Flask, now: datetime | None = None) -> list[Ran]:
    """Run every job that is due and that no other worker runs or ran for this due time."""
    return [run_if_due(app, job, now) for job in JOBS if available(app, job)]


def run_if_due(app: Flask, job: Job, now: datetime | None = None) -> Ran:
    name = job.row_name()
    now = now or utcnow()
    with app.app_context():
        due = job.schedule.due_at(now, ZoneInfo(str(app.config["TIMEZONE"])))
        with job_lock(db.engine, name) as held:
            if not held:
                return Ran(name, "busy")
            session = db.session
            row = session.get(JobRun, name)
            if row is not None and row.due_at is not None and row.due_at >= due:
                session.rollback()
                return Ran(name, "not_due")
            if row is None:
                row = JobRun(name=name, outcome=JobOutcome.RUNNING, message="", runs=0)
                session.add(row)
            row.host = socket.gethostname()[:255]
            row.started_at = utcnow()
            row.finished_at = None
            if job.grace is not None and now - due > job.grace:
                message = f"overgeslagen: te laat voor het tijdstip van {due.isoformat()}"
                _finish(session, row, due, JobOutcome.SKIPPED, message)
                return Ran(name, JobOutcome.SKIPPED, message)
            row.outcome = JobOutcome.RUNNING
            session.commit()
            log.info("job %s: started (due %s)", name, due.isoformat())
            outcome, message = _invoke(app, job.command)
            session.rollback()
            row = session.get(JobRun, name)
            assert row is not None
            _finish(session, row, due, outcome, message)
            log.log(
                logging.INFO if outcome == JobOutcome.SUCCESS else logging.ERROR,
                "job %s: %s", name, outcome,
            )  # fmt: skip
            return Ran(name, outcome, message)


def _finish(session: Session, row: JobRun, due: datetime, outcome: str, message: str) -> None:
    row.due_at = due
    row.outcome = outcome
    row.message = message[-MAX_MESSAGE:]
    row.finished_at = utcnow()
    row.runs = (row.runs or 0) + 1
    if outcome == JobOutcome.SUCCESS:
        row.last_success_at = row.finished_at
    session.commit()


def _invoke(app: Flask, words: tuple[str, ...]) -> tuple[str, str]:
    """Run `samenop <words>` in this process, in an application context of its own (its own
    session). -> (JobOutcome, what it printed or why it failed)."""
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), app.app_context():
            info = ScriptInfo(create_app=lambda: app)
            with app.cli.make_context("samenop", list(words), obj=info) as context:
                app.cli.invoke(context)
    except click.ClickException as exc:
        return JobOutcome.FAILED, _joined(output.getvalue(), exc.format_message())
    except SystemExit as exc:
        if exc.code not in (0, None):
            return JobOutcome.FAILED, _joined(output.getvalue(), f"exit status {exc.code}")
    except Exception as exc:  # a job that fails must not stop the others, nor the worker
        log.exception("job %s failed", " ".join(words))
        return JobOutcome.FAILED, _joined(output.getvalue(), f"{type(exc).__name__}: {exc}")
    return JobOutcome.SUCCESS, output.getvalue().strip()


def _joined(printed: str, reason: str) -> str:
    return "\n".join(part for part in (printed.strip(), reason.strip()) if part)


def run_forever(app: Flask, stop: threading.Event, tick: float = TICK_SECONDS) -> None:
    """Look for due jobs every `tick` seconds until `stop` is set (a job that runs is finished first)."""
    while not stop.is_set():
        try:
            run_due(app)
        except Exception:  # the database away for a moment: try again at the next tick
            log.exception("worker: looking for due jobs failed")
        stop.wait(tick)


# --- what an administrator sees ------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    name: str
    label: str
    schedule: str
    run: JobRun | None

    @property
    def summary(self) -> str:
        """The last line of the job's message."""
        if self.run is None or not self.run.message:
            return ""
        return self.run.message.strip().splitlines()[-1]


def overview(session: Session) -> list[JobView]:
    """Every job with its last run; a job of each server once per server that ran it."""
    rows = {row.name: row for row in session.scalars(select(JobRun).order_by(JobRun.name))}
    shown = []
    for job in JOBS:
        names = [job.name] if not job.per_server else sorted(n for n in rows if n.startswith(f"{job.name}@"))
        for name in names or [job.row_name()]:
            label = job.label if not job.per_server else f"{job.label} ({name.partition('@')[2]})"
            shown.append(JobView(name, label, job.schedule.describe(), rows.get(name)))
    return shown


def observed_runs(session: Session) -> list[observe.JobRun]:
    """Each job's last run as GET /metrics reports it (registry.observe.register_job_runs)."""
    return [
        observe.JobRun(row.name, row.finished_at, row.outcome != JobOutcome.FAILED, row.last_success_at)
        for row in session.scalars(select(JobRun).where(JobRun.outcome != JobOutcome.RUNNING))
    ]

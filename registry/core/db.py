"""Declarative base with a naming convention, the engine and the per-request session."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from registry.core.config import PRIVATE_FILE, database_url, private_file, tighten

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# seconds libpq waits for each host of SAMENOP_DATABASE_URL to answer, unless the URL says
# `connect_timeout=`: a primary whose machine is gone must not hold a request (libpq's default is
# to wait as long as TCP does), and the standby after it must still be tried within a request
CONNECT_TIMEOUT = 5


def engine_for(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE.

    PostgreSQL gets a pool that survives a failover: every connection is tested when it is
    taken from the pool (pool_pre_ping), and a connection found broken invalidates the whole
    pool (SQLAlchemy's default), so that after the primary is lost each worker opens new
    connections, which libpq makes to whichever host of the URL is then the primary."""
    parsed = make_url(database_url(url))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # a failed statement's values (names, addresses) never reach an exception's text, and so
    # never a log line or a traceback
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        if "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    _private_sqlite_files(parsed.database, parsed.query)
    engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy, not the driver, open transactions, so every one can be IMMEDIATE:
        # nearly every request writes (the audit log), and a deferred transaction that
        # upgrades to a write lock fails at once instead of waiting its turn
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if _checkpointing_in_background.is_set():
            cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_AUTOCHECKPOINT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        raw = connection.connection.driver_connection
        if _READING.get():
            raw.execute("BEGIN")  # WAL: a reader never waits for the writer
        else:
            _begin_immediate_waiting(raw)

    return engine


def _private_sqlite_files(database: str | None, query: Any) -> None:
    """The database file readable by its owner only, made so before SQLite opens it: SQLite
    gives the -wal, -shm and -journal files it creates later the database file's mode. Files
    an older version left readable by others are tightened."""
    if not database or database == ":memory:" or database.startswith("file:") or query.get("uri"):
        return
    path = Path(database)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(Path(f"{database}{suffix}"), PRIVATE_FILE)


# SQLite copies the write-ahead log back into the database in a checkpoint, which by default the
# commit that takes the log past 1 000 pages runs: in a served worker about every hundredth lookup
# paid 10-30 ms for it (the p99 of exact address lookups at 20 per second: 29 ms with it, 19
# without). A served worker checkpoints in a thread of its own instead (start_checkpointer);
# SQLite's own stays as the fallback, far out.
CHECKPOINT_INTERVAL = 0.5  # seconds
FALLBACK_AUTOCHECKPOINT = 20_000  # pages (80 MB)
_checkpointing_in_background = threading.Event()


class Checkpointer:
    """In a served process on SQLite: checkpoint every CHECKPOINT_INTERVAL in a daemon thread on
    a connection of its own (PASSIVE: it never waits for, or blocks, readers and writers); the
    connections opened from its start have SQLite's own checkpoint only as a fallback."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stopping = threading.Event()
        _checkpointing_in_background.set()
        engine.dispose(close=False)  # connections opened before this keep SQLite's default
        self._thread = threading.Thread(target=self._run, name="samenop-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        _checkpointing_in_background.clear()

    def _run(self) -> None:
        connection: Any = None
        while not self._stopping.wait(CHECKPOINT_INTERVAL):
            try:
                if connection is None:
                    connection = self.engine.raw_connection()  # autocommit (isolation_level None)
                connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:
                log.exception(
                    "SQLite checkpoint failed; SQLite's own runs past %d pages", FALLBACK_AUTOCHECKPOINT
                )
                if connection is not None:
                    connection.invalidate()
                    connection = None
        if connection is not None:
            connection.close()


def start_checkpointer(engine: Engine) -> Checkpointer | None:
    """A Checkpointer when the database is SQLite (PostgreSQL checkpoints by itself)."""
    return Checkpointer(engine) if engine.dialect.name == "sqlite" else None


def database_lost(exc: BaseException) -> bool:
    """Whether `exc` says the database server is not there (now): the connection broke, no host
    of the URL answered, or none was the primary (during a failover), or the server is shutting
    down. The request may be tried again in a few seconds: the pool reconnects by itself.
    SQLite's errors are not of this kind (a locked database has waited its 30 seconds already)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        # no answer from a server at all: psycopg's "connection failed" (SQLite has no sqlstate
        # attribute either: its OperationalError is never lost)
        return type(exc.orig).__module__.startswith("psycopg")
    # class 08: connection exception; 57P01-57P03: admin or crash shutdown, cannot connect now
    return sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}


# any constant: the key of the PostgreSQL advisory lock that orders audited writes
_WRITE_LOCK_KEY = 7513


def serialise_writes(session: Session) -> None:
    """Hold the write lock until this transaction ends, so that what it appends (audit chain
    links, change-feed rows) takes ids in commit order. SQLite's BEGIN IMMEDIATE already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})


# app.extensions key: the answer to a request that lost the database (Database.answer_when_lost)
_LOST_ANSWER = "samenop.db_lost_answer"

# Session.info key: the writes Database.keep() holds until the request ends
_KEPT = "samenop.kept"


def keep(session: Session, write: Callable[[Session], object]) -> None:
    """A write that stands even when the request fails: the audit row of a refusal, a failed
    login's count, a session's idle clock. It runs once, when the request ends: before the
    commit of a request that succeeded, after the rollback of one that failed, in a transaction
    of its own (Database.finish_request); outside a request, at the next Database.commit()."""
    session.info.setdefault(_KEPT, []).append(write)


def _write_kept(session: Session) -> None:
    for write in session.info.pop(_KEPT, []):
        write(session)


# set inside Database.reading(): transactions begun there only read
_READING: ContextVar[bool] = ContextVar("samenop_reading", default=False)

# Session.info key: the read-only transaction Database.begin_reading() left open, which the next
# reading() stretch continues and ends
_READ_AHEAD = "samenop.read_ahead"

# how long a transaction waits for SQLite's write lock before the request fails
SQLITE_LOCK_WAIT = 30.0
# its own generator: the jitter never moves the random module's shared state
_jitter = random.Random()  # noqa: S311 (jitter, not a secret)


def _begin_immediate_waiting(raw: Any) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short, jittered steps.

    SQLite's own busy handler sleeps in growing steps (up to 100 ms each), so under
    contention a waiting request sleeps long after the lock came free: lookups at 3 a.m.
    would queue for seconds. Here the busy timeout is off while we ask for the lock and we
    retry every millisecond or so instead; the statements inside keep the long timeout.
    """
    deadline = time.monotonic() + SQLITE_LOCK_WAIT
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.0005 + _jitter.random() * 0.0015)
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


class Database:
    """Holds the engine and hands out one Session per application context."""

    def init_app(self, app: Flask) -> None:
        engine = engine_for(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["samenop.db"] = factory
        app.extensions["samenop.engine"] = engine
        app.after_request(self._end_request)
        app.teardown_appcontext(self._close)

    def _end_request(self, response: Response) -> Response:
        # the one place a request commits, as Indico's RH.process: an answer of 400 and up (an
        # error handler's, or a form shown again with its errors) writes nothing but what was kept
        try:
            self.finish_request(succeeded=response.status_code < 400)
        except DBAPIError as exc:
            answer = current_app.extensions.get(_LOST_ANSWER)
            if answer is None or not database_lost(exc):
                raise
            # the commit did not happen (or its answer never came): never a 2xx for it
            self.discard(exc)
            return answer()
        return response

    @staticmethod
    def answer_when_lost(app: Flask, answer: Callable[[], Response]) -> None:
        """The answer of a request whose commit found the database gone (registry/web: 503)."""
        app.extensions[_LOST_ANSWER] = answer

    def discard(self, exc: BaseException) -> None:
        """After the database was lost (database_lost): roll back what can be, forget what the
        request kept for writing (the audit row of a refusal cannot be written now either), and
        log it in one line: the SQL and its parameters stay out of the log."""
        session: Session | None = g.get("db_session")
        dropped = 0
        if session is not None:
            dropped = len(session.info.pop(_KEPT, []))
            try:
                session.rollback()
            except DBAPIError:
                session.close()
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        first_line = (str(cause).splitlines() or [""])[0][:200]
        log.warning(
            "database unavailable (%s: %s); the request answered 503%s",
            type(cause).__name__,
            first_line,
            f", {dropped} kept write(s) dropped" if dropped else "",
        )

    @staticmethod
    def session_factory(app: Flask) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = app.extensions["samenop.db"]
        return factory

    @property
    def engine(self) -> Engine:
        return current_app.extensions["samenop.engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["samenop.db"]()
        return g.db_session

    def commit(self) -> None:
        """Commit, with the writes kept so far. Requests never call this: registry.transaction
        commits once per request; the CLI's commands do."""
        session = self.session
        _write_kept(session)
        session.commit()

    def finish_request(self, succeeded: bool) -> None:
        """The one commit of a request (registry.transaction): all of it when it succeeded;
        when it failed, a rollback and then only the kept writes."""
        session: Session | None = g.get("db_session")
        if session is None:
            return
        if not succeeded:
            session.rollback()
            if not session.info.get(_KEPT):
                return
        elif self._continues_read_ahead(session):
            session.commit()  # a read-only transaction no reading() stretch ended: never write in it
        _write_kept(session)
        session.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A stretch of a request that only reads, in a transaction of its own.

        On SQLite every other transaction takes the write lock at BEGIN (so that a
        request never fails halfway on a lock); a read-only stretch does not, so lookups
        search in parallel and queue only for their short final write. What was loaded
        stays usable afterwards (expire_on_commit is off). Inside a transaction that is
        already open this changes nothing.
        """
        session = self.session
        if session.in_transaction():
            if not self._continues_read_ahead(session):
                yield session
                return
            # the read-only transaction begin_reading() left open: continued here, ended here
            yield from self._read_and_end(session)
            return
        token = _READING.set(True)
        try:
            yield from self._read_and_end(session)
        finally:
            _READING.reset(token)

    @staticmethod
    def _read_and_end(session: Session) -> Iterator[Session]:
        try:
            yield session
            if session.dirty or session.new or session.deleted:
                raise RuntimeError("a read-only stretch tried to write")
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def begin_reading(self) -> Session:
        """Begin a read-only transaction as reading() does, and leave it open: the request's next
        reading() stretch continues it and ends it. For a request that reads ahead of its view,
        whose view begins by reading (the lookup: the token check and the search in one read
        transaction, not two). Should the view not get that far, the error answer's rollback
        ends it; should it answer without a reading() stretch, finish_request ends it before it
        writes anything. Inside a transaction that is already open this changes nothing."""
        session = self.session
        if session.in_transaction():
            return session
        token = _READING.set(True)
        try:
            session.connection()  # BEGIN (deferred on SQLite: no write lock)
        finally:
            _READING.reset(token)
        session.info[_READ_AHEAD] = session.get_transaction()
        return session

    @staticmethod
    def _continues_read_ahead(session: Session) -> bool:
        """Whether the open transaction is the one begin_reading() left open (forgotten here:
        it is ended by whoever asks)."""
        begun = session.info.pop(_READ_AHEAD, None)
        return begun is not None and begun is session.get_transaction()

    def rollback(self) -> None:
        self.session.rollback()

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # whatever a request did not commit explicitly is rolled back here
            session.close()


db = Database()

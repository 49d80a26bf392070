"""`samenop backup` / `samenop restore` for SQLite: an online copy, checked before it is trusted.

PostgreSQL is backed up with pg_dump and restored with pg_restore (README, "Retention and
backup"); these functions refuse it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from registry.core import audit
from registry.core.models import AuditEntry, Lookup, Plan, PlanVersion, Report, User
from registry.ops import schema

POSTGRESQL_REFUSAL = (
    "this database is PostgreSQL: back it up with pg_dump -Fc and restore it with pg_restore, "
    "then run `samenop audit verify` (README, section 'Retention and backup')"
)


class BackupError(Exception):
    """The backup cannot be made, or a file is not a backup this database can trust."""


@dataclass
class Summary:
    """What a database file holds, and whether its audit chain verifies."""

    revision: str | None
    counts: dict[str, int]
    chain: audit.VerifyResult

    def lines(self) -> list[str]:
        counts = ", ".join(f"{number} {name}" for name, number in self.counts.items())
        first = self.chain.first_entry_id
        start = f", from row {first}" if first != 1 else ""
        return [
            f"schema revision {self.revision}",
            counts,
            f"audit chain intact: {self.chain.checked} entries{start}",
        ]


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRESQL_REFUSAL)
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(url.database)


@contextlib.contextmanager
def _session(path: Path) -> Iterator[Session]:
    """A plain connection to a file that is not the live database: no WAL switch, no pool."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _integrity(path: Path, name: Path | None = None) -> None:
    name = name or path
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name} is not a readable SQLite database: {exc}") from None
    if rows != [("ok",)]:
        problems = "; ".join(str(row[0]) for row in rows[:5])
        raise BackupError(f"{name} fails SQLite's integrity check: {problems}")


def _revision(session: Session) -> str | None:
    try:
        return session.scalar(text("SELECT version_num FROM alembic_version"))
    except OperationalError:
        return None


def examine(path: Path, name: Path | None = None) -> Summary:
    """Integrity check, schema revision, row counts and the audit chain of a database file
    (`name`: the file to name in an error, when `path` is a working copy of it)."""
    name = name or path
    _integrity(path, name)
    with _session(path) as session:
        revision = _revision(session)
        if revision is None:
            raise BackupError(f"{name} holds no Samen Op schema (no alembic_version)")
        try:
            counts = {
                label: session.scalar(select(func.count()).select_from(model)) or 0
                for label, model in (
                    ("plans", Plan),
                    ("plan versions", PlanVersion),
                    ("reports", Report),
                    ("lookups", Lookup),
                    ("users", User),
                    ("audit entries", AuditEntry),
                )
            }
            chain = audit.verify(session)
        except Exception as exc:  # an older schema, or a damaged one the integrity check let by
            raise BackupError(f"{name} cannot be read as a Samen Op database at head: {exc}") from None
    if not chain.ok:
        raise BackupError(f"{name}: the audit chain is broken: " + "; ".join(chain.problems[:5]))
    return Summary(revision, counts, chain)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(database_url: str, target: Path) -> Summary:
    """Copy the live database with SQLite's online backup API into `target` (a new file),
    consistent while the app keeps writing; then check the copy."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    target = target.resolve()
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"no such directory: {target.parent}")
    draft = target.with_name(f".{target.name}.partial")
    draft.unlink(missing_ok=True)
    # personal data: readable by the owner only, from the first byte on
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite3.connect(source_path, timeout=30)
        copy = sqlite3.connect(draft)
        try:
            # one step (pages=-1): the copy is a single snapshot, whatever is written meanwhile
            source.backup(copy)
            # a standalone file: no -wal or -shm belongs with it
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        summary = examine(draft, target)
        _put_in_place(draft, target)
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    return summary


def _put_in_place(draft: Path, target: Path) -> None:
    """The checked draft becomes the target in one step, durable before and after the rename."""
    with open(draft, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(draft, target)
    _fsync_directory(target.parent)


def _known_revision(revision: str | None, database_url: str) -> None:
    scripts = ScriptDirectory.from_config(schema.alembic_config(database_url))
    try:
        known = revision is not None and scripts.get_revision(revision) is not None
    except Exception:
        known = False
    if not known:
        raise BackupError(
            f"the backup's schema revision {revision} is unknown to this version of Samen Op (newer?)"
        )


def restore(database_url: str, source: Path) -> Summary:
    """Replace the database with a checked copy of `source`. The app must be stopped.

    The backup's integrity and schema revision are checked; it is copied next to the
    database, brought to the current schema, checked again (integrity, audit chain), and
    only then renamed over the database in one step; any failure leaves the database as it was.
    """
    target = sqlite_path(database_url).resolve()
    source = source.resolve()
    if not source.is_file():
        raise BackupError(f"no such file: {source}")
    if not target.parent.is_dir():
        raise BackupError(f"no such directory: {target.parent}")
    _integrity(source)
    with _session(source) as session:
        _known_revision(_revision(session), database_url)
    draft = target.with_name(f".{target.name}.restoring")
    draft.unlink(missing_ok=True)
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        writer = sqlite3.connect(draft)
        try:
            reader.backup(writer)
        finally:
            writer.close()
            reader.close()
        # an older backup is brought to the current schema before it is checked and used
        schema.upgrade(f"sqlite:///{draft}")
        summary = examine(draft, source)
        _quiesce(target)
        _put_in_place(draft, target)
    except BaseException:
        draft.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{draft}{suffix}").unlink(missing_ok=True)
        raise
    return summary


def _quiesce(target: Path) -> None:
    """Fold the old database's write-ahead log into it and make sure nobody else has it open:
    a -wal file left beside the new database would be replayed into it."""
    if not target.exists():
        for suffix in ("-wal", "-shm"):
            if Path(f"{target}{suffix}").exists():
                raise BackupError(f"{target}{suffix} exists without its database; remove it first")
        return
    connection = sqlite3.connect(target, timeout=5)
    # a damaged database is what a restore replaces: that it cannot checkpoint is no reason to stop
    with contextlib.suppress(sqlite3.DatabaseError):
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    # closing the last connection removes the -wal file; if it is still there, another
    # process (the app) holds the database open
    if Path(f"{target}-wal").exists():
        raise BackupError(f"{target} is in use (its -wal file stays): stop the app before restoring")

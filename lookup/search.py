"""The search index (whoosh), the only module that imports it.

The index holds one document per address and per person of every active plan's current
version, with names and streets folded by lookup.normalise. It follows the database through
the change feed (registry.models.PlanChange): whoever holds whoosh's writer lock applies the
changes after the last one applied, in order, so several gunicorn workers (or app servers)
never lose an update and never show users a lock error. The index is only a way to find
candidates: every hit is checked against the database before anyone sees it.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.query import And, AndMaybe, FuzzyTerm, Or, Query, Term
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

from lookup import normalise
from registry.models import Address, Person, Plan, PlanChange, PlanVersion

log = logging.getLogger(__name__)

_WORDS = RegexTokenizer()
SCHEMA = Schema(
    doc_id=ID(unique=True),
    plan_id=ID(stored=True),
    kind=ID(stored=True),  # address | person
    row_id=STORED(),
    postcode=ID(),
    house_number=ID(stored=True),
    suffix=STORED(),
    street=TEXT(analyzer=_WORDS, stored=True),
    city=TEXT(analyzer=_WORDS, stored=True),
    surname=TEXT(analyzer=_WORDS, stored=True),  # the core, without tussenvoegsel
    prefix=STORED(),
    first_name=TEXT(analyzer=_WORDS, stored=True),
    birth_date=ID(stored=True),
)
_SEQ_FILE = "applied_change"
NO_DATE = "none"
BATCH = 2000


@dataclass(frozen=True)
class Hit:
    plan_id: uuid.UUID
    kind: str
    row_id: int
    fields: dict[str, Any]


def address_document(plan_id: uuid.UUID, address: Address) -> dict[str, Any]:
    return {
        "doc_id": f"a{address.id}",
        "plan_id": str(plan_id),
        "kind": "address",
        "row_id": address.id,
        "postcode": address.postcode,
        "house_number": str(address.house_number),
        "suffix": address.house_number_suffix,
        "street": normalise.street(address.street),
        "city": normalise.city(address.city),
    }


def person_document(plan_id: uuid.UUID, person: Person) -> dict[str, Any]:
    name = normalise.stored_name(person.first_name, person.surname_prefix, person.surname)
    return {
        "doc_id": f"p{person.id}",
        "plan_id": str(plan_id),
        "kind": "person",
        "row_id": person.id,
        "surname": name.core,
        "prefix": name.prefix,
        "first_name": name.first,
        "birth_date": person.birth_date.isoformat() if person.birth_date else NO_DATE,
    }


def documents(plan: Plan, version: PlanVersion) -> Iterator[dict[str, Any]]:
    for address in version.addresses:
        yield address_document(plan.id, address)
    for person in version.persons:
        yield person_document(plan.id, person)


def _indexable(session: Session, plan_ids: Iterable[uuid.UUID]) -> list[tuple[Plan, PlanVersion]]:
    """Active plans and their current versions; the rest leaves the index."""
    rows = session.execute(
        select(Plan, PlanVersion)
        .join(PlanVersion, (PlanVersion.plan_id == Plan.id) & (PlanVersion.version == Plan.current_version))
        .where(Plan.id.in_(list(plan_ids)), Plan.status == "active")
    ).all()
    return [(plan, version) for plan, version in rows]


class SearchIndex:
    """One per process: a long-lived searcher, refreshed only when the index changed."""

    def __init__(self, directory: str) -> None:
        self.path = Path(directory)
        self.path.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(str(self.path)):
            self.ix = whoosh_index.open_dir(str(self.path))
        else:
            self.ix = whoosh_index.create_in(str(self.path), SCHEMA)
        self._searcher: Searcher | None = None
        self._lock = threading.RLock()

    def _reopen_if_lost(self) -> None:
        """An index deleted from disk is started anew, empty and with nothing applied, so
        that the change feed, replayed from its start, fills it again (instead of every
        lookup failing on the missing files until someone runs `samenop index rebuild`)."""
        if whoosh_index.exists_in(str(self.path)):
            return
        with self._lock:
            if whoosh_index.exists_in(str(self.path)):  # another thread was first
                return
            log.warning("search index missing in %s; filling a new one from the change feed", self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / _SEQ_FILE).unlink(missing_ok=True)
            self.ix = whoosh_index.create_in(str(self.path), SCHEMA)
            self._searcher = None

    # --- the change feed ------------------------------------------------------------------------

    def applied(self) -> int:
        try:
            return int((self.path / _SEQ_FILE).read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def _set_applied(self, seq: int) -> None:
        temporary = self.path / f".{_SEQ_FILE}.{os.getpid()}"
        temporary.write_text(str(seq))
        os.replace(temporary, self.path / _SEQ_FILE)

    def behind(self, session: Session) -> bool:
        latest = session.scalar(select(func.max(PlanChange.id))) or 0
        return latest > self.applied()

    def catch_up(self, session: Session, timeout: float = 5.0) -> int:
        """Apply every change after the last applied one; returns how many were applied.

        Waits up to `timeout` for the writer lock; if another process holds it, that
        process is applying the same feed, and the caller goes on with the index as it is.
        """
        self._reopen_if_lost()
        applied = 0
        while True:
            try:
                writer = self.ix.writer(timeout=timeout)
            except LockError:
                log.warning("search index busy for %.1fs; answering from the index as it is", timeout)
                return applied
            try:
                start = self.applied()  # read under the lock: another process may have moved it
                changes = session.execute(
                    select(PlanChange.id, PlanChange.plan_id)
                    .where(PlanChange.id > start)
                    .order_by(PlanChange.id)
                    .limit(BATCH)
                ).all()
                if not changes:
                    writer.cancel()
                    return applied
                plan_ids = {plan_id for _seq, plan_id in changes}
                # one searcher for all deletes: we hold the lock, so it cannot go stale
                searcher = writer.searcher()
                for plan_id in plan_ids:
                    writer.delete_by_term("plan_id", str(plan_id), searcher=searcher)
                for plan, version in _indexable(session, plan_ids):
                    for document in documents(plan, version):
                        writer.add_document(**document)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            self._set_applied(changes[-1][0])
            applied += len(changes)
            if len(changes) < BATCH:
                return applied

    def rebuild(self, session: Session, progress: Callable[[int], None] | None = None) -> int:
        """Index every active plan anew from the database; returns the number of plans."""
        self._reopen_if_lost()
        latest = session.scalar(select(func.max(PlanChange.id))) or 0
        writer = self.ix.writer(timeout=60)
        try:
            count = 0
            query = (
                select(Plan, PlanVersion)
                .join(
                    PlanVersion,
                    (PlanVersion.plan_id == Plan.id) & (PlanVersion.version == Plan.current_version),
                )
                .where(Plan.status == "active")
                .order_by(Plan.id)
                .execution_options(yield_per=500)
            )
            for plan, version in session.execute(query):
                for document in documents(plan, version):
                    writer.add_document(**document)
                count += 1
                if progress is not None:
                    progress(1)
            writer.commit(mergetype=CLEAR)
        except BaseException:
            writer.cancel()
            raise
        self._set_applied(latest)
        return count

    # --- searching ------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        self._reopen_if_lost()
        with self._lock:
            if self._searcher is None:
                self._searcher = self.ix.searcher()
            elif not self._searcher.up_to_date():
                if self._searcher.reader().segments():
                    self._searcher = self._searcher.refresh()
                else:
                    # whoosh cannot refresh a searcher over an empty index (its EmptyReader
                    # has no segments to reuse: TypeError), so open a new one
                    self._searcher.close()
                    self._searcher = self.ix.searcher()
            return self._searcher

    def _hits(self, query: Query, limit: int) -> list[Hit]:
        # a whoosh searcher is not thread-safe (shared file positions; a refresh closes the old
        # one): gunicorn's threads take turns. Searching is CPU-bound under the GIL anyway.
        with self._lock:
            results = self.searcher().search(query, limit=limit)
            return [
                Hit(uuid.UUID(hit["plan_id"]), hit["kind"], int(hit["row_id"]), dict(hit)) for hit in results
            ]

    def find_addresses(self, street_words: list[str], house_number: int, limit: int = 50) -> list[Hit]:
        """Addresses with this number whose street (or city) resembles the words."""
        words = [word for word in street_words if len(word) >= 2]
        if not words:
            return []
        fuzzy = [
            FuzzyTerm(field, word, maxdist=_maxdist(word), prefixlength=1)
            for word in words
            for field in ("street", "city")
        ]
        # only address documents have a house number: no 'kind' clause (it made queries 10x slower)
        query = And([Term("house_number", str(house_number)), Or(fuzzy)])
        return self._hits(query, limit)

    def find_persons(self, name: normalise.Name, born: date | None = None, limit: int = 50) -> list[Hit]:
        """Persons whose surname resembles the query's (first letter fixed, 1–2 typos)."""
        words = name.core.split()
        if not words:
            return []
        # only person documents have a surname: no 'kind' clause (it made queries 10x slower)
        clauses: list[Query] = [
            FuzzyTerm("surname", word, maxdist=_maxdist(word), prefixlength=1) for word in words
        ]
        if born is not None:
            # everyone born that day comes from the database; here only those without a date
            clauses.append(Term("birth_date", NO_DATE))
        required: Query = And(clauses) if len(clauses) > 1 else clauses[0]
        firsts = [word for word in name.first.split() if len(word) >= 2]
        if firsts:
            # a matching first name ranks a candidate higher, so a common surname does not crowd it out
            boost = Or(
                [
                    FuzzyTerm("first_name", word, maxdist=_maxdist(word), prefixlength=1, constantscore=False)
                    for word in firsts
                ]
            )
            required = AndMaybe(required, boost)
        return self._hits(required, limit)


def _maxdist(word: str) -> int:
    return 1 if len(word) < 8 else 2


_indexes: dict[str, SearchIndex] = {}
_indexes_lock = threading.Lock()


def index_for(directory: str) -> SearchIndex:
    """The process's index for a directory (opened after gunicorn forks, at first use)."""
    key = f"{os.getpid()}:{directory}"
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = SearchIndex(directory)
        return _indexes[key]


def follow_registry(app: Any) -> None:
    """After every commit that changed plans (and after `samenop init`), apply the change feed."""
    from registry import signals

    def _apply(sender: Any, **_extra: Any) -> None:
        if sender is not app:
            return
        factory = app.extensions["samenop.db"]
        try:
            with factory() as session:
                index_for(app.config["INDEX_DIR"]).catch_up(session)
        except Exception:
            # the change is committed; the next lookup applies it (it checks the feed first)
            log.exception("search index could not follow the change feed now")

    signals.plans_changed.connect(_apply, weak=False)
    signals.database_ready.connect(_apply, weak=False)

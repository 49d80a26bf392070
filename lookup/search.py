"""The search index (whoosh), the only module that imports it.

The index holds one document per address and per person of every active plan's current
version, with names and streets folded by lookup.normalise. It follows the database through
the change feed (registry.core.models.PlanChange): whoever holds whoosh's writer lock applies the
changes after the last one applied, in order, so several gunicorn workers (or app servers)
never lose an update and never show users a lock error. The index is only a way to find
candidates: every hit is checked against the database before anyone sees it.

Typos are not searched with whoosh's FuzzyTerm (an automaton per word per segment: 40–130 ms
at 100 000 households). Each process keeps the distinct words of the name and street fields
(a few thousand, read per segment, so only new segments are read after a write); rapidfuzz
picks the words within one or two edits in well under a millisecond. Street words are indexed
joined with the house number ('kerkstraat:14') and first names with surnames ('jan:jong'), so a
lookup reads a few short posting lists instead of intersecting long ones, and stops at the first
`limit` documents (the caller scores them).
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import functools
import logging
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh import multiproc as whoosh_multiproc
from whoosh import writing as whoosh_writing
from whoosh.analysis import RegexTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader, W3Segment
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb import compound as whoosh_compound
from whoosh.filedb import filestore as whoosh_filestore
from whoosh.filedb.structfile import StructFile
from whoosh.index import TOC, LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

from lookup import normalise
from registry.core import rules
from registry.core.config import PRIVATE_DIRECTORY, PRIVATE_FILE, private_directory, tighten
from registry.core.models import Address, Person, Plan, PlanChange, PlanVersion

log = logging.getLogger(__name__)

_WORDS = RegexTokenizer()


def _words() -> TEXT:
    # no positions: nothing searches phrases, and they would only cost build time and disk
    return TEXT(analyzer=_WORDS, phrase=False, stored=True)


def _pairs() -> KEYWORD:
    # words joined before indexing ('kerkstraat:14', 'jan:jong'): one small posting list to read
    # instead of intersecting two long ones ('jong' alone is 6 % of all persons)
    return KEYWORD(lowercase=False, scorable=False)


SCHEMA = Schema(
    plan_id=ID(stored=True),  # deleting a plan's documents
    kind=STORED(),  # address | person
    row_id=STORED(),
    suffix=STORED(),
    street=_words(),
    street_number=_pairs(),  # every street word with the house number
    city=STORED(),
    surname=_words(),  # the core, without tussenvoegsel
    prefix=STORED(),
    first_name=_words(),
    name_pair=_pairs(),  # every first-name word with every surname word
    undated=_pairs(),  # the surname words of persons without a birth date
    birth_date=STORED(),
)
# an index written with another layout is started anew and filled from the change feed
SCHEMA_VERSION = "3"
_VERSION_FILE = "schema_version"
_SEQ_FILE = "applied_change"
_VOCABULARY_FIELDS = ("street", "surname", "first_name")
NO_DATE = "none"
BATCH = 2000
# Segments as separate files: whoosh copies a compound segment's terms file into memory each
# time a reader opens it (all of it: 0.1-0.4 s and tens of MB per worker at scale)
COMPOUND = False
# whoosh polls its writer lock every 0.1 s; a write waiting for a merge should not wait that long
LOCK_POLL = 0.005
# Merging: each write adds a segment. Segments fall in tiers by size (tier k: 4^k to 4^(k+1) - 1
# live documents); when a tier holds MERGE_FACTOR segments, they are merged, with every smaller
# one, into one segment of the next tier. whoosh merges at 0.2-0.4 ms per document with the writer
# lock held: a write's commit merges the highest full tier within MERGE_BUDGET documents (every
# fourth write a few dozen); the bigger merges are `samenop index compact` (cron, every few
# minutes). Only when MAX_SEGMENTS pile up (each slows searching) does a commit merge the cheapest
# full tier whatever it costs. The big segments of a rebuild are left alone. (whoosh's own
# MERGE_SMALL never merges mid-sized segments: past 8 segments every commit paid for a merge.
# Merging after the response instead, in a commit of its own, cost more CPU in all and made
# the writes slower under load: measured.)
MERGE_FACTOR = 4
MERGE_BUDGET = 160
MAX_SEGMENTS = 40
# whoosh's own multiprocessing writer: the documents come from this process, two processes index
REBUILD_PROCESSES = 2


def _random_name(size: int = 28) -> str:
    return secrets.token_hex(size)[:size]


# whoosh names its temporary files (a segment's column file while it is written, sort runs)
# with the `random` module: a process that seeds it (Hypothesis does, per example) could name two
# alike, and a write in the index follower's thread would move a test's seeded sequence
for _module in (whoosh_compound, whoosh_filestore, whoosh_multiproc, whoosh_writing):
    _module.random_name = _random_name


class _PrivateStorage(whoosh_filestore.FileStorage):
    """whoosh's FileStorage, except that every file and directory it makes is for the owner
    only (0600 / 0700): segments, the table of contents, lock files, temporary storage. The
    index holds names and addresses; whoosh itself creates them as the umask allows (0644)."""

    def create(self) -> _PrivateStorage:
        private_directory(Path(self.folder))
        return self

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        if self.readonly:
            raise whoosh_filestore.ReadOnlyError
        flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if excl else os.O_TRUNC)
        handle = os.fdopen(os.open(self._fpath(name), flags, PRIVATE_FILE), mode)
        return StructFile(handle, name=name, **kwargs)

    def lock(self, name: str) -> Any:
        # whoosh opens its lock files with O_CREAT and the default mode (0777 less the umask)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self._fpath(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        return super().lock(name)

    def temp_storage(self, name: str | None = None) -> _PrivateStorage:
        return _PrivateStorage(os.path.join(self.folder, name or f"{_random_name()}.tmp")).create()


def _write_private(path: Path, text: str) -> None:
    """Write a small file of the index directory, readable by the owner only."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "w") as handle:
        handle.write(text)


class _Codec(W3Codec):
    """whoosh's codec, naming new segments from os.urandom instead of the `random` module: a
    process that seeds `random` (Hypothesis does, per example) would otherwise give a new
    segment the name of an existing one and overwrite its files."""

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        return W3Segment(self, indexname, segid=secrets.token_hex(8))

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PerDocReader(storage, segment)


class _PerDocReader(W3PerDocReader):
    """whoosh asks the disk whether a field has a length column for every document and field
    it reads (a merge: once per document and field); a segment never changes, so ask once."""

    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._columns: dict[str, bool] = {}

    def has_column(self, fieldname: str) -> bool:
        known = self._columns.get(fieldname)
        if known is None:
            known = self._columns[fieldname] = super().has_column(fieldname)
        return known


# the position of the change feed, asked before every search: prebuilt, run on the connection
_LATEST_CHANGE = select(func.max(cast(Table, PlanChange.__table__).c.id))


def latest_change(session: Session) -> int:
    """The id of the newest row in the change feed (0 for none)."""
    return session.connection().execute(_LATEST_CHANGE).scalar() or 0


def _writer_options() -> dict[str, Any]:
    return {"codec": _Codec(), "compound": COMPOUND}


@dataclass(frozen=True)
class Hit:
    plan_id: uuid.UUID
    kind: str
    row_id: int
    fields: dict[str, Any]
    doc: int  # the document's number in the searcher it was found with


# --- what the index holds, read with two lean statements ----------------------------------------


def _indexed(statement: Any) -> Any:
    return statement.join(PlanVersion, rules.is_current_version()).where(rules.indexed_for_responders())


_ADDRESSES = _indexed(
    select(
        Plan.id, Address.id, Address.house_number, Address.house_number_suffix, Address.street, Address.city
    ).select_from(Plan)
).join(Address, Address.plan_version_id == PlanVersion.id)
_PERSONS = _indexed(
    select(
        Plan.id, Person.id, Person.first_name, Person.surname_prefix, Person.surname, Person.birth_date
    ).select_from(Plan)
).join(Person, Person.plan_version_id == PlanVersion.id)
_SOME_PLANS = Plan.id.in_(bindparam("plan_ids", expanding=True))


def address_document(
    plan_id: uuid.UUID, row_id: int, number: int, suffix: str, street: str, city: str
) -> dict[str, Any]:
    folded = normalise.street(street)
    return {
        "plan_id": str(plan_id),
        "kind": "address",
        "row_id": row_id,
        "suffix": suffix,
        "street": folded,
        "street_number": " ".join(f"{word}:{number}" for word in folded.split()),
        "city": normalise.city(city),
    }


def person_document(
    plan_id: uuid.UUID, row_id: int, first: str, prefix: str, surname: str, born: date | None
) -> dict[str, Any]:
    name = normalise.stored_name(first, prefix, surname)
    return {
        "plan_id": str(plan_id),
        "kind": "person",
        "row_id": row_id,
        "surname": name.core,
        "prefix": name.prefix,
        "first_name": name.first,
        "name_pair": " ".join(
            f"{given}:{word}" for given in name.first.split() for word in name.core.split()
        ),
        "undated": "" if born else name.core,
        "birth_date": born.isoformat() if born else NO_DATE,
    }


def documents(session: Session, plan_ids: Iterable[uuid.UUID] | None = None) -> Iterator[dict[str, Any]]:
    """The documents of every active plan's current version (or only of these plans)."""
    params: dict[str, Any] = {}
    addresses, persons = _ADDRESSES, _PERSONS
    if plan_ids is not None:
        params = {"plan_ids": list(plan_ids)}
        addresses, persons = addresses.where(_SOME_PLANS), persons.where(_SOME_PLANS)
    stream = {"yield_per": 5000}
    for row in session.execute(addresses.execution_options(**stream), params):
        yield address_document(*row)
    for row in session.execute(persons.execution_options(**stream), params):
        yield person_document(*row)


def document_count(session: Session) -> int:
    """How many documents a rebuild writes: the length of its progress bar."""
    return sum(
        session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        for statement in (_ADDRESSES, _PERSONS)
    )


# --- the index of one process -------------------------------------------------------------------


class SearchIndex:
    """One per process: a long-lived searcher, refreshed only when the index changed."""

    def __init__(self, directory: str) -> None:
        self.path = Path(directory)
        private_directory(self.path)
        for child in self.path.iterdir():  # what an older version wrote readable by others
            tighten(child, PRIVATE_DIRECTORY if child.is_dir() else PRIVATE_FILE)
        self._lock = threading.RLock()
        self._searcher: Searcher | None = None
        self._segment_words: dict[str, dict[str, frozenset[str]]] = {}
        # per field: each word, with the number of segments holding it
        self._word_segments: dict[str, Counter[str]] = {field: Counter() for field in _VOCABULARY_FIELDS}
        self._vocabulary: dict[str, list[str]] = {field: [] for field in _VOCABULARY_FIELDS}
        self.ix = self._open()

    def _open(self) -> Any:
        """The index on disk, or a new empty one (with nothing applied, so that the change feed,
        replayed from its start, fills it) when it is missing or of another layout."""
        version_file = self.path / _VERSION_FILE
        current = version_file.read_text().strip() if version_file.exists() else None
        storage = _PrivateStorage(str(self.path))
        if whoosh_index.exists_in(str(self.path)) and current == SCHEMA_VERSION:
            return storage.open_index()
        if whoosh_index.exists_in(str(self.path)):
            log.warning(
                "search index in %s has another layout; filling a new one from the change feed", self.path
            )
        storage.create()
        (self.path / _SEQ_FILE).unlink(missing_ok=True)
        ix = storage.create_index(SCHEMA)
        _write_private(version_file, SCHEMA_VERSION)
        return ix

    def close(self) -> None:
        """Close the open segment files (a long-lived process never needs to)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _exists(self) -> bool:
        # one stat() per lookup; whoosh's exists_in() opens the index (and races with commits)
        return (self.path / _VERSION_FILE).exists()

    def _reopen_if_lost(self) -> None:
        """An index deleted from disk is started anew, instead of every lookup failing on the
        missing files until someone runs `samenop index rebuild`."""
        if self._exists():
            return
        with self._lock:
            if self._exists():  # another thread was first
                return
            log.warning("search index missing in %s; filling a new one from the change feed", self.path)
            self.close()
            self.ix = self._open()

    # --- the change feed ------------------------------------------------------------------------

    def applied(self) -> int:
        try:
            return int((self.path / _SEQ_FILE).read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def _set_applied(self, seq: int) -> None:
        temporary = self.path / f".{_SEQ_FILE}.{os.getpid()}"
        _write_private(temporary, str(seq))
        os.replace(temporary, self.path / _SEQ_FILE)

    def behind(self, session: Session) -> bool:
        """Whether the feed has changes this index has not applied (asked before every search)."""
        return latest_change(session) > self.applied()

    def follow(self, session: Session, timeout: float = 5.0) -> bool:
        """Apply the feed if this index is behind it (the feed position is one query; a writer,
        which creates files, is opened only when there is something to apply); returns whether
        the index is still behind (the writer lock was busy for `timeout`)."""
        if not self.behind(session):
            return False
        self.catch_up(session, timeout)
        return self.behind(session)

    def catch_up(self, session: Session, timeout: float = 5.0) -> int:
        """Apply every change after the last applied one; returns how many were applied.

        Waits up to `timeout` for the writer lock; if another process holds it, that
        process is applying the same feed, and the caller goes on with the index as it is.
        The commit merges a few small segments at most (see MERGE_FACTOR).
        """
        self._reopen_if_lost()
        applied = 0
        while True:
            try:
                writer = self.ix.writer(timeout=timeout, delay=LOCK_POLL, **_writer_options())
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
                with self._lock:
                    # the long-lived searcher, brought up to the writer's generation (we hold the
                    # lock, so nothing newer exists): opening a fresh one costs 0.1-0.4 s at scale
                    searcher = self.searcher()
                    for plan_id in plan_ids:
                        writer.delete_by_term("plan_id", str(plan_id), searcher=searcher)
                for document in documents(session, plan_ids):
                    writer.add_document(**document)
                writer.commit(mergetype=functools.partial(merge_tiers, budget=MERGE_BUDGET))
            except BaseException:
                writer.cancel()
                raise
            self._set_applied(changes[-1][0])
            applied += len(changes)
            if len(changes) < BATCH:
                return applied

    def segment_count(self) -> int:
        self._reopen_if_lost()
        return len(TOC.read(self.ix.storage, self.ix.indexname).segments)

    def compact(self, timeout: float = 60.0) -> tuple[int, int]:
        """Merge the full tiers that writes leave alone (MERGE_BUDGET), until none is full;
        returns the number of segments before and after. Holds the writer lock while it merges
        (writes wait; lookups read on): run it from cron, every few minutes."""
        before = self.segment_count()
        while True:
            writer = self.ix.writer(timeout=timeout, delay=LOCK_POLL, **_writer_options())
            try:
                if not _due(writer.segments, None):
                    writer.cancel()
                    return before, self.segment_count()
                writer.commit(mergetype=functools.partial(merge_tiers, budget=None))
            except BaseException:
                writer.cancel()
                raise

    def rebuild(self, session: Session, progress: Callable[[int], None] | None = None) -> int:
        """Index every active plan anew from the database; returns the number of plans.

        This process reads and folds the rows; whoosh's multiprocessing writer indexes them in
        REBUILD_PROCESSES processes, each writing its own segment (no merge afterwards)."""
        self._reopen_if_lost()
        latest = latest_change(session)
        writer = self.ix.writer(
            timeout=60, procs=REBUILD_PROCESSES, multisegment=True, batchsize=500, **_writer_options()
        )
        plans: set[str] = set()
        unreported = 0
        try:
            for document in documents(session):
                writer.add_document(**document)
                plans.add(document["plan_id"])
                unreported += 1
                if progress is not None and unreported == 1000:
                    progress(unreported)
                    unreported = 0
            if progress is not None:
                progress(unreported)
            writer.commit(mergetype=CLEAR)
        except BaseException:
            writer.cancel()
            raise
        self._set_applied(latest)
        return len(plans)

    # --- searching ------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        self._reopen_if_lost()
        with self._lock:
            if self._searcher is not None and self._searcher.up_to_date():
                return self._searcher
            self._searcher = self._open_searcher(self._searcher)
            self._read_vocabulary(self._searcher)
            return self._searcher

    def _open_searcher(self, previous: Searcher | None) -> Searcher:
        """A searcher over the latest commit, reusing the readers of segments that did not change.

        Not whoosh's `Searcher.refresh()`: whoosh-reloaded 2.7.5 keeps the readers of segments a
        merge removed (their documents then show twice) and reuses a reader whose segment gained
        deletions (deleted documents stay visible). A segment is the same only with the same id
        and the same number of deletions; opening every reader anew costs 0.1-0.4 s at scale."""
        reusable: dict[tuple[str, int], Any] = {}
        if previous is not None:
            for reader, _offset in previous.reader().leaf_readers():
                if isinstance(reader, SegmentReader):
                    segment = reader.segment()
                    reusable[(segment.segment_id(), segment.deleted_count())] = reader
        for attempt in range(10):
            try:
                toc = TOC.read(self.ix.storage, self.ix.indexname)
                readers = [
                    reusable.get((segment.segment_id(), segment.deleted_count()))
                    or SegmentReader(self.ix.storage, toc.schema, segment, generation=toc.generation)
                    for segment in toc.segments
                ]
                break
            except OSError:
                # a commit in another process removed a file between listing and opening it
                if attempt == 9:
                    raise
                time.sleep(0.05)
        for unused in set(reusable.values()) - set(readers):
            unused.close()
        reader = MultiReader(readers, generation=toc.generation) if readers else EmptyReader(toc.schema)
        return Searcher(reader, fromindex=self.ix)

    def _read_vocabulary(self, searcher: Searcher) -> None:
        """The distinct words per field, read only from segments not seen before (segments are
        immutable). Words of deleted documents stay until their segment is merged away: they
        only cost a posting lookup that finds nothing.

        Kept as a count of segments per word, so that a refresh after a write only reads the
        new segments' words; the sorted list is made again only when a word came or went (a
        merge moves words between segments: none comes or goes). Uniting and sorting every
        segment's words at each refresh cost 7 ms at 1 000 000 persons, twice per plan write; a
        few new words are put in their place."""
        current: dict[str, dict[str, frozenset[str]]] = {}
        for reader, _offset in searcher.reader().leaf_readers():
            if isinstance(reader, SegmentReader):
                key = reader.segment().segment_id()
                current[key] = self._segment_words.get(key) or {
                    field: frozenset(term.decode() for term in reader.lexicon(field))
                    for field in _VOCABULARY_FIELDS
                }
        added = [current[key] for key in current.keys() - self._segment_words.keys()]
        removed = [self._segment_words[key] for key in self._segment_words.keys() - current.keys()]
        self._segment_words = current
        for field, counts in self._word_segments.items():
            new, gone = [], []
            for words in added:
                for word in words[field]:
                    counts[word] += 1
                    if counts[word] == 1:
                        new.append(word)
            for words in removed:
                for word in words[field]:
                    counts[word] -= 1
                    if counts[word] == 0:
                        del counts[word]
                        gone.append(word)
            vocabulary = self._vocabulary[field]
            if len(new) + len(gone) > 100:
                self._vocabulary[field] = sorted(counts)
                continue
            for word in new:
                bisect.insort(vocabulary, word)
            for word in gone:
                del vocabulary[bisect.bisect_left(vocabulary, word)]

    def _variants(self, field: str, word: str) -> list[str]:
        """The indexed words of a field within a typo or two of `word` (itself included)."""
        distance = _maxdist(word)
        if distance == 0:
            return [word]
        variants = [
            term
            for term, _distance, _position in process.extract(
                word, self._vocabulary[field], scorer=Levenshtein.distance, score_cutoff=distance, limit=None
            )
        ]
        if len(word) == 3:
            # 'Jog' for Jong: a letter lost from a short name; the first letter must stand
            variants = [term for term in variants if term[0] == word[0]]
        return variants

    def _variants_of_all(self, field: str, words: Iterable[str]) -> list[str]:
        """The variants of every word, each word's closest first."""
        return list(dict.fromkeys(term for word in words for term in self._variants(field, word)))

    def _hits(
        self, searcher: Searcher, groups: list[_Terms], limit: int, exclude: Iterable[Hit] = ()
    ) -> list[Hit]:
        """The first `limit` documents holding a term of every group (but those of `exclude`):
        no scoring here, the caller scores the candidates itself. The caller holds the lock: a
        whoosh searcher is not thread-safe (shared file positions; a refresh closes the old one)."""
        hits: list[Hit] = []
        if limit <= 0:
            return hits
        excluded = {hit.doc for hit in exclude}
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            skip = {doc - offset for doc in excluded if offset <= doc < offset + reader.doc_count_all()}
            words = (
                self._segment_words.get(reader.segment().segment_id())
                if isinstance(reader, SegmentReader)
                else None
            )
            for docnum in _matching(reader, groups, limit - len(hits), skip, words):
                fields = reader.stored_fields(docnum)
                plan_id, row_id = uuid.UUID(fields["plan_id"]), int(fields["row_id"])
                hits.append(Hit(plan_id, fields["kind"], row_id, fields, offset + docnum))
            if len(hits) >= limit:
                break
        return hits

    def find_addresses(self, street_words: list[str], house_number: int, limit: int = 200) -> list[Hit]:
        """Addresses with this number on a street with a word resembling one of the words
        (words of two letters, 'de', 'la', only when nothing longer was said)."""
        words = [word for word in street_words if len(word) >= 3] or street_words
        # the longest words first: 'jansstraat' says more than 'sint' (every Sint-street has a
        # number 10), and the first words' variants fill the limit first
        words = sorted(words, key=len, reverse=True)
        with self._lock:
            searcher = self.searcher()  # the vocabulary follows it
            streets = self._variants_of_all("street", words)
            if not streets:
                return []
            numbered = [(f"{street}:{house_number}", (("street", street),)) for street in streets]
            return self._hits(searcher, [_Terms("street_number", numbered)], limit)

    def find_persons(self, name: normalise.Name, born: date | None = None, limit: int = 50) -> list[Hit]:
        """Persons whose surname resembles the query's (a typo in a word of 3–7 letters, two
        in a longer one); those whose first name resembles the query's first come first, and the
        closest spellings before the others. With a birth date only persons without one: the
        others come from the database."""
        words = name.core.split()
        if not words:
            return []
        with self._lock:
            searcher = self.searcher()  # the vocabulary follows it
            surnames = [self._variants("surname", word) for word in words]
            if not all(surnames):
                return []
            firsts = self._variants_of_all(
                "first_name", [word for word in name.first.split() if len(word) >= 2]
            )
            pairs = _Terms(
                "name_pair",
                [
                    (f"{first}:{word}", (("first_name", first), ("surname", word)))
                    for first in firsts
                    for word in surnames[0]
                ],
            )
            field = "undated" if born is not None else "surname"
            rest = [
                _Terms(field, [(word, (("surname", word),)) for word in variants]) for variants in surnames
            ]
            # with a birth date: the pairs of persons without one
            named = self._hits(searcher, [pairs, rest[0]] if born else [pairs], limit) if firsts else []
            if len(words) > 1:
                # 'Ait Taleb': the pairs matched the first word; every word must match
                named = [hit for hit in named if _has_all(hit.fields.get("surname", ""), surnames)]
            return named + self._hits(searcher, rest, limit - len(named), exclude=named)


@dataclass(frozen=True)
class _Terms:
    """Documents holding any of these terms of a field (the best candidates first); with each
    term the words of the vocabulary that a segment holding it holds ('jan:jong': the first
    name 'jan' and the surname 'jong')."""

    field: str
    terms: Sequence[tuple[str, tuple[tuple[str, str], ...]]]

    def held(self, words: dict[str, frozenset[str]] | None) -> list[str]:
        """The terms a segment with these words (None: unknown) may hold."""
        return [
            term
            for term, needs in self.terms
            if words is None or all(word in words[field] for field, word in needs)
        ]


def _matching(
    reader: Any, groups: list[_Terms], limit: int, skip: set[int], words: dict[str, frozenset[str]] | None
) -> list[int]:
    """The documents of a segment holding a term of every group, at most `limit`, in the order
    of the first group's terms; none of `skip`. `words`: the segment's vocabulary, if known.

    The posting lists are read directly, not through whoosh's queries: a name lookup asks for
    tens of variant terms, and whoosh builds a matcher tree over all of them (asking each for
    its document frequency first) and walks every document through it. Read term by term, the
    closest spellings fill the limit first. A term whose words the segment lacks is not looked
    up at all (after many writes most segments are small: 380 lookups on disk per name at 33
    segments, most of them finding nothing)."""
    first, *others = groups
    required: list[set[int]] = []
    for group in others:
        docs = {docnum for term in group.held(words) for docnum in _postings(reader, group.field, term)}
        if not docs:
            return []
        required.append(docs)
    found: dict[int, None] = {}
    for term in first.held(words):
        for docnum in _postings(reader, first.field, term):
            if docnum not in found and docnum not in skip and all(docnum in docs for docs in required):
                found[docnum] = None
                if len(found) >= limit:
                    return list(found)
    return list(found)


def _postings(reader: Any, field: str, word: str) -> Iterator[int]:
    """The live documents of a segment holding a term (none when the segment lacks it)."""
    try:
        matcher = reader.postings(field, word)
    except TermNotFound:
        return iter(())
    return cast(Iterator[int], matcher.all_ids())


def _has_all(surname: str, variants_per_word: list[list[str]]) -> bool:
    stored = set(surname.split())
    return all(stored.intersection(variants) for variants in variants_per_word)


def _maxdist(word: str) -> int:
    # one edit in a word of two letters makes another word, not a typo
    if len(word) <= 2:
        return 0
    return 1 if len(word) < 8 else 2


_indexes: dict[str, SearchIndex] = {}
_indexes_lock = threading.Lock()


def _tier(segment: Any) -> int:
    return (max(1, segment.doc_count()).bit_length() - 1) // 2  # log4


def merge_tiers(writer: Any, segments: list[Any], budget: int | None) -> list[Any]:
    """whoosh merge policy (see MERGE_FACTOR): the segments to keep; the merged ones are read
    into the segment being written."""
    chosen = _due(segments, budget)
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if segment not in chosen]


def _due(segments: list[Any], budget: int | None) -> list[Any]:
    """The segments to merge: the highest full tier whose documents, with those of every
    smaller segment, fit in `budget` (None: no limit); when none fits and MAX_SEGMENTS are
    reached, the lowest full tier (the cheapest merge); else none."""
    tiers: dict[int, list[Any]] = {}
    for segment in sorted(segments, key=lambda segment: segment.doc_count()):
        tiers.setdefault(_tier(segment), []).append(segment)
    full: list[list[Any]] = []
    smaller: list[Any] = []
    for tier in sorted(tiers):
        members = tiers[tier]
        if len(members) >= MERGE_FACTOR:
            # the tier's smallest MERGE_FACTOR segments, and every segment of the tiers below
            full.append(smaller + members[:MERGE_FACTOR])
        smaller += members
    within = [group for group in full if budget is None or sum(s.doc_count() for s in group) <= budget]
    if within:
        return within[-1]
    if full and len(segments) >= MAX_SEGMENTS:
        return full[0]
    return []


def index_for(directory: str) -> SearchIndex:
    """The process's index for a directory (opened after gunicorn forks, at first use)."""
    key = f"{os.getpid()}:{directory}"
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = SearchIndex(directory)
        return _indexes[key]


@atexit.register
def _close_all() -> None:
    """Close every open index as the process ends (its segment files, quietly), after the
    followers' running batches."""
    _stop_followers()
    with _indexes_lock:
        indexes = list(_indexes.values())
        _indexes.clear()
    for index in indexes:
        index.close()


def forget(directory: str) -> None:
    """Close and drop the process's index for a directory (an app that is done: tests)."""
    _stop_followers(directory)
    with _indexes_lock:
        index = _indexes.pop(f"{os.getpid()}:{directory}", None)
    if index is not None:
        index.close()


FOLLOW_RETRY = 1.0  # seconds before the follower tries again when it could not apply everything


class Follower:
    """Applies the change feed in a thread of its own, so that a plan write answers without
    waiting for the index (two thirds of a plan write's time at 1 000 000 persons).

    One per process and app, started by the first write a served request makes; every commit
    that changed plans wakes it, and what piled up while it was applying goes in one batch (one
    whoosh commit for several writes). Nothing is lost if the process ends: the feed is in the
    database. A plan is still found at once: a lookup applies the feed itself before it searches
    (lookup.operations.find), waiting for the follower's batch to finish if one is running.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="samenop-index-follower", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Let a batch that is running finish (its whoosh commit), then end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            if apply_feed(self.app) and not self._stopping:
                time.sleep(FOLLOW_RETRY)  # the writer lock was busy (a compaction): try again
                self._wake.set()


def apply_feed(app: Any) -> bool:
    """Apply the change feed to the process's index; whether it is still behind after (the
    writer lock was busy, or the feed could not be read)."""
    from registry.core.db import db

    try:
        # a read-only transaction: on SQLite it must not hold the write lock that every lookup's
        # audit row waits for while whoosh writes
        with app.app_context(), db.reading() as session:
            return index_for(app.config["INDEX_DIR"]).follow(session)
    except Exception:
        # the change is committed; the next lookup applies it (it checks the feed first)
        log.exception("search index could not follow the change feed now")
        return True


#: (process, index directory, app) -> its follower
_followers: dict[tuple[int, str, int], Follower] = {}


def _follower_for(app: Any) -> Follower:
    key = (os.getpid(), app.config["INDEX_DIR"], id(app))
    with _indexes_lock:
        if key not in _followers:
            _followers[key] = Follower(app)
        return _followers[key]


def _stop_followers(directory: str | None = None) -> None:
    with _indexes_lock:
        keys = [
            key for key in _followers if key[0] == os.getpid() and (directory is None or key[1] == directory)
        ]
        followers = [_followers.pop(key) for key in keys]
    for follower in followers:
        follower.stop()


def follow_registry(app: Any) -> None:
    """After every commit that changed plans (and after `samenop init`), apply the change feed:
    in the Follower thread when a served request wrote, else (the command line: the process
    ends when the command does) before going on."""
    from flask import has_request_context

    from registry.core import signals

    def _apply(sender: Any, **_extra: Any) -> None:
        if sender is not app:
            return
        if has_request_context():
            _follower_for(app).nudge()
        else:
            apply_feed(app)

    signals.plans_changed.connect(_apply, weak=False)
    signals.database_ready.connect(_apply, weak=False)

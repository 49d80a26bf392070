"""The index on disk (whoosh): the only module that imports whoosh.

Here are the schema, the codec and the patches that keep whoosh's file names from the `random`
module, the merge callback, and SearchIndex: opening the index (anew when lost or of another
layout), applying the change feed, compacting and rebuilding it, and the long-lived searcher with
the per-segment vocabulary that candidate generation reads (lookup.search.candidates).

Every whoosh internal this module relies on has a test in tests/lookup/test_whoosh_internals.py:
run it before raising whoosh-reloaded's upper bound in pyproject.toml.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, cast

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
from lookup.search import candidates, merging
from lookup.search.documents import changes_after, documents, latest_change
from registry.core.config import PRIVATE_DIRECTORY, PRIVATE_FILE, private_directory, tighten

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
# the fields whose words are also kept by their sound: names (lookup.normalise.sound_of_word)
_SOUND_FIELDS = ("surname", "first_name")
BATCH = 2000
# Segments as separate files: whoosh copies a compound segment's terms file into memory each
# time a reader opens it (all of it: 0.1-0.4 s and tens of MB per worker at scale)
COMPOUND = False
# whoosh polls its writer lock every 0.1 s; a write waiting for a merge should not wait that long
LOCK_POLL = 0.005
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


# The table of contents pickles every segment with its codec, by the codec class's import path:
# the indexes on disk name it `lookup.search._Codec`, where it lived before lookup/search/ was a
# package. It keeps that name (the facade imports it there), so that an index written before or
# after the split opens with either code: a deploy or a rollback keeps its index. Without it,
# opening such an index fails on every lookup ("Can't get attribute '_Codec'").
_Codec.__module__ = "lookup.search"


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


def _writer_options() -> dict[str, Any]:
    return {"codec": _Codec(), "compound": COMPOUND}


def merge_tiers(writer: Any, segments: list[Any], budget: int | None) -> list[Any]:
    """whoosh merge policy (see lookup.search.merging): the segments to keep; the merged ones are
    read into the segment being written."""
    chosen = merging.due(segments, budget)
    for segment in chosen:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if segment not in chosen]


def _holds_deleted(writer: Any, segment: Any, plan_ids: set[str]) -> bool:
    """Whether the segment holds a deleted document of one of `plan_ids` (its words are still
    in the segment's files)."""
    if not segment.has_deletions():
        return False
    reader = SegmentReader(writer.storage, writer.schema, segment)
    try:
        return any(
            reader.stored_fields(docnum).get("plan_id") in plan_ids for docnum in segment.deleted_docs()
        )
    finally:
        reader.close()


# --- the index of one process -------------------------------------------------------------------


class SearchIndex:
    """One per process: a long-lived searcher, refreshed only when the index changed."""

    def __init__(self, directory: str) -> None:
        self.path = Path(directory)
        private_directory(self.path)
        for child in self.path.iterdir():  # what an older version wrote readable by others
            tighten(child, PRIVATE_DIRECTORY if child.is_dir() else PRIVATE_FILE)
        # whoever reads through the searcher holds this: a whoosh searcher is not thread-safe
        # (shared file positions; opening a newer one closes readers of the old one)
        self.lock = threading.RLock()
        self._searcher: Searcher | None = None
        self._leaves: list[Leaf] = []
        self._segment_words: dict[str, dict[str, frozenset[str]]] = {}
        # per field: each word, with the number of segments holding it
        self._word_segments: dict[str, Counter[str]] = {field: Counter() for field in _VOCABULARY_FIELDS}
        self._vocabulary: dict[str, list[str]] = {field: [] for field in _VOCABULARY_FIELDS}
        # per field: the words of the vocabulary by their sound (lookup.normalise.sound_of_word)
        self._sounds: dict[str, dict[str, set[str]]] = {field: {} for field in _SOUND_FIELDS}
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
        with self.lock:
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
        with self.lock:
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
        The commit merges a few small segments at most (see lookup.search.merging).
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
                changes = changes_after(session, start, BATCH)
                if not changes:
                    writer.cancel()
                    return applied
                plan_ids = {plan_id for _seq, plan_id in changes}
                with self.lock:
                    # the long-lived searcher, brought up to the writer's generation (we hold the
                    # lock, so nothing newer exists): opening a fresh one costs 0.1-0.4 s at scale
                    searcher = self.searcher()
                    for plan_id in plan_ids:
                        writer.delete_by_term("plan_id", str(plan_id), searcher=searcher)
                for document in documents(session, plan_ids):
                    writer.add_document(**document)
                writer.commit(mergetype=functools.partial(merge_tiers, budget=merging.MERGE_BUDGET))
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
        """Merge the full tiers that writes leave alone (merging.MERGE_BUDGET), until none is full;
        returns the number of segments before and after. Holds the writer lock while it merges
        (writes wait; lookups read on): run it from cron, every few minutes."""
        before = self.segment_count()
        while True:
            writer = self.ix.writer(timeout=timeout, delay=LOCK_POLL, **_writer_options())
            try:
                if not merging.due(writer.segments, None):
                    writer.cancel()
                    return before, self.segment_count()
                writer.commit(mergetype=functools.partial(merge_tiers, budget=None))
            except BaseException:
                writer.cancel()
                raise

    def expunge(self, plan_ids: Iterable[str], timeout: float = 60.0) -> int:
        """Rewrite the segments that still hold deleted documents of these plans; returns how many.

        whoosh only marks a document deleted: its words (names, streets) stay in the segment's
        files until the segment is merged. After a retention purge they must be gone from the
        disk too, so each segment holding a deleted document of a purged plan is read (its live
        documents only) into a new segment, and its files are removed. Other segments are left
        alone: a rebuild's big segments are rewritten only when they hold such a document."""
        self._reopen_if_lost()
        wanted = set(plan_ids)
        writer = self.ix.writer(timeout=timeout, delay=LOCK_POLL, **_writer_options())
        try:
            chosen = [segment for segment in writer.segments if _holds_deleted(writer, segment, wanted)]
            if not chosen:
                writer.cancel()
                return 0

            def rewrite(writer: Any, segments: list[Any]) -> list[Any]:
                for segment in chosen:
                    if segment.doc_count():  # a segment of deleted documents only just goes
                        reader = SegmentReader(writer.storage, writer.schema, segment)
                        writer.add_reader(reader)
                        reader.close()
                return [segment for segment in segments if segment not in chosen]

            writer.commit(mergetype=rewrite)
        except BaseException:
            writer.cancel()
            raise
        # the long-lived searcher sees the new generation and reopens at its next search
        return len(chosen)

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
        with self.lock:
            if self._searcher is not None and self._searcher.up_to_date():
                return self._searcher
            self._searcher = self._open_searcher(self._searcher)
            self._read_vocabulary(self._searcher)
            self._leaves = [
                Leaf(reader, offset, self._words_of(reader))
                for reader, offset in self._searcher.reader().leaf_readers()
            ]
            return self._searcher

    def _words_of(self, reader: Any) -> dict[str, frozenset[str]] | None:
        """A segment's vocabulary (None for the reader of an empty index)."""
        if isinstance(reader, SegmentReader):
            return self._segment_words.get(reader.segment().segment_id())
        return None

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
            if field in self._sounds:
                self._sound_words(field, new, gone)
            vocabulary = self._vocabulary[field]
            if len(new) + len(gone) > 100:
                self._vocabulary[field] = sorted(counts)
                continue
            for word in new:
                bisect.insort(vocabulary, word)
            for word in gone:
                del vocabulary[bisect.bisect_left(vocabulary, word)]

    def _sound_words(self, field: str, new: list[str], gone: list[str]) -> None:
        """Keep the words of a field by their sound as words come and go: the sound of a few
        ten thousand distinct names is worked out once per process (about 10 µs a word: 0.1-0.3 s
        at 1 000 000 persons, when a worker opens the index before its first request), a write's
        few new words after that."""
        sounds = self._sounds[field]
        for word in new:
            sounds.setdefault(normalise.sound_of_word(word), set()).add(word)
        for word in gone:
            key = normalise.sound_of_word(word)
            alike = sounds.get(key)
            if alike is not None:
                alike.discard(word)
                if not alike:
                    del sounds[key]

    # --- what candidate generation reads (lookup.search.candidates) -----------------------------

    def leaves(self) -> list[Leaf]:
        """The segments of the searcher over the latest commit (see searcher()), for candidate
        generation; the caller holds `lock` while it reads them."""
        self.searcher()
        return self._leaves

    def vocabulary(self, field: str) -> list[str]:
        """The distinct words of a field (street, surname, first_name) in the searcher's
        segments, sorted; follows searcher() (and leaves())."""
        return self._vocabulary[field]

    def sounding(self, field: str, sound: str) -> frozenset[str]:
        """The words of a field (surname, first_name) that sound as `sound` (a word's
        lookup.normalise.sound_of_word); follows searcher() (and leaves())."""
        return frozenset(self._sounds[field].get(sound, ()))

    def find_addresses(
        self, street_words: list[str], house_number: int, limit: int = 200
    ) -> list[candidates.Hit]:
        """See lookup.search.candidates.find_addresses."""
        return candidates.find_addresses(self, street_words, house_number, limit)

    def find_persons(
        self, name: normalise.Name, born: date | None = None, limit: int = 50
    ) -> list[candidates.Hit]:
        """See lookup.search.candidates.find_persons."""
        return candidates.find_persons(self, name, born, limit)


class Leaf:
    """One segment of a searcher as candidate generation reads it: its posting lists and stored
    fields, where its documents start in the searcher (`offset`), how many it numbers (deleted
    ones too: `size`), and the words of its vocabulary fields (None: unknown)."""

    __slots__ = ("offset", "reader", "size", "words")

    def __init__(self, reader: Any, offset: int, words: dict[str, frozenset[str]] | None) -> None:
        self.reader = reader
        self.offset = offset
        self.size: int = reader.doc_count_all()
        self.words = words

    def postings(self, field: str, term: str) -> Iterator[int]:
        """The live documents of the segment holding a term (none when the segment lacks it)."""
        try:
            matcher = self.reader.postings(field, term)
        except TermNotFound:
            return iter(())
        return cast(Iterator[int], matcher.all_ids())

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return self.reader.stored_fields(docnum)

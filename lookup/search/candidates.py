"""Candidate generation: the documents of the index that may be what the caller said, found
without scoring (lookup.search.scoring scores them, the database checks them).

Typos are not searched with whoosh's FuzzyTerm (an automaton per word per segment: 40–130 ms
at 100 000 households): rapidfuzz picks the words of the index's vocabulary (SearchIndex keeps
it) within one or two edits in well under a millisecond. Street words are indexed joined with the
house number ('kerkstraat:14') and first names with surnames ('jan:jong'), so a lookup reads a few
short posting lists instead of intersecting long ones, and stops at the first `limit` documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from lookup import normalise


class Segment(Protocol):
    """What candidate generation reads of one segment of the searcher (storage.Leaf)."""

    offset: int  # the number of its first document in the searcher
    size: int  # how many documents it numbers, deleted ones too
    words: dict[str, frozenset[str]] | None  # its vocabulary per field (None: unknown)

    def postings(self, field: str, term: str) -> Iterator[int]: ...

    def stored_fields(self, docnum: int) -> dict[str, Any]: ...


class Index(Protocol):
    """What candidate generation reads of the index (storage.SearchIndex)."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def leaves(self) -> Sequence[Segment]: ...

    def vocabulary(self, field: str) -> Sequence[str]: ...

    def sounding(self, field: str, sound: str) -> Collection[str]: ...


@dataclass(frozen=True)
class Hit:
    plan_id: uuid.UUID
    kind: str
    row_id: int
    fields: dict[str, Any]
    doc: int  # the document's number in the searcher it was found with


def find_addresses(index: Index, street_words: list[str], house_number: int, limit: int = 200) -> list[Hit]:
    """Addresses with this number on a street with a word resembling one of the words
    (words of two letters, 'de', 'la', only when nothing longer was said)."""
    words = [word for word in street_words if len(word) >= 3] or street_words
    # the longest words first: 'jansstraat' says more than 'sint' (every Sint-street has a
    # number 10), and the first words' variants fill the limit first
    words = sorted(words, key=len, reverse=True)
    with index.lock:
        leaves = index.leaves()  # the vocabulary follows the searcher
        streets = _variants_of_all(index, "street", words)
        if not streets:
            return []
        numbered = [(f"{street}:{house_number}", (("street", street),)) for street in streets]
        return _hits(leaves, [_Terms("street_number", numbered)], limit)


def find_persons(index: Index, name: normalise.Name, born: date | None = None, limit: int = 50) -> list[Hit]:
    """Persons whose surname resembles the query's (a typo in a word of 3–7 letters, two
    in a longer one); those whose first name resembles the query's first come first, and the
    closest spellings before the others. With a birth date only persons without one: the
    others come from the database."""
    words = name.core.split()
    if not words:
        return []
    with index.lock:
        leaves = index.leaves()  # the vocabulary follows the searcher
        surnames = [_variants(index, "surname", word, sounding=True) for word in words]
        if not all(surnames):
            return []
        firsts = _variants_of_all(
            index, "first_name", [word for word in name.first.split() if len(word) >= 2], sounding=True
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
        rest = [_Terms(field, [(word, (("surname", word),)) for word in variants]) for variants in surnames]
        # with a birth date: the pairs of persons without one
        named = _hits(leaves, [pairs, rest[0]] if born else [pairs], limit) if firsts else []
        if len(words) > 1:
            # 'Ait Taleb': the pairs matched the first word; every word must match
            named = [hit for hit in named if _has_all(hit.fields.get("surname", ""), surnames)]
        return named + _hits(leaves, rest, limit - len(named), exclude=named)


# --- typos --------------------------------------------------------------------------------------


def _maxdist(word: str) -> int:
    # one edit in a word of two letters makes another word, not a typo
    if len(word) <= 2:
        return 0
    return 1 if len(word) < 8 else 2


def _variants(index: Index, field: str, word: str, sounding: bool = False) -> list[str]:
    """The indexed words of a field within a typo or two of `word` (itself included), and with
    `sounding` (names) the words spelt otherwise with the same sound ('dyk' finds 'dijk' and
    'deik', 'moerat' finds 'murat'), after the typos: the spelling as said comes first."""
    distance = _maxdist(word)
    variants = [word]
    if distance:
        variants = [
            term
            for term, _distance, _position in process.extract(
                word, index.vocabulary(field), scorer=Levenshtein.distance, score_cutoff=distance, limit=None
            )
        ]
    if len(word) == 3:
        # 'Jog' for Jong: a letter lost from a short name; the first letter must stand
        variants = [term for term in variants if term[0] == word[0]]
    if sounding:
        alike = sorted(index.sounding(field, normalise.sound_of_word(word)))
        variants = list(dict.fromkeys([*variants, *alike]))
    return variants


def _variants_of_all(index: Index, field: str, words: Iterable[str], sounding: bool = False) -> list[str]:
    """The variants of every word, each word's closest first."""
    return list(dict.fromkeys(term for word in words for term in _variants(index, field, word, sounding)))


def _has_all(surname: str, variants_per_word: list[list[str]]) -> bool:
    stored = set(surname.split())
    return all(stored.intersection(variants) for variants in variants_per_word)


# --- reading the posting lists ------------------------------------------------------------------


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


def _hits(
    leaves: Sequence[Segment], groups: list[_Terms], limit: int, exclude: Iterable[Hit] = ()
) -> list[Hit]:
    """The first `limit` documents holding a term of every group (but those of `exclude`):
    no scoring here, the caller scores the candidates itself. The caller holds the index's
    lock: a whoosh searcher is not thread-safe (shared file positions; a refresh closes the old
    one)."""
    hits: list[Hit] = []
    if limit <= 0:
        return hits
    excluded = {hit.doc for hit in exclude}
    for leaf in leaves:
        offset = leaf.offset
        skip = {doc - offset for doc in excluded if offset <= doc < offset + leaf.size}
        for docnum in _matching(leaf, groups, limit - len(hits), skip):
            fields = leaf.stored_fields(docnum)
            plan_id, row_id = uuid.UUID(fields["plan_id"]), int(fields["row_id"])
            hits.append(Hit(plan_id, fields["kind"], row_id, fields, offset + docnum))
        if len(hits) >= limit:
            break
    return hits


def _matching(leaf: Segment, groups: list[_Terms], limit: int, skip: set[int]) -> list[int]:
    """The documents of a segment holding a term of every group, at most `limit`, in the order
    of the first group's terms; none of `skip`.

    The posting lists are read directly, not through whoosh's queries: a name lookup asks for
    tens of variant terms, and whoosh builds a matcher tree over all of them (asking each for
    its document frequency first) and walks every document through it. Read term by term, the
    closest spellings fill the limit first. A term whose words the segment lacks (`leaf.words`,
    the segment's vocabulary, if known) is not looked up at all (after many writes most
    segments are small: 380 lookups on disk per name at 33 segments, most of them finding
    nothing)."""
    words = leaf.words
    first, *others = groups
    required: list[set[int]] = []
    for group in others:
        docs = {docnum for term in group.held(words) for docnum in leaf.postings(group.field, term)}
        if not docs:
            return []
        required.append(docs)
    found: dict[int, None] = {}
    for term in first.held(words):
        for docnum in leaf.postings(first.field, term):
            if docnum not in found and docnum not in skip and all(docnum in docs for docs in required):
                found[docnum] = None
                if len(found) >= limit:
                    return list(found)
    return list(found)

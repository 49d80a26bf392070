"""Scoring the candidates with rapidfuzz: how well a stored name or address matches what was
said, 0..1, and the thresholds below which a candidate is not shown. Pure functions: the
candidates come from the index (lookup.search.candidates) or the database, and the database
checks every one that scores before anyone sees it (lookup.operations)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from lookup import normalise

# below these similarities a candidate is not shown: a wrong match exposes a family
STREET_THRESHOLD = 0.75
SURNAME_THRESHOLD = 0.75
FIRST_NAME_THRESHOLD = 0.75
# a named city must resemble the stored one: every town has a Kerkstraat 14
CITY_THRESHOLD = 0.75


# names spelt otherwise with the same sound ('Dyk' for Dijk, 'Moerat' for Murat): as near as one
# letter wrong in ten, so that the spelling as registered still comes first
SOUND_WEIGHT = 0.95


def _similarity(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0


def _name_similarity(said: str, stored: str) -> float:
    """Names as spelt, or as they sound (lookup.normalise.sound), whichever is nearer."""
    spelt = _similarity(said, stored)
    if spelt == 1.0:
        return spelt
    return max(spelt, SOUND_WEIGHT * _similarity(normalise.sound(said), normalise.sound(stored)))


# --- persons ------------------------------------------------------------------------------------


def person_score(
    query: normalise.Name, stored: normalise.Name, born: date | None, stored_born: date | None
) -> float | None:
    """The score of a person for a name (and a birth date, if one was said); None: not shown.
    A birth date that was said raises the score of the person born that day and lowers the
    others'."""
    born_that_day = born is not None and stored_born == born
    score = name_score(query, stored, born_that_day=born_that_day)
    if score <= 0:
        return None
    if born is not None:
        score = min(1.0, score + 0.15) if born_that_day else score - 0.1
    return score


def name_score(query: normalise.Name, stored: normalise.Name, *, born_that_day: bool = False) -> float:
    """0..1: the surname core weighs most; a first name (or its initial) adds to it. The query
    is read the way that fits the stored surname best (see _readings).

    A first name that was said must resemble the registered one (an initial must be its
    initial), unless the person was born on the day asked (a nickname: 'Hans' for Johannes):
    Kees Jansen is not the Jan Jansen the caller means, and showing his family's plan exposes
    that family for nothing."""
    reading, core = max(
        ((reading, _core_similarity(reading.core, stored)) for reading in _readings(query)),
        key=lambda scored: scored[1],
    )
    if core < SURNAME_THRESHOLD:
        return 0.0
    judged = bool(stored.first) and not born_that_day  # a first name to hold the query's against
    if not reading.first:
        score = 0.85 * core
    elif len(reading.first) == 1:
        initial = stored.first.startswith(reading.first)
        if judged and not initial:
            return 0.0
        score = 0.85 * core + (0.1 if initial else 0.0)
    else:
        first = _first_name_similarity(reading.first, stored.first)
        if judged and first < FIRST_NAME_THRESHOLD:
            return 0.0
        score = 0.7 * core + 0.3 * first
    if query.prefix and stored.prefix and query.prefix != stored.prefix:
        score -= 0.05
    if query.first and stored.first:
        # the whole name as said, against the whole name as registered
        score = max(score, _similarity(query.full, stored.full))
    return max(0.0, min(score, 1.0))


def _first_name_similarity(said: str, stored: str) -> float:
    """The best of the whole first names and any of their words ('Peter' for Jan Peter)."""
    return max(
        _name_similarity(one, other)
        for one in dict.fromkeys([said, *said.split()])
        for other in dict.fromkeys([stored, *stored.split()])
    )


def _readings(query: normalise.Name) -> list[normalise.Name]:
    """The ways the typed words split into first name and surname. A surname of more than one
    word without a tussenvoegsel ('Ait Taleb', 'El Amrani') is parsed as first name + surname
    ('Henk Ait | Taleb'); the last words of the first name may belong to the surname instead
    ('Henk | Ait Taleb', '| Ait Taleb'). The parsed reading comes first: it wins a tie."""
    if query.prefix:
        return [query]
    words = query.first.split()
    return [query] + [
        normalise.Name(" ".join(words[:split]), "", " ".join([*words[split:], query.core]))
        for split in range(len(words) - 1, -1, -1)
    ]


def same_name(query: normalise.Name, stored: normalise.Name) -> bool:
    """The name as registered, in one of the query's readings (a first name may be left out)."""
    return any(
        reading.core == stored.core and (not reading.first or reading.first == stored.first)
        for reading in _readings(query)
    )


def _core_similarity(core: str, stored: normalise.Name) -> float:
    return max(
        _name_similarity(core, stored.core),
        _similarity(core.replace(" ", ""), stored.core.replace(" ", "")),
    )


# --- addresses ----------------------------------------------------------------------------------


def address_score(parsed: normalise.AddressText, stored: Mapping[str, Any]) -> float | None:
    """The score of an address (an index hit's stored fields: street, city, suffix) for a free-text
    address with the same house number; None: not shown."""
    street = max(
        _similarity(parsed.street, stored.get("street", "")),
        fuzz.token_set_ratio(parsed.street, stored.get("street", "")) / 100.0 - 0.05,
    )
    if street < STREET_THRESHOLD:
        return None
    score = 0.85 * street
    if parsed.city:
        stored_city = stored.get("city", "")
        city = max(
            _similarity(parsed.city, stored_city),
            fuzz.token_set_ratio(parsed.city, stored_city) / 100.0 - 0.05,
        )
        if city < CITY_THRESHOLD:
            return None
        score = 0.7 * street + 0.3 * city
    if stored.get("suffix", "") != parsed.house_number_suffix:
        score -= 0.1
    return max(score, 0.0)

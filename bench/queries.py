"""The control-room lookups: queries drawn from the generated data, and how an answer is judged.

Every query comes from a household sampled from the database, so each must find at least one
plan ("miss" otherwise) and should find its own ("other": matches, but not that plan).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench.load import Request, Workload

LOOKUPS = "/api/v1/lookups"
LOOKUP_OPERATIONS = ("address", "building", "address_text", "person", "person_born", "phone")
# asked for an address stored without a suffix: one the stored address does not have
_OTHER_SUFFIXES = ("a", "b", "2", "bis")


@dataclass
class Household:
    plan_id: str
    postcode: str
    house_number: int
    suffix: str
    street: str
    city: str
    persons: list[tuple[str, str, str, date | None, str | None]] = field(default_factory=list)


def sample_households(url: str, count: int, seed: int) -> tuple[int, int, list[Household]]:
    """(active plans, persons, `count` random households): current versions of active plans,
    straight from the database, with address and persons."""
    from sqlalchemy import func, select

    from registry.core.db import engine_for
    from registry.core.models import Address, Person, Plan, PlanVersion
    from registry.core.vocabulary import PlanStatus

    engine = engine_for(url)
    rng = random.Random(seed)
    households: dict[int, Household] = {}
    with engine.connect() as connection:
        plans = (
            connection.scalar(select(func.count()).select_from(Plan).where(Plan.status == PlanStatus.ACTIVE))
            or 0
        )
        persons = connection.scalar(select(func.count()).select_from(Person)) or 0
        top = connection.scalar(select(func.max(PlanVersion.id))) or 0
        # a few more than asked: versions superseded by an update are skipped
        chosen = sorted(rng.sample(range(1, top + 1), min(count + count // 10, top)))
        for start in range(0, len(chosen), 500):
            ids = chosen[start : start + 500]
            for version_id, plan_id, postcode, number, suffix, street, city in connection.execute(
                select(
                    PlanVersion.id,
                    PlanVersion.plan_id,
                    Address.postcode,
                    Address.house_number,
                    Address.house_number_suffix,
                    Address.street,
                    Address.city,
                )
                .join(Address, Address.plan_version_id == PlanVersion.id)
                .join(Plan, (Plan.id == PlanVersion.plan_id) & (Plan.current_version == PlanVersion.version))
                .where(PlanVersion.id.in_(ids), Plan.status == PlanStatus.ACTIVE)
            ):
                households.setdefault(
                    version_id, Household(str(plan_id), postcode, number, suffix, street, city)
                )
            for version_id, first, prefix, surname, born, phone in connection.execute(
                select(
                    Person.plan_version_id,
                    Person.first_name,
                    Person.surname_prefix,
                    Person.surname,
                    Person.birth_date,
                    Person.phone,
                )
                .where(Person.plan_version_id.in_(ids))
                .order_by(Person.id)
            ):
                if version_id in households:
                    households[version_id].persons.append((first, prefix, surname, born, phone))
    engine.dispose()
    return plans, persons, [households[key] for key in sorted(households)][:count]


_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def typo(word: str, rng: random.Random) -> str:
    """One edit (substitute, delete or insert a letter) after the first letter; shorter words
    than 4 letters stay as they are (one edit there is a different word, not a typo)."""
    if len(word) < 4:
        return word
    position = rng.randint(1, len(word) - 1)
    edit = rng.choice("sdi")
    if edit == "s":
        letter = rng.choice([ch for ch in _ALPHABET if ch != word[position].lower()])
        return word[:position] + letter + word[position + 1 :]
    if edit == "d":
        return word[:position] + word[position + 1 :]
    return word[:position] + rng.choice(_ALPHABET) + word[position:]


def typo_in_longest_word(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    words[longest] = typo(words[longest], rng)
    return " ".join(words)


def postcode_as_typed(postcode: str, rng: random.Random) -> str:
    return rng.choice([postcode, f"{postcode[:4]} {postcode[4:]}", f"{postcode[:4]} {postcode[4:].lower()}"])


def number_as_typed(number: int, suffix: str) -> str:
    """14, 14a, 14-2, 14 bis: how a caller's address reaches the control room."""
    if not suffix:
        return str(number)
    if suffix == "BIS":
        return f"{number} bis"
    if suffix.isdigit():
        return f"{number}-{suffix}"
    return f"{number}{suffix.lower()}"


def phone_as_typed(e164: str, rng: random.Random) -> str:
    national = e164[3:]  # +31 6xxxxxxxx -> 6xxxxxxxx
    return rng.choice(
        [f"0{national[:1]}-{national[1:]}", f"0{national}", e164, f"0031 {national[:1]} {national[1:]}"]
    )


def name_with_typo(first: str, prefix: str, surname: str, rng: random.Random) -> str:
    return " ".join(part for part in (first, prefix, typo_in_longest_word(surname, rng)) if part)


@dataclass(frozen=True)
class Query:
    payload: dict[str, Any]  # the lookup, without incident_ref
    target: str  # the plan id that must be among the matches
    text: str  # what was asked, for the list of misses
    quality: str | None = None  # the match quality the target must have (None: any)


def build_queries(households: list[Household], seed: int) -> dict[str, list[Query]]:
    rng = random.Random(seed)
    queries: dict[str, list[Query]] = {op: [] for op in LOOKUP_OPERATIONS}
    for household in households:
        target = household.plan_id
        postcode = postcode_as_typed(household.postcode, rng)
        suffix = household.suffix.lower()
        number = household.house_number
        address = {"postcode": postcode, "house_number": number, "house_number_suffix": suffix}
        text = f"{postcode} {number} {suffix}".strip()
        queries["address"].append(Query({"address": address}, target, text))
        # the right postcode and number, a suffix the stored address does not have (or none)
        other = "" if suffix else rng.choice(_OTHER_SUFFIXES)
        address = {**address, "house_number_suffix": other}
        text = f"{postcode} {number} {other} (stored: {suffix or 'none'})"
        queries["building"].append(Query({"address": address}, target, text, quality="building"))
        text = " ".join(
            (
                typo_in_longest_word(household.street, rng),
                number_as_typed(household.house_number, household.suffix),
                household.city,
            )
        )
        queries["address_text"].append(Query({"address_text": text}, target, text))
        if not household.persons:
            continue
        first, prefix, surname, _born, _phone = rng.choice(household.persons)
        name = name_with_typo(first, prefix, surname, rng)
        queries["person"].append(Query({"person": {"name": name}}, target, name))
        dated = [person for person in household.persons if person[3] is not None]
        if dated:
            first, prefix, surname, born, _phone = rng.choice(dated)
            assert born is not None
            name = name_with_typo(first, prefix, surname, rng)
            queries["person_born"].append(
                Query(
                    {"person": {"name": name, "birth_date": born.isoformat()}},
                    target,
                    f"{name} {born.isoformat()}",
                )
            )
        phones = [person[4] for person in household.persons if person[4]]
        if phones:
            typed = phone_as_typed(rng.choice(phones), rng)
            queries["phone"].append(Query({"phone": typed}, target, typed))
    return queries


_serial = itertools.count(1)


def lookup_request(token: str, query: Query) -> Request:
    """POST /api/v1/lookups for `query`, with a fresh incident number (every lookup needs one)."""
    body = {"incident_ref": f"BENCH-{next(_serial):07d}", **query.payload}
    return Request(
        "POST",
        LOOKUPS,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        query.text,
        query,
    )


def judge_lookup(query: Query, status: int, data: bytes) -> str:
    """ok | error | miss (no match at all) | other (matches, but not the plan asked for, or not
    with the quality asked for)."""
    if status != 200:
        return "error"
    try:
        answer = json.loads(data)
        matches = answer["matches"]
        qualities = {match["plan"]["id"]: match["match"]["quality"] for match in matches}
        # a name without a birth date lists candidates instead of showing plans
        qualities.update((c["plan_id"], c["match"]["quality"]) for c in answer.get("candidates", []))
    except (ValueError, KeyError, TypeError):
        return "error"
    if not qualities:
        return "miss"
    if query.target not in qualities:
        return "other"
    return "ok" if query.quality is None or qualities[query.target] == query.quality else "other"


class Lookups(Workload):
    """One kind of lookup, queries drawn at random from the sampled households."""

    def __init__(self, token: str, queries: list[Query]) -> None:
        self.token = token
        self.queries = queries

    def next_request(self, client: int, rng: random.Random) -> Request:
        return lookup_request(self.token, self.queries[rng.randrange(len(self.queries))])

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        return judge_lookup(request.context, status, digest)

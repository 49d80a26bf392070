"""Finding plans for the control room, and recording every lookup (with or without a match).

Exact address, building and phone matches come straight from the database; free text and
names go through the search index for candidates, which are scored (lookup.search.scoring) and
then checked against the database (active, current version, still valid) before anyone sees them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    Table,
    Text,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from lookup import normalise, search
from registry import observe
from registry.core import audit, dutch, rules
from registry.core.db import db
from registry.core.models import (
    Address,
    Agreement,
    Contact,
    Lookup,
    LookupCandidate,
    LookupResult,
    Measure,
    Melding,
    Organisation,
    Person,
    Plan,
    PlanVersion,
    User,
)
from registry.core.timeutil import local_today, utcnow
from registry.core.vocabulary import (
    AddressRole,
    FlagRule,
    MatchedOn,
    MatchQuality,
    PersonRole,
    QueryKind,
    Role,
)
from registry.plans import availability
from registry.privacy import flags

ROLE = Role.RESPONDER
MAX_MATCHES = 10
_QUALITY_ORDER = {MatchQuality.EXACT: 0, MatchQuality.BUILDING: 1, MatchQuality.FUZZY: 2}
LOOKUP_LOCK_WAIT = 1.0  # seconds
# the report form after a lookup stays open this long: the 12 hours after which a lookup
# without a report becomes an item of the plan's owners
REPORT_FORM_OPEN = rules.LOOKUP_GRACE
# the window of the per-user budget (SAMENOP_LOOKUP_HOURLY_LIMIT, SAMENOP_NAME_LOOKUP_HOURLY_LIMIT)
BUDGET_WINDOW = timedelta(hours=1)
# a candidate of a name-only lookup can be opened this long after it
CANDIDATES_OPEN = rules.LOOKUP_GRACE


class Responder(audit.Actor, Protocol):
    """Who looks up: the logged-in User, or the API caller the token check found."""

    @property
    def organisation_id(self) -> int: ...

    @property
    def incident_ref_pattern(self) -> str | None: ...

    @property
    def incident_ref_example(self) -> str | None: ...


class LookupRefused(Exception):
    """A lookup that is not done: a meldingnummer not of the organisation's format (422, naming
    `field`), or the user's budget of the last hour spent (429, `retry_after` seconds). Its audit
    row is written however the request ends."""

    def __init__(self, status: int, code: str, field: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.retry_after = retry_after


class CandidateRefused(Exception):
    """The candidate cannot be opened (not this user's lookup, too late, not among its candidates,
    no longer shown): answered alike whatever the reason."""


@dataclass
class Match:
    plan_id: uuid.UUID
    version_id: int
    on: str  # address | person
    quality: MatchQuality
    score: float
    # the version's row (_VERSION_COLUMNS) when the match's own query read it: _views then does not
    version: Any = field(default=None, repr=False, compare=False)
    person_id: int | None = None  # whose name or phone number matched
    address_id: int | None = None  # which address matched
    via: MatchedOn | None = None  # None: the address for `on` address, the name for `on` person
    born: date | None = None  # the birth date said with the name
    # found through the perpetrator's name, phone or address: no geheim address is shown, nor
    # that there is one (docs/api.md, Geheim adres)
    via_perpetrator: bool = False
    # what it matched on, said for the responder (set once the plan's rows are read: matched_on)
    matched_on: MatchedOnView | None = field(default=None, compare=False)

    @property
    def kind(self) -> MatchedOn:
        if self.via is not None:
            return self.via
        return MatchedOn.ADDRESS if self.on == "address" else MatchedOn.NAME


@dataclass(frozen=True, slots=True)
class MatchedOnView:
    """What a match was found on, in the responder's words ("telefoon van Murat Kaya — pleger —
    NIET INFORMEREN") and as fields for the API: a match through a person who must not be
    informed is unmistakable."""

    kind: MatchedOn
    text: str
    person_role: str | None = None
    do_not_inform: bool = False
    birth_date_matches: bool | None = None  # None: no birth date said, or none registered
    address_role: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "person_role": self.person_role,
            "do_not_inform": self.do_not_inform,
            "birth_date_matches": self.birth_date_matches,
            "address_role": self.address_role,
        }


NOT_TO_INFORM = "NIET INFORMEREN"


def matched_on(shown: ShownPlan, match: Match) -> MatchedOnView:
    """What of the plan shown the match was found on (its rows are read already: no query)."""
    kind = match.kind
    if kind == MatchedOn.ADDRESS:
        address = next((row for row in shown.addresses if row["id"] == match.address_id), None)
        if address is None:
            # a geheim address is never named, not even as what matched
            secret = any(row["id"] == match.address_id for row in shown.secret_addresses)
            return MatchedOnView(kind, "een geheim adres — NIET NOEMEN" if secret else kind.label)
        suffix = f" {address['house_number_suffix']}" if address["house_number_suffix"] else ""
        role = AddressRole.label_of(address["role"]).lower()
        text = f"adres {address['street']} {address['house_number']}{suffix}, {address['city']} — {role}"
        return MatchedOnView(kind, text, address_role=address["role"])
    found = next((row for row in shown.persons if row["id"] == match.person_id), None)
    if found is None:
        return MatchedOnView(kind, kind.label)
    name = " ".join(part for part in (found["first_name"], found["surname_prefix"], found["surname"]) if part)
    role = PersonRole.label_of(found["role"]).lower()
    born_matches = None
    if match.born is not None and found["birth_date"] is not None:
        born_matches = found["birth_date"] == match.born
    if kind == MatchedOn.PHONE:
        text = f"telefoon van {name} — {role}"
    else:
        text = f"naam {name} ({role})"
        if match.born is not None and born_matches is None:
            text += ", geboortedatum niet bekend in het handelingskader"
        elif match.born is not None:
            text += ", geboortedatum klopt" if born_matches else ", geboortedatum wijkt af"
    if found["do_not_inform"]:
        text += f" — {NOT_TO_INFORM}"
    return MatchedOnView(kind, text, found["role"], bool(found["do_not_inform"]), born_matches)


@dataclass(frozen=True, slots=True)
class ShownPlan:
    """What a responder is shown of one plan: its current version, read on the lean path.
    The rows (addresses, persons, agreements, contacts) are the tables' columns as dicts."""

    id: uuid.UUID
    version: int
    title: str
    summary: str
    valid_until: date
    family_profiles: list[str]
    risk_signals: list[str]
    owner_organisation: str
    owner_name: str
    owner_phone: str
    addresses: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    # each with "contact": the contact dict it names, or None
    agreements: list[dict[str, Any]]
    # reachable now first (each with "reachable_now": True / False / None when not said, and
    # "next_reachable_at"), in the owner's order within each group
    contacts: list[dict[str, Any]]
    # the lopende maatregelen still in force today (or starting later)
    measures: list[dict[str, Any]] = field(default_factory=list)
    # the geheim addresses ({"id", "role"}: that one exists, never where), none when the lookup
    # went through the perpetrator; `addresses` never holds them
    secret_addresses: list[dict[str, Any]] = field(default_factory=list)
    # what happened before: the meldingen on the plan so far and the day of the last (counts
    # and dates only: never what happened)
    earlier_meldingen: int = 0
    last_melding_on: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """For ResponderPlanSchema, which picks what it shows."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "valid_until": self.valid_until,
            "family_profiles": self.family_profiles,
            "family_profile": self.family_profiles[0] if self.family_profiles else None,
            "risk_signals": self.risk_signals,
            "owner": {
                "organisation": self.owner_organisation,
                "name": self.owner_name,
                "phone": self.owner_phone,
            },
            "addresses": self.addresses,
            "persons": self.persons,
            "agreements": self.agreements,
            "contacts": self.contacts,
            "measures": self.measures,
            "secret_addresses": self.secret_addresses,
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """One plan a name without a birth date found: enough to tell the families apart, not the
    plan itself (no agreements, contacts, other persons or address)."""

    plan_id: uuid.UUID
    person_id: int
    name: str
    birth_year: int | None
    city: str
    owner_organisation: str
    quality: MatchQuality
    score: float


@dataclass
class Outcome:
    lookup: Lookup
    matches: list[tuple[ShownPlan, Match]]
    candidates: list[Candidate] = field(default_factory=list)


def _today() -> date:
    return local_today(current_app.config["TIMEZONE"])


def _shown(query: Any) -> Any:
    """Restrict a query over PlanVersion to the current version of plans a responder is shown
    (`today` is bound per call)."""
    return query.join(Plan, rules.is_current_version()).where(rules.shown_to_responders(bindparam("today")))


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


# The read path's statements, built once: building a select() costs more than running it
# (docs/performance.md); SQLAlchemy caches the compiled form of each. They run on the session's
# connection: rows, not ORM objects, so the ORM's per-execution work is skipped.
# what _views shows of a version besides its rows: its columns and its owner's name. The address
# and phone matches read them with the match (a handful of rows), so that _views need not.
_VERSION_COLUMNS = (PlanVersion.__table__, Organisation.name.label("organisation_name"))


def _with_owner(query: Any) -> Any:
    return query.join(Organisation, Organisation.id == Plan.owner_organisation_id)


_BY_ADDRESS = _with_owner(
    _shown(
        select(
            *_VERSION_COLUMNS,
            Address.house_number_suffix,
            Address.id.label("address_id"),
            Address.role.label("matched_role"),
        )
        .select_from(Address)
        .join(PlanVersion, PlanVersion.id == Address.plan_version_id)
    )
).where(Address.postcode == bindparam("postcode"), Address.house_number == bindparam("number"))
_BY_PHONE = _with_owner(
    _shown(
        select(*_VERSION_COLUMNS, Person.id.label("person_id"), Person.role.label("matched_role"))
        .select_from(Person)
        .join(PlanVersion, PlanVersion.id == Person.plan_version_id)
    )
).where(Person.phone == bindparam("phone"))
_BORN_ON = select(Person.id, Person.first_name, Person.surname_prefix, Person.surname).where(
    Person.birth_date == bindparam("born")
)
_PERSONS_SHOWN = _shown(
    select(Person.id, PlanVersion.plan_id, PlanVersion.id, Person.role)
    .select_from(Person)
    .join(PlanVersion, PlanVersion.id == Person.plan_version_id)
).where(Person.id.in_(_ids("ids")))
_ADDRESSES_SHOWN = _shown(
    select(Address.id, PlanVersion.plan_id, PlanVersion.id, Address.role)
    .select_from(Address)
    .join(PlanVersion, PlanVersion.id == Address.plan_version_id)
).where(Address.id.in_(_ids("ids")))
_INSERT_LOOKUP = insert(cast(Table, Lookup.__table__))
_INSERT_RESULTS = insert(cast(Table, LookupResult.__table__))
_INSERT_CANDIDATES = insert(cast(Table, LookupCandidate.__table__))
# the user's most recent lookups since `since`, at most `cap` of them (the hourly limit: whether
# it is reached is all that counts, so a user's busiest hour costs no more than the limit's rows):
# how many, how many on a name only (candidate lists and the candidates opened from them), and
# the oldest of each (when the budget frees up again); from the index alone
_RECENT = (
    select(Lookup.performed_at, Lookup.name_only)
    .where(Lookup.user_id == bindparam("user_id"), Lookup.performed_at > bindparam("since"))
    .order_by(Lookup.performed_at.desc())
    .limit(bindparam("cap"))
    .subquery()
)
_SPENT = select(
    func.count(),
    func.count(case((_RECENT.c.name_only, 1))),
    func.min(_RECENT.c.performed_at),
    func.min(case((_RECENT.c.name_only, _RECENT.c.performed_at))),
)


def _for_versions(column: Any, many: bool) -> Any:
    """`column` among the shown version ids (`ids`), or, for one match (nearly every address and
    phone lookup), equal to it (`id`): an expanding IN is rendered anew on every execution."""
    return column.in_(_ids("ids")) if many else column == bindparam("id")


# _views' statements: the versions with their owner's name, and each kind of row; [False] for
# one version, [True] for several
_VERSIONS = {
    many: _with_owner(select(*_VERSION_COLUMNS).join(Plan, Plan.id == PlanVersion.plan_id)).where(
        _for_versions(PlanVersion.id, many)
    )
    for many in (False, True)
}
_ROW_KINDS = (
    ("addresses", Address, Address.id),
    ("persons", Person, Person.id),
    ("agreements", Agreement, Agreement.position),
    ("contacts", Contact, Contact.id),
    ("measures", Measure, Measure.id),
)


def _rows_statement(many: bool) -> tuple[Any, list[list[tuple[str, int]]]]:
    """The four kinds of rows of the shown versions in one statement instead of four: a UNION ALL
    whose columns are slots of one type each (text, integer, date, boolean), which every kind fills
    with its own columns of that type and NULL elsewhere. The first SELECT gives each slot its
    type, and so its result processing (SQLite's dates and booleans), with a CAST of its NULLs;
    PostgreSQL wants the types of a UNION's columns to agree anyway. Also returns, per kind, its
    columns (in the table's order) and where each is in a row."""
    families: list[type] = []  # the slots: the Python type of each
    placed: list[list[tuple[str, int]]] = []  # per kind: (column, slot)
    for _name, model, _order in _ROW_KINDS:
        taken: dict[type, int] = {}
        columns = []
        for column in cast(Table, model.__table__).columns:
            family = column.type.python_type
            nth = taken.get(family, 0)
            taken[family] = nth + 1
            slots = [slot for slot, kind in enumerate(families) if kind is family]
            if nth == len(slots):
                families.append(family)
                slots.append(len(families) - 1)
            columns.append((column.name, slots[nth]))
        placed.append(columns)
    # JSON (a contact's availability windows) says its Python type is `object`
    typed: dict[type, TypeEngine[Any]] = {
        str: Text(),
        int: Integer(),
        date: Date(),
        bool: Boolean(),
        object: JSON(),
    }
    selects = []
    for number, (_name, kind, order) in enumerate(_ROW_KINDS):
        table = cast(Table, kind.__table__)
        in_slot = {slot: table.c[name] for name, slot in placed[number]}
        selects.append(
            select(
                literal_column(str(number), Integer).label("kind"),
                order.label("sort"),
                *(
                    in_slot[slot].label(f"slot{slot}")
                    if slot in in_slot
                    else sql_cast(null(), typed[family]).label(f"slot{slot}")
                    for slot, family in enumerate(families)
                ),
            ).where(_for_versions(table.c.plan_version_id, many))
        )
    rows = union_all(*selects)
    statement = rows.order_by(rows.selected_columns.kind, rows.selected_columns.sort)
    # a row is (kind, sort, slot0, slot1, ...)
    return statement, [[(name, slot + 2) for name, slot in columns] for columns in placed]


# [False] for one version, [True] for several
_ROWS = {many: _rows_statement(many) for many in (False, True)}


# --- the match kinds ----------------------------------------------------------------------------


def by_address(session: Session, postcode: str, number: int, suffix: str) -> list[Match]:
    parameters = {"postcode": postcode, "number": number, "today": _today()}
    rows = session.connection().execute(_BY_ADDRESS, parameters).all()
    return [
        Match(
            row.plan_id,
            row.id,
            "address",
            MatchQuality.EXACT if row.house_number_suffix == suffix else MatchQuality.BUILDING,
            1.0 if row.house_number_suffix == suffix else 0.8,
            version=row,
            address_id=row.address_id,
            via_perpetrator=row.matched_role == AddressRole.PERPETRATOR_ADDRESS,
        )
        for row in rows
    ]


def by_phone(session: Session, number: str) -> list[Match]:
    rows = session.connection().execute(_BY_PHONE, {"phone": number, "today": _today()}).all()
    return [
        Match(
            row.plan_id,
            row.id,
            "person",
            MatchQuality.EXACT,
            1.0,
            version=row,
            person_id=row.person_id,
            via=MatchedOn.PHONE,
            via_perpetrator=row.matched_role == PersonRole.PERPETRATOR,
        )
        for row in rows
    ]


# a name with a year of birth: more of the index's candidates, since the year filters them
CANDIDATES_WITH_YEAR = 400


def by_person(
    session: Session, index: search.SearchIndex, text: str, born: date | None, year: int | None = None
) -> list[Match]:
    """Fuzzy name; a birth date filters (a different date is not the person) and raises the score.
    A year of birth alone ('Kaya 1988') keeps the persons born that year, first, and those
    registered without a birth date."""
    query = normalise.query_name(text)
    if not query.core:
        return []
    candidates: dict[int, tuple[normalise.Name, date | None]] = {}
    if born is not None:
        # everyone born that day: a handful, even nationally, so no index needed
        for person_id, first, prefix, surname in session.connection().execute(_BORN_ON, {"born": born}):
            candidates[person_id] = (normalise.stored_name(first, prefix, surname), born)
    wider = {"limit": CANDIDATES_WITH_YEAR} if year and born is None else {}
    for hit in index.find_persons(query, born, **wider):
        stored = normalise.Name(
            hit.fields.get("first_name", ""), hit.fields.get("prefix", ""), hit.fields.get("surname", "")
        )
        raw_date = hit.fields.get("birth_date")
        candidates.setdefault(
            hit.row_id,
            (stored, date.fromisoformat(raw_date) if raw_date and raw_date != search.NO_DATE else None),
        )
    scored: dict[int, float] = {}
    for person_id, (stored, stored_born) in candidates.items():
        score = search.person_score(query, stored, born, stored_born)
        if score is not None and year and born is None and stored_born is not None:
            score = min(1.0, score + 0.1) if stored_born.year == year else None
        if score is not None:
            scored[person_id] = score
    if not scored:
        return []
    rows = session.connection().execute(_PERSONS_SHOWN, {"ids": list(scored), "today": _today()}).all()
    matches = []
    for person_id, plan_id, version_id, role in rows:
        stored, stored_born = candidates[person_id]
        # exact: the name and the birth date; a person registered without one is never exact
        # (26 namesakes without a date would otherwise come before the one born that day)
        exact = born is not None and stored_born == born and search.same_name(query, stored)
        matches.append(
            Match(
                plan_id,
                version_id,
                "person",
                MatchQuality.EXACT if exact else MatchQuality.FUZZY,
                round(scored[person_id], 3),
                person_id=person_id,
                born=born,
                via_perpetrator=role == PersonRole.PERPETRATOR,
            )
        )
    return matches


def by_address_text(session: Session, index: search.SearchIndex, text: str) -> list[Match]:
    parsed = normalise.address_text(text)
    if parsed.house_number is None:
        return []
    scored: dict[int, float] = {}
    # every word may be part of the street ('14 Van der Waalsstraat' parses 'waalsstraat' as a city)
    words = (parsed.street + " " + parsed.city).split()
    for hit in index.find_addresses(words, parsed.house_number):
        score = search.address_score(parsed, hit.fields)
        if score is not None:
            scored[hit.row_id] = round(score, 3)
    if not scored:
        return []
    rows = session.connection().execute(_ADDRESSES_SHOWN, {"ids": list(scored), "today": _today()}).all()
    return [
        Match(
            plan_id,
            version_id,
            "address",
            MatchQuality.FUZZY,
            scored[address_id],
            address_id=address_id,
            via_perpetrator=role == AddressRole.PERPETRATOR_ADDRESS,
        )
        for address_id, plan_id, version_id, role in rows
    ]


def _best_per_plan(matches: list[Match]) -> list[Match]:
    best: dict[uuid.UUID, Match] = {}
    # a plan found through its perpetrator among other ways shows no geheim address either
    through_perpetrator = {match.plan_id for match in matches if match.via_perpetrator}
    for match in matches:
        match.via_perpetrator = match.plan_id in through_perpetrator
        current = best.get(match.plan_id)
        if current is None or (_QUALITY_ORDER[match.quality], -match.score) < (
            _QUALITY_ORDER[current.quality],
            -current.score,
        ):
            best[match.plan_id] = match
    ordered = sorted(best.values(), key=lambda m: (_QUALITY_ORDER[m.quality], -m.score, str(m.plan_id)))
    return ordered[:MAX_MATCHES]


# --- a lookup, recorded -------------------------------------------------------------------------


def index() -> search.SearchIndex:
    return search.index_for(current_app.config["INDEX_DIR"])


def find(session: Session, kind: str, args: dict[str, Any]) -> list[Match]:
    if kind == QueryKind.ADDRESS:
        address = args["address"]
        return _best_per_plan(
            by_address(session, address["postcode"], address["house_number"], address["house_number_suffix"])
        )
    if kind == QueryKind.PHONE:
        return _best_per_plan(by_phone(session, args["phone"]))
    search_index = index()
    # a lookup waits for the writer lock only briefly: while `samenop index compact` merges, it
    # answers from the index as it is (a plan written in those seconds is found by address and
    # phone, by name once the merge is done)
    search_index.follow(session, timeout=LOOKUP_LOCK_WAIT)
    if kind == QueryKind.ADDRESS_TEXT:
        return _best_per_plan(by_address_text(session, search_index, args["address_text"]))
    person = args["person"]
    return _best_per_plan(
        by_person(session, search_index, person["name"], person.get("birth_date"), person.get("birth_year"))
    )


def perform(session: Session, user: Responder, incident_ref: str, kind: str, args: dict[str, Any]) -> Outcome:
    """Find (only reading: many lookups search at once), then store the lookup, what it
    showed and the audit row in one short write transaction."""
    outcome = prepare(session, user, incident_ref, kind, args)
    store(session, user, outcome)
    return outcome


# the lookup's columns, as prepare() fills them in
_LOOKUP_VALUES = (
    "id", "user_id", "organisation_id", "role", "incident_ref", "query_kind", "performed_at", "match_count",
    "name_only", "opened_from", "signal_id",
)  # fmt: skip


def is_name_only(kind: str, args: dict[str, Any]) -> bool:
    """A name without a birth date: it lists candidates instead of showing plans."""
    return kind == QueryKind.PERSON and args["person"].get("birth_date") is None


def prepare(session: Session, user: Responder, incident_ref: str, kind: str, args: dict[str, Any]) -> Outcome:
    """The first half of perform: find (only reading), and the lookup as it is to be stored, with
    its id and time. Nothing is written: store() does that. The API answers from this outcome,
    built before store() takes the write lock, which on SQLite every other lookup waits for.

    LookupRefused for a meldingnummer not of the organisation's format, or a budget spent."""
    problem = rules.incident_ref_problem(incident_ref, user.incident_ref_pattern, user.incident_ref_example)
    if problem is not None:
        _refuse(session, user, {"reason": "incident_ref_format", "query_kind": kind})
        raise LookupRefused(422, "invalid_input", "incident_ref", problem)
    name_only = is_name_only(kind, args)
    with db.reading():
        now = utcnow()
        check_budget(session, user, name_only, now)
        matches = find(session, kind, args)
        if name_only:
            candidates, shown = _candidates(session, matches), []
        else:
            candidates, shown = [], _described(session, matches)
    record = Lookup(
        id=uuid.uuid4(),
        user_id=user.id,
        organisation_id=user.organisation_id,
        role=ROLE,
        incident_ref=incident_ref,
        query_kind=kind,
        performed_at=now,
        match_count=len(matches),
        name_only=name_only,
        opened_from=None,
    )  # what the page and the answer show; stored by store()
    return Outcome(record, shown, candidates)


def store(session: Session, user: Responder, outcome: Outcome) -> None:
    """The second half of perform: the lookup, what it showed (or listed) and its audit row, in
    one short write transaction (the request's commit ends it)."""
    record = outcome.lookup
    matches = [match for _shown, match in outcome.matches]
    # Core inserts: the write lock (SQLite) is held as briefly as possible
    connection = session.connection()
    connection.execute(_INSERT_LOOKUP, {name: getattr(record, name) for name in _LOOKUP_VALUES})
    if matches:
        connection.execute(
            _INSERT_RESULTS,
            [
                {
                    "lookup_id": record.id,
                    "plan_id": m.plan_id,
                    "plan_version_id": m.version_id,
                    "match_on": m.on,
                    "quality": m.quality,
                    "score": m.score,
                    "via_perpetrator": m.via_perpetrator,
                }
                for m in matches
            ],
        )
    detail: dict[str, Any] = {
        "incident_ref": record.incident_ref,
        "query_kind": record.query_kind,
        "shown": [{"plan": str(m.plan_id), "version_id": m.version_id} for m in matches],
    }
    if outcome.candidates:
        connection.execute(
            _INSERT_CANDIDATES,
            [
                {
                    "lookup_id": record.id,
                    "plan_id": c.plan_id,
                    "person_id": c.person_id,
                    "quality": c.quality,
                    "score": c.score,
                }
                for c in outcome.candidates
            ],
        )
        detail["candidates"] = [str(c.plan_id) for c in outcome.candidates]
    if record.opened_from is not None:
        detail["opened_from"] = str(record.opened_from)
    if record.signal_id is not None:
        detail["signal"] = str(record.signal_id)
    found = matches or outcome.candidates
    observe.note_lookup(record.query_kind, "match" if found else "no_match")  # its latency, in /metrics
    audit.record(
        session,
        "lookup",
        "match" if found else "no_match",
        user=user,
        role=ROLE,
        object_type="lookup",
        object_id=record.id,
        detail=detail,
    )


def _refuse(session: Session, user: Responder, detail: dict[str, Any]) -> None:
    audit.record_kept(session, "lookup", "refused", user=user, role=ROLE, object_type="lookup", detail=detail)


def _minutes(seconds: int) -> str:
    return dutch.minutes(max(1, math.ceil(seconds / 60)))


def check_budget(session: Session, user: Responder, name_only: bool, now: datetime) -> None:
    """The user's lookups of the last hour, counted in the database: one budget across every
    worker and server (the per-minute limit of registry.web.ratelimit is per process). Two
    lookups at the same moment may both pass at the last one; no more than that.
    Over it: LookupRefused (429), an audit row and a flag for the privacy officer."""
    config = current_app.config
    total_limit = int(config["LOOKUP_HOURLY_LIMIT"])
    if total_limit == 0:
        return  # no budget (a load test: bench/budget.py measures the check itself)
    names_limit = int(config["NAME_LOOKUP_HOURLY_LIMIT"])
    parameters = {"user_id": user.id, "since": now - BUDGET_WINDOW, "cap": total_limit}
    spent = session.connection().execute(_SPENT, parameters).one()
    total, names, oldest, oldest_name = spent
    if total >= total_limit:
        retry = _seconds_until(oldest, now)
        message = (
            f"U heeft het afgelopen uur {total} raadplegingen gedaan, het maximum per uur. "
            f"Probeer het over {_minutes(retry)} opnieuw, of vraag een collega."
        )
        budget, count = "lookups_per_hour", total
    elif name_only and names >= names_limit:
        retry = _seconds_until(oldest_name, now)
        message = (
            f"U heeft het afgelopen uur {names} keer op alleen een naam gezocht, het maximum per uur. "
            "Zoek op naam met geboortedatum, op adres of op telefoonnummer, "
            f"of probeer het over {_minutes(retry)} opnieuw."
        )
        budget, count = "name_lookups_per_hour", names
    else:
        return
    _refuse(session, user, {"reason": budget, "count": count})
    day = local_today(config["TIMEZONE"])
    flags.raise_kept(
        session, user.id, user.organisation_id, FlagRule.LIMIT_REACHED, day, count, {"budget": budget}
    )
    raise LookupRefused(429, "rate_limited", "q", message, retry_after=retry)


def _seconds_until(oldest: datetime | None, now: datetime) -> int:
    """When the oldest lookup of the window leaves it."""
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + BUDGET_WINDOW - now).total_seconds()))


# --- a name without a birth date: candidates, opened one at a time -------------------------------

_CANDIDATE_PERSONS = select(
    Person.id, Person.first_name, Person.surname_prefix, Person.surname, Person.birth_date
).where(Person.id.in_(_ids("ids")))
# the city a candidate is told apart by: the residence, else another address, never the safe
# address (a shelter's town is not said to anyone who has not opened the plan)
_CANDIDATE_CITIES = (
    select(Address.plan_version_id, Address.city, Address.role)
    .where(
        Address.plan_version_id.in_(_ids("ids")),
        Address.role != AddressRole.SAFE_ADDRESS,
        Address.is_secret.is_(False),
    )
    .order_by(Address.id)
)
_CANDIDATE_OWNERS = _with_owner(
    select(PlanVersion.id, Organisation.name).join(Plan, Plan.id == PlanVersion.plan_id)
).where(PlanVersion.id.in_(_ids("ids")))


def _candidates(session: Session, matches: list[Match]) -> list[Candidate]:
    if not matches:
        return []
    connection = session.connection()
    persons = {
        row.id: row for row in connection.execute(_CANDIDATE_PERSONS, {"ids": [m.person_id for m in matches]})
    }
    versions = [m.version_id for m in matches]
    owners: dict[int, str] = {
        row[0]: row[1] for row in connection.execute(_CANDIDATE_OWNERS, {"ids": versions})
    }
    cities: dict[int, str] = {}
    for version_id, city, role in connection.execute(_CANDIDATE_CITIES, {"ids": versions}):
        if version_id not in cities or role == AddressRole.RESIDENCE:
            cities[version_id] = city
    candidates = []
    for match in matches:
        person = persons[match.person_id]
        name = " ".join(part for part in (person.first_name, person.surname_prefix, person.surname) if part)
        candidates.append(
            Candidate(
                plan_id=match.plan_id,
                person_id=person.id,
                name=name,
                birth_year=person.birth_date.year if person.birth_date else None,
                city=cities.get(match.version_id, ""),
                owner_organisation=owners[match.version_id],
                quality=match.quality,
                score=match.score,
            )
        )
    return candidates


_OPENABLE = select(LookupCandidate.quality, LookupCandidate.score, LookupCandidate.person_id).where(
    LookupCandidate.lookup_id == bindparam("lookup_id"), LookupCandidate.plan_id == bindparam("plan_id")
)
_CURRENT_SHOWN = _with_owner(_shown(select(*_VERSION_COLUMNS).select_from(PlanVersion))).where(
    Plan.id == bindparam("plan_id")
)


def open_candidate(
    session: Session, user: Responder, lookup_id: uuid.UUID | None, plan_id: uuid.UUID | None
) -> Outcome:
    """One plan from the candidates of the user's own name-only lookup, within CANDIDATES_OPEN of
    it: its current version, if responders are still shown it. A lookup of its own (query kind
    `candidate`, the meldingnummer of the list, `opened_from` it), which counts against the
    name-only budget like the list, shows the plan as any lookup does and opens the report form.
    Otherwise CandidateRefused, after an audit row of the refusal."""
    with db.reading():
        now = utcnow()
        source = session.get(Lookup, lookup_id) if lookup_id is not None else None
        found = None
        if source is None or source.user_id != user.id or not source.name_only or source.opened_from:
            reason = "not_own_candidates"
        elif source.performed_at <= now - CANDIDATES_OPEN:
            reason = "candidates_closed"
        else:
            listed = (
                session.connection().execute(_OPENABLE, {"lookup_id": source.id, "plan_id": plan_id}).first()
            )
            if listed is None:
                reason = "not_a_candidate"
            else:
                check_budget(session, user, True, now)
                row = (
                    session.connection()
                    .execute(_CURRENT_SHOWN, {"plan_id": plan_id, "today": _today()})
                    .first()
                )
                if row is None:
                    reason = "no_longer_shown"
                else:
                    quality = MatchQuality[listed.quality.upper()]
                    found = Match(
                        row.plan_id,
                        row.id,
                        "person",
                        quality,
                        listed.score,
                        version=row,
                        person_id=listed.person_id,
                    )
                    shown = _described(session, [found])
        if found is None:
            _refuse(
                session, user, {"reason": reason, "lookup": str(lookup_id or ""), "plan": str(plan_id or "")}
            )
            raise CandidateRefused(reason)
    assert source is not None
    record = Lookup(
        id=uuid.uuid4(),
        user_id=user.id,
        organisation_id=user.organisation_id,
        role=ROLE,
        incident_ref=source.incident_ref,
        query_kind=QueryKind.CANDIDATE,
        performed_at=now,
        match_count=1,
        name_only=True,
        opened_from=source.id,
    )
    outcome = Outcome(record, shown)
    store(session, user, outcome)
    return outcome


def still_shown(session: Session, found: list[tuple[uuid.UUID, str, MatchQuality, float]]) -> list[Match]:
    """Plans found earlier (plan, on, quality, score: a signal's), as matches of their current
    version, for those responders are still shown today; in the order given."""
    matches = []
    for plan_id, on, quality, score in found:
        row = session.connection().execute(_CURRENT_SHOWN, {"plan_id": plan_id, "today": _today()}).first()
        if row is not None:
            matches.append(Match(row.plan_id, row.id, on, quality, score, version=row))
    return matches


def views(session: Session, matches: list[Match]) -> list[ShownPlan]:
    """What responders see of the matches' versions (_views)."""
    return _views(session, matches)


_MELDING = Melding.__table__.c
# what happened before, for every plan shown at once: one grouped read on meldingen.plan_id's index
# (one plan: `= :id`, as _VERSIONS: an expanding IN is rendered anew on every execution)
_HISTORY = {
    several: select(_MELDING.plan_id, func.count(), func.max(_MELDING.occurred_at))
    .where(
        _MELDING.plan_id.in_(bindparam("ids", expanding=True))
        if several
        else _MELDING.plan_id == bindparam("id")
    )
    .group_by(_MELDING.plan_id)
    for several in (False, True)
}


def _history(session: Session, plan_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, date]]:
    """Per plan: how many meldingen it had, and the day (in the configured zone) of the last."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    found = {}
    several = len(plan_ids) > 1
    parameters = {"ids": plan_ids} if several else {"id": plan_ids[0]}
    for plan_id, count, last in session.connection().execute(_HISTORY[several], parameters):
        if isinstance(last, str):  # SQLite may hand an aggregate back as text
            last = datetime.fromisoformat(last)
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        found[plan_id] = (int(count), last.astimezone(zone).date())
    return found


def _described(session: Session, matches: list[Match]) -> list[tuple[ShownPlan, Match]]:
    """The plans shown, each with its match, which says what it matched on."""
    shown = list(zip(_views(session, matches), matches, strict=True))
    for view, match in shown:
        match.matched_on = matched_on(view, match)
    return shown


def _views(session: Session, matches: list[Match]) -> list[ShownPlan]:
    """The shown versions with everything responders see, in two Core queries (one when the
    matches read their versions: address and phone): the versions, and their rows (_ROWS).

    The read path of the control room stays lean: the ORM costs far more than the queries
    (docs/performance.md). Rows are plain dicts, which templates read alike and marshmallow
    reads nine times faster than a Row (it tries row[name] first, and a Row answers that with
    an exception)."""
    ids = [m.version_id for m in matches]
    if not ids:
        return []
    connection = session.connection()
    versions = {m.version_id: m.version for m in matches if m.version is not None}
    unread = [version_id for version_id in ids if version_id not in versions]
    if unread:
        several = len(unread) > 1
        read = connection.execute(_VERSIONS[several], {"ids": unread} if several else {"id": unread[0]})
        versions.update((row.id, row) for row in read)
    many = len(ids) > 1
    statement, columns = _ROWS[many]
    children: list[dict[int, list[dict[str, Any]]]] = [
        {version_id: [] for version_id in ids} for _ in _ROW_KINDS
    ]
    for found in connection.execute(statement, {"ids": ids} if many else {"id": ids[0]}):
        kind = found[0]
        shown = {name: found[index] for name, index in columns[kind]}
        children[kind][shown["plan_version_id"]].append(shown)
    addresses, persons, agreements, contacts, measures = children
    history = _history(session, sorted({versions[version_id].plan_id for version_id in ids}))
    now = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    views = []
    for match in matches:
        row = versions[match.version_id]
        earlier, last = history.get(row.plan_id, (0, None))
        _link_and_order(agreements[row.id], contacts[row.id], now)
        if match.on == "person" and match.person_id is not None:
            # a candidate opened: its person as listed, if the version shown still holds them
            # (unknown is taken as the perpetrator: nothing geheim is shown)
            matched = next((p for p in persons[row.id] if p["id"] == match.person_id), None)
            match.via_perpetrator = (
                match.via_perpetrator or matched is None or matched["role"] == PersonRole.PERPETRATOR
            )
        secret = [a for a in addresses[row.id] if a["is_secret"]]
        views.append(
            ShownPlan(
                id=row.plan_id,
                version=row.version,
                title=row.title,
                summary=row.summary,
                valid_until=row.valid_until,
                family_profiles=list(row.family_profiles or []),
                risk_signals=list(row.risk_signals or []),
                owner_organisation=row.organisation_name,
                owner_name=row.owner_name,
                owner_phone=row.owner_phone,
                addresses=[a for a in addresses[row.id] if not a["is_secret"]],
                persons=persons[row.id],
                agreements=agreements[row.id],
                contacts=contacts[row.id],
                measures=in_force(measures[row.id], now.date()),
                secret_addresses=[]
                if match.via_perpetrator
                else [{"id": a["id"], "role": a["role"]} for a in secret],
                earlier_meldingen=earlier,
                last_melding_on=last,
            )
        )
    return views


def in_force(measures: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The measures not ended: a measure leaves the lookup on its end date. Each says whether
    it starts later ("upcoming")."""
    shown = [m for m in measures if m["ends_on"] is None or m["ends_on"] > today]
    for measure in shown:
        measure["upcoming"] = measure["starts_on"] > today
    return shown


def _link_and_order(agreements: list[dict[str, Any]], contacts: list[dict[str, Any]], now: datetime) -> None:
    """Each agreement gets the contact it names (by its place in the owner's order); then the
    contacts are put in the order to call them now: reachable now, not said, reachable later."""
    for agreement in agreements:
        number = agreement["contact_number"]
        agreement["contact"] = contacts[number - 1] if number and number <= len(contacts) else None
    for contact in contacts:
        windows = contact["availability"] or []
        contact["reachable_now"] = availability.reachable_at(windows, now) if windows else None
        contact["next_reachable_at"] = (
            availability.next_reachable(windows, now) if contact["reachable_now"] is False else None
        )
        contact["availability_text"] = availability.describe(windows) if windows else ""
    rank = {True: 0, None: 1, False: 2}
    contacts.sort(key=lambda contact: rank[contact["reachable_now"]])


# --- the report form after a lookup -------------------------------------------------------------


class FormRefused(Exception):
    """The report form is not (or no longer) there for this user, lookup and plan. Answered
    alike whatever the reason, so that it never tells whether a plan exists."""


@dataclass
class ReportForm:
    lookup: Lookup
    version: PlanVersion  # the version the lookup showed, still the one responders see


_STILL_SHOWN = _shown(select(PlanVersion.id)).where(PlanVersion.id == bindparam("version_id"))


def open_report_form(
    session: Session, user: User, lookup_id: uuid.UUID | None, plan_id: uuid.UUID | None
) -> ReportForm:
    """The report form shows the plan's agreements again, so it opens only for the user who did
    the lookup, within REPORT_FORM_OPEN of it, for a plan that lookup showed and that a lookup
    would still show (active, the version shown still the current one, valid today). Otherwise
    FormRefused, after an audit row of the refusal; record_report_form logs each showing."""
    lookup = session.get(Lookup, lookup_id) if lookup_id is not None else None
    version_id = None
    if lookup is None or lookup.user_id != user.id:
        reason = "not_own_lookup"
    elif lookup.performed_at <= utcnow() - REPORT_FORM_OPEN:
        reason = "form_closed"
    else:
        version_id = session.scalar(
            select(LookupResult.plan_version_id).where(
                LookupResult.lookup_id == lookup.id, LookupResult.plan_id == plan_id
            )
        )
        if version_id is None:
            reason = "not_shown"
        elif session.execute(_STILL_SHOWN, {"version_id": version_id, "today": _today()}).first() is None:
            reason = "no_longer_shown"
        else:
            version = session.get(PlanVersion, version_id)
            assert version is not None
            return ReportForm(lookup, version)
    detail = {"lookup": str(lookup_id or ""), "reason": reason}
    audit.record_kept(
        session,
        "report_form",
        "refused",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan_id or "",
        detail=detail,
    )
    raise FormRefused(reason)


def open_melding_form(session: Session, user: User, lookup_id: uuid.UUID | None) -> Lookup:
    """The form for a melding without a handelingskader, after the user's own lookup, within
    REPORT_FORM_OPEN of it: it carries the lookup's meldingnummer and time. It shows nothing of a
    plan, so any of the user's lookups will do (also one that listed candidates, none of them the
    family). Otherwise FormRefused, after an audit row of the refusal."""
    lookup = session.get(Lookup, lookup_id) if lookup_id is not None else None
    if lookup is not None and lookup.user_id == user.id and lookup.performed_at > utcnow() - REPORT_FORM_OPEN:
        return lookup
    reason = "form_closed" if lookup is not None and lookup.user_id == user.id else "not_own_lookup"
    audit.record_kept(
        session,
        "melding_form",
        "refused",
        user=user,
        role=ROLE,
        object_type="lookup",
        object_id=lookup_id or "",
        detail={"reason": reason},
    )
    raise FormRefused(reason)


def record_report_form(session: Session, user: User, form: ReportForm) -> None:
    """Every showing of the report form is a read of the plan's agreements (NEN 7513), also
    when it is shown again with the errors of what was sent."""
    plan_id = form.version.plan_id
    detail = {"lookup": str(form.lookup.id), "version": form.version.version}
    audit.record_kept(
        session,
        "report_form",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan_id,
        detail=detail,
    )


# --- a geheim address, shown on purpose ---------------------------------------------------------


class RevealRefused(Exception):
    """The address cannot be shown from this lookup (not the user's, too late, not a geheim
    address of a plan it showed, or the plan was found through the perpetrator): answered alike
    whatever the reason, after an audit row of the refusal."""


_ADDRESS = cast(Table, Address.__table__)
_REVEALABLE = (
    select(_ADDRESS, LookupResult.plan_id.label("plan_id"))
    .join(LookupResult, LookupResult.plan_version_id == _ADDRESS.c.plan_version_id)
    .where(
        LookupResult.lookup_id == bindparam("lookup_id"),
        _ADDRESS.c.id == bindparam("address_id"),
        _ADDRESS.c.is_secret.is_(True),
        LookupResult.via_perpetrator.is_(False),
    )
)


def reveal_address(
    session: Session, user: Responder, lookup_id: uuid.UUID | None, address_id: int, reason: str
) -> dict[str, Any]:
    """A geheim address of a plan the user's own lookup showed, within REPORT_FORM_OPEN of it and
    not found through the perpetrator; audited with the reason (`address_reveal`)."""
    now = utcnow()
    lookup = session.get(Lookup, lookup_id) if lookup_id is not None else None
    row = None
    if lookup is None or lookup.user_id != user.id:
        refused = "not_own_lookup"
    elif lookup.performed_at <= now - REPORT_FORM_OPEN:
        refused = "lookup_closed"
    else:
        row = (
            session.connection()
            .execute(_REVEALABLE, {"lookup_id": lookup.id, "address_id": address_id})
            .mappings()
            .first()
        )
        refused = "not_revealable" if row is None else ""
    if row is None or lookup is None:
        audit.record_kept(
            session,
            "address_reveal",
            "refused",
            user=user,
            role=ROLE,
            object_type="lookup",
            object_id=lookup_id or "",
            detail={"refused": refused, "address_id": address_id},
        )
        raise RevealRefused(refused)
    audit.record(
        session,
        "address_reveal",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=row["plan_id"],
        detail={
            "lookup_id": str(lookup.id),
            "incident_ref": lookup.incident_ref,
            "address_id": address_id,
            "reason": reason,
        },
    )
    return dict(row)

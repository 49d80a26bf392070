"""A melding's shared record: the five core questions (AssessmentSection), which every partner of
the melding adds to instead of asking the family again. Additions are appended, never edited (a
correction is an addition that names the one it corrects); the record is read by the
organisations of rules.melding_read_by and nobody else, every read audited.

The record is read for many meldingen at once (the feedback inbox) with prebuilt Core statements,
a fixed number per chunk of meldingen, as the inbox's reports are (docs/performance.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import (
    AssessmentAddition,
    Melding,
    Organisation,
    Person,
    Plan,
    PlanVersion,
    Report,
    User,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import AssessmentSection, Role

#: who opens a melding's record: the control room and crisis teams (responder) and the
#: professionals who read the Terugkoppeling (registrant); rules.melding_read_by says which
#: organisation reads which melding
ROLES = (Role.RESPONDER, Role.REGISTRANT)
SECTIONS = tuple(AssessmentSection)
#: ids per IN list, below SQLite's and PostgreSQL's limits on bound parameters
CHUNK = 900


class NotFound(Exception):
    """No such melding, or one the user's organisation does not read: answered alike."""


class AdditionRefused(Exception):
    """What was added cannot be stored as sent; names the field."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(fields)
        self.fields = fields


# --- what is shown ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdditionShown:
    """One partner's addition to one section, with who wrote it and when."""

    id: int
    section: str
    text: str
    organisation: str
    author: str
    created_at: datetime
    corrects: int | None  # the addition this one corrects
    report_id: uuid.UUID | None  # the report it came with; None: added on the melding itself
    corrected_by: int | None = None  # the later addition that corrects this one


@dataclass(frozen=True, slots=True)
class SectionShown:
    code: AssessmentSection
    additions: list[AdditionShown]  # every addition, oldest first: nothing is edited away

    @property
    def label(self) -> str:
        return self.code.label

    @property
    def hint(self) -> str:
        return self.code.hint

    @property
    def current(self) -> list[AdditionShown]:
        """The additions that stand: those no later addition corrects (the summary's answer)."""
        return [addition for addition in self.additions if addition.corrected_by is None]


@dataclass(frozen=True, slots=True)
class PersonShown:
    """A person of the plan as the record names them: name and role, and whether they must not
    learn of the plan. Never a phone number, address or birth date (docs/meldingen.md)."""

    name: str
    role: str
    do_not_inform: bool


@dataclass(frozen=True, slots=True)
class KnownShown:
    """What the registry already knows of the family, for question 2 (and 5): to be confirmed,
    not asked again."""

    plan_id: uuid.UUID
    owner: str  # the regiehouder's organisation
    risk_signals: list[str]
    earlier_meldingen: list[datetime]  # when the plan's earlier meldingen came in, newest first
    persons: list[PersonShown]
    # Lopende maatregelen (tijdelijk huisverbod, OTS, ...): not recorded by the registry yet.
    # None says "not known here", which is not the same as "none": when the measures are
    # recorded, they are filled in here and the pages and the API show them without change.
    measures: list[str] | None = None


@dataclass(frozen=True, slots=True)
class RecordShown:
    """A melding with its shared record, as the page, the summary and the API read it."""

    id: uuid.UUID
    incident_ref: str
    occurred_at: datetime
    plan_id: uuid.UUID | None
    organisations: list[str]  # that reported on it, by name
    sections: list[SectionShown]
    known: KnownShown | None  # None: a melding without a handelingskader
    assessment: dict[str, list[AdditionShown]] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return any(section.additions for section in self.sections)


# --- the read path: Core statements built once ------------------------------------------------

_ADDITION = AssessmentAddition.__table__.c
_MELDING = Melding.__table__.c
_REPORT = Report.__table__.c
_ORGANISATION = Organisation.__table__.c
_USER = User.__table__.c
_PLAN = Plan.__table__.c
_VERSION = PlanVersion.__table__.c
_PERSON = Person.__table__.c

_MELDINGEN = select(_MELDING.id, _MELDING.incident_ref, _MELDING.occurred_at, _MELDING.plan_id).where(
    _MELDING.id.in_(bindparam("ids", expanding=True))
)
_ADDITIONS = (
    select(
        _ADDITION.id,
        _ADDITION.melding_id,
        _ADDITION.section,
        _ADDITION.text,
        _ADDITION.corrects_id,
        _ADDITION.report_id,
        _ADDITION.created_at,
        _ORGANISATION.name,
        _USER.display_name,
    )
    .select_from(AssessmentAddition.__table__)
    .outerjoin(Organisation.__table__, _ORGANISATION.id == _ADDITION.organisation_id)
    .outerjoin(User.__table__, _USER.id == _ADDITION.created_by_id)
    .where(_ADDITION.melding_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ADDITION.created_at, _ADDITION.id)
)
_REPORTERS = (
    select(_REPORT.melding_id, _ORGANISATION.name)
    .select_from(Report.__table__)
    .join(Organisation.__table__, _ORGANISATION.id == _REPORT.organisation_id)
    .where(_REPORT.melding_id.in_(bindparam("ids", expanding=True)))
    .distinct()
)
_PLANS = (
    select(_PLAN.id, _ORGANISATION.name, _VERSION.id.label("version_id"), _VERSION.risk_signals)
    .select_from(Plan.__table__)
    .join(PlanVersion.__table__, rules.is_current_version(_PLAN, _VERSION))
    .join(Organisation.__table__, _ORGANISATION.id == _PLAN.owner_organisation_id)
    .where(_PLAN.id.in_(bindparam("ids", expanding=True)))
)
_PERSONS = (
    select(
        _PERSON.plan_version_id,
        _PERSON.first_name,
        _PERSON.surname_prefix,
        _PERSON.surname,
        _PERSON.role,
        _PERSON.do_not_inform,
    )
    .where(_PERSON.plan_version_id.in_(bindparam("ids", expanding=True)))
    .order_by(_PERSON.plan_version_id, _PERSON.id)
)
_PLAN_MELDINGEN = select(_MELDING.plan_id, _MELDING.id, _MELDING.occurred_at).where(
    _MELDING.plan_id.in_(bindparam("ids", expanding=True))
)


def _chunks(ids: list[Any]) -> list[list[Any]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def _aware(moment: Any) -> datetime:
    if isinstance(moment, str):  # SQLite may hand a value of a plain select back as text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _name(first: str, prefix: str, surname: str) -> str:
    return " ".join(part for part in (first, prefix, surname) if part)


def records(session: Session, melding_ids: list[uuid.UUID]) -> dict[uuid.UUID, RecordShown]:
    """The records of these meldingen by id, without any check or audit (callers do both): six
    queries per chunk of meldingen, however many."""
    session.flush()  # Core statements do not autoflush: an addition just stored counts
    found: dict[uuid.UUID, RecordShown] = {}
    for chunk in _chunks(sorted(set(melding_ids))):
        meldingen = list(session.execute(_MELDINGEN, {"ids": chunk}))
        additions: dict[uuid.UUID, list[AdditionShown]] = {}
        corrected: dict[int, int] = {}
        for added in session.execute(_ADDITIONS, {"ids": chunk}):
            additions.setdefault(added.melding_id, []).append(
                AdditionShown(
                    added.id,
                    added.section,
                    added.text,
                    added.name or "",
                    added.display_name or "",
                    _aware(added.created_at),
                    added.corrects_id,
                    added.report_id,
                )  # fmt: skip
            )
            if added.corrects_id is not None:
                corrected.setdefault(added.corrects_id, added.id)  # the first correction of it
        reporters: dict[uuid.UUID, list[str]] = {}
        for melding_id, name in session.execute(_REPORTERS, {"ids": chunk}):
            reporters.setdefault(melding_id, []).append(name)
        known = _known(session, [(row.id, row.plan_id, _aware(row.occurred_at)) for row in meldingen])
        for row in meldingen:
            shown = [
                AdditionShown(
                    a.id,
                    a.section,
                    a.text,
                    a.organisation,
                    a.author,
                    a.created_at,
                    a.corrects,
                    a.report_id,
                    corrected.get(a.id),
                )  # fmt: skip
                for a in additions.get(row.id, [])
            ]
            sections = [
                SectionShown(code, [a for a in shown if a.section == code.value]) for code in SECTIONS
            ]
            found[row.id] = RecordShown(
                id=row.id,
                incident_ref=row.incident_ref,
                occurred_at=_aware(row.occurred_at),
                plan_id=row.plan_id,
                organisations=sorted(reporters.get(row.id, [])),
                sections=sections,
                known=known.get(row.id),
                assessment={section.code.value: section.additions for section in sections},
            )
    return found


def _known(
    session: Session, meldingen: list[tuple[uuid.UUID, uuid.UUID | None, datetime]]
) -> dict[uuid.UUID, KnownShown]:
    """What the registry knows of each melding's plan: three queries for all of them."""
    plan_ids = sorted({plan_id for _id, plan_id, _at in meldingen if plan_id is not None})
    if not plan_ids:
        return {}
    plans = {row.id: row for row in session.execute(_PLANS, {"ids": plan_ids})}
    persons: dict[int, list[PersonShown]] = {}
    version_ids = [row.version_id for row in plans.values()]
    for version_id, first, prefix, surname, role, do_not_inform in session.execute(
        _PERSONS, {"ids": version_ids}
    ):
        named = PersonShown(_name(first, prefix, surname), role, do_not_inform)
        persons.setdefault(version_id, []).append(named)
    of_plan: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = {}
    for plan_id, melding_id, occurred_at in session.execute(_PLAN_MELDINGEN, {"ids": plan_ids}):
        of_plan.setdefault(plan_id, []).append((melding_id, _aware(occurred_at)))
    found = {}
    for melding_id, plan_id, occurred_at in meldingen:
        plan = plans.get(plan_id) if plan_id is not None else None
        if plan is None:
            continue
        earlier = sorted(
            (at for other, at in of_plan.get(plan.id, []) if other != melding_id and at < occurred_at),
            reverse=True,
        )
        found[melding_id] = KnownShown(
            plan_id=plan.id,
            owner=plan.name,
            risk_signals=list(plan.risk_signals or []),
            earlier_meldingen=earlier,
            persons=persons.get(plan.version_id, []),
        )
    return found


# --- reading, with its audit row ----------------------------------------------------------------


def _role(user: User) -> str:
    return Role.RESPONDER if user.has_role(Role.RESPONDER) else Role.REGISTRANT


def reads(session: Session, user: User, melding_id: uuid.UUID) -> bool:
    return bool(session.scalar(rules.reads_melding(user.organisation_id, melding_id)))


def read_record(
    session: Session, user: User, melding_id: uuid.UUID | None, view: str = "record"
) -> RecordShown:
    """A melding's record for a user whose organisation reads it (rules.melding_read_by), its
    reading audited (`view`: the record, or the printable summary). Any other id, existing or
    not: NotFound, after a kept audit row of the attempt."""
    if melding_id is None or not reads(session, user, melding_id):
        audit.record_kept(
            session, "melding_read", "not_found", user=user, role=_role(user), object_type="melding",
            object_id=melding_id or "", detail={"view": view},
        )  # fmt: skip
        raise NotFound
    shown = records(session, [melding_id])[melding_id]
    audit.record(
        session, "melding_read", "success", user=user, role=_role(user), object_type="melding",
        object_id=melding_id, detail={"view": view},
    )  # fmt: skip
    return shown


# --- adding -------------------------------------------------------------------------------------


def add(
    session: Session,
    user: User,
    melding_id: uuid.UUID | None,
    answers: dict[str, str | None],
    corrects: dict[str, int] | None = None,
) -> list[AssessmentAddition]:
    """Add to a melding's record as a partner who reads it (NotFound otherwise, audited alike):
    one addition per section answered, each correcting the addition `corrects` names for its
    section, which must be one of this melding's in the same section (AdditionRefused)."""
    if melding_id is None or not reads(session, user, melding_id):
        audit.record_kept(
            session, "assessment_add", "not_found", user=user, role=_role(user), object_type="melding",
            object_id=melding_id or "",
        )  # fmt: skip
        raise NotFound
    corrects = corrects or {}
    problems: dict[str, list[str]] = {}
    for section, addition_id in corrects.items():
        earlier = session.get(AssessmentAddition, addition_id)
        if earlier is None or earlier.melding_id != melding_id or earlier.section != section:
            problems[f"corrects.{section}"] = [
                "Deze aanvulling hoort niet bij deze vraag van deze melding: "
                "noem een aanvulling van dezelfde vraag."
            ]
    if problems:
        raise AdditionRefused(problems)
    return _append(session, user, melding_id, answers, corrects, None)


def add_with_report(session: Session, user: User, report: Report, answers: dict[str, str | None]) -> None:
    """The answers a report brought with it, added to its melding's record: the organisation
    reads the melding from this report on."""
    _append(session, user, report.melding_id, answers, {}, report.id)


def _append(
    session: Session,
    user: User,
    melding_id: uuid.UUID,
    answers: dict[str, str | None],
    corrects: dict[str, int],
    report_id: uuid.UUID | None,
) -> list[AssessmentAddition]:
    now = utcnow()
    added = [
        AssessmentAddition(
            melding_id=melding_id,
            section=code.value,
            text=text,
            corrects_id=corrects.get(code.value),
            report_id=report_id,
            created_by_id=user.id,
            organisation_id=user.organisation_id,
            created_at=now,
        )
        for code in SECTIONS
        if (text := (answers.get(code.value) or "").strip())
    ]
    if not added:
        return []
    session.add_all(added)
    session.flush()
    audit.record(
        session, "assessment_add", "success", user=user, role=_role(user), object_type="melding",
        object_id=melding_id,
        detail={
            "sections": [addition.section for addition in added],
            "corrects": [addition.corrects_id for addition in added if addition.corrects_id],
            "report": str(report_id) if report_id else None,
        },
    )  # fmt: skip
    return added

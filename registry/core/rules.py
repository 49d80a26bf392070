"""The domain's rules about who is shown which plan, each written once and used by every path.

- The current version of a plan: the version whose number the plan row holds.
- Shown to responders (every kind of lookup, the report form, a report without a lookup):
  an active plan, its current version, on a day within its validity (valid_from to valid_until,
  both included, as days in the configured time zone).
- Kept in the search index: the current version of an active plan. A plan whose validity starts
  next month is indexed already (no change is written on its first day), and the lookup applies
  the shown-to-responders rule to the index's candidates against the database.
- Visible to an organisation (the registrant side: plan pages, feedback, statistics): the
  owning organisation and every organisation the plan is shared with; nobody else.
- A meldingnummer a lookup may be given: one of the format its organisation set (a regular
  expression the whole number matches, case ignored); where none is set, one with a digit in it.
  A lookup has a purpose, the melding: "x" is none.
- One melding: reports with the same meldingnummer (case and spaces ignored) within 7 days.
- Who hears of a report: the organisations that see its plan (owner and shares), and the Veilig
  Thuis organisation of the reporting organisation's region, with or without a plan (VT is where
  the acute meldingen come in); a melding without a handelingskader reaches that VT only. A
  region without a VT names nobody: its meldingen without a plan reach no inbox, and the
  reporting organisation's coordinator is shown them (without_recipient). The organisations
  that hear of one report (hearers_of) are the same, read the other way round.
- Who reads a melding's shared record (the five core questions): the organisations that reported
  on it, those that hear of one of its reports (the region's Veilig Thuis; the organisations that
  see its plan: owner and shares), and those that see the plan it concerns; nobody else.
- A spoedmelding: a report with an arrest or a temporary restraining order, or that the
  responder marked urgent (with a reason); due SPOED_HOURS after the incident, not on the
  next working day.
- A report counts for an organisation (Monitoring): a report it hears of (on a plan visible to
  it; for a Veilig Thuis, any report of its region) and a report its own people recorded.
- A report counts for a region (the taakgroep's Monitoring): a report recorded by an
  organisation of the region, or on a plan owned by one. A lookup counts for an organisation
  when its people made it or it showed the organisation's plans, for a region when an
  organisation of the region made it.

Each rule has a SQL form (for queries over many plans) and, where a loaded plan is checked, a
Python form beside it; tests/registry/test_rules.py holds the two to the same answers.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, exists, select, union, union_all
from sqlalchemy.sql import ColumnElement

from registry.core.models import (
    Lookup,
    LookupResult,
    Melding,
    Organisation,
    Plan,
    PlanShare,
    PlanVersion,
    Region,
    Report,
)
from registry.core.vocabulary import Action, PlanStatus

# --- the current version ------------------------------------------------------------------------


def is_current_version(plan: Any = Plan, version: Any = PlanVersion) -> ColumnElement[bool]:
    """The join condition plan -> its current version. `plan` and `version` are the mapped
    classes, aliases of them, or their tables' column collections (`Plan.__table__.c`)."""
    return (version.plan_id == plan.id) & (version.version == plan.current_version)


# --- shown to responders ------------------------------------------------------------------------


def indexed_for_responders(plan: Any = Plan) -> ColumnElement[bool]:
    """Which plans the search index holds (joined to their current version)."""
    return plan.status == PlanStatus.ACTIVE


def shown_to_responders(today: Any, plan: Any = Plan, version: Any = PlanVersion) -> ColumnElement[bool]:
    """Which plans a responder is shown on `today` (a date, or a bindparam of one), for a query
    that joined each plan to its current version (is_current_version)."""
    return (plan.status == PlanStatus.ACTIVE) & (version.valid_from <= today) & (plan.valid_until >= today)


def is_shown_to_responders(plan: Plan, version: PlanVersion, today: date) -> bool:
    """shown_to_responders for one loaded plan and the version a responder would see."""
    return (
        plan.status == PlanStatus.ACTIVE
        and version.version == plan.current_version
        and version.valid_from <= today <= plan.valid_until
    )


# --- what follows a lookup ----------------------------------------------------------------------

#: a lookup is followed by its report within this time: until then the report form stays open to
#: whoever looked up and a report may name the plan without the lookup's id; after it, a lookup
#: without a report reaches the plan's owners as a feedback item of its own
LOOKUP_GRACE = timedelta(hours=12)


# --- the melding: one acute call, however many organisations report on it ---------------------

#: reports whose meldingnummers are the same (case and spaces ignored) belong to one melding when
#: the call came in within this time of the melding's own
MELDING_WINDOW = timedelta(days=7)


@functools.lru_cache(maxsize=64)
def incident_ref_format(pattern: str) -> re.Pattern[str]:
    """An organisation's meldingnummer format, compiled (ValueError when it is no regular
    expression: the CLI checks it before storing it)."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


def incident_ref_problem(incident_ref: str, pattern: str | None, example: str | None) -> str | None:
    """What is wrong with a meldingnummer for a lookup by an organisation with this format (None:
    nothing), in the words the operator reads next to the field."""
    if pattern:
        if incident_ref_format(pattern).fullmatch(incident_ref) is None:
            shown = f", zoals {example}" if example else ""
            return f"Dit is geen meldingnummer van uw organisatie{shown}. Vul het nummer van de melding in."
        return None
    if not any(character.isdigit() for character in incident_ref):
        return "Een meldingnummer bevat cijfers. Vul het nummer van de melding in."
    return None


def melding_key_of(incident_ref: str) -> str:
    """The meldingnummer as the melding is matched on: "P 2026-0001" is "p2026-0001"."""
    return "".join(incident_ref.split()).casefold()


def same_melding(incident_ref: str, occurred_at: datetime, melding: Any = Melding) -> ColumnElement[bool]:
    """The meldingen a report with this meldingnummer and time joins (the nearest one, when more)."""
    return (
        (melding.incident_key == melding_key_of(incident_ref))
        & (melding.occurred_at >= occurred_at - MELDING_WINDOW)
        & (melding.occurred_at <= occurred_at + MELDING_WINDOW)
    )


def is_same_melding(incident_ref: str, occurred_at: datetime, melding: Melding) -> bool:
    """same_melding for one loaded melding."""
    return (
        melding.incident_key == melding_key_of(incident_ref)
        and abs(melding.occurred_at - occurred_at) <= MELDING_WINDOW
    )


# --- who hears of a melding without a handelingskader ----------------------------------------


def heard_by_veilig_thuis(organisation_id: int) -> Select[int]:
    """The organisations whose reports without a plan reach `organisation_id`: those in a region
    that names it as its Veilig Thuis. A region without a VT names nobody: its meldingen are
    stored, and reach no inbox."""
    return (
        select(Organisation.id)
        .join(Region, Region.id == Organisation.region_id)
        .where(Region.veilig_thuis_organisation_id == organisation_id)
    )


def heard_by(organisation_id: int) -> ColumnElement[bool]:
    """The reports an organisation hears of (its Terugkoppeling): on plans visible to it, and
    every report of the organisations whose region names it as its Veilig Thuis."""
    return Report.plan_id.in_(visible_plan_ids(organisation_id)) | Report.organisation_id.in_(
        heard_by_veilig_thuis(organisation_id)
    )


def hearers_of(report_id: uuid.UUID) -> CompoundSelect[tuple[int]]:
    """The ids of the organisations that hear of one report: heard_by read the other way round
    (the plan's owner, the organisations it is shared with, the Veilig Thuis of the reporting
    organisation's region); tests/registry/test_rules.py holds the two to the same answers."""
    report = select(Report.plan_id, Report.organisation_id).where(Report.id == report_id).subquery()
    return union(
        select(Plan.owner_organisation_id).join(report, report.c.plan_id == Plan.id),
        select(PlanShare.organisation_id).join(report, report.c.plan_id == PlanShare.plan_id),
        select(Region.veilig_thuis_organisation_id)
        .join(Organisation, Organisation.region_id == Region.id)
        .join(report, report.c.organisation_id == Organisation.id)
        .where(Region.veilig_thuis_organisation_id.is_not(None)),
    )


# --- who reads a melding's shared record -------------------------------------------------------


def melding_read_by(organisation_id: int) -> ColumnElement[bool]:
    """The meldingen whose shared record (the five core questions) an organisation reads: one of
    whose reports it recorded or hears of (report_counts_for: its own, on plans visible to it, and
    for a Veilig Thuis every report of its region), or about a plan visible to it."""
    return Melding.id.in_(select(Report.melding_id).where(report_counts_for(organisation_id))) | (
        Melding.plan_id.in_(visible_plan_ids(organisation_id))
    )


def reads_melding(organisation_id: int, melding_id: uuid.UUID) -> Select[tuple[bool]]:
    """Whether an organisation reads one melding's record (melding_read_by, for one id)."""
    return select(exists().where(Melding.id == melding_id, melding_read_by(organisation_id)))


#: what makes a report a spoedmelding by itself, without the responder saying so
SPOED_ACTIONS = frozenset({Action.ARREST, Action.TEMPORARY_RESTRAINING_ORDER})


def is_spoed(actions: list[str] | tuple[str, ...], urgent: bool) -> bool:
    """A spoedmelding: an arrest or a temporary restraining order, or marked urgent."""
    return urgent or any(action in SPOED_ACTIONS for action in actions)


def without_recipient(organisation_id: int) -> ColumnElement[bool]:
    """The organisation's reports without a plan that reach nobody: it is in no region, or its
    region names no Veilig Thuis."""
    named = (
        select(Organisation.id)
        .join(Region, Region.id == Organisation.region_id)
        .where(Organisation.id == organisation_id, Region.veilig_thuis_organisation_id.is_not(None))
    )
    return (Report.organisation_id == organisation_id) & Report.plan_id.is_(None) & ~named.exists()


# --- visible to an organisation -----------------------------------------------------------------


def visible_plan_ids(organisation_id: int) -> CompoundSelect[tuple[uuid.UUID]]:
    """The ids of the plans an organisation sees: its own, and those shared with it; nobody
    else's. Two indexed selects: an OR of the owner column and an EXISTS on the shares made
    queries over reports and lookups read every plan in the registry."""
    return union_all(
        select(Plan.id).where(Plan.owner_organisation_id == organisation_id),
        select(PlanShare.plan_id).where(PlanShare.organisation_id == organisation_id),
    )


def visible_to(organisation_id: int) -> ColumnElement[bool]:
    """For queries over many plans; plans picked by id are checked with visible_among."""
    return Plan.id.in_(visible_plan_ids(organisation_id))


def visible_among(organisation_id: int) -> ColumnElement[bool]:
    """visible_to, checked on each plan a query already picked by id. The IN of visible_to makes
    SQLite list every plan the organisation sees first: reading one plan of an organisation
    with 466 000 plans took 21 ms (twice per plan update), this takes a primary-key read."""
    return (Plan.owner_organisation_id == organisation_id) | exists().where(
        PlanShare.plan_id == Plan.id, PlanShare.organisation_id == organisation_id
    )


def is_visible_to(plan: Plan, organisation_id: int) -> bool:
    """visible_to for one loaded plan."""
    return plan.owner_organisation_id == organisation_id or any(
        share.organisation_id == organisation_id for share in plan.shares
    )


def report_counts_for(organisation_id: int) -> ColumnElement[bool]:
    """The reports an organisation's monitoring counts: those it hears of (heard_by: on plans
    visible to it; a Veilig Thuis, every report of its region) and those its own people recorded.
    A melding counts for the organisation when one of its reports does."""
    return heard_by(organisation_id) | (Report.organisation_id == organisation_id)


def organisations_of_region(region_id: int) -> Select[int]:
    """The ids of the organisations of a region."""
    return select(Organisation.id).where(Organisation.region_id == region_id)


def report_counts_for_region(region_id: int) -> ColumnElement[bool]:
    """The reports a region's monitoring (the taakgroep) counts: recorded by an organisation of
    the region, or on a plan an organisation of the region owns. A melding counts for the region
    when one of its reports does; a melding reported by the police and VT of the region is still
    one melding."""
    in_region = organisations_of_region(region_id)
    return Report.organisation_id.in_(in_region) | Report.plan_id.in_(
        select(Plan.id).where(Plan.owner_organisation_id.in_(in_region))
    )


def lookup_counts_for(organisation_id: int) -> ColumnElement[bool]:
    """The lookups an organisation's monitoring counts: made by its people, or that showed one
    of the plans it sees."""
    return (Lookup.organisation_id == organisation_id) | exists().where(
        LookupResult.lookup_id == Lookup.id, LookupResult.plan_id.in_(visible_plan_ids(organisation_id))
    )


def lookup_counts_for_region(region_id: int) -> ColumnElement[bool]:
    """The lookups a region's monitoring counts: made by the people of its organisations."""
    return Lookup.organisation_id.in_(organisations_of_region(region_id))

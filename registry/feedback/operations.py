"""The feedback items the plan's owners work through: reports on their plans and lookups without
a report, each acknowledged once per organisation."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    case,
    distinct,
    exists,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import (
    FeedbackAcknowledgement,
    Lookup,
    LookupResult,
    Organisation,
    Plan,
    PlanVersion,
    Report,
    User,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import FeedbackShown, Role
from registry.feedback import working_days
from registry.meldingen import operations as meldingen
from registry.reports.operations import chunks, closed_days, report_records, timezone
from registry.webhooks import operations as webhooks

REGISTRANT = Role.REGISTRANT

_LOOKUP = Lookup.__table__.c
_USER = User.__table__.c
_ORGANISATION = Organisation.__table__.c
_PLAN = Plan.__table__.c
_VERSION = PlanVersion.__table__.c
_LOOKUPS = (
    select(
        _LOOKUP.id,
        _LOOKUP.performed_at,
        _LOOKUP.incident_ref,
        _LOOKUP.query_kind,
        _ORGANISATION.name,
        _USER.display_name,
    )
    .select_from(Lookup.__table__)
    .outerjoin(Organisation.__table__, _ORGANISATION.id == _LOOKUP.organisation_id)
    .outerjoin(User.__table__, _USER.id == _LOOKUP.user_id)
    .where(_LOOKUP.id.in_(bindparam("ids", expanding=True)))
)
_TITLES = (
    select(_PLAN.id, _VERSION.title)
    .select_from(Plan.__table__)
    .join(PlanVersion.__table__, rules.is_current_version(_PLAN, _VERSION))
    .where(_PLAN.id.in_(bindparam("ids", expanding=True)))
)


# --- feedback for the plan's owners -------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One open item: what it is and when it is due. Its details, for all items at once, come
    from item_dicts."""

    kind: str  # report | lookup_without_report
    item_id: uuid.UUID  # the report's id, or the lookup's
    plan_id: uuid.UUID | None  # None: a melding without a handelingskader (a report)
    feedback_due: date
    overdue: bool  # past the end of its terugkoppeldag
    # a spoedmelding's deadline (None: not a spoedmelding), and whether it has passed
    feedback_due_at: datetime | None = None
    spoed_overdue: bool = False
    # when it happened: the incident of a report, the moment of a lookup (the newest first)
    happened_at: datetime | None = None

    @property
    def spoed(self) -> bool:
        return self.feedback_due_at is not None

    @property
    def late(self) -> bool:
        """What the coordinator's Te laat shows: past the terugkoppeldag, or past the deadline
        of a spoedmelding."""
        return self.overdue or self.spoed_overdue


# --- which items are open, in SQL ---------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which open items a list shows: all of them, the late ones or the spoedmeldingen (`show`);
    of one plan (`plan_id`), or only the meldingen without a handelingskader (`without_plan`);
    due on one day (`due`, the API's ?due=)."""

    show: str = FeedbackShown.OPEN
    plan_id: uuid.UUID | None = None
    without_plan: bool = False
    due: date | None = None


EVERYTHING = Selection()


@dataclass(frozen=True)
class _Clock:
    """The moments a selection is judged against: now, today in the calendar, and the instants
    before which a lookup's terugkoppeldag is over (late) or falls on `due`."""

    now: datetime
    zone: str
    today: date
    lookups_late_before: datetime
    # performed in [start, end): due on Selection.due; None: nothing is due that day
    lookups_due: tuple[datetime, datetime] | None

    @classmethod
    def of(cls, session: Session, now: datetime, due: date | None = None) -> _Clock:
        zone = timezone()
        closed = _closed_days(session)
        today = working_days.local_date(now, zone)
        # a lookup is due on the first working day after its date: it is late (that day is
        # before today) when its date is before the last working day before today
        late_before = _start_of(working_days.working_days_before(today, 1, closed), zone)
        window = None
        if due is not None and working_days.is_working_day(due, closed):
            window = (_start_of(working_days.working_days_before(due, 1, closed), zone), _start_of(due, zone))
        return cls(now, zone, today, late_before, window)


_CLOSED_DAYS = "samenop.feedback.closed_days"


def _closed_days(session: Session) -> set[date]:
    """The closed days, read once per session (a request's: its page, counts and items)."""
    found: set[date] | None = session.info.get(_CLOSED_DAYS)
    if found is None:
        found = session.info[_CLOSED_DAYS] = closed_days(session)
    return found


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _open_reports(organisation_id: int, *columns: Any) -> Select[Any]:
    """The reports the organisation hears of (rules.heard_by) and has not acknowledged."""
    return (
        select(*columns)
        .where(rules.heard_by(organisation_id))
        .where(
            ~exists().where(
                FeedbackAcknowledgement.report_id == Report.id,
                FeedbackAcknowledgement.organisation_id == organisation_id,
            )
        )
    )


def _report_late(clock: _Clock) -> ColumnElement[bool]:
    """Past the end of its terugkoppeldag, or past a spoedmelding's deadline."""
    return (Report.feedback_due < clock.today) | (Report.feedback_due_at < clock.now)


def _report_conditions(selection: Selection, clock: _Clock) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if selection.show == FeedbackShown.LATE:
        conditions.append(_report_late(clock))
    elif selection.show == FeedbackShown.SPOED:
        conditions.append(Report.feedback_due_at.is_not(None))
    if selection.plan_id is not None:
        conditions.append(Report.plan_id == selection.plan_id)
    elif selection.without_plan:
        conditions.append(Report.plan_id.is_(None))
    if selection.due is not None:
        conditions.append(Report.feedback_due == selection.due)
    return conditions


def _unreported_pairs(organisation_id: int) -> ColumnElement[bool]:
    """A lookup result on a plan the organisation sees, with no report on that lookup and plan."""
    return LookupResult.plan_id.in_(rules.visible_plan_ids(organisation_id)) & ~exists().where(
        Report.lookup_id == LookupResult.lookup_id, Report.plan_id == LookupResult.plan_id
    )


def _open_lookups(
    organisation_id: int, clock: _Clock, plan_id: uuid.UUID | None, *columns: Any
) -> Select[Any]:
    """Lookups that showed a plan the organisation sees (or `plan_id`) and got no report on it
    within LOOKUP_GRACE, not acknowledged by the organisation: one row per lookup, however many
    of its plans. Driven by the lookup results of the organisation's plans, never all lookups."""
    pairs = select(LookupResult.lookup_id).where(_unreported_pairs(organisation_id))
    if plan_id is not None:
        pairs = pairs.where(LookupResult.plan_id == plan_id)
    return (
        select(*columns)
        .where(Lookup.id.in_(pairs), Lookup.performed_at <= clock.now - rules.LOOKUP_GRACE)
        .where(
            ~exists().where(
                FeedbackAcknowledgement.lookup_id == Lookup.id,
                FeedbackAcknowledgement.organisation_id == organisation_id,
            )
        )
    )


def _lookup_conditions(selection: Selection, clock: _Clock) -> list[ColumnElement[bool]] | None:
    """None: the selection holds no lookup (spoedmeldingen, meldingen without a plan, a day on
    which no lookup is due)."""
    if selection.show == FeedbackShown.SPOED or selection.without_plan:
        return None
    conditions: list[ColumnElement[bool]] = []
    if selection.show == FeedbackShown.LATE:
        conditions.append(Lookup.performed_at < clock.lookups_late_before)
    if selection.due is not None:
        if clock.lookups_due is None:
            return None
        start, end = clock.lookups_due
        conditions += [Lookup.performed_at >= start, Lookup.performed_at < end]
    return conditions


def _selected_lookups(organisation_id: int, selection: Selection, clock: _Clock) -> Select[Any] | None:
    """The open lookups without a report that `selection` shows (id, moment, plan), or None when
    it shows none of them (_lookup_conditions)."""
    conditions = _lookup_conditions(selection, clock)
    if conditions is None:
        return None
    return _open_lookups(
        organisation_id,
        clock,
        selection.plan_id,
        Lookup.id,
        Lookup.performed_at,
        _lookup_plan(organisation_id, selection.plan_id),
    ).where(*conditions)


def _lookup_plan(organisation_id: int, plan_id: uuid.UUID | None) -> Any:
    """The plan a lookup item is shown under: the one asked for, else the first of its plans the
    organisation sees that got no report (by id: the same every time)."""
    if plan_id is not None:
        return bindparam("shown_plan", plan_id, type_=LookupResult.plan_id.type)
    return (
        select(LookupResult.plan_id)
        .where(LookupResult.lookup_id == Lookup.id, _unreported_pairs(organisation_id))
        .order_by(LookupResult.plan_id)
        .limit(1)
        .scalar_subquery()
    )


def _report_item(row: Any, clock: _Clock) -> Item:
    report_id, plan_id, due, due_at, occurred_at = row
    return Item(
        "report",
        report_id,
        plan_id,
        due,
        working_days.is_overdue(due, clock.now, clock.zone),
        due_at,
        due_at is not None and due_at < clock.now,
        occurred_at,
    )


def _lookup_item(row: Any, clock: _Clock, closed: set[date]) -> Item:
    lookup_id, performed_at, plan_id = row
    due = working_days.feedback_due(performed_at, closed, clock.zone)
    return Item(
        "lookup_without_report",
        lookup_id,
        plan_id,
        due,
        working_days.is_overdue(due, clock.now, clock.zone),
        happened_at=performed_at,
    )


_REPORT_COLUMNS = (Report.id, Report.plan_id, Report.feedback_due, Report.feedback_due_at, Report.occurred_at)


def open_items(
    session: Session,
    organisation_id: int,
    now: datetime | None = None,
    due: date | None = None,
    selection: Selection = EVERYTHING,
) -> list[Item]:
    """Every open item at once (the digest, the coordinator's Te laat): unacknowledged reports
    the organisation hears of (rules.heard_by: on its plans, owned or shared; for a Veilig Thuis
    every report of the regions that name it, with or without a plan), and lookups on its plans
    that got no report within 12 hours; oldest due first. The inbox and the API read a page at a
    time (open_page)."""
    if due is not None:
        selection = Selection(selection.show, selection.plan_id, selection.without_plan, due)
    clock = _Clock.of(session, now or utcnow(), selection.due)
    rows = session.execute(
        _open_reports(organisation_id, *_REPORT_COLUMNS).where(*_report_conditions(selection, clock))
    ).all()
    items = [_report_item(row, clock) for row in rows]
    lookups = _selected_lookups(organisation_id, selection, clock)
    if lookups is not None:
        items += [_lookup_item(row, clock, _closed_days(session)) for row in session.execute(lookups)]
    items.sort(key=lambda item: (item.feedback_due, str(item.item_id)))
    return items


# --- a page at a time: spoedmeldingen first, then the newest --------------------------------------

#: items per page, on Terugkoppeling and GET /feedback (?limit= up to MAX_PAGE)
PAGE_SIZE = 50
MAX_PAGE = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"([01])\.(\d{1,17})\.([0-9a-f]{32})")
SPOED_SEGMENT, OTHERS_SEGMENT = 0, 1


class CursorError(ValueError):
    """A cursor this app did not write."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends, as a key of the order (not an offset): an item acknowledged on an
    earlier page moves nothing on the next. `segment` 0: the spoedmeldingen, by deadline; 1: the
    others, newest first; `at` the deadline or the moment; ties by id. Carries no personal data."""

    segment: int
    at: datetime
    item_id: uuid.UUID

    @classmethod
    def after(cls, item: Item) -> Cursor:
        if item.feedback_due_at is not None:
            return cls(SPOED_SEGMENT, item.feedback_due_at, item.item_id)
        assert item.happened_at is not None
        return cls(OTHERS_SEGMENT, item.happened_at, item.item_id)

    def encode(self) -> str:
        return f"{self.segment}.{(self.at - _EPOCH) // _MICROSECOND}.{self.item_id.hex}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        found = _CURSOR.fullmatch(text)
        if found is None:
            raise CursorError(text)
        segment, micros, item_id = found.groups()
        try:
            at = _EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            raise CursorError(text) from None
        return cls(int(segment), at, uuid.UUID(item_id))


@dataclass(frozen=True)
class Page:
    """One page of open items; `following` is the first item of the next page (where the page
    scrolls to after its last item is acknowledged), `next_cursor` where the next page starts."""

    items: list[Item]
    next_cursor: str | None
    following: Item | None = None

    def after(self, item_id: uuid.UUID) -> Item | None:
        """The item shown after this one (on this page, or the next page's first)."""
        ids = [item.item_id for item in self.items]
        if item_id not in ids:
            return None
        index = ids.index(item_id) + 1
        return self.items[index] if index < len(self.items) else self.following


def _after(column: Any, id_column: Any, cursor: Cursor, newest_first: bool) -> ColumnElement[bool]:
    beyond = column < cursor.at if newest_first else column > cursor.at
    return beyond | ((column == cursor.at) & (id_column > cursor.item_id))


def _newest_first_key(item: Item) -> tuple[int, int]:
    assert item.happened_at is not None
    return (-((item.happened_at - _EPOCH) // _MICROSECOND), item.item_id.int)


def open_page(
    session: Session,
    organisation_id: int,
    selection: Selection = EVERYTHING,
    cursor: Cursor | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Page:
    """A page of open items: the spoedmeldingen first, the earliest deadline first; then the
    others (reports and lookups without report), the newest first (when it happened). At most
    three statements of `limit` + 1 rows each, whatever the number of open items."""
    clock = _Clock.of(session, now or utcnow(), selection.due)
    limit = limit or PAGE_SIZE
    wanted = limit + 1
    items: list[Item] = []
    report_conditions = _report_conditions(selection, clock)
    if cursor is None or cursor.segment == SPOED_SEGMENT:
        spoed = _open_reports(organisation_id, *_REPORT_COLUMNS).where(
            *report_conditions, Report.feedback_due_at.is_not(None)
        )
        if cursor is not None:
            spoed = spoed.where(_after(Report.feedback_due_at, Report.id, cursor, newest_first=False))
        rows = session.execute(spoed.order_by(Report.feedback_due_at, Report.id).limit(wanted))
        items += [_report_item(row, clock) for row in rows]
    if len(items) < wanted and selection.show != FeedbackShown.SPOED:
        rest = wanted - len(items)
        from_here = cursor if cursor is not None and cursor.segment == OTHERS_SEGMENT else None
        reports = _open_reports(organisation_id, *_REPORT_COLUMNS).where(
            *report_conditions, Report.feedback_due_at.is_(None)
        )
        if from_here is not None:
            reports = reports.where(_after(Report.occurred_at, Report.id, from_here, newest_first=True))
        rows = session.execute(reports.order_by(Report.occurred_at.desc(), Report.id).limit(rest))
        others = [_report_item(row, clock) for row in rows]
        lookups = _selected_lookups(organisation_id, selection, clock)
        if lookups is not None:
            if from_here is not None:
                lookups = lookups.where(_after(Lookup.performed_at, Lookup.id, from_here, newest_first=True))
            found = session.execute(lookups.order_by(Lookup.performed_at.desc(), Lookup.id).limit(rest)).all()
            if found:
                others += [_lookup_item(row, clock, _closed_days(session)) for row in found]
                others.sort(key=_newest_first_key)
        items += others[:rest]
    if len(items) <= limit:
        return Page(items, None)
    return Page(items[:limit], Cursor.after(items[limit - 1]).encode(), items[limit])


# --- counts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """How many items are open, late and spoed; `plans`: open items per plan (None: meldingen
    without a handelingskader), for the choice of a plan."""

    open: int = 0
    late: int = 0
    spoed: int = 0
    plans: dict[uuid.UUID | None, int] = field(default_factory=dict)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _open_lookup_pairs(organisation_id: int, clock: _Clock, *columns: Any) -> Select[Any]:
    """The open lookups (as _open_lookups) with each plan of the organisation they showed."""
    return (
        select(*columns)
        .join(Lookup, Lookup.id == LookupResult.lookup_id)
        .where(_unreported_pairs(organisation_id), Lookup.performed_at <= clock.now - rules.LOOKUP_GRACE)
        .where(
            ~exists().where(
                FeedbackAcknowledgement.lookup_id == Lookup.id,
                FeedbackAcknowledgement.organisation_id == organisation_id,
            )
        )
    )


_REPORTS_PART, _LOOKUPS_PART, _LOOKUPS_TOTAL = 0, 1, 2


def counts(
    session: Session, organisation_id: int, selection: Selection = EVERYTHING, now: datetime | None = None
) -> Counts:
    """The open, late and spoed items (of the selection's plan, if it names one) and the open
    items per plan, in one statement that reads each open item once: counted by the database,
    never by loading the items. A lookup that showed two of the organisation's plans counts
    under each plan, and once in the totals."""
    clock = _Clock.of(session, now or utcnow())
    lookup_late = Lookup.performed_at < clock.lookups_late_before
    reports = _open_reports(
        organisation_id,
        Report.plan_id,
        literal(_REPORTS_PART),
        func.count(),
        _count_if(_report_late(clock)),
        _count_if(Report.feedback_due_at.is_not(None)),
    ).group_by(Report.plan_id)
    per_plan = _open_lookup_pairs(
        organisation_id,
        clock,
        LookupResult.plan_id,
        literal(_LOOKUPS_PART),
        func.count(distinct(Lookup.id)),
        func.count(distinct(case((lookup_late, Lookup.id)))),
        literal(0),
    ).group_by(LookupResult.plan_id)
    totals = _open_lookups(
        organisation_id,
        clock,
        None,
        null(),
        literal(_LOOKUPS_TOTAL),
        func.count(),
        _count_if(lookup_late),
        literal(0),
    )
    plans: dict[uuid.UUID | None, int] = {}
    chosen = [0, 0, 0]  # open, late, spoed of the selection
    for plan_id, part, open_, late, spoed in session.execute(reports.union_all(per_plan, totals)):
        if part != _LOOKUPS_TOTAL:
            plans[plan_id] = plans.get(plan_id, 0) + int(open_)
        if selection.plan_id is not None or selection.without_plan:
            wanted = plan_id == selection.plan_id if selection.plan_id is not None else plan_id is None
            counted = part != _LOOKUPS_TOTAL and wanted
        else:
            counted = part != _LOOKUPS_PART
        if counted:
            chosen = [chosen[0] + int(open_), chosen[1] + int(late), chosen[2] + int(spoed)]
    return Counts(chosen[0], chosen[1], chosen[2], plans)


def totals(session: Session, organisation_id: int, now: datetime | None = None) -> Counts:
    """Only the numbers of open and late items (the home page): one aggregate statement."""
    clock = _Clock.of(session, now or utcnow())
    reports = _open_reports(
        organisation_id, func.count().label("open"), _count_if(_report_late(clock)).label("late")
    ).subquery()
    lookups = _open_lookups(
        organisation_id,
        clock,
        None,
        func.count().label("open"),
        _count_if(Lookup.performed_at < clock.lookups_late_before).label("late"),
    ).subquery()
    found = session.execute(
        select(reports.c.open + lookups.c.open, reports.c.late + lookups.c.late).select_from(
            reports.join(lookups, true())
        )
    ).one()
    return Counts(open=int(found[0]), late=int(found[1]))


@dataclass(frozen=True, slots=True)
class LookupShown:
    """A lookup as a feedback item shows it: who searched, when, for which incident."""

    id: uuid.UUID
    performed_at: datetime
    incident_ref: str
    query_kind: str
    organisation: str
    user: str


def lookup_records(session: Session, lookup_ids: list[uuid.UUID]) -> dict[uuid.UUID, LookupShown]:
    found: dict[uuid.UUID, LookupShown] = {}
    for chunk in chunks(lookup_ids):
        for lookup_id, performed_at, incident_ref, query_kind, organisation, user in session.execute(
            _LOOKUPS, {"ids": chunk}
        ):
            found[lookup_id] = LookupShown(
                lookup_id, performed_at, incident_ref, query_kind, organisation or "", user or ""
            )
    return found


def item_dicts(session: Session, items: list[Item]) -> list[dict[str, Any]]:
    """The items as the schema and the inbox read them, in the items' order: a fixed number of
    queries (per CHUNK items), however many items."""
    reports = report_records(session, [item.item_id for item in items if item.kind == "report"])
    lookups = lookup_records(session, [item.item_id for item in items if item.kind != "report"])
    # the melding's shared record (the five core questions) with each report: whoever hears of a
    # report reads its melding (rules.melding_read_by)
    records = meldingen.records(session, [report.melding_id for report in reports.values()])
    return [
        {
            "kind": item.kind,
            "plan_id": item.plan_id,
            "feedback_due": item.feedback_due,
            "overdue": item.overdue,
            "spoed": item.spoed,
            "feedback_due_at": item.feedback_due_at,
            "report": reports[item.item_id] if item.kind == "report" else None,
            "lookup": lookups[item.item_id] if item.kind != "report" else None,
            "melding": records[reports[item.item_id].melding_id] if item.kind == "report" else None,
        }
        for item in items
    ]


#: what the inbox shows in place of a plan's title for a report without a plan
WITHOUT_PLAN = "Melding zonder handelingskader"


def plan_titles(session: Session, plan_ids: list[uuid.UUID | None]) -> dict[uuid.UUID | None, str]:
    """The title of each plan's current version: all the inbox shows of the plan itself; for
    no plan (None), WITHOUT_PLAN."""
    found: dict[uuid.UUID | None, str] = {}
    for chunk in chunks(sorted({plan_id for plan_id in plan_ids if plan_id is not None})):
        found.update((plan_id, title) for plan_id, title in session.execute(_TITLES, {"ids": chunk}))
    found[None] = WITHOUT_PLAN
    return found


def decidable_plans(
    session: Session, organisation_id: int, plan_ids: list[uuid.UUID | None]
) -> set[uuid.UUID]:
    """Of these plans, those the organisation owns or shares: it decides on the agreements
    proposed for them (registry.feedback.proposals); a Veilig Thuis that only hears of a report
    reads them."""
    wanted = sorted({plan_id for plan_id in plan_ids if plan_id is not None})
    found: set[uuid.UUID] = set()
    for chunk in chunks(wanted):
        found.update(
            session.scalars(select(Plan.id).where(Plan.id.in_(chunk), rules.visible_among(organisation_id)))
        )
    return found


def audit_detail(items: list[Item]) -> dict[str, Any]:
    """What the audit row of a list says was shown (NEN 7513: which personal data was seen):
    every report and lookup by id."""
    return {"items": [str(item.item_id) for item in items]}


class NotFound(Exception):
    pass


def acknowledge(session: Session, user: User, item_id: uuid.UUID, note: str) -> FeedbackAcknowledgement:
    """Mark a report (or a lookup without report) as read and acted on by the user's organisation."""
    report = session.get(Report, item_id)
    lookup = None if report is not None else session.get(Lookup, item_id)
    if report is None and lookup is None:
        raise NotFound
    if report is not None:
        heard = exists().where(Report.id == report.id, rules.heard_by(user.organisation_id))
        allowed = bool(session.scalar(select(heard)))
    else:
        assert lookup is not None
        plan_ids = list(
            session.scalars(select(LookupResult.plan_id).where(LookupResult.lookup_id == lookup.id))
        )
        allowed = (
            session.scalars(
                select(Plan.id).where(Plan.id.in_(plan_ids), rules.visible_among(user.organisation_id))
            ).first()
            is not None
        )
    if not allowed:
        audit.record_kept(
            session,
            "feedback_acknowledge",
            "not_found",
            user=user,
            role=REGISTRANT,
            object_type="feedback",
            object_id=item_id,
        )
        raise NotFound
    column = FeedbackAcknowledgement.report_id if report is not None else FeedbackAcknowledgement.lookup_id
    existing = session.scalars(
        select(FeedbackAcknowledgement).where(
            column == item_id, FeedbackAcknowledgement.organisation_id == user.organisation_id
        )
    ).first()
    if existing is not None:
        return existing
    ack = FeedbackAcknowledgement(
        organisation_id=user.organisation_id,
        report_id=report.id if report is not None else None,
        lookup_id=lookup.id if lookup is not None else None,
        user_id=user.id,
        note=note,
        acknowledged_at=utcnow(),
    )
    session.add(ack)
    session.flush()
    audit.record(
        session,
        "feedback_acknowledge",
        "success",
        user=user,
        role=REGISTRANT,
        object_type="feedback",
        object_id=item_id,
    )
    webhooks.acknowledged(session, ack)
    return ack


def overdue_items(session: Session, organisation_id: int, now: datetime | None = None) -> list[Item]:
    """What the organisation's coordinator is shown: spoedmeldingen past their deadline first,
    then items past the end of their due day."""
    late = [item for item in open_items(session, organisation_id, now) if item.late]
    return sorted(late, key=lambda item: not item.spoed_overdue)


@dataclass(frozen=True, slots=True)
class Unheard:
    """A melding without a plan the organisation recorded that reached nobody."""

    report_id: uuid.UUID
    incident_ref: str
    occurred_at: datetime
    recorded_by: str


def reaches_nobody(session: Session, organisation_id: int, report_id: uuid.UUID) -> bool:
    """Whether this report of the organisation is a melding without a plan no VT hears of."""
    unheard = exists().where(Report.id == report_id, rules.without_recipient(organisation_id))
    return bool(session.scalar(select(unheard)))


def without_recipient(session: Session, organisation_id: int) -> list[Unheard]:
    """The organisation's reports without a plan that no Veilig Thuis hears of (its region names
    none, or it is in no region): stored and counted all the same, and shown to its coordinator,
    newest first, until the region names its VT."""
    rows = session.execute(
        select(Report.id, Report.incident_ref, Report.occurred_at, User.display_name)
        .join(User, User.id == Report.created_by_id)
        .where(rules.without_recipient(organisation_id))
        .order_by(Report.occurred_at.desc())
    )
    return [Unheard(*row) for row in rows]

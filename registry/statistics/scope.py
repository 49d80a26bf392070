"""Whose monitoring a statistics read counts (`?scope=`): the user's organisation's share, or,
for the taakgroep (role region_monitor), the whole region the organisation belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from registry.core import rules
from registry.core.models import Region, User
from registry.core.vocabulary import Role, StatisticsScope

ORGANISATION, REGION = StatisticsScope.ORGANISATION, StatisticsScope.REGION
SCOPES = StatisticsScope.codes()
#: the role each scope asks for
ROLE_OF: dict[str, str] = {ORGANISATION: Role.COORDINATOR, REGION: Role.REGION_MONITOR}
BAD_SCOPE = "Kies organisation (uw eigen organisatie) of region (de hele regio)."
NO_REGION = (
    "Uw organisatie hoort bij geen regio, dus er zijn geen cijfers van een regio. "
    "Vraag de beheerder de organisatie aan een regio toe te voegen."
)


class ScopeError(ValueError):
    """The scope asked for is no scope (400), or one the user's organisation has none of (409)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = {"scope": [message]}


class ScopeRefused(Exception):
    """The user's roles do not give this scope (403); the caller records the refusal."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope
        self.role = ROLE_OF[scope]


@dataclass(frozen=True)
class Scope:
    """What a statistics read counts: one organisation's share (`organisation_id`, with the
    gemeenten of its region, if any), or a region's whole (`region_id`)."""

    kind: str
    organisation_id: int
    region_id: int | None = None
    region_name: str | None = None

    @classmethod
    def of_organisation(cls, organisation_id: int, region_id: int | None = None) -> Scope:
        return cls(ORGANISATION, organisation_id, region_id)

    @property
    def is_region(self) -> bool:
        return self.kind == REGION

    def reports(self) -> ColumnElement[bool]:
        """The reports counted (and through them the meldingen): registry.core.rules."""
        if self.is_region:
            assert self.region_id is not None
            return rules.report_counts_for_region(self.region_id)
        return rules.report_counts_for(self.organisation_id)

    def lookups(self) -> ColumnElement[bool]:
        if self.is_region:
            assert self.region_id is not None
            return rules.lookup_counts_for_region(self.region_id)
        return rules.lookup_counts_for(self.organisation_id)

    def detail(self) -> dict[str, Any]:
        """What the audit row says of the scope."""
        return {"scope": self.kind, **({"region_id": self.region_id} if self.is_region else {})}


def offered(user: User) -> tuple[str, ...]:
    """The scopes the user's roles give, the default first: a coordinator's own organisation,
    the region for the taakgroep."""
    return tuple(scope for scope in SCOPES if user.has_role(ROLE_OF[scope]))


def choices(user: User) -> list[tuple[str, str]]:
    """The scopes the Monitoring page offers the user, with their Dutch labels: "Mijn organisatie"
    and "Regio <naam>" (when the organisation is in a region)."""
    found: list[tuple[str, str]] = []
    for scope in offered(user):
        if scope == ORGANISATION:
            found.append((scope, ORGANISATION.label))
        elif user.organisation.region is not None:
            found.append((scope, f"{REGION.label} {user.organisation.region.name}"))
    return found


def parse_scope(raw: str | None, default: str) -> str:
    """`?scope=`: organisation or region; none given is `default`."""
    if raw is None or raw == "":
        return default
    if raw not in SCOPES:
        raise ScopeError(400, "invalid_input", BAD_SCOPE)
    return raw


def resolve(session: Session, user: User, kind: str) -> Scope:
    """The scope `kind` for this user: ScopeRefused when the roles do not give it, ScopeError
    (409) for the region of an organisation in none."""
    if kind not in offered(user):
        raise ScopeRefused(kind)
    organisation = user.organisation
    if kind == ORGANISATION:
        return Scope.of_organisation(organisation.id, organisation.region_id)
    region = session.get(Region, organisation.region_id) if organisation.region_id is not None else None
    if region is None:
        raise ScopeError(409, "no_region", NO_REGION)
    return Scope(REGION, organisation.id, region.id, region.name)

"""Who may hold which role: the lookup role belongs to the people of responder organisations
only, the region's monitoring (taakgroep) to the people of an organisation in a region."""

from __future__ import annotations

from collections.abc import Iterable

from registry.core.vocabulary import OrganisationKind, Role

#: the organisations that act during an incident and may therefore look plans up: the control
#: room (police), the crisis team (CIT) and Veilig Thuis. A social team or youth protection
#: registers plans; letting it look up would open the whole national registry to it.
RESPONDER_ORGANISATION_KINDS = frozenset(
    {OrganisationKind.POLICE, OrganisationKind.CIT, OrganisationKind.VEILIG_THUIS}
)

#: what a coordinator hands out on the accounts page. The lookup role is not among them: an
#: administrator grants it through the command line (`samenop user add|role`), audited. The
#: region's monitoring is: it gives counts only, never a name.
GRANTED_BY_COORDINATOR = (Role.REGISTRANT, Role.COORDINATOR, Role.AUDITOR, Role.REGION_MONITOR)


def _kind_allows(role: str, organisation_kind: str | None) -> bool:
    return role != Role.RESPONDER or organisation_kind in RESPONDER_ORGANISATION_KINDS


def may_hold(role: str, organisation_kind: str | None, in_region: bool) -> bool:
    """Whether a person of an organisation of this kind, in a region or not, may be given `role`:
    the lookup role only in a responder organisation; the region's monitoring (taakgroep) only in
    an organisation of a region (there is no region to count otherwise)."""
    if role == Role.REGION_MONITOR and not in_region:
        return False
    return _kind_allows(role, organisation_kind)


def held(roles: Iterable[str], organisation_kind: str | None) -> frozenset[str]:
    """The roles that count: a `responder` row of a person outside a responder organisation
    (old data, or written around the rules) gives no access. A `region_monitor` row of an
    organisation that left its region counts, and Monitoring answers that there is no region."""
    return frozenset(role for role in roles if _kind_allows(role, organisation_kind))


def refusal(role: str, organisation_name: str, organisation_kind: str | None, in_region: bool) -> str | None:
    """Why `role` cannot be given to a person of this organisation, in the administrator's and
    the coordinator's words; None when it can."""
    if may_hold(role, organisation_kind, in_region):
        return None
    if role == Role.REGION_MONITOR:
        return (
            f"De rol {role} ({Role.REGION_MONITOR.label}) hoort alleen bij een organisatie in een "
            f"regio; {organisation_name} hoort bij geen regio. Voeg de organisatie eerst toe aan "
            "een regio."
        )
    kinds = ", ".join(sorted(RESPONDER_ORGANISATION_KINDS))
    return (
        f"De rol {role} (raadplegen) hoort alleen bij politie, CIT of Veilig Thuis "
        f"(soort {kinds}); {organisation_name} is van het soort {organisation_kind}."
    )


def may_ask_signals(organisation_kind: str | None) -> bool:
    """Whether a system of an organisation of this kind may be registered as a machine client and
    ask for signals: the same organisations whose people may look up (a signal says whether a
    plan is there, anywhere in the national registry)."""
    return organisation_kind in RESPONDER_ORGANISATION_KINDS

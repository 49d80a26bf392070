"""Who may hold which role: the lookup role belongs to the people of responder organisations only."""

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
#: administrator grants it through the command line (`samenop user add|role`), audited.
GRANTED_BY_COORDINATOR = (Role.REGISTRANT, Role.COORDINATOR, Role.AUDITOR)


def may_hold(role: str, organisation_kind: str | None) -> bool:
    """Whether a person of an organisation of this kind may hold `role`."""
    return role != Role.RESPONDER or organisation_kind in RESPONDER_ORGANISATION_KINDS


def held(roles: Iterable[str], organisation_kind: str | None) -> frozenset[str]:
    """The roles that count: a `responder` row of a person outside a responder organisation
    (old data, or written around the rules) gives no access."""
    return frozenset(role for role in roles if may_hold(role, organisation_kind))


def refusal(role: str, organisation_name: str, organisation_kind: str | None) -> str | None:
    """Why `role` cannot be given to a person of this organisation, in the administrator's words;
    None when it can."""
    if may_hold(role, organisation_kind):
        return None
    kinds = ", ".join(sorted(RESPONDER_ORGANISATION_KINDS))
    return (
        f"De rol {role} (raadplegen) hoort alleen bij politie, CIT of Veilig Thuis "
        f"(soort {kinds}); {organisation_name} is van het soort {organisation_kind}."
    )

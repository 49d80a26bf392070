"""Regions and their gemeenten: made by an administrator (the command line), read by the
reports (whose VT hears of a melding without a handelingskader) and, next, by the statistics."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core.models import Gemeente, Organisation, Region
from registry.core.vocabulary import OrganisationKind


class RegionError(Exception):
    """What the administrator asked cannot be done; the message says why."""


def find(session: Session, name: str) -> Region | None:
    return session.scalars(select(Region).where(Region.name == name.strip())).first()


def add(session: Session, name: str, veilig_thuis: str | None = None) -> Region:
    """A new region, with its Veilig Thuis organisation (by name) when one is given."""
    name = name.strip()
    if not name:
        raise RegionError("a region needs a name")
    if find(session, name) is not None:
        raise RegionError(f"region already exists: {name}")
    region = Region(name=name)
    session.add(region)
    session.flush()
    if veilig_thuis is not None:
        set_veilig_thuis(session, region, veilig_thuis)
    return region


def find_or_add(session: Session, name: str) -> Region:
    """The region of that name, made when there is none yet (`org add --region` keeps working
    for a region nobody added first)."""
    return find(session, name) or add(session, name)


def set_veilig_thuis(session: Session, region: Region, organisation_name: str) -> Organisation:
    """Name the organisation that hears of the region's meldingen without a handelingskader: a
    Veilig Thuis organisation of the region (it joins the region when it had none)."""
    organisation = session.scalars(select(Organisation).where(Organisation.name == organisation_name)).first()
    if organisation is None:
        raise RegionError(f"no such organisation: {organisation_name}")
    if organisation.kind != OrganisationKind.VEILIG_THUIS:
        raise RegionError(
            f"{organisation_name} is not a Veilig Thuis organisation (kind {organisation.kind})"
        )
    if organisation.region_id not in (None, region.id):
        raise RegionError(f"{organisation_name} belongs to another region")
    organisation.region_id = region.id
    region.veilig_thuis_organisation_id = organisation.id
    session.flush()
    return organisation


def add_gemeente(session: Session, region_name: str, name: str, population: int) -> Gemeente:
    region = find(session, region_name)
    if region is None:
        raise RegionError(f"no such region: {region_name}")
    name = name.strip()
    if not name:
        raise RegionError("a gemeente needs a name")
    if population < 0:
        raise RegionError("the population cannot be negative")
    if session.scalars(select(Gemeente).where(Gemeente.name == name)).first() is not None:
        raise RegionError(f"gemeente already exists: {name}")
    gemeente = Gemeente(name=name, population=population, region_id=region.id)
    session.add(gemeente)
    session.flush()
    return gemeente


def veilig_thuis_of(session: Session, organisation_id: int) -> int | None:
    """The Veilig Thuis organisation of the organisation's region, if the region names one."""
    return session.scalar(
        select(Region.veilig_thuis_organisation_id)
        .join(Organisation, Organisation.region_id == Region.id)
        .where(Organisation.id == organisation_id)
    )

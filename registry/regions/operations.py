"""Regions and their gemeenten: made by an administrator (the command line), read by the
reports (whose VT hears of a melding without a handelingskader) and, next, by the statistics."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class GemeenteRow:
    """One line of a gemeenten file: its line number (for the error), name, inhabitants, region."""

    line: int
    name: str
    population: int
    region: str


def read_gemeenten(text: str, default_region: str | None) -> list[GemeenteRow]:
    """The rows of a CSV with the columns name,population[,region] (a header line first; commas or
    semicolons, as a Dutch spreadsheet saves it; "36.118" and "36 118" are 36118). Every bad
    line is named at once; a line without a region takes `default_region`."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines:
        raise RegionError("the file is empty: a header name,population[,region], then a line per gemeente")
    delimiter = ";" if ";" in lines[0] else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [column.strip().casefold() for column in next(reader)]
    if header[:2] != ["name", "population"] or header[2:] not in ([], ["region"]):
        raise RegionError(f"line 1: the columns must be name,population[,region], not {','.join(header)}")
    rows, problems = [], []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        cells = [cell.strip() for cell in cells] + [""] * (3 - len(cells))
        name, raw_population, region_name = cells[0], cells[1], cells[2] or (default_region or "")
        digits = raw_population.replace(".", "").replace(" ", "").replace("\u00a0", "")
        if not name:
            problems.append(f"line {number}: no name")
        elif not digits.isdigit():
            problems.append(f"line {number}: population {raw_population!r} is not a whole number")
        elif not region_name:
            problems.append(f"line {number}: no region (add a region column or --region)")
        else:
            rows.append(GemeenteRow(number, name, int(digits), region_name))
    seen: dict[str, int] = {}
    for row in rows:
        key = gemeente_key(row.name)
        if key in seen:
            problems.append(f"line {row.line}: {row.name} is on line {seen[key]} already")
        seen.setdefault(key, row.line)
    if problems:
        raise RegionError("; ".join(problems))
    return rows


def import_gemeenten(session: Session, rows: list[GemeenteRow]) -> tuple[int, int]:
    """Add each gemeente, or set the inhabitants of one its region has already (a new year's
    figures). All or nothing: a row naming an unknown region, or a gemeente of another region,
    refuses the whole file. Returns (added, updated)."""
    known = {gemeente_key(g.name): g for g in session.scalars(select(Gemeente))}
    regions: dict[str, Region] = {}
    problems = []
    for row in rows:
        region = regions.get(row.region) or find(session, row.region)
        if region is None:
            problems.append(f"line {row.line}: no such region: {row.region}")
            continue
        regions[row.region] = region
        existing = known.get(gemeente_key(row.name))
        if existing is not None and existing.region_id != region.id:
            problems.append(f"line {row.line}: {existing.name} belongs to another region")
    if problems:
        raise RegionError("; ".join(problems))
    added = updated = 0
    for row in rows:
        existing = known.get(gemeente_key(row.name))
        if existing is None:
            session.add(Gemeente(name=row.name, population=row.population, region_id=regions[row.region].id))
            added += 1
        elif existing.population != row.population:
            existing.population = row.population
            updated += 1
    session.flush()
    return added, updated


def veilig_thuis_of(session: Session, organisation_id: int) -> int | None:
    """The Veilig Thuis organisation of the organisation's region, if the region names one."""
    return session.scalar(
        select(Region.veilig_thuis_organisation_id)
        .join(Organisation, Organisation.region_id == Region.id)
        .where(Organisation.id == organisation_id)
    )


# --- a melding's gemeente ------------------------------------------------------------------------


def gemeenten_for(session: Session, organisation_id: int) -> list[str]:
    """The names of the gemeenten of the organisation's region, in order: what a report form
    offers to choose from (none when the organisation is in no region)."""
    region_id = session.scalar(select(Organisation.region_id).where(Organisation.id == organisation_id))
    if region_id is None:
        return []
    return list(
        session.scalars(select(Gemeente.name).where(Gemeente.region_id == region_id).order_by(Gemeente.name))
    )


def gemeente_key(name: str) -> str:
    """A gemeente's name as it is matched: case, accents, hyphens and spaces ignored
    ("Oude IJsselstreek" = "oude ijsselstreek", "Súdwest-Fryslân" = "sudwest fryslan")."""
    plain = "".join(char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char))
    return " ".join(plain.replace("-", " ").casefold().split())


def gemeente_named(session: Session, name: str) -> Gemeente | None:
    """The known gemeente of that name (matched by gemeente_key), or None."""
    key = gemeente_key(name)
    if not key:
        return None
    return next((g for g in session.scalars(select(Gemeente)) if gemeente_key(g.name) == key), None)


def gemeente_of_city(session: Session, city: str, region_ids: Iterable[int | None]) -> Gemeente | None:
    """The gemeente of one of these regions whose name is the city's (a plan's residence
    address), or None: a city that is no gemeente of the regions (a village, a typo) gives none."""
    key = gemeente_key(city)
    regions = {region_id for region_id in region_ids if region_id is not None}
    if not key or not regions:
        return None
    return next(
        (
            g
            for g in session.scalars(select(Gemeente).where(Gemeente.region_id.in_(regions)))
            if gemeente_key(g.name) == key
        ),
        None,
    )

"""`samenop region add|gemeente add|gemeente import`: the regions, their Veilig Thuis and their gemeenten."""

from __future__ import annotations

from typing import TextIO

import click
from flask.cli import with_appcontext

from registry.core import audit
from registry.core.db import db
from registry.regions import operations


@click.group("region")
def region() -> None:
    """Regions (Regio), their Veilig Thuis organisation and their gemeenten."""


@region.command("add")
@click.argument("name")
@click.option("--veilig-thuis", "veilig_thuis", default=None, help="the region's Veilig Thuis organisation")
@with_appcontext
def region_add(name: str, veilig_thuis: str | None) -> None:
    """Add a region; its Veilig Thuis hears of every melding in it without a handelingskader."""
    try:
        added = operations.add(db.session, name, veilig_thuis)
    except operations.RegionError as exc:
        db.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record(
        db.session, "region_create", "success", username="cli", object_type="region", object_id=added.id,
        detail={"veilig_thuis": veilig_thuis},
    )  # fmt: skip
    db.commit()
    vt = f", Veilig Thuis: {veilig_thuis}" if veilig_thuis else ", no Veilig Thuis named yet"
    click.echo(f"region {added.id}: {added.name}{vt}")


@region.group("gemeente")
def gemeente() -> None:
    """The gemeenten of a region, with their inhabitants."""


@gemeente.command("add")
@click.argument("region_name", metavar="REGION")
@click.argument("name")
@click.option("--population", type=click.IntRange(min=0), required=True, help="inhabitants (Inwoners)")
@with_appcontext
def gemeente_add(region_name: str, name: str, population: int) -> None:
    """Add a gemeente to a region."""
    try:
        added = operations.add_gemeente(db.session, region_name, name, population)
    except operations.RegionError as exc:
        db.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record(
        db.session, "gemeente_create", "success", username="cli", object_type="gemeente", object_id=added.id,
        detail={"region": region_name, "population": population},
    )  # fmt: skip
    db.commit()
    click.echo(f"gemeente {added.name} ({population} inwoners) in region {region_name}")


@gemeente.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--region", "region_name", default=None, help="the region of lines without a region column")
@with_appcontext
def gemeente_import(file: TextIO, region_name: str | None) -> None:
    """Add gemeenten with their inhabitants from a CSV (name,population[,region]); a gemeente its
    region has already gets the new population. All or nothing."""
    try:
        rows = operations.read_gemeenten(file.read(), region_name)
        added, updated = operations.import_gemeenten(db.session, rows)
    except operations.RegionError as exc:
        db.rollback()
        raise click.ClickException(str(exc)) from None
    audit.record(
        db.session, "gemeente_import", "success", username="cli", object_type="gemeente",
        detail={"file": getattr(file, "name", ""), "added": added, "updated": updated},
    )  # fmt: skip
    db.commit()
    click.echo(f"{added} gemeenten added, {updated} updated, {len(rows) - added - updated} unchanged")

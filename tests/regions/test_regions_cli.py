"""`samenop region add`, `samenop region gemeente add` and `samenop org add --region`: regions with
their Veilig Thuis and gemeenten, organisations in a region; on the real database."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, Gemeente, Organisation, Region
from registry.ops.cli import org_add
from registry.regions.cli import region


def run(app: Flask, command: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(command, list(args))


def regions(app: Flask) -> dict[str, tuple[str | None, list[tuple[str, int]]]]:
    """Each region: the name of its Veilig Thuis, and its gemeenten with their inhabitants."""
    with app.app_context():
        found = {}
        for row in database.session.scalars(select(Region)):
            vt_id = row.veilig_thuis_organisation_id
            vt = database.session.get(Organisation, vt_id) if vt_id is not None else None
            found[row.name] = (vt.name if vt else None, [(g.name, g.population) for g in row.gemeenten])
        return found


def region_of(app: Flask, organisation: str) -> str | None:
    with app.app_context():
        org = database.session.scalars(select(Organisation).where(Organisation.name == organisation)).one()
        return org.region.name if org.region else None


def test_a_region_with_its_veilig_thuis_and_gemeenten(app: Flask) -> None:
    # Given the region's Veilig Thuis organisation
    assert (
        run(app, org_add, "Veilig Thuis Noord- en Oost-Gelderland", "--kind", "veilig_thuis").exit_code == 0
    )
    # When the administrator adds the region with it, and two gemeenten
    result = run(
        app,
        region,
        "add",
        "Noord- en Oost-Gelderland",
        "--veilig-thuis",
        "Veilig Thuis Noord- en Oost-Gelderland",
    )
    assert result.exit_code == 0, result.output
    for name, population in (("Zutphen", "48746"), ("Lochem", "34292")):
        result = run(
            app, region, "gemeente", "add", "Noord- en Oost-Gelderland", name, "--population", population
        )
        assert result.exit_code == 0, result.output
        assert f"{name} ({population} inwoners)" in result.output
    # Then the region names its VT, which is in the region, and holds both gemeenten
    assert regions(app) == {
        "Noord- en Oost-Gelderland": (
            "Veilig Thuis Noord- en Oost-Gelderland",
            [("Lochem", 34292), ("Zutphen", 48746)],
        )
    }
    assert region_of(app, "Veilig Thuis Noord- en Oost-Gelderland") == "Noord- en Oost-Gelderland"
    # and each step is in the audit log
    with app.app_context():
        actions = database.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a in ("region_create", "gemeente_create")] == [
        "region_create", "gemeente_create", "gemeente_create"
    ]  # fmt: skip


def test_a_region_without_veilig_thuis_yet(app: Flask) -> None:
    # When a region is added without a VT
    result = run(app, region, "add", "IJsselland")
    # Then it is there, naming none
    assert result.exit_code == 0, result.output
    assert "no Veilig Thuis named yet" in result.output
    assert regions(app) == {"IJsselland": (None, [])}


def test_refusals_change_nothing(app: Flask) -> None:
    # Given a region, a police organisation and a Veilig Thuis of another region
    assert run(app, region, "add", "IJsselland").exit_code == 0
    assert run(app, org_add, "Meldkamer Oost", "--kind", "police").exit_code == 0
    assert (
        run(
            app, org_add, "Veilig Thuis IJsselland", "--kind", "veilig_thuis", "--region", "IJsselland"
        ).exit_code
        == 0
    )
    before = regions(app)
    for args, message in (
        (("add", "IJsselland"), "region already exists"),
        (("add", "Oost", "--veilig-thuis", "Meldkamer Oost"), "is not a Veilig Thuis organisation"),
        (("add", "Oost", "--veilig-thuis", "Veilig Thuis IJsselland"), "belongs to another region"),
        (("add", "Oost", "--veilig-thuis", "Nergens"), "no such organisation"),
        (("gemeente", "add", "Oost", "Zutphen", "--population", "48746"), "no such region"),
    ):
        # When the administrator asks for it, Then it is refused and says why
        result = run(app, region, *args)
        assert result.exit_code != 0, args
        assert message in result.output, result.output
    assert run(app, region, "gemeente", "add", "IJsselland", "Zwolle", "--population", "-1").exit_code != 0
    assert run(app, region, "gemeente", "add", "IJsselland", "Zwolle").exit_code != 0  # --population required
    assert (
        run(app, region, "gemeente", "add", "IJsselland", "Zwolle", "--population", "130000").exit_code == 0
    )
    result = run(app, region, "gemeente", "add", "IJsselland", "Zwolle", "--population", "1")
    assert "gemeente already exists" in result.output
    # Then nothing else changed
    assert regions(app) == {**before, "IJsselland": (None, [("Zwolle", 130000)])}
    with app.app_context():
        assert database.session.scalars(select(Gemeente.name)).all() == ["Zwolle"]


def test_org_add_region_links_an_existing_region_or_adds_it(app: Flask) -> None:
    # Given a region added before
    assert run(app, region, "add", "IJsselland").exit_code == 0
    # When organisations are added in it, and in a region nobody added yet
    result = run(app, org_add, "Wijkteam Zwolle", "--kind", "social_team", "--region", "IJsselland")
    assert result.exit_code == 0, result.output
    assert "in region IJsselland" in result.output
    assert run(app, org_add, "Meldkamer Oost", "--kind", "police", "--region", "Oost").exit_code == 0
    assert run(app, org_add, "Wijkteam Zutphen", "--kind", "social_team", "--region", "Oost").exit_code == 0
    assert run(app, org_add, "Zonder regio", "--kind", "other").exit_code == 0
    # Then each is in its region, and the new region is there once
    assert region_of(app, "Wijkteam Zwolle") == "IJsselland"
    assert region_of(app, "Meldkamer Oost") == region_of(app, "Wijkteam Zutphen") == "Oost"
    assert region_of(app, "Zonder regio") is None
    assert sorted(regions(app)) == ["IJsselland", "Oost"]


def test_gemeenten_with_their_inhabitants_from_a_csv(app: Flask, tmp_path: Any) -> None:
    # Given two regions, one with Zutphen at last year's population
    assert run(app, region, "add", "Noord- en Oost-Gelderland").exit_code == 0
    assert run(app, region, "add", "IJsselland").exit_code == 0
    assert (
        run(app, region, "gemeente", "add", "Noord- en Oost-Gelderland", "Zutphen", "--population", "48000")
    ).exit_code == 0
    # When a spreadsheet's CSV (semicolons, Dutch thousands, a BOM) is imported: lines without a
    # region take --region, one names its own
    file = tmp_path / "gemeenten.csv"
    file.write_text(
        "\ufeffname;population;region\nBronkhorst;36.118;\nZutphen;48 746;\nDeventer;101236;IJsselland\n\n",
        encoding="utf-8",
    )
    result = run(app, region, "gemeente", "import", str(file), "--region", "Noord- en Oost-Gelderland")
    # Then each gemeente is in its region with its inhabitants, Zutphen with this year's
    assert result.exit_code == 0, result.output
    assert "2 gemeenten added, 1 updated" in result.output
    assert regions(app) == {
        "Noord- en Oost-Gelderland": (None, [("Bronkhorst", 36118), ("Zutphen", 48746)]),
        "IJsselland": (None, [("Deventer", 101236)]),
    }
    with app.app_context():
        assert database.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "gemeente_import")
        ).all() == ["gemeente_import"]


def test_a_bad_gemeenten_csv_changes_nothing_and_names_each_bad_line(app: Flask, tmp_path: Any) -> None:
    # Given a region
    assert run(app, region, "add", "Noord- en Oost-Gelderland").exit_code == 0
    # When a file with a good line and bad ones is imported
    file = tmp_path / "gemeenten.csv"
    file.write_text("name,population\nLochem,34292\nVoorst,veel\n,100\nlochem,1\n", encoding="utf-8")
    result = run(app, region, "gemeente", "import", str(file), "--region", "Noord- en Oost-Gelderland")
    good = tmp_path / "goed.csv"
    good.write_text("name,population\nLochem,34292\n", encoding="utf-8")
    unknown_region = run(app, region, "gemeente", "import", str(good), "--region", "Nergens")
    wrong_header = tmp_path / "kop.csv"
    wrong_header.write_text("gemeente,inwoners\nLochem,34292\n", encoding="utf-8")
    header = run(
        app, region, "gemeente", "import", str(wrong_header), "--region", "Noord- en Oost-Gelderland"
    )
    # Then each is refused, saying which line is wrong, and nothing was added
    assert result.exit_code != 0
    assert "line 3: population 'veel'" in result.output
    assert "line 4: no name" in result.output
    assert "line 5: lochem is on line 2 already" in result.output
    assert unknown_region.exit_code != 0
    assert "line 2: no such region: Nergens" in unknown_region.output
    assert header.exit_code != 0
    assert "name,population[,region]" in header.output
    assert regions(app) == {"Noord- en Oost-Gelderland": (None, [])}

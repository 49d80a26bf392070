"""`make run`'s demo data (samenop demo): the synthetic network a visitor tries the product with,
including its region, Veilig Thuis, taakgroep and meldingnummer format."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import Gemeente, Organisation, Region, User
from registry.ops.cli import demo
from registry.ops.demo import ACCOUNTS


def test_the_demo_prints_a_login_for_every_account_and_sets_up_the_region(app: Flask) -> None:
    # When `samenop demo` runs on an empty database
    result = app.test_cli_runner().invoke(demo, [])

    # Then it prints each demo account's login, and how the control room's numbers look
    assert result.exit_code == 0, result.output
    for username, _name, _organisation, _roles, password in ACCOUNTS:
        assert f"{username:<16} {password:<38}" in result.output
    assert "P-2026-0412" in result.output
    with app.app_context():
        session = database.session
        # and region Noord names its Veilig Thuis and holds the demo plans' gemeenten
        region = session.scalars(select(Region).where(Region.name == "Noord")).one()
        veilig_thuis = session.get(Organisation, region.veilig_thuis_organisation_id)
        assert veilig_thuis is not None
        assert veilig_thuis.name == "Veilig Thuis Noord"
        assert session.scalar(select(Gemeente.id).where(Gemeente.name == "Assen")) is not None
        # and the taakgroep member holds the region's role, the control room a format
        taakgroep = session.scalars(select(User).where(User.username == "taakgroep")).one()
        assert taakgroep.has_role("region_monitor")
        police = session.scalars(
            select(Organisation).where(Organisation.name == "Politie Meldkamer Noord")
        ).one()
        assert police.incident_ref_example == "P-2026-0412"

    # When it runs again, Then it keeps what is there
    again = app.test_cli_runner().invoke(demo, [])
    assert again.exit_code == 0, again.output

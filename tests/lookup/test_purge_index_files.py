"""A purged plan's names leave the search index's files, as Given/When/Then.

whoosh only marks a document deleted; its words stay in the segment's files until the segment
is merged. A withdrawn plan's people are out of every search at once, but their names stayed on
disk, in a copy the retention purge did not reach."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from lookup import search
from registry.core.db import db as database
from registry.core.models import Plan
from registry.core.timeutil import utcnow
from registry.ops.cli import purge
from tests.lookups import found_plan_ids
from tests.registry.plan_data import address, person, plan_body

SURNAME = "Zwijgerveldhuis"
KEPT = "Blijvenhoeve"


def on_disk(directory: str, word: str) -> list[str]:
    """The index's files that hold `word` (as written, or folded to lower case), read as bytes."""
    forms = {word.encode(), word.lower().encode()}
    return sorted(
        path.name
        for path in Path(directory).rglob("*")
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    )


def look_up(client: FlaskClient, headers: dict[str, str], name: str) -> list[str]:
    response = client.post(
        "/api/v1/lookups", json={"incident_ref": "P-2026-0042", "person": {"name": name}}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return found_plan_ids(response.get_json())


def test_a_purged_plans_names_are_gone_from_the_index_files(
    app: Flask, client: FlaskClient, make_org: Any, make_user: Any, auth_headers: Any
) -> None:
    # Given two families in the index, one of which is withdrawn 13 months ago
    registrant = auth_headers(make_user(roles=("registrant",), org=make_org("Wijkteam Bewaren")))
    responder = auth_headers(
        make_user(roles=("responder",), org=make_org("Meldkamer Bewaren", kind="police"))
    )
    gone = client.post(
        "/api/v1/plans",
        json=plan_body(
            addresses=[address(postcode="9406 LM", house_number=2)],
            persons=[person(first_name="Dirk", surname_prefix="", surname=SURNAME)],
        ),
        headers=registrant,
    ).get_json()
    kept = client.post(
        "/api/v1/plans",
        json=plan_body(
            addresses=[address(postcode="9407 NP", house_number=3)],
            persons=[person(first_name="Els", surname_prefix="", surname=KEPT)],
        ),
        headers=registrant,
    ).get_json()
    assert look_up(client, responder, f"Dirk {SURNAME}") == [gone["id"]]
    withdrawn = client.post(
        f"/api/v1/plans/{gone['id']}/withdraw", json={"reason": "Verhuisd"}, headers=registrant
    )
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
    assert look_up(client, responder, f"Dirk {SURNAME}") == []  # out of every search at once
    directory = app.config["INDEX_DIR"]
    # (only marked deleted: the name is still in a segment's files)
    assert on_disk(directory, SURNAME), "the test no longer sees what whoosh keeps of a deleted document"
    with app.app_context():
        database.session.execute(
            update(Plan)
            .where(Plan.id == uuid.UUID(gone["id"]))
            .values(withdrawn_at=utcnow() - relativedelta(months=13))
        )
        database.commit()

    # When the retention purge runs
    result = app.test_cli_runner().invoke(purge, [])
    assert result.exit_code == 0, result.output
    assert "1 purged" in result.output

    # Then no file of the index holds the purged family's name, and the other family is still found
    assert on_disk(directory, SURNAME) == []
    assert on_disk(directory, KEPT)
    assert look_up(client, responder, f"Els {KEPT}") == [kept["id"]]
    index = search.index_for(directory)
    assert index.segment_count() >= 1

"""Setting the scene through the API, where the browser test is about what comes after: an invented
family's plan owned by a wijkteam, a control room that looks it up and records what was done."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from registry.core import normalise
from registry.core.db import db as database
from registry.core.models import Organisation, User
from tests.registry.plan_data import address, plan_body

Headers = Callable[[User], dict[str, str]]


@dataclass
class Network:
    """The wijkteam that owns the plan (a registrant and a coordinator) and a police control room."""

    wijkteam: Organisation
    control_room: Organisation
    registrant: User
    coordinator: User
    responder: User


def introduce(app: Flask, user: User, display_name: str, phone: str | None = None) -> User:
    """Give a test user the name (and work phone) a colleague would see on screen."""
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        stored.display_name = display_name
        stored.phone = normalise.phone(phone) if phone else None
        database.commit()
    user.display_name = display_name
    return user


def network(app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> Network:
    wijkteam = make_org("Wijkteam Oost")
    control_room = make_org("Meldkamer Politie Noord", kind="police")
    return Network(
        wijkteam=wijkteam,
        control_room=control_room,
        registrant=introduce(app, make_user(roles=("registrant",), org=wijkteam), "Fatima Wijkwerker"),
        coordinator=introduce(app, make_user(roles=("coordinator",), org=wijkteam), "Kees Coördinator"),
        responder=introduce(
            app, make_user(roles=("responder",), org=control_room), "Agent Meldkamer", "088-1122334"
        ),
    )


def create_plan(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST /api/v1/plans: plan_body's family at 9401 AB 14 (Noor the victim, Sam the perpetrator who
    must not be informed, weapons and a threat to kill) unless `overrides` say otherwise."""
    overrides.setdefault("addresses", [address()])
    response = client.post("/api/v1/plans", json=plan_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def look_up(
    client: FlaskClient, headers: dict[str, str], plan: dict[str, Any], incident_ref: str
) -> dict[str, Any]:
    """POST /api/v1/lookups on the plan's first address; it must find the plan. -> the answer, and
    the incident number it was for."""
    where = plan["addresses"][0]
    response = client.post(
        "/api/v1/lookups",
        json={
            "incident_ref": incident_ref,
            "address": {"postcode": where["postcode"], "house_number": where["house_number"]},
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = dict(response.get_json())
    assert [match["plan"]["id"] for match in body["matches"]] == [plan["id"]]
    return {**body, "incident_ref": incident_ref}


def report(
    client: FlaskClient,
    headers: dict[str, str],
    lookup: dict[str, Any],
    occurred_at: datetime,
    outcomes: tuple[str, ...] = ("followed",),
    **categories: Any,
) -> dict[str, Any]:
    """POST /api/v1/reports on the plan the lookup showed; agreements judged with `outcomes` in turn,
    the monitoring categories as given (absent ones unregistered)."""
    shown = lookup["matches"][0]["plan"]
    body = {
        "plan_id": shown["id"],
        "lookup_id": lookup["lookup_id"],
        "incident_ref": lookup["incident_ref"],
        "occurred_at": occurred_at.isoformat(),
        "mode": "on_site_intervention",
        "responders": ["police"],
        "agreements": [
            {"agreement_id": agreement["id"], "outcome": outcomes[index % len(outcomes)], "note": ""}
            for index, agreement in enumerate(shown["agreements"])
        ],
        "actions": [],
        "narrative": "Synthetische inzet voor de monitoring.",
        **categories,
    }
    response = client.post(
        "/api/v1/reports", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())

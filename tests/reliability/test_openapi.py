"""The OpenAPI description of /api/v1: a valid document, complete, and true of the live app.

The schemathesis run sends generated requests (valid and invalid) to every operation of a real
HTTP server on 127.0.0.1, authenticated as a user with every role the API knows, on a database
seeded with a plan, a lookup and a report so that ids in paths can exist. Each answer must be no
5xx, and must match the description: status, content type, headers and body.
"""

from __future__ import annotations

import copy
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
import whoosh.util
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import BaseWSGIServer, make_server

from registry.core.models import Organisation, User
from registry.core.timeutil import utcnow
from registry.web.api import API_PREFIX
from tests.conftest import PASSWORD, fresh_code
from tests.registry.plan_data import plan_body, today

DOCUMENT = f"{API_PREFIX}/openapi.json"
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]
# bounded: the whole run stays within a few minutes per database on a 2-core machine
MAX_EXAMPLES = 25
MAX_EXAMPLES_LONG = 150  # --reliability-long / SAMENOP_RELIABILITY_LONG=1
SEED = 20261122
SHARED_WITH = "Wijkteam Gedeeld/Oost"  # a slash, as the `path:` route allows


# --- the document ----------------------------------------------------------------------------------


def test_document_is_valid_openapi_and_needs_no_token(client: FlaskClient) -> None:
    response = client.get(DOCUMENT)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()
    validate(document)  # raises on anything OpenAPI 3.0 does not allow
    assert document["openapi"].startswith("3.0")


def test_every_api_route_is_described(app: Flask, client: FlaskClient) -> None:
    """A new endpoint cannot be forgotten: every /api/v1 route and method is in the document."""
    paths = client.get(DOCUMENT).get_json()["paths"]
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{API_PREFIX}/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, operations in paths.items() for method in operations}

    assert len(routes) >= 19
    assert routes == described


def test_every_operation_names_its_errors(client: FlaskClient) -> None:
    """Spot checks of what follows from a token, a body and an id in the path."""
    paths = client.get(DOCUMENT).get_json()["paths"]

    def statuses(path: str, method: str) -> set[str]:
        return set(paths[f"{API_PREFIX}{path}"][method]["responses"])

    assert statuses("/auth/token", "post") == {"201", "400", "401", "422", "423", "429"}
    assert statuses("/plans/{plan_id}", "put") == {"200", "400", "401", "403", "404", "409", "422"}
    assert statuses("/lookups", "post") == {"200", "400", "401", "403", "404", "422", "429"}
    assert statuses("/signals", "post") == {"200", "400", "401", "422"}
    assert paths[f"{API_PREFIX}/signals"]["post"]["security"] == []
    assert statuses("/statistics", "get") == {"200", "400", "401", "403", "409"}
    assert statuses("/auth/token", "delete") == {"204", "401"}
    assert paths[f"{API_PREFIX}/auth/token"]["post"]["security"] == []
    assert paths[DOCUMENT]["get"]["security"] == []
    assert "security" not in paths[f"{API_PREFIX}/plans"]["get"]


def test_a_generated_client_gets_names_types_and_descriptions(client: FlaskClient) -> None:
    """What an integrator's generated client needs of the document (the client itself:
    tests/reliability/test_generated_client.py)."""
    document = client.get(DOCUMENT).get_json()
    schemas = document["components"]["schemas"]
    operations = [operation for path in document["paths"].values() for operation in path.values()]
    ids = [operation["operationId"] for operation in operations]

    # operation ids a person would choose: camelCase, each once
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", name) for name in ids), ids
    assert len(set(ids)) == len(ids)
    assert {"createLookup", "openCandidate", "listFeedback", "acknowledgeFeedback", "createReport"} <= set(
        ids
    )
    # the lookup body: one named schema per query, each with incident_ref
    lookup = document["paths"][f"{API_PREFIX}/lookups"]["post"]["requestBody"]["content"]["application/json"]
    named = [ref["$ref"].rsplit("/", 1)[1] for ref in lookup["schema"]["oneOf"]]
    assert named == [
        "AddressLookup",
        "AddressTextLookup",
        "PersonLookup",
        "PhoneLookup",
        "SignalReferenceLookup",
    ]
    assert all("incident_ref" in schemas[name]["required"] for name in named)
    # every 201 says where, every answer of our schemas is closed, feedback and reports fully described
    for operation in operations:
        for status, answer in operation["responses"].items():
            if status == "201":
                assert "Location" in answer["headers"], operation["operationId"]
    for name in ("Report", "OwnReport", "FeedbackItem", "LookupItem", "Melding", "Token", "Acknowledgement"):
        assert schemas[name]["additionalProperties"] is False
        undescribed = [
            key for key, field in schemas[name]["properties"].items() if not field.get("description")
        ]
        assert undescribed == [], name
    # enums on answer fields, by their vocabulary's name; a nullable one is that enum or null
    assert schemas["Report"]["properties"]["mode"] == {
        "allOf": [{"$ref": "#/components/schemas/ReportMode"}],
        "description": "the most intensive way of responding",
    }
    assert schemas["Report"]["properties"]["violence_type"]["nullable"] is True
    assert schemas["FeedbackItem"]["properties"]["report"]["allOf"] == [
        {"$ref": "#/components/schemas/Report"}
    ]
    assert "idle_timeout_seconds" in schemas["Token"]["required"]


# --- a live server with data -------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # the run sends hundreds of token requests and lookups a minute; below the limits it reaches
    # the answers past them (201, 401, 200). A 429 is checked against the description on its own.
    return {**app_config, "TOKEN_RATE_LIMIT": "10000 per minute", "LOOKUP_RATE_LIMIT": "10000 per minute"}


@pytest.fixture
def threaded_server(app: Flask) -> Iterator[str]:
    """The test app over HTTP on 127.0.0.1 and a free port, in a background thread
    (as tests/browser/conftest.py's live_server)."""
    server: BaseWSGIServer = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Seeded:
    headers: dict[str, str]
    user: User
    login_user: User
    plan: dict[str, Any]
    plan_to_withdraw: dict[str, Any]
    report: dict[str, Any]
    other_organisation: str


@pytest.fixture
def seeded(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_org: Callable[..., Organisation],
    auth_headers: Callable[[User], dict[str, str]],
) -> Seeded:
    """A user with every role of the API, two plans (one shared), a lookup, a report and a
    lookup without report; a second user only to sign in with."""
    user = make_user(roles=("registrant", "responder", "coordinator"))
    login_user = make_user(roles=("registrant",))
    headers = auth_headers(user)
    shared_with = make_org(SHARED_WITH)
    other = make_org("Wijkteam Elders")

    def ok(response: Any, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    plan = ok(client.post(f"{API_PREFIX}/plans", json=plan_body(), headers=headers), 201)
    to_withdraw = ok(
        client.post(f"{API_PREFIX}/plans", json=plan_body(title="Gezin Intrekken"), headers=headers), 201
    )
    ok(
        client.post(
            f"{API_PREFIX}/plans/{plan['id']}/shares",
            json={"organisation": shared_with.name},
            headers=headers,
        ),
        201,
    )
    lookup = ok(
        client.post(
            f"{API_PREFIX}/lookups",
            json={"incident_ref": "MK-2026-0001", "address": {"postcode": "9401 AB", "house_number": 14}},
            headers=headers,
        ),
        200,
    )
    assert lookup["matches"], "the seeded plan must be found"
    report = ok(
        client.post(
            f"{API_PREFIX}/reports",
            json=report_body(plan, lookup["lookup_id"]),
            headers={**headers, "Idempotency-Key": "seed-1"},
        ),
        201,
    )
    ok(
        client.post(
            f"{API_PREFIX}/lookups",
            json={"incident_ref": "MK-2026-0002", "phone": "06-11223344"},
            headers=headers,
        ),
        200,
    )  # found by the perpetrator's number; no report follows
    return Seeded(headers, user, login_user, plan, to_withdraw, report, other.name)


def report_body(plan: dict[str, Any], lookup_id: str | None = None) -> dict[str, Any]:
    return {
        "plan_id": plan["id"],
        "lookup_id": lookup_id,
        "incident_ref": "MK-2026-0001",
        "occurred_at": (utcnow() - timedelta(hours=2)).isoformat(),
        "mode": "on_site_intervention",
        "responders": ["police", "cit"],
        "violence_type": "partner_violence",
        "household_type": "minor_children",
        "care_involvement": "informed_by_phone",
        "mental_health_service": None,
        "agreements": [
            {"agreement_id": agreement["id"], "outcome": "followed", "note": ""}
            for agreement in plan["agreements"]
        ],
        "actions": ["arrest", "temporary_restraining_order"],
        "narrative": "Synthetische inzet voor de test.",
    }


def with_examples(document: dict[str, Any], seeded: Seeded, app: Flask) -> dict[str, Any]:
    """The served document plus one valid example per operation, so that the run also reaches
    past validation: ids that exist, a plan that passes every rule, a report on the seeded plan."""
    document = copy.deepcopy(document)
    plan, report = seeded.plan, seeded.report
    path_values = {
        "plan_id": plan["id"],
        "report_id": report["id"],
        "item_id": report["id"],
        "organisation_name": SHARED_WITH,
    }
    bodies: dict[tuple[str, str], Any] = {
        ("/auth/token", "post"): {
            "username": seeded.login_user.username,
            "password": PASSWORD,
            "otp": fresh_code(app, seeded.login_user),
        },
        ("/plans", "post"): plan_body(),
        ("/plans/{plan_id}", "put"): {**plan_body(title="Gezin Voorbeeld, bijgewerkt"), "version": 1},
        ("/plans/{plan_id}/withdraw", "post"): {"reason": "Gezin verhuisd naar een andere regio."},
        ("/plans/{plan_id}/shares", "post"): {"organisation": seeded.other_organisation},
        ("/lookups", "post"): {
            "incident_ref": "MK-2026-0003",
            "address": {"postcode": "9401 AB", "house_number": 14, "house_number_suffix": ""},
        },
        ("/reports", "post"): report_body(plan),
        ("/reports/{report_id}/amendments", "post"): {"note": "Aanvulling: tante heeft de kinderen."},
        ("/feedback/{item_id}/acknowledge", "post"): {"note": "Gelezen, gesprek met moeder gepland."},
    }
    query_values = {
        "status": "active",
        "due": today().isoformat(),
        "from": (today() - timedelta(days=30)).isoformat(),
        "to": today().isoformat(),
    }
    for path, operations in document["paths"].items():
        short = path.removeprefix(API_PREFIX)
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                value = path_values.get(parameter["name"]) or query_values.get(parameter["name"])
                if value is not None:
                    parameter["example"] = value
                if parameter["name"] == "plan_id" and short.endswith("/withdraw"):
                    parameter["example"] = seeded.plan_to_withdraw["id"]
                if parameter["name"] == "Idempotency-Key":
                    parameter["example"] = str(uuid.uuid4())
            if (short, method) in bodies:
                operation["requestBody"]["content"]["application/json"]["example"] = bodies[(short, method)]
    return document


@pytest.fixture
def api_schema(
    app: Flask,
    client: FlaskClient,
    threaded_server: str,
    seeded: Seeded,
    long_run: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> schemathesis.schemas.BaseSchema:
    """The served document, with examples, loaded by schemathesis against the live server."""
    # Hypothesis seeds the global `random` the same way for every example, and the server thread
    # shares it: whoosh then names each new index segment alike and its commit fails (logged,
    # and the index falls behind). A generator of its own keeps the names apart, as in production.
    monkeypatch.setattr(whoosh.util, "random", random.Random())
    document = with_examples(client.get(DOCUMENT).get_json(), seeded, app)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config(seed=SEED))
    schema.config.update(base_url=threaded_server, headers=seeded.headers)
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES_LONG if long_run else MAX_EXAMPLES, deterministic=True, database="none"
    )
    return schema


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32 reads and relabels `item._nodeid`, which pytest 9.2 no longer has
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# revoking the run's own token would turn every later answer into a 401: tested on its own below
@lazy_schema.exclude(method="DELETE", path=f"{API_PREFIX}/auth/token").parametrize()
def test_the_live_api_keeps_its_description(case: schemathesis.Case, seeded: Seeded) -> None:
    case.call_and_validate(headers=seeded.headers, checks=CHECKS, timeout=30)


def test_revoking_a_token_keeps_its_description(
    api_schema: schemathesis.schemas.BaseSchema, seeded: Seeded
) -> None:
    operation = api_schema[f"{API_PREFIX}/auth/token"]["DELETE"]

    revoked = operation.Case().call_and_validate(headers=seeded.headers, checks=CHECKS)
    again = operation.Case().call_and_validate(headers=seeded.headers, checks=CHECKS)

    assert revoked.status_code == 204
    assert again.status_code == 401


def test_a_rate_limited_answer_keeps_its_description(
    app: Flask, api_schema: schemathesis.schemas.BaseSchema
) -> None:
    app.config["TOKEN_RATE_LIMIT"] = "1 per minute"
    operation = api_schema[f"{API_PREFIX}/auth/token"]["POST"]
    wrong = {"username": "niemand", "password": "fout", "otp": "000000"}

    answers = [operation.Case(body=wrong).call_and_validate(checks=CHECKS) for _ in range(3)]

    assert answers[-1].status_code == 429


def test_what_the_run_found_answers_4xx(api_schema: schemathesis.schemas.BaseSchema, seeded: Seeded) -> None:
    """Inputs on which an earlier run of this file found a 500, each now a described 4xx."""
    statistics = api_schema[f"{API_PREFIX}/statistics"]["GET"]
    replace = api_schema[f"{API_PREFIX}/plans/{{plan_id}}"]["PUT"]
    token = api_schema[f"{API_PREFIX}/auth/token"]["POST"]

    def call(case: schemathesis.Case) -> int:
        return case.call_and_validate(headers=seeded.headers, checks=CHECKS).status_code

    # the default start, five months before ?to=, was computed before year 1
    assert call(statistics.Case(query={"from": "0001-01-07", "to": "0001-01-07"})) == 400
    assert call(statistics.Case(query={"to": "9999-12-31"})) == 400
    # version + 1 went to PostgreSQL as a value past its integer column, even for a stale version
    path = {"plan_id": seeded.plan["id"]}
    assert call(replace.Case(path_parameters=path, body={**plan_body(), "version": 2**31 - 1})) == 422
    assert call(replace.Case(path_parameters=path, body={**plan_body(), "version": 2**31 - 2})) == 409
    # the user name went into a query as it came, and PostgreSQL refuses NUL
    assert call(token.Case(body={"username": "a\x00b", "password": "x", "otp": "123456"})) == 422

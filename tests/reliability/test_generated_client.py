"""An integrator's client, generated from the served description alone, runs the whole flow.

openapi-python-client makes a Python package of GET /api/v1/openapi.json in a temporary folder;
the test imports it and, against the real app over HTTP on 127.0.0.1, signs in three people,
writes a plan, looks it up in each way there is, lets a control room's system ask for a signal
(its certificate as a TLS terminator hands it on) and an operator open it, reports with an
Idempotency-Key, reads and acknowledges the feedback and reads the statistics. Every answer is
one of the generated classes, every code one of the generated enums: the lookup body is not Any,
and no field hides in `additional_properties` (the generated models of our answers have none).

Generating takes about 3 seconds, so this runs on both databases like the rest.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import threading
import typing
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest
import trustme
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from registry.core.models import Organisation, User
from registry.core.timeutil import utcnow
from tests.conftest import PASSWORD, fresh_code
from tests.registry.plan_data import address, person, plan_body

PACKAGE = "samenop_client"
INCIDENT = "P-2026-0412"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # the TLS terminator in front of the app is this machine: its X-Client-Cert is believed
    return {**app_config, "CLIENT_CERT_PROXIES": "127.0.0.1"}


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The test app over HTTP on 127.0.0.1 and a free port, in a background thread."""
    served: BaseWSGIServer = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_port}"
    finally:
        served.shutdown()
        served.server_close()
        thread.join(timeout=5)


@pytest.fixture
def generated(server: str, tmp_path: Path) -> Iterator[ModuleType]:
    """The package openapi-python-client generates from the served description, imported."""
    with urllib.request.urlopen(f"{server}/api/v1/openapi.json", timeout=10) as answer:  # noqa: S310
        (tmp_path / "openapi.json").write_bytes(answer.read())
    # no formatting afterwards: the generator would run ruff from PATH
    (tmp_path / "config.json").write_text(json.dumps({"post_hooks": []}))
    run = subprocess.run(
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--path", str(tmp_path / "openapi.json"), "--meta", "none",
            "--output-path", str(tmp_path / PACKAGE), "--config", str(tmp_path / "config.json"),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    # everything in the description could be generated: no part left out with a warning
    assert "Warning" not in run.stdout, run.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Api:
    """The generated package's operations and models by name: api("create_lookup"), model("Plan")."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def __call__(self, name: str) -> Any:
        for tag in ("auth", "plans", "lookup", "reports", "feedback", "statistics", "tasks", "meldingen"):
            try:
                return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
            except ModuleNotFoundError:
                continue
        raise LookupError(name)

    def model(self, name: str) -> Any:
        return getattr(self.models, name)


def typed(value: Any, cls: type) -> Any:
    """The answer is an instance of the generated class, with no field hidden in
    additional_properties (a model generated from a closed schema has no such attribute)."""
    assert isinstance(value, cls), f"{type(value).__name__} is not {cls.__name__}: {value!r}"
    assert not hasattr(value, "additional_properties"), f"{cls.__name__} is an open object"
    return value


def test_a_generated_client_runs_the_whole_flow(
    app: Flask,
    server: str,
    generated: ModuleType,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    api = Api(generated)
    m = api.model

    # Given an owner with a registrant, a control room with an operator and a coordinator, and
    # the control room's system registered with its certificate
    owner_org = make_org("Wijkteam Zuidoost", kind="social_team", region="Noord")
    control_room = make_org("Meldkamer Noord", kind="police", region="Noord")
    registrant = make_user(roles=("registrant",), org=owner_org)
    operator = make_user(roles=("responder",), org=control_room)
    coordinator = make_user(roles=("coordinator",), org=control_room)
    cert = trustme.CA(organization_name="Synthetische PKI (test)").issue_cert("gms.meldkamer-noord.test")
    pem = cert.cert_chain_pems[0].bytes()
    (tmp_path / "gms.pem").write_bytes(pem)
    added = app.test_cli_runner().invoke(
        args=[
            "client",
            "add",
            "--org",
            control_room.name,
            "--name",
            "GMS Noord",
            "--cert",
            str(tmp_path / "gms.pem"),
        ]
    )
    assert added.exit_code == 0, added.output

    # The lookup body is the union of the named lookups, not Any
    body_type = typing.get_type_hints(api("create_lookup").sync)["body"]
    named = ("AddressLookup", "AddressTextLookup", "PersonLookup", "PhoneLookup", "SignalReferenceLookup")
    assert set(typing.get_args(body_type)) == {m(name) for name in named}

    def sign_in(user: User) -> Any:
        """POST /auth/token through the generated client: a client with the bearer token."""
        answer = api("create_token").sync_detailed(
            client=generated.Client(base_url=server),
            body=m("TokenArgs")(username=user.username, password=PASSWORD, otp=fresh_code(app, user)),
        )
        assert answer.status_code == 201
        token = typed(answer.parsed, m("Token"))
        assert token.token_type == m("TokenTokenType").BEARER
        assert token.idle_timeout_seconds == 30 * 60
        assert token.expires_at > utcnow() + timedelta(hours=11)
        assert answer.headers["Location"] == "/api/v1/auth/token"
        assert int(answer.headers["RateLimit-Remaining"]) < int(answer.headers["RateLimit-Limit"])
        return generated.AuthenticatedClient(base_url=server, token=token.access_token)

    # A wrong factor is an Error with a code of the enum
    refused = api("create_token").sync_detailed(
        client=generated.Client(base_url=server),
        body=m("TokenArgs")(username=registrant.username, password="fout wachtwoord", otp="000000"),
    )
    assert refused.status_code == 401
    assert typed(refused.parsed, m("Error")).error.code == m("ErrorCode").INVALID_CREDENTIALS

    # --- the plan ---------------------------------------------------------------------------------
    owner = sign_in(registrant)
    body = plan_body(
        addresses=[address(postcode="9401 AB", house_number=14, street="Kerkstraat", city="Assen")],
        persons=[person(first_name="Noor", surname="Testveen", birth_date="1990-01-02", phone="06-12345678")],
    )
    created = api("create_plan").sync_detailed(client=owner, body=m("PlanArgs").from_dict(body))
    assert created.status_code == 201
    plan = typed(created.parsed, m("WrittenPlan"))
    assert created.headers["Location"] == f"/api/v1/plans/{plan.id}"
    assert plan.status == m("PlanStatus").ACTIVE
    assert plan.risk_signals == [m("RiskSignal").WEAPONS, m("RiskSignal").THREAT_TO_KILL]
    typed(plan.persons[0], m("Person"))
    assert plan.persons[0].role == m("PersonRole").VICTIM
    # a second plan, so that the list has two pages of one
    second = api("create_plan").sync(
        client=owner,
        body=m("PlanArgs").from_dict(
            plan_body(
                title="Gezin Twee",
                addresses=[address(house_number=99)],
                persons=[
                    person(first_name="Sam", surname="Anders", birth_date="1980-03-04", phone="06-11223344")
                ],
            )
        ),
    )
    typed(second, m("WrittenPlan"))
    first_page = typed(api("list_plans").sync(client=owner, limit=1), m("PlanList"))
    assert first_page.next_cursor is not None
    last_page = typed(
        api("list_plans").sync(client=owner, limit=1, cursor=first_page.next_cursor), m("PlanList")
    )
    assert last_page.next_cursor is None
    assert {first_page.items[0].id, last_page.items[0].id} == {plan.id, second.id}

    # --- lookups of each kind ---------------------------------------------------------------------
    desk = sign_in(operator)
    lookup = api("create_lookup")
    query = m("AddressQueryArgs")

    def look_up(query_body: Any) -> Any:
        answer = lookup.sync_detailed(client=desk, body=query_body)
        assert answer.status_code == 200, answer.content
        assert "RateLimit-Remaining" in answer.headers
        return typed(answer.parsed, m("LookupResponse"))

    by_address = look_up(
        m("AddressLookup")(incident_ref=INCIDENT, address=query(postcode="9401AB", house_number=14))
    )
    match = typed(by_address.matches[0], m("LookupMatch"))
    typed(match.plan, m("ResponderPlan"))
    assert match.plan.id == plan.id
    assert match.match.quality == m("MatchQuality").EXACT
    assert match.match.on == m("MatchOn").ADDRESS
    assert typed(match.matched_on, m("MatchedOn")).kind == m("MatchedOnKind").ADDRESS
    assert match.matched_on.address_role == m("AddressRole").RESIDENCE
    assert match.plan.agreements[0].actor == m("Actor").POLICE
    typed(match.history, m("History"))

    by_text = look_up(m("AddressTextLookup")(incident_ref=INCIDENT, address_text="Kerkstraat 14 Assen"))
    assert [found.plan.id for found in by_text.matches] == [plan.id]
    assert by_text.matches[0].match.quality == m("MatchQuality").FUZZY

    person_query = m("PersonQueryArgs")
    by_person = look_up(
        m("PersonLookup")(
            incident_ref=INCIDENT,
            person=person_query(name="Noor Testveen", birth_date=plan.persons[0].birth_date),
        )
    )
    assert by_person.matches[0].plan.id == plan.id
    assert by_person.matches[0].matched_on.person_role == m("PersonRole").VICTIM

    by_name = look_up(m("PersonLookup")(incident_ref=INCIDENT, person=person_query(name="Noor Testveen")))
    assert by_name.matches == []
    candidate = typed(by_name.candidates[0], m("Candidate"))
    assert candidate.plan_id == plan.id
    opened = api("open_candidate").sync(
        client=desk, lookup_id=by_name.lookup_id, body=m("OpenCandidateArgs")(plan_id=candidate.plan_id)
    )
    assert typed(opened, m("LookupResponse")).matches[0].plan.id == plan.id

    by_phone = look_up(m("PhoneLookup")(incident_ref=INCIDENT, phone="+31 6 12345678"))
    assert by_phone.matches[0].matched_on.kind == m("MatchedOnKind").PHONE

    # --- the signal, and an operator opening it ---------------------------------------------------
    system = generated.Client(base_url=server, headers={"X-Client-Cert": quote(pem.decode(), safe="")})
    signal = typed(
        api("create_signal").sync(
            client=system,
            body=m("AddressSignal")(
                incident_ref=INCIDENT, address=query(postcode="9401 AB", house_number=14)
            ),
        ),
        m("Signal"),
    )
    assert signal.signal is True
    assert signal.owner_organisations == [owner_org.name]
    opened_signal = look_up(
        m("SignalReferenceLookup")(incident_ref=INCIDENT, signal_reference=signal.reference)
    )
    assert [found.plan.id for found in opened_signal.matches] == [plan.id]

    # --- a report, exactly once -------------------------------------------------------------------
    report_args = m("ReportArgs")(
        plan_id=plan.id,
        lookup_id=by_address.lookup_id,
        incident_ref=INCIDENT,
        occurred_at=utcnow() - timedelta(hours=1),
        mode=m("ReportMode").ON_SITE_INTERVENTION,
        responders=[m("Responder").POLICE],
        violence_type=m("ViolenceType").PARTNER_VIOLENCE,
        agreements=[
            m("AgreementOutcomeArgs")(
                agreement_id=match.plan.agreements[0].id, outcome=m("AgreementOutcomeCode").FOLLOWED
            )
        ],
        actions=[m("Action").ARREST],
        narrative="Synthetische inzet voor de test.",
    )
    report_answer = api("create_report").sync_detailed(
        client=desk, body=report_args, idempotency_key="flow-1"
    )
    again = api("create_report").sync_detailed(client=desk, body=report_args, idempotency_key="flow-1")
    assert report_answer.status_code == again.status_code == 201
    report = typed(report_answer.parsed, m("OwnReport"))
    assert typed(again.parsed, m("OwnReport")).id == report.id
    assert again.headers["Idempotent-Replayed"] == "true"
    assert report_answer.headers["Location"] == f"/api/v1/reports/{report.id}"
    assert report.mode == m("ReportMode").ON_SITE_INTERVENTION
    assert report.actions == [m("Action").ARREST]
    assert report.spoed is True

    # --- feedback, and its acknowledgement --------------------------------------------------------
    inbox = typed(api("list_feedback").sync(client=owner), m("FeedbackList"))
    assert inbox.next_cursor is None
    item = typed(next(each for each in inbox.items if each.report is not None), m("FeedbackItem"))
    assert item.kind == m("FeedbackKind").REPORT
    assert typed(item.report, m("Report")).id == report.id
    assert item.report.responders == [m("Responder").POLICE]
    assert typed(item.melding, m("Melding")).id == report.melding_id
    assert item.lookup is None
    acknowledged = api("acknowledge_feedback").sync(
        client=owner, item_id=report.id, body=m("AcknowledgeArgs")(note="Gesprek met moeder gepland.")
    )
    assert typed(acknowledged, m("Acknowledgement")).id == report.id
    answered = typed(api("get_report").sync(client=desk, report_id=report.id), m("OwnReport"))
    assert [typed(each, m("AcknowledgementShown")).organisation for each in answered.acknowledgements] == [
        owner_org.name
    ]

    # --- statistics -------------------------------------------------------------------------------
    figures = typed(api("get_statistics").sync(client=sign_in(coordinator)), m("Statistics"))
    assert figures.scope == m("StatisticsScope").ORGANISATION
    assert figures.meldingen == 1
    assert typed(figures.lookups, m("LookupCounts")).total >= 5
    typed(figures.time_of_day, m("TimeOfDayCounts"))
    assert all(isinstance(row.mode, m("ReportMode")) for row in figures.responders_mode)

"""Machine clients and the signal: a control room's system, known by its client certificate
(mutual TLS, made here with trustme), asks POST /api/v1/signals whether a handelingskader is
there and is told yes or no, by whom it is owned and a reference, never what it says; a person of
the same organisation with two factors opens it, for that melding only, within 12 hours; the
plan's owners see the signal in their Toegangslog.

The certificate reaches the app as a TLS terminator (nginx) hands it over: URL-encoded PEM in
X-Client-Cert, read only from an address in SAMENOP_CLIENT_CERT_PROXIES. tests/reliability/
test_signals_tls.py does it through gunicorn's own TLS."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
import trustme
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, MachineClient, Signal
from tests.registry.plan_data import address, person, plan_body

SIGNALS = "/api/v1/signals"
LOOKUPS = "/api/v1/lookups"
PLANS = "/api/v1/plans"
PROXY = "127.0.0.1"  # the TLS terminator in front: the test client connects from here
SYSTEM = "GMS Meldkamer Noord"
INCIDENT = "P-2026-0412"
KERKSTRAAT_14 = {"postcode": "9401 AB", "house_number": 14}
NOE_PHONE = "06-12345678"
# what a signal must never carry: the family's names, address, phone numbers and agreements
PERSONAL = (
    "Noë",
    "Veen",
    "Testman",
    "Kerkstraat",
    "Assen",
    "9401",
    "12345678",
    "Direct ter plaatse",
    "Tante",
)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "CLIENT_CERT_PROXIES": PROXY}


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Synthetische PKI (test)")


def issue(ca: trustme.CA, name: str = "gms.meldkamer-noord.test", **validity: datetime) -> trustme.LeafCert:
    return ca.issue_cert(name, common_name=name, **validity)


def pem_of(cert: trustme.LeafCert) -> bytes:
    return cert.cert_chain_pems[0].bytes()


@pytest.fixture
def control_room(make_org: Any) -> Any:
    return make_org("Meldkamer Noord", kind="police", region="Noord")


@pytest.fixture
def owner_org(make_org: Any) -> Any:
    return make_org("Wijkteam Zuidoost", kind="social_team", region="Noord")


@pytest.fixture
def operator(make_user: Any, control_room: Any) -> Any:
    return make_user(roles=("responder",), org=control_room)


@pytest.fixture
def registrant(make_user: Any, owner_org: Any) -> Any:
    return make_user(roles=("registrant",), org=owner_org)


@pytest.fixture
def plan(client: FlaskClient, registrant: Any, auth_headers: Any) -> dict[str, Any]:
    """Noë van der Veen at Kerkstraat 14, 9401 AB Assen (all invented), owned by Wijkteam Zuidoost."""
    body = plan_body(
        addresses=[address(postcode="9401 AB", house_number=14, street="Kerkstraat", city="Assen")],
        persons=[person(first_name="Noë", surname_prefix="van der", surname="Veen", phone=NOE_PHONE)],
    )
    response = client.post(PLANS, json=body, headers=auth_headers(registrant))
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def run_cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def register(app: Flask, tmp_path: Path) -> Callable[..., Any]:
    """`samenop client add` with a certificate, as an administrator does it."""

    def add(cert: trustme.LeafCert, org: str = "Meldkamer Noord", name: str = SYSTEM) -> Any:
        path = tmp_path / f"{name.replace(' ', '_')}.pem"
        path.write_bytes(pem_of(cert))
        return run_cli(app, "client", "add", "--org", org, "--name", name, "--cert", str(path))

    return add


@pytest.fixture
def system_cert(ca: trustme.CA, register: Callable[..., Any], control_room: Any) -> trustme.LeafCert:
    cert = issue(ca)
    result = register(cert)
    assert result.exit_code == 0, result.output
    return cert


def ask(
    client: FlaskClient,
    cert: trustme.LeafCert | None,
    body: dict[str, Any],
    remote: str = PROXY,
    **headers: str,
) -> Any:
    """POST /signals as the TLS terminator passes it on: the verified certificate in X-Client-Cert."""
    sent = dict(headers)
    if cert is not None:
        sent["X-Client-Cert"] = quote(pem_of(cert).decode(), safe="")  # nginx's $ssl_client_escaped_cert
    return client.post(SIGNALS, json=body, headers=sent, environ_base={"REMOTE_ADDR": remote})


def signal_at(incident_ref: str = INCIDENT, **query: Any) -> dict[str, Any]:
    return {"incident_ref": incident_ref, **(query or {"address": KERKSTRAAT_14})}


def audit_rows(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(database.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- the signal ----------------------------------------------------------------------------------


def test_a_registered_system_is_told_a_handelingskader_is_there_and_nothing_of_it(
    app: Flask, client: FlaskClient, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    # Given a registered system and a plan at Kerkstraat 14
    # When the system asks on the address, and on Noë's phone number
    by_address = ask(client, system_cert, signal_at())
    by_phone = ask(client, system_cert, signal_at(phone=NOE_PHONE))

    # Then both say a handelingskader is there, whose, and a reference: nothing else
    for response in (by_address, by_phone):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"signal", "reference", "owner_organisations", "expires_at"}
        assert body["signal"] is True
        assert body["owner_organisations"] == ["Wijkteam Zuidoost"]
        assert body["reference"].startswith("S-")
        text = response.get_data(as_text=True)
        assert not [word for word in PERSONAL if word in text], text
        assert plan["id"] not in text
        assert plan["title"] not in text
        assert response.headers["Cache-Control"] == "no-store"
    assert by_address.get_json()["reference"] != by_phone.get_json()["reference"]
    # And each signal is audited under the system's name and organisation, without the query
    rows = audit_rows(app, "signal")
    assert [(r.username, r.organisation, r.outcome) for r in rows] == [
        (f"systeem:{SYSTEM}", "Meldkamer Noord", "match")
    ] * 2
    assert rows[0].detail["incident_ref"] == INCIDENT
    assert rows[0].detail["shown"][0]["plan"] == plan["id"]
    assert "9401" not in json.dumps(rows[0].detail)
    # And the reference itself is not stored, only its hash
    with app.app_context():
        stored = database.session.scalars(select(Signal)).all()
    assert len(stored) == 2
    assert by_address.get_json()["reference"] not in {s.reference_hash for s in stored}


def test_no_handelingskader_is_a_signal_false(
    client: FlaskClient, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    other_address = ask(client, system_cert, signal_at(address={"postcode": "9401 AB", "house_number": 16}))
    other_phone = ask(client, system_cert, signal_at(phone="06-23456789"))

    for response in (other_address, other_phone):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["signal"] is False
        assert body["owner_organisations"] == []


def test_a_plan_responders_are_not_shown_gives_no_signal(
    client: FlaskClient,
    system_cert: trustme.LeafCert,
    plan: dict[str, Any],
    registrant: Any,
    auth_headers: Any,
) -> None:
    # Given the plan is withdrawn
    withdrawn = client.post(
        f"{PLANS}/{plan['id']}/withdraw", json={"reason": "Gezin verhuisd"}, headers=auth_headers(registrant)
    )
    assert withdrawn.status_code == 200

    # Then the same rules as a lookup's apply: no signal
    assert ask(client, system_cert, signal_at()).get_json()["signal"] is False


def test_bad_input_names_the_field(client: FlaskClient, system_cert: trustme.LeafCert) -> None:
    both = ask(client, system_cert, signal_at(address=KERKSTRAAT_14, phone=NOE_PHONE))
    neither = ask(client, system_cert, {"incident_ref": INCIDENT})
    fuzzy = ask(client, system_cert, signal_at(address_text="Kerkstraat 14 Assen"))
    no_digit = ask(client, system_cert, signal_at(incident_ref="geen nummer"))

    assert both.status_code == 422
    assert set(both.get_json()["error"]["fields"]) == {"address", "phone"}
    assert neither.status_code == 422
    assert {"address", "phone"} <= set(neither.get_json()["error"]["fields"])
    assert fuzzy.status_code == 422
    assert "address_text" in fuzzy.get_json()["error"]["fields"]
    assert no_digit.status_code == 422
    assert "incident_ref" in no_digit.get_json()["error"]["fields"]


# --- who may ask ---------------------------------------------------------------------------------


def _refused(response: Any) -> str:
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == "unauthenticated"
    return str(body["error"]["message"])


def test_an_unknown_certificate_is_refused(
    app: Flask, client: FlaskClient, ca: trustme.CA, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    stranger = issue(ca, "onbekend-systeem.test")  # the same CA, never registered

    message = _refused(ask(client, stranger, signal_at()))

    assert "geen geregistreerd systeem" in message
    refused = [r for r in audit_rows(app, "api_request") if r.outcome == "unauthenticated"]
    assert refused[-1].detail["reason"] == "unknown_certificate"
    assert not audit_rows(app, "signal")


def test_a_revoked_system_or_certificate_is_refused(
    app: Flask,
    client: FlaskClient,
    ca: trustme.CA,
    system_cert: trustme.LeafCert,
    plan: dict[str, Any],
    tmp_path: Path,
) -> None:
    # Given a second certificate (rotation): both work until the old one is revoked
    new = issue(ca, "gms-2027.meldkamer-noord.test")
    (tmp_path / "new.pem").write_bytes(pem_of(new))
    rotated = run_cli(app, "client", "rotate", SYSTEM, "--cert", str(tmp_path / "new.pem"))
    assert rotated.exit_code == 0, rotated.output
    assert ask(client, system_cert, signal_at()).status_code == 200
    assert ask(client, new, signal_at()).status_code == 200

    # When the old certificate is revoked (by its fingerprint, as people copy it: AB:CD:...)
    with app.app_context():
        system = database.session.scalars(select(MachineClient)).one()
        old_fingerprint = system.certificates[0].fingerprint
    colons = ":".join(old_fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    revoked = run_cli(app, "client", "revoke", SYSTEM, "--fingerprint", colons)
    assert revoked.exit_code == 0, revoked.output

    # Then the old one is refused and the new one works
    assert "ingetrokken" in _refused(ask(client, system_cert, signal_at()))
    assert ask(client, new, signal_at()).status_code == 200

    # When the whole system is revoked, Then nothing of it works any more
    assert run_cli(app, "client", "revoke", SYSTEM).exit_code == 0
    assert "ingetrokken" in _refused(ask(client, new, signal_at()))
    listed = run_cli(app, "client", "list")
    assert SYSTEM in listed.output
    assert "revoked" in listed.output
    actions = [r.action for r in audit_rows(app, "client_add") + audit_rows(app, "client_rotate")]
    assert actions == ["client_add", "client_rotate"]
    assert len(audit_rows(app, "client_revoke")) == 2
    assert audit_rows(app, "client_add")[0].detail["by"].startswith("cli:")


def test_an_expired_certificate_is_refused(
    client: FlaskClient, ca: trustme.CA, register: Callable[..., Any], control_room: Any, plan: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    short = issue(ca, not_before=now - timedelta(days=1), not_after=now + timedelta(hours=1))
    assert register(short).exit_code == 0
    assert ask(client, short, signal_at()).status_code == 200

    with time_machine.travel(now + timedelta(hours=2)):
        message = _refused(ask(client, short, signal_at()))

    assert "verlopen" in message


def test_the_header_counts_only_from_the_tls_terminator(
    client: FlaskClient, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    # a certificate is public: anyone could put it in a header; only the terminator's counts
    assert "mutual TLS" in _refused(ask(client, system_cert, signal_at(), remote="192.0.2.7"))
    # a terminator that says it could not verify the certificate is believed
    assert "niet geverifieerd" in _refused(
        ask(client, system_cert, signal_at(), **{"X-Client-Verify": "FAILED:x"})
    )
    assert ask(client, system_cert, signal_at(), **{"X-Client-Verify": "SUCCESS"}).status_code == 200
    # and without a certificate there is nothing to go on
    assert "mutual TLS" in _refused(ask(client, None, signal_at()))
    garbled = client.post(
        SIGNALS,
        json=signal_at(),
        headers={"X-Client-Cert": "geen-certificaat"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert "niet te lezen" in _refused(garbled)


def test_a_persons_token_cannot_ask_for_a_signal(
    client: FlaskClient, operator: Any, auth_headers: Any, plan: dict[str, Any]
) -> None:
    answer = client.post(SIGNALS, json=signal_at(), headers=auth_headers(operator))

    assert "alleen voor geregistreerde systemen" in _refused(answer)


def test_a_system_cannot_look_up(
    client: FlaskClient, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    reference = ask(client, system_cert, signal_at()).get_json()["reference"]
    sent = {"X-Client-Cert": quote(pem_of(system_cert).decode(), safe="")}

    for body in (
        {"incident_ref": INCIDENT, "address": KERKSTRAAT_14},
        {"incident_ref": INCIDENT, "signal_reference": reference},
    ):
        answer = client.post(LOOKUPS, json=body, headers=sent, environ_base={"REMOTE_ADDR": PROXY})
        assert answer.status_code == 401
        assert "Noë" not in answer.get_data(as_text=True)


def test_only_a_responder_organisation_may_register_a_system(
    ca: trustme.CA, register: Callable[..., Any], owner_org: Any
) -> None:
    result = register(issue(ca), org="Wijkteam Zuidoost")

    assert result.exit_code != 0
    assert "only a responder organisation" in result.output


# --- a person opens the signal --------------------------------------------------------------------


def open_signal(
    client: FlaskClient, headers: dict[str, str], reference: str, incident_ref: str = INCIDENT
) -> Any:
    return client.post(
        LOOKUPS, json={"incident_ref": incident_ref, "signal_reference": reference}, headers=headers
    )


def test_the_reference_opens_the_match_for_its_melding_within_12_hours(
    app: Flask,
    client: FlaskClient,
    system_cert: trustme.LeafCert,
    plan: dict[str, Any],
    operator: Any,
    auth_headers: Any,
    make_user: Any,
    make_org: Any,
) -> None:
    reference = ask(client, system_cert, signal_at()).get_json()["reference"]
    headers = auth_headers(operator)

    # another meldingnummer: refused (the reference is for that melding only)
    other_incident = open_signal(client, headers, reference, incident_ref="P-2026-0999")
    assert other_incident.status_code == 404
    assert "signal_reference" in other_incident.get_json()["error"]["fields"]
    # another control room: refused
    elsewhere = make_user(roles=("responder",), org=make_org("Meldkamer Zuid", kind="police", region="Zuid"))
    assert open_signal(client, auth_headers(elsewhere), reference).status_code == 404
    # an unknown reference: refused alike
    assert open_signal(client, headers, "S-0000-0000-0000").status_code == 404

    # the operator of the system's organisation, same melding (typed in lower case, spaces around)
    opened = open_signal(client, headers, f" {reference.lower()} ", incident_ref="p-2026-0412")
    assert opened.status_code == 200, opened.get_json()
    body = opened.get_json()
    assert [m["plan"]["id"] for m in body["matches"]] == [plan["id"]]
    assert body["matches"][0]["plan"]["persons"][0]["first_name"] == "Noë"
    # a lookup of its own, bound to the signal, with the signal's meldingnummer
    with app.app_context():
        lookup = database.session.get(Lookup, __import__("uuid").UUID(body["lookup_id"]))
        assert lookup is not None
        assert lookup.signal_id is not None
        assert lookup.incident_ref == INCIDENT
        assert lookup.query_kind == "address"
    refused = [r for r in audit_rows(app, "lookup") if r.outcome == "refused"]
    assert {r.detail["reason"] for r in refused} == {"other_incident", "not_own_signal"}

    # after 12 hours the reference opens nothing any more
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=12, minutes=1)):
        late = open_signal(client, auth_headers(operator), reference)
    assert late.status_code == 404


def test_the_lookup_page_opens_a_signal_from_a_link_of_the_system(
    app: Flask,
    client: FlaskClient,
    system_cert: trustme.LeafCert,
    plan: dict[str, Any],
    operator: Any,
    web_login: Any,
) -> None:
    from tests.conftest import csrf_from

    reference = ask(client, system_cert, signal_at()).get_json()["reference"]
    web_login(client, operator)

    # the system's link fills in the reference; nothing is shown yet, and a meldingnummer in
    # the URL is not taken (it never travels in one)
    filled = client.get(f"/raadplegen?melding={INCIDENT}&signaal={reference}")
    page = filled.get_data(as_text=True)
    assert filled.status_code == 200
    assert reference in page
    assert INCIDENT not in page
    assert plan["title"] not in page

    shown = client.post(
        "/raadplegen", data={"incident_ref": INCIDENT, "q": reference, "csrf_token": csrf_from(page)}
    )
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200, text
    assert "1 handelingskader gevonden" in text
    assert plan["title"] in text
    assert "signaal van het meldkamersysteem" in text

    other = client.post(
        "/raadplegen", data={"incident_ref": "P-2026-0999", "q": reference, "csrf_token": csrf_from(page)}
    )
    assert other.status_code == 404
    assert plan["title"] not in other.get_data(as_text=True)


# --- the plan's owners see it --------------------------------------------------------------------


def test_the_toegangslog_shows_a_signal_nobody_opened_and_then_the_opening(
    client: FlaskClient,
    system_cert: trustme.LeafCert,
    plan: dict[str, Any],
    registrant: Any,
    operator: Any,
    auth_headers: Any,
    web_login: Any,
) -> None:
    owner = auth_headers(registrant)
    reference = ask(client, system_cert, signal_at()).get_json()["reference"]
    ask(client, system_cert, signal_at(address={"postcode": "9401 AB", "house_number": 16}))  # no match

    log = client.get(f"{PLANS}/{plan['id']}/access-log", headers=owner).get_json()["items"]
    assert [(e["kind"], e["user"], e["organisation"], e["incident_ref"], e["query_kind"]) for e in log] == [
        ("signal", SYSTEM, "Meldkamer Noord", INCIDENT, "address")
    ]

    web_login(client, registrant)
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "signaal, geen inzage" in page
    assert SYSTEM in page

    # once an operator opened it, the opening is in the log instead, as the lookup it is
    assert open_signal(client, auth_headers(operator), reference).status_code == 200
    log = client.get(f"{PLANS}/{plan['id']}/access-log", headers=owner).get_json()["items"]
    assert [(e["kind"], e["user"], e["incident_ref"]) for e in log] == [
        ("lookup", operator.display_name, INCIDENT)
    ]
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "signaal, geen inzage" not in page


def test_the_openapi_document_describes_the_signal(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/signals"]["post"]

    assert operation["operationId"] == "createSignal"
    assert operation["security"] == []
    assert "mutual TLS" in operation["description"]
    assert "401" in operation["responses"]
    assert set(document["components"]["schemas"]["Signal"]["properties"]) == {
        "signal", "reference", "owner_organisations", "expires_at",
    }  # fmt: skip


def test_the_retention_purge_removes_the_meldingnummer_of_an_old_signal_without_a_plan(
    app: Flask, client: FlaskClient, system_cert: trustme.LeafCert, plan: dict[str, Any]
) -> None:
    from sqlalchemy import update

    assert (
        ask(client, system_cert, signal_at("P-2025-0001", phone="06-23456789")).get_json()["signal"] is False
    )
    assert ask(client, system_cert, signal_at("P-2026-0002")).get_json()["signal"] is True
    with app.app_context():
        database.session.execute(
            update(Signal)
            .where(Signal.incident_ref == "P-2025-0001")
            .values(performed_at=datetime.now(UTC) - timedelta(days=400))
        )
        database.commit()

    result = run_cli(app, "purge")

    assert result.exit_code == 0, result.output
    with app.app_context():
        refs = sorted(database.session.scalars(select(Signal.incident_ref)))
    # the signal without a plan of 13 months ago is anonymous; the one on a live plan keeps its number
    assert refs == ["", "P-2026-0002"]

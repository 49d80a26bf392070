"""A request's id: in the X-Request-ID answer header, in every JSON log line of the request, and
in the audit rows it wrote; and no name, address or phone number in any log line."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from registry.app import create_app
from registry.core import audit
from registry.core.db import db as database
from registry.core.logs import JsonFormatter
from registry.core.models import AuditEntry
from tests.conftest import close_app

SYNTHETIC = {"first_name": "Noor", "surname": "Testveen", "street": "Verzonnenstraat", "phone": "0612345678"}


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The captured records as the app's JSON log lines."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_request_id_from_the_answer_into_the_log_line_and_the_audit_row(
    app, client, create_plan, people, auth_headers, caplog
):
    """Given a plan
    When the control room looks its address up
    Then the answer carries an X-Request-ID, the JSON log line of that request carries the same
    id (with the route, never the path, and the status), and so does the lookup's audit row;
    the chain still verifies, with rows that have an id and rows that have none."""
    plan = create_plan()
    where = plan["addresses"][0]
    headers = auth_headers(people.responder)
    caplog.set_level(logging.INFO)

    response = client.post(
        "/api/v1/lookups",
        json={
            "incident_ref": "P-2026-0001",
            "address": {"postcode": where["postcode"], "house_number": where["house_number"]},
        },
        headers=headers,
    )

    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    mine = [line for line in _lines(caplog) if line.get("request_id") == request_id]
    assert [(line["logger"], line["route"], line["status"]) for line in mine] == [
        ("samenop.request", "/api/v1/lookups", 200)
    ]
    assert isinstance(mine[0]["duration_ms"], float)
    with app.app_context():
        row = database.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == response.get_json()["lookup_id"])
        ).one()
        assert row.action == "lookup"
        assert row.request_id == request_id
        # the id is covered by the hash: another id would not verify
        assert audit.chain_hash(row.prev_hash, row) == row.hash
        database.session.expunge(row)
        row.request_id = "0" * 32
        assert audit.chain_hash(row.prev_hash, row) != row.hash
        # rows without an id (written outside a request) verify as they always did
        audit.record(database.session, "purge", "success", username="system", object_type="retention")
        database.commit()
        assert (
            database.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first().request_id
            is None
        )
        assert audit.verify(database.session).ok


def test_every_request_gets_an_id_of_its_own(client):
    """Two requests, two ids; one sent by a client (no trusted proxy configured) is not taken."""
    first = client.get("/health/live")
    second = client.get("/health/live", headers={"X-Request-ID": "chosen-by-the-client-1234"})
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert second.headers["X-Request-ID"] != "chosen-by-the-client-1234"


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ("a3f9c2d1e4b5a6978812345678901234", True),  # nginx's $request_id
        ("6f1c2a34-9b1d-4c8e-9f00-123456789abc", True),  # a load balancer's UUID
        ("short", False),
        ("x" * 65, False),
        ("forged id with spaces INFO", False),
        ('{"json": "injection"}', False),
    ],
)
def test_the_trusted_proxy_may_name_the_request(app_config, given, taken):
    """Given one trusted proxy (SAMENOP_TRUSTED_PROXIES=1), which sets X-Request-ID (nginx:
    $request_id)
    When it names a request with a sane id
    Then the app uses that id; an insane one (too short or long, a line break, quotes) is
    replaced by one of the app's own."""
    app = create_app({**app_config, "TRUSTED_PROXIES": "1"})
    try:
        response = app.test_client().get(
            "/health/live", headers={"X-Request-ID": given, "X-Forwarded-For": "192.0.2.1"}
        )
    finally:
        close_app(app)
    assert (response.headers["X-Request-ID"] == given) is taken
    assert " " not in response.headers["X-Request-ID"]


def test_no_personal_data_in_the_log_lines_of_lookups(app, client, create_plan, people, auth_headers, caplog):
    """Given a plan of a synthetic family
    When the control room looks it up by name, by address as typed, by phone, and sends a lookup
    the app refuses (a meldingnummer it does not accept) and one that fails validation
    Then the log lines of those requests (every level) hold the route and status, and nowhere the
    name, the street or the phone number."""
    create_plan()
    headers = auth_headers(people.responder)
    caplog.set_level(logging.DEBUG)
    bodies = [
        {"person": {"name": f"{SYNTHETIC['first_name']} {SYNTHETIC['surname']}", "birth_date": "1990-01-02"}},
        {"person": {"name": f"{SYNTHETIC['first_name']} {SYNTHETIC['surname']}"}},
        {"address_text": f"{SYNTHETIC['street']} 100 Testdorp"},
        {"phone": SYNTHETIC["phone"]},
    ]
    statuses = []
    for body in bodies:
        response = client.post(
            "/api/v1/lookups", json={"incident_ref": "P-2026-0001", **body}, headers=headers
        )
        statuses.append(response.status_code)
    # a body the schema refuses, with the name in it
    refused = client.post(
        "/api/v1/lookups",
        json={
            "incident_ref": "P-2026-0001",
            "person": {"name": SYNTHETIC["surname"], "birth_date": "gisteren"},
        },
        headers=headers,
    )
    assert statuses == [200, 200, 200, 200]
    assert refused.status_code == 422

    lines = [json.dumps(line) for line in _lines(caplog)]
    requests = [line for line in _lines(caplog) if line.get("route") == "/api/v1/lookups"]
    assert [line["status"] for line in requests] == [200, 200, 200, 200, 422]
    for text in lines:
        for value in (*SYNTHETIC.values(), "06-12345678", "9401"):
            assert value.lower() not in text.lower(), text


def test_text_log_format_leaves_python_logging_alone(app_config, caplog):
    """SAMENOP_LOG_FORMAT=text: no JSON handler on the root logger (an embedding server's own
    logging stays), while the records still carry the request id."""
    app = create_app({**app_config, "LOG_FORMAT": "text"})
    try:
        assert not any(getattr(h, "_samenop_json", False) for h in logging.getLogger().handlers)
        caplog.set_level(logging.INFO)
        response = app.test_client().get("/health/live")
        assert any(getattr(r, "request_id", None) == response.headers["X-Request-ID"] for r in caplog.records)
    finally:
        close_app(app)  # the next app of this process (json, the default) installs the handler again

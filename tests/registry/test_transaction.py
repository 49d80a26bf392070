"""One commit per request (registry.core.db.Database.finish_request): a request that succeeds writes all
it did; one that fails (an exception, or an answer of 400 and up) writes only what it kept, such as
the audit row of a refusal; nothing half-written either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, abort
from sqlalchemy import func, select

from registry.core import audit
from registry.core.db import db as database
from registry.core.db import keep
from registry.core.models import AuditEntry, ClosedDay


def _act(kind: str) -> Callable[[], Any]:
    """A view that writes a fact (a closed day) and an audit row, then ends as `kind` says."""

    def view() -> Any:
        from datetime import date

        session = database.session
        session.add(ClosedDay(day_on=date(2026, 12, 24), reason="Synthetisch"))
        audit.record(session, "demo_create", "success", username="tester")
        keep(session, lambda kept: audit.record(kept, "page_request", "refused", username="tester"))
        if kind == "raise":
            raise RuntimeError("halfway")
        if kind == "abort":
            abort(404)
        if kind == "answer_422":
            return "Vul het veld in.", 422
        return "ok", 200

    view.__name__ = f"act_{kind}"
    return view


@pytest.fixture
def acting_app(app: Flask) -> Flask:
    for kind in ("succeed", "raise", "abort", "answer_422"):
        app.add_url_rule(f"/_test/{kind}", view_func=_act(kind), methods=["POST"])
    # CSRF applies to every form post; these test-only routes are not forms
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _written(app: Flask) -> tuple[int, list[str]]:
    with app.app_context():
        days = database.session.scalar(select(func.count()).select_from(ClosedDay)) or 0
        actions = list(
            database.session.scalars(
                select(AuditEntry.action).where(AuditEntry.username == "tester").order_by(AuditEntry.id)
            )
        )
        return days, actions


def test_a_request_that_succeeds_writes_the_fact_its_audit_row_and_what_it_kept(acting_app: Flask) -> None:
    response = acting_app.test_client().post("/_test/succeed")

    assert response.status_code == 200
    assert _written(acting_app) == (1, ["demo_create", "page_request"])


@pytest.mark.parametrize(("kind", "status"), [("raise", 500), ("abort", 404), ("answer_422", 422)])
def test_a_request_that_fails_writes_only_what_it_kept(acting_app: Flask, kind: str, status: int) -> None:
    # Given a request that wrote a fact and its audit row, and kept a refusal's audit row
    # When it fails halfway (an exception), is refused (abort) or answers a form's errors
    response = acting_app.test_client().post(f"/_test/{kind}")

    # Then neither the fact nor its audit row is stored, and the refusal's row is
    assert response.status_code == status
    assert _written(acting_app) == (0, ["page_request"])


def test_the_audit_chain_holds_after_failed_requests(acting_app: Flask) -> None:
    client = acting_app.test_client()
    for kind in ("raise", "succeed", "answer_422", "abort"):
        client.post(f"/_test/{kind}")

    with acting_app.app_context():
        assert audit.verify(database.session).ok


# --- a read-only transaction begun ahead of the view (Database.begin_reading) ------------------


def _reads_ahead(kind: str) -> Callable[[], Any]:
    """A view whose request began reading ahead of it (as the token check of a lookup does), that
    keeps an audit row and then reads and writes, answers without reading, or is refused."""

    def view() -> Any:
        from datetime import date

        session = database.begin_reading()
        session.scalar(select(func.count()).select_from(ClosedDay))
        keep(session, lambda kept: audit.record(kept, "page_request", "success", username="tester"))
        if kind == "refused":
            abort(403)
        if kind == "read_then_write":
            with database.reading():
                session.scalar(select(func.count()).select_from(AuditEntry))
            session.add(ClosedDay(day_on=date(2026, 12, 24), reason="Synthetisch"))
            audit.record(session, "demo_create", "success", username="tester")
        return "ok", 200

    view.__name__ = f"reads_ahead_{kind}"
    return view


@pytest.fixture
def transactions(app: Flask) -> list[str]:
    """Each transaction begun, as `read` (no write lock on SQLite) or `write` (BEGIN IMMEDIATE)."""
    from sqlalchemy import event

    from registry.core import db as db_module

    for kind in ("read_then_write", "answer_only", "refused"):
        app.add_url_rule(f"/_test/ahead/{kind}", view_func=_reads_ahead(kind), methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    begun: list[str] = []
    event.listen(
        app.extensions["samenop.engine"],
        "begin",
        lambda _connection: begun.append("read" if db_module._READING.get() else "write"),
    )
    return begun


@pytest.mark.parametrize(
    ("kind", "status", "written"),
    [
        # the view's reading() stretch continues the transaction begun ahead and ends it
        ("read_then_write", 200, (1, ["demo_create", "page_request"])),
        # a view that never reads again: the transaction ends before anything is written
        ("answer_only", 200, (0, ["page_request"])),
        # refused: the rollback ends it
        ("refused", 403, (0, ["page_request"])),
    ],
)
def test_a_transaction_begun_reading_ahead_is_one_read_and_never_takes_a_write(
    app: Flask, transactions: list[str], kind: str, status: int, written: tuple[int, list[str]]
) -> None:
    response = app.test_client().post(f"/_test/ahead/{kind}")

    assert response.status_code == status
    assert transactions == ["read", "write"]
    assert _written(app) == written
    with app.app_context():
        assert audit.verify(database.session).ok

"""GET /health: the load balancer's and the operator's check, naming the part that failed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import insert

from lookup import search
from registry.app import create_app
from registry.core.db import db as database
from registry.core.models import PlanChange
from registry.core.timeutil import utcnow
from tests.conftest import close_app


def test_healthy(client, create_plan):
    """Given a running registry with a plan, its index up to date
    When the load balancer asks /health, without credentials
    Then 200, both parts healthy, the index behind by nothing; never stored by a cache, and no
    personal data in it."""
    plan = create_plan()
    search.apply_feed(client.application)  # the follower thread's work, done now

    response = client.get("/health")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert body["parts"]["database"]["ok"] is True
    assert body["parts"]["index"] == {"ok": True, "behind": 0, "lag_seconds": 0.0, "max_lag_seconds": 60.0}
    text = response.get_data(as_text=True)
    for personal in (plan["addresses"][0]["street"], plan["persons"][0]["surname"], plan["id"]):
        assert personal not in text


def test_index_behind_the_change_feed(app, client):
    """Given a change in the feed, committed ten minutes ago, that this server's index has not
    applied (its follower stopped, say)
    When /health is asked
    Then 503, the index named as the failed part with how many changes it is behind and how old
    the oldest is, the database still healthy
    When the index has caught up
    Then 200 again."""
    with app.app_context():
        database.session.execute(
            insert(PlanChange).values(plan_id=uuid.uuid4(), changed_at=utcnow() - timedelta(minutes=10))
        )
        database.commit()  # a plain insert: no signal wakes the follower

    response = client.get("/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing"
    assert body["failed"] == ["index"]
    assert body["parts"]["database"]["ok"] is True
    index = body["parts"]["index"]
    assert index["ok"] is False
    assert index["behind"] == 1
    assert 600 <= index["lag_seconds"] < 700

    search.apply_feed(app)
    assert client.get("/health").status_code == 200


def test_a_lag_within_the_setting_is_healthy(app_config):
    """Given SAMENOP_INDEX_MAX_LAG_SECONDS=900 and a change ten minutes old not applied yet
    Then /health is 200, and still says the index is behind."""
    app = create_app({**app_config, "INDEX_MAX_LAG_SECONDS": "900"})
    try:
        with app.app_context():
            database.session.execute(
                insert(PlanChange).values(plan_id=uuid.uuid4(), changed_at=utcnow() - timedelta(minutes=10))
            )
            database.commit()
        response = app.test_client().get("/health")
        assert response.status_code == 200
        assert response.get_json()["parts"]["index"]["behind"] == 1
    finally:
        close_app(app)


def test_database_down(app_config):
    """Given an app server whose database does not answer (nothing listens where it points)
    When /health is asked
    Then 503 naming the database; the index, which needs the database to say how far behind it
    is, is reported as failing for that reason, not asked."""
    app = create_app(
        {**app_config, "DATABASE_URL": "postgresql+psycopg://samenop@127.0.0.1:1/samenop?connect_timeout=2"}
    )
    try:
        response = app.test_client().get("/health")
    finally:
        close_app(app)

    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["database", "index"]
    assert body["parts"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["parts"]["index"] == {"ok": False, "error": "database unavailable"}


def test_live_needs_nothing(app_config):
    """GET /health/live answers while the database is down: the process runs (the floor the
    benchmarks measure against)."""
    app = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://samenop@127.0.0.1:1/samenop"})
    try:
        response = app.test_client().get("/health/live")
    finally:
        close_app(app)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"

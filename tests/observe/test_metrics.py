"""GET /metrics: what Prometheus scrapes, and who may."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.core.config import ConfigError
from registry.core.timeutil import utcnow
from tests.conftest import close_app
from tests.feedback.conftest import report_body
from tests.observe.conftest import sample, scrape

LOOKUPS = {"route": "/api/v1/lookups", "method": "POST", "status": "200"}
REPORTS = {"route": "/api/v1/reports", "method": "POST", "status": "201"}
ADDRESS_MATCH = {"kind": "address", "outcome": "match"}


def test_a_lookup_and_its_report_are_counted(client, create_plan, look_up, post_report):
    """Given a plan, and the figures before
    When the control room looks its address up
    Then /metrics counts one more POST on the lookups route with status 200, the lookup's time is
    in the histogram of exact address lookups, and the database counts one lookup of the last
    day that showed a plan and has no report
    When the report on it is sent
    Then the reports route counts one 201, and no lookup is left without a report."""
    plan = create_plan()
    before = scrape(client)

    lookup = look_up(plan)
    after_lookup = scrape(client)

    assert sample(after_lookup, "samenop_http_requests_total", **LOOKUPS) == (
        sample(before, "samenop_http_requests_total", **LOOKUPS) + 1
    )
    count = "samenop_lookup_duration_seconds_count"
    assert sample(after_lookup, count, **ADDRESS_MATCH) == sample(before, count, **ADDRESS_MATCH) + 1
    # the lookup's time fell in a bucket: the +Inf bucket counts it, and the sum grew
    inf = {**ADDRESS_MATCH, "le": "+Inf"}
    assert (
        sample(after_lookup, "samenop_lookup_duration_seconds_bucket", **inf)
        == sample(before, "samenop_lookup_duration_seconds_bucket", **inf) + 1
    )
    assert sample(after_lookup, "samenop_lookup_duration_seconds_sum", **ADDRESS_MATCH) > sample(
        before, "samenop_lookup_duration_seconds_sum", **ADDRESS_MATCH
    )
    assert sample(after_lookup, "samenop_http_request_duration_seconds_count", route="/api/v1/lookups") >= 1
    assert sample(after_lookup, "samenop_lookups_showing_plan_24h") == 1
    assert sample(after_lookup, "samenop_lookups_without_report_24h") == 1
    # the index of this server, and the database, are healthy
    assert sample(after_lookup, "samenop_health_ok", part="database") == 1
    assert sample(after_lookup, "samenop_health_ok", part="index") == 1
    assert ("samenop_index_lag_seconds", frozenset()) in after_lookup

    response = post_report(report_body(lookup))
    assert response.status_code == 201, response.get_data(as_text=True)
    after_report = scrape(client)

    assert sample(after_report, "samenop_http_requests_total", **REPORTS) == (
        sample(before, "samenop_http_requests_total", **REPORTS) + 1
    )
    assert sample(after_report, "samenop_lookups_showing_plan_24h") == 1
    assert sample(after_report, "samenop_lookups_without_report_24h") == 0


def test_routes_are_rules_never_paths(client, create_plan, people, auth_headers):
    """Given a plan
    When its own page of the API is asked for by id, and an unknown path is asked for
    Then the counts name the route's rule (with <plan_id>), never the plan's id, and every unknown
    path is counted under one label."""
    plan = create_plan()
    before = scrape(client)
    assert (
        client.get(f"/api/v1/plans/{plan['id']}", headers=auth_headers(people.registrant)).status_code == 200
    )
    assert client.get("/bestaat-niet/9401AB").status_code == 404

    text = client.get("/metrics").get_data(as_text=True)
    assert plan["id"] not in text
    assert "9401AB" not in text
    after = scrape(client)
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert sample(after, "samenop_http_requests_total", **unmatched) == (
        sample(before, "samenop_http_requests_total", **unmatched) + 1
    )
    rules = {dict(labels).get("route") for (name, labels) in after if name == "samenop_http_requests_total"}
    assert any(rule and "<" in rule and rule.startswith("/api/v1/plans/") for rule in rules)


@pytest.mark.parametrize(
    ("what", "kwargs"),
    [
        ("another machine", {"environ_base": {"REMOTE_ADDR": "192.0.2.10"}}),
        # nginx on the same machine connects from loopback for anyone: without SAMENOP_TRUSTED_PROXIES
        # a request that came through a proxy is not a local one
        ("anyone through a proxy", {"headers": {"X-Forwarded-For": "198.51.100.7"}}),
        (
            "a wrong secret",
            {"environ_base": {"REMOTE_ADDR": "192.0.2.10"}, "headers": {"Authorization": "Bearer x"}},
        ),
    ],
)
def test_metrics_are_refused_to_others(client, what, kwargs):
    """Given the default settings (loopback only, no secret)
    When another machine, a client through a proxy, or a wrong secret asks for /metrics
    Then the answer is 403 and holds no figure."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 403, what
    assert "samenop_" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_metrics_with_the_secret_or_from_an_allowed_network(app_config):
    """Given SAMENOP_METRICS_TOKEN and SAMENOP_METRICS_ALLOW
    When the monitoring server asks from another machine with the secret, or from the network
    Then it gets the figures; a machine outside the network without the secret does not."""
    from registry.app import create_app

    secret = "metrics-secret-" + "m" * 32
    app = create_app({**app_config, "METRICS_TOKEN": secret, "METRICS_ALLOW": "10.1.0.0/16, 192.0.2.99"})
    try:
        client = app.test_client()
        outside = {"REMOTE_ADDR": "192.0.2.10"}
        assert client.get("/metrics", environ_base=outside).status_code == 403
        scrape(client, environ_base=outside, headers={"Authorization": f"Bearer {secret}"})
        scrape(client, environ_base={"REMOTE_ADDR": "10.1.200.3"})
        scrape(client, environ_base={"REMOTE_ADDR": "192.0.2.99"})
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("METRICS_TOKEN", "short", "SAMENOP_METRICS_TOKEN"),
        ("METRICS_ALLOW", "10.0.0.0/8, not-a-network", "SAMENOP_METRICS_ALLOW"),
        ("INDEX_MAX_LAG_SECONDS", "0", "SAMENOP_INDEX_MAX_LAG_SECONDS"),
        ("LOG_FORMAT", "xml", "SAMENOP_LOG_FORMAT"),
        ("LOG_LEVEL", "LOUD", "SAMENOP_LOG_LEVEL"),
    ],
)
def test_unusable_settings_stop_the_app_at_start(app_config, setting, value, variable):
    from registry.app import create_app

    with pytest.raises(ConfigError, match=variable):
        create_app({**app_config, setting: value})


def test_the_outbox_backlog_and_the_jobs_last_runs_are_reported(app, client):
    """Given two messages waiting in the outbox (one of them given up on) and the worker's last
    runs of two jobs, one failed
    When /metrics is scraped
    Then the backlog, the age of its oldest message and each job's last run are there."""
    from registry.core.db import db as database
    from registry.core.models import JobRun
    from registry.ops import outbox

    scraped = scrape(client)
    assert sample(scraped, "samenop_outbox_pending") == 0
    assert sample(scraped, "samenop_outbox_oldest_age_seconds") == 0
    now = utcnow()
    with app.app_context():
        outbox.add_email(database.session, "test:1", "wacht@example.test", "Onderwerp", "Tekst")
        failed = outbox.add_email(database.session, "test:2", "weg@example.test", "Onderwerp", "Tekst")
        row = database.session.get(outbox.OutboxMessage, failed)
        row.status = "failed"
        row.created_at = now - timedelta(minutes=10)
        database.session.add_all(
            [
                JobRun(
                    name="digest", outcome="failed", finished_at=now, last_success_at=now - timedelta(days=1)
                ),
                JobRun(name="purge", outcome="success", finished_at=now, last_success_at=now),
            ]
        )
        database.commit()
    scraped = scrape(client)
    assert sample(scraped, "samenop_outbox_pending") == 1
    assert sample(scraped, "samenop_outbox_failed") == 1
    assert sample(scraped, "samenop_outbox_oldest_age_seconds") >= 0
    assert sample(scraped, "samenop_job_last_run_succeeded", job="digest") == 0
    assert sample(scraped, "samenop_job_last_run_succeeded", job="purge") == 1
    assert sample(scraped, "samenop_job_last_success_timestamp_seconds", job="digest") == pytest.approx(
        (now - timedelta(days=1)).timestamp()
    )

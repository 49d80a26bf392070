"""The served app (`samenop serve`: gunicorn, two workers): /metrics adds up every worker's counts
when PROMETHEUS_MULTIPROC_DIR is set, and the log file is JSON lines with the request ids and
without the looked-up family."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.reliability.conftest import Http, LiveServer, seed_plans

ENOUGH = 200  # requests at most, until both workers have answered some


def test_counts_of_every_worker_and_json_log_lines(database_url: str, tmp_path: Path) -> None:
    """Given `samenop serve` with two workers and PROMETHEUS_MULTIPROC_DIR (holding a stale file
    of an earlier run, which the start removes)
    When lookups by name, each on a connection of its own, reach both workers
    Then one scrape counts every one of them, whichever worker answers the scrape; the log file
    is JSON lines, one per request, with the id the answer carried; and nowhere in it is the
    family's name, street or phone number."""
    counts = tmp_path / "prometheus"
    counts.mkdir()
    (counts / "counter_999999.db").write_bytes(b"left by an earlier run")
    server = LiveServer(
        database_url, tmp_path, env_overrides={"PROMETHEUS_MULTIPROC_DIR": str(counts)}, workers=2
    )
    try:
        server.provision()
        server.start()
        assert not (counts / "counter_999999.db").exists()
        token = server.token()
        with server.client(token) as http:
            plan = seed_plans(http, 1)[0]
        query = {
            "incident_ref": "P-2026-0001",
            "person": {"name": f"{plan.first_name} {plan.surname}", "birth_date": plan.birth_date},
        }
        ids: list[str] = []
        while len(ids) < ENOUGH:
            with server.client(token) as http:  # a new connection: any worker may take it
                answer = http.request("POST", "/api/v1/lookups", query)
            assert answer.status == 200, answer.body
            assert [match["plan"]["id"] for match in answer.body["matches"]] == [plan.id]
            ids.append(answer.headers["x-request-id"])
            if len(ids) >= 10 and len(_workers_of(server, ids)) >= 2:
                break
        assert len(_workers_of(server, ids)) >= 2, "one worker answered every lookup"

        with Http(server.port) as http:
            scraped = http.request("GET", "/metrics")
        assert scraped.status == 200
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(scraped.body)
            for sample in family.samples
        }
        lookups = frozenset({"route": "/api/v1/lookups", "method": "POST", "status": "200"}.items())
        assert samples[("samenop_http_requests_total", lookups)] == len(ids)
        by_name = frozenset({"kind": "person", "outcome": "match"}.items())
        assert samples[("samenop_lookup_duration_seconds_count", by_name)] == len(ids)
    finally:
        server.kill()

    log = server.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {line["request_id"] for line in lines if line.get("route") == "/api/v1/lookups"} == set(ids)
    for personal in (plan.surname, plan.street, plan.phone, plan.phone.replace("-", ""), plan.postcode):
        assert personal.lower() not in log.lower(), personal


def _workers_of(server: LiveServer, ids: list[str]) -> set[int]:
    """The processes whose log lines carry these request ids."""
    wanted = set(ids)
    found = set()
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            parsed = json.loads(line)
            if parsed.get("request_id") in wanted:
                found.add(parsed["pid"])
    return found

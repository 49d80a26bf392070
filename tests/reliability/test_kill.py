"""The server killed with SIGKILL again and again while it takes writes: nothing acknowledged
is lost, nothing is stored twice, and the database stays consistent. Loopback only, bounded.

Run: `pytest tests/reliability/test_kill.py -s --db=sqlite|postgresql` prints the figures; add
`SAMENOP_RELIABILITY_LONG=1` for the issue's 20 kills."""

from __future__ import annotations

import http.client as httplib
import random
import sqlite3
import threading
import time
from collections import Counter
from typing import Any

from sqlalchemy.engine import Engine, make_url

from tests.registry.plan_data import address, plan_body
from tests.reliability.conftest import (
    Http,
    LiveServer,
    SeededPlan,
    audit_verify,
    new_key,
    report_body,
    rows,
    seed_plans,
    show_to_control_room,
)

REPORT_WRITERS = 3
PLAN_WRITERS = 1
# acknowledged writes between two kills, so that each kill falls in a stream of writes
WRITES_BETWEEN_KILLS = 30
# every writer stops by itself after this many attempts, whatever happens to the server
MAX_ATTEMPTS = 200_000


def _plain(value: Any) -> str:
    """A UUID as the database hands it back (SQLite: 32 hex digits; PostgreSQL: a UUID)."""
    return str(value).replace("-", "").lower()


class Writers:
    """Threads that write as fast as the server answers and keep the acknowledged ids.

    A report that got no answer (the server died) is sent again with the same
    Idempotency-Key until it is acknowledged, as a control room's client would; a plan that got
    no answer is given up (it may or may not be stored: it was never acknowledged)."""

    def __init__(self, server: LiveServer, token: str, plans: list[SeededPlan]) -> None:
        self.server = server
        self.token = token
        self.plans = plans
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.reports: dict[str, str] = {}  # Idempotency-Key -> report id
        self.replayed = 0
        self.plan_ids: list[str] = []
        self.client_errors = 0
        self.problems: list[str] = []
        self.threads = [
            threading.Thread(target=self._reports, args=(n,), daemon=True) for n in range(REPORT_WRITERS)
        ] + [threading.Thread(target=self._plans, args=(n,), daemon=True) for n in range(PLAN_WRITERS)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in self.threads), "a writer did not stop"

    def _send(self, client: Http, path: str, body: Any, headers: dict[str, str]) -> Any:
        """One attempt; None when the server was not there (refused, reset, cut off)."""
        try:
            return client.request("POST", path, body, headers)
        except (OSError, httplib.HTTPException):
            client.close()
            client.port = self.server.port  # it comes back on another port
            with self.lock:
                self.client_errors += 1
            time.sleep(0.1)
            return None

    def _reports(self, number: int) -> None:
        http = Http(self.server.port, self.token, timeout=10)
        sent = 0
        key, body = new_key(), report_body(self.plans[number % len(self.plans)], f"KILL-{number}-0")
        for attempt in range(MAX_ATTEMPTS):
            if self.stop.is_set():
                break
            answer = self._send(http, "/api/v1/reports", body, {"Idempotency-Key": key})
            if answer is None:
                continue  # the same key and body again: a retry must not store it twice
            with self.lock:
                if answer.status == 201:
                    self.reports[key] = answer.body["id"]
                    self.replayed += bool(answer.headers.get("idempotent-replayed"))
                else:
                    self.problems.append(
                        f"report attempt {attempt}: {answer.status} {str(answer.body)[:200]}"
                    )
            sent += 1
            key = new_key()
            body = report_body(self.plans[(number + sent) % len(self.plans)], f"KILL-{number}-{sent}")
        http.close()

    def _plans(self, number: int) -> None:
        http = Http(self.server.port, self.token, timeout=10)
        for attempt in range(MAX_ATTEMPTS):
            if self.stop.is_set():
                break
            body = plan_body(
                title=f"Gezin Doorschrijven {number}-{attempt}",
                addresses=[
                    address(
                        postcode="8800 AA",
                        house_number=1 + attempt % 9999,
                        street="Crashlaan",
                        city="Herstad",
                    )
                ],
            )
            answer = self._send(http, "/api/v1/plans", body, {})
            if answer is None:
                continue
            with self.lock:
                if answer.status == 201:
                    self.plan_ids.append(answer.body["id"])
                else:
                    self.problems.append(f"plan attempt {attempt}: {answer.status} {str(answer.body)[:200]}")
        http.close()

    def wait_for_writes(self, count: int, timeout: float) -> None:
        """Until `count` more writes were acknowledged (the server is up and taking them)."""
        reports, plans = self.acknowledged()
        target = len(reports) + len(plans) + count
        deadline = time.monotonic() + timeout
        while True:
            reports, plans = self.acknowledged()
            if len(reports) + len(plans) >= target:
                return
            assert time.monotonic() < deadline, (
                f"fewer than {count} writes in {timeout} s: {self.problems[:3]}"
            )
            time.sleep(0.05)

    def acknowledged(self) -> tuple[dict[str, str], list[str]]:
        with self.lock:
            return dict(self.reports), list(self.plan_ids)


def _integrity(db_kind: str, database_url: str, engine: Engine) -> str:
    """With the server down: SQLite's own checks; on both, every stored report and plan has its
    one audit row (a write and its audit row commit together, or neither does)."""
    if db_kind == "sqlite":
        path = make_url(database_url).database
        assert path
        with sqlite3.connect(path) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchall()
            foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        conn.close()
        assert integrity == [("ok",)], integrity
        assert foreign == [], foreign[:5]
    for table, action in (("reports", "report_create"), ("plans", "plan_create")):
        stored = {_plain(row_id) for (row_id,) in rows(engine, f"SELECT id FROM {table}")}  # noqa: S608
        audited = Counter(
            _plain(object_id)
            for (object_id,) in rows(
                # the row of the write itself (a retry answered with the stored report has its own)
                engine,
                "SELECT object_id FROM audit_entries WHERE action = :action AND outcome = 'success'",
                action=action,
            )
        )
        assert set(audited) == stored, f"{table} and their audit rows differ"
        assert max(audited.values(), default=1) == 1, f"a {table} row audited twice"
    return "integrity_check ok" if db_kind == "sqlite" else "consistency ok"


def _missing(engine: Engine, reports: dict[str, str], plan_ids: list[str]) -> list[str]:
    stored_reports = {
        key: _plain(row_id) for key, row_id in rows(engine, "SELECT idempotency_key, id FROM reports")
    }
    stored_plans = {_plain(row_id) for (row_id,) in rows(engine, "SELECT id FROM plans")}
    lost = [
        f"report {key}" for key, report_id in reports.items() if stored_reports.get(key) != _plain(report_id)
    ]
    return lost + [f"plan {plan_id}" for plan_id in plan_ids if _plain(plan_id) not in stored_plans]


def test_sigkill_during_sustained_writes_loses_no_acknowledged_write(
    live_server, db_engine, db_kind, database_url, long_run
):
    """3 threads POST reports (each retried with its Idempotency-Key until acknowledged) and one
    POSTs plans, while the whole server (gunicorn master and workers) is killed with SIGKILL
    5 times by default, 20 in the long run (SAMENOP_RELIABILITY_LONG=1), each time after 30 more
    acknowledged writes (plus a random fraction of a second), and restarted each time.
    After each kill, on the state it left: SQLite's integrity_check and foreign_key_check
    (PostgreSQL: the consistency query: every report and plan has exactly its one audit row)
    and `samenop audit verify`; after each restart: every write that got a 2xx is present.
    At the end: no report stored twice, and the newest plans are found by free text (the search
    index survived the kills). Client errors while the server is down are expected and only
    counted."""
    kills = 20 if long_run else 5
    token = live_server.token()
    with live_server.client(token) as setup:
        plans = seed_plans(setup, 3)
        show_to_control_room(setup, plans)
    checks: list[str] = []
    downtime: list[float] = []
    started = time.monotonic()
    with Writers(live_server, token, plans) as writers:
        for cycle in range(kills):
            writers.wait_for_writes(WRITES_BETWEEN_KILLS, timeout=60)
            time.sleep(random.uniform(0, 0.5))  # somewhere in the stream of writes
            killed_at = time.monotonic()
            live_server.kill()
            checks.append(_integrity(db_kind, database_url, db_engine))
            # on the state the kill left, before new writes come in (verify reads the chain
            # head and its rows in two statements: under concurrent appends they could differ)
            verified = audit_verify(live_server)
            live_server.start()
            downtime.append(time.monotonic() - killed_at)
            reports, plan_ids = writers.acknowledged()
            missing = _missing(db_engine, reports, plan_ids)
            assert missing == [], f"after kill {cycle + 1}: acknowledged writes lost: {missing[:5]}"
            print(
                f"[kill {cycle + 1}/{kills}] {len(reports)} reports and {len(plan_ids)} plans acknowledged, "
                f"all present; {checks[-1]}; {verified}; down {downtime[-1]:.1f} s"
            )
        writers.wait_for_writes(WRITES_BETWEEN_KILLS, timeout=60)  # the last restart takes writes too
    reports, plan_ids = writers.acknowledged()
    elapsed = time.monotonic() - started
    assert _missing(db_engine, reports, plan_ids) == []
    keys = Counter(key for (key,) in rows(db_engine, "SELECT idempotency_key FROM reports"))
    # the index followed the plans through every kill: the newest plans are found by free text
    finder = live_server.client(token)
    newest = plan_ids[-3:]
    for plan_id in newest:
        plan = finder.request("GET", f"/api/v1/plans/{plan_id}").body
        where = plan["addresses"][0]
        found = finder.request(
            "POST",
            "/api/v1/lookups",
            {"incident_ref": "NA-KILL-1", "address_text": f"Crashlaan {where['house_number']} Herstad"},
        )
        assert found.status == 200, found.body
        assert plan_id in [match["plan"]["id"] for match in found.body["matches"]]
    finder.close()
    print(
        f"\n[kill] {kills} SIGKILLs in {elapsed:.0f} s: {len(reports)} reports and {len(plan_ids)} plans "
        f"acknowledged, all present; {writers.replayed} acknowledged as a replay after a lost answer; "
        f"{writers.client_errors} client errors while the server was down; "
        f"restart {min(downtime):.1f}-{max(downtime):.1f} s"
    )
    print(
        f"[kill] rows: {sum(keys.values())} reports, {len(keys)} distinct keys; {checks[-1]} after every kill"
    )
    assert writers.problems == []
    assert max(keys.values()) == 1, "a report stored twice"
    assert live_server.server_errors() == []

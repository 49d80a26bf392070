"""Load under gunicorn with several workers: concurrent lookups, concurrent writers, and one
Idempotency-Key sent many times at once. Loopback only, bounded in time and count.

Run: `pytest tests/reliability -s --db=sqlite|postgresql` prints the figures; add
`SAMENOP_RELIABILITY_LONG=1` for the issue's full durations and counts."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from registry.core import audit
from tests.reliability.conftest import (
    Answer,
    Http,
    SeededPlan,
    audit_verify,
    latency_line,
    new_key,
    report_body,
    rows,
    run_threads,
    scalar,
    seed_plans,
    show_to_control_room,
)

LOOKUP_CLIENTS = 50
WRITERS = 20
PARALLEL_RETRIES = 10


def _queries(plans: list[SeededPlan]) -> list[tuple[str, dict[str, Any], str | None]]:
    """(kind, lookup body without incident_ref, the plan it must find or None for no match)."""
    queries: list[tuple[str, dict[str, Any], str | None]] = []
    for plan in plans:
        queries += [
            ("address", {"address": {"postcode": plan.postcode, "house_number": plan.house_number}}, plan.id),
            ("address_text", {"address_text": f"{plan.street} {plan.house_number} {plan.city}"}, plan.id),
            (
                "person",
                {"person": {"name": f"{plan.first_name} {plan.surname}", "birth_date": plan.birth_date}},
                plan.id,
            ),
            ("phone", {"phone": plan.phone}, plan.id),
        ]
    # lookups that find nothing are answered and logged just the same
    queries.append(("address", {"address": {"postcode": "1011 AB", "house_number": 999}}, None))
    queries.append(("phone", {"phone": "06-39999999"}, None))
    return queries


def _lookup_problem(answer: Answer, expected: str | None) -> str | None:
    """Why this answer is not a correct lookup answer (None when it is)."""
    if answer.status != 200:
        return f"status {answer.status}: {str(answer.body)[:200]}"
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("matches"), list):
        return f"not a lookup body: {str(body)[:200]}"
    try:
        uuid.UUID(str(body.get("lookup_id")))
    except ValueError:
        return f"no lookup_id: {str(body)[:200]}"
    if not body.get("performed_at"):
        return "no performed_at"
    found = []
    for match in body["matches"]:
        if not {"on", "quality", "score"} <= set(match.get("match", {})) or "id" not in match.get("plan", {}):
            return f"malformed match: {str(match)[:200]}"
        found.append(match["plan"]["id"])
    if expected is None and found:
        return f"expected no match, got {found}"
    if expected is not None and expected not in found:
        return f"expected plan {expected}, got {found}"
    return None


def test_fifty_concurrent_lookups_for_a_while_without_a_single_error(live_server, db_engine, long_run):
    """50 clients (threads, each with a keep-alive connection) send lookups as fast as they are
    answered, mixing postcode + number, free-text address, person and phone on 20 seeded plans,
    for 10 s by default and 60 s in the long run (SAMENOP_RELIABILITY_LONG=1).
    Then: every answer was 200 with a correct body, the server logged no error, and the
    database holds exactly one lookup row and one lookup audit row per answer (the audit chain
    verifies)."""
    duration = 60.0 if long_run else 10.0
    max_per_client = int(duration * 200)  # a bound on the count, far above what 2 cores answer
    token = live_server.token()
    with live_server.client(token) as setup:
        plans = seed_plans(setup, 20)
        queries = _queries(plans)
        # one of each kind first: the index catches up on the seeded plans before the clock starts
        for kind in ("address", "address_text", "person", "phone"):
            query = next(q for q in queries if q[0] == kind)
            answer = setup.request("POST", "/api/v1/lookups", {"incident_ref": "WARMUP-1", **query[1]})
            assert _lookup_problem(answer, query[2]) is None, answer.body
    warmups = 4

    lock = threading.Lock()
    latencies: dict[str, list[float]] = {kind: [] for kind in ("address", "address_text", "person", "phone")}
    problems: list[str] = []
    answered: Counter[str] = Counter()
    stale = [0]
    start_line = threading.Barrier(LOOKUP_CLIENTS)
    deadline = [0.0]

    def client(number: int) -> None:
        http = live_server.client(token)
        rng = random.Random(number)
        try:
            http.request("GET", "/health")  # connect before the start
            start_line.wait(timeout=60)
            if number == 0:
                deadline[0] = time.monotonic() + duration
            while deadline[0] == 0.0:
                time.sleep(0.001)
            sent = 0
            while time.monotonic() < deadline[0] and sent < max_per_client:
                kind, body, expected = rng.choice(queries)
                sent += 1
                try:
                    answer = http.request(
                        "POST", "/api/v1/lookups", {"incident_ref": f"LOAD-{number}-{sent}", **body}
                    )
                except OSError as exc:
                    with lock:
                        problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                problem = _lookup_problem(answer, expected)
                with lock:
                    if answer.status == 200:
                        answered[kind] += 1
                        latencies[kind].append(answer.seconds)
                    if problem:
                        problems.append(f"{kind}: {problem}")
        finally:
            with lock:
                stale[0] += http.stale_retries
            http.close()

    started = time.monotonic()
    run_threads(LOOKUP_CLIENTS, client, timeout=duration + 120)
    elapsed = time.monotonic() - started
    total = sum(answered.values())
    stored = scalar(db_engine, "SELECT count(*) FROM lookups")
    stored_load = scalar(db_engine, "SELECT count(*) FROM lookups WHERE incident_ref LIKE 'LOAD-%'")
    audited = scalar(db_engine, "SELECT count(*) FROM audit_entries WHERE action = 'lookup'")
    refs = [
        ref for (ref,) in rows(db_engine, "SELECT incident_ref FROM lookups WHERE incident_ref LIKE 'LOAD-%'")
    ]
    verified = audit_verify(live_server)
    every = [value for values in latencies.values() for value in values]
    print(
        f"\n[load] {LOOKUP_CLIENTS} clients, {duration:.0f} s: {total} lookups answered "
        f"({total / elapsed:.0f}/s), {len(problems)} errors, {stale[0]} stale keep-alive retries; "
        f"all kinds {latency_line(every)}"
    )
    for kind, values in latencies.items():
        print(f"[load]   {kind:<12} {len(values):>6} lookups, {latency_line(values)}")
    print(f"[load] rows: {stored} lookups ({stored_load} of the load), {audited} lookup audit rows")
    print(f"[load] {verified}")
    assert not problems, f"{len(problems)} errors, first: {problems[:5]}"
    assert total > 0
    assert live_server.server_errors() == []
    assert stored_load == total
    assert stored == total + warmups
    assert audited == stored
    assert len(set(refs)) == len(refs)


def test_twenty_concurrent_writers_store_exactly_what_was_acknowledged(live_server, db_engine, long_run):
    """20 writers each POST M reports (20 by default, 100 in the long run with
    SAMENOP_RELIABILITY_LONG=1), each with its own Idempotency-Key, all at once.
    Then: every answer was 201, rows stored = 2xx answers, each key and each id once, and one
    report_create audit row per report. Meanwhile the audit chain is verified over and over
    (as `samenop audit verify` does) and must never look broken while it grows."""
    per_writer = 100 if long_run else 20
    token = live_server.token()
    with live_server.client(token) as setup:
        plans = seed_plans(setup, 5)
        show_to_control_room(setup, plans)
    lock = threading.Lock()
    acknowledged: dict[str, str] = {}  # key -> report id
    problems: list[str] = []
    latencies: list[float] = []
    start_line = threading.Barrier(WRITERS)
    writing = threading.Event()
    verifications: list[str] = []

    def verifier() -> None:
        """audit.verify, as the CLI calls it (a fresh session each time), while the writers write."""
        for _ in range(100_000):
            if not writing.is_set():
                return
            with Session(db_engine) as session:
                result = audit.verify(session)
            verifications.append("ok" if result.ok else "; ".join(result.problems[:2]))
            time.sleep(0.02)  # on SQLite each walk holds the write lock: leave the writers room

    def writer(number: int) -> None:
        http = live_server.client(token)
        try:
            http.request("GET", "/health")
            start_line.wait(timeout=60)
            for n in range(per_writer):
                key = new_key()
                plan = plans[(number + n) % len(plans)]
                try:
                    answer = http.request(
                        "POST",
                        "/api/v1/reports",
                        report_body(plan, f"W-{number}-{n}"),
                        {"Idempotency-Key": key},
                    )
                except OSError as exc:
                    with lock:
                        problems.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    if 200 <= answer.status < 300:
                        acknowledged[key] = answer.body["id"]
                        latencies.append(answer.seconds)
                    else:
                        problems.append(f"status {answer.status}: {str(answer.body)[:200]}")
        finally:
            http.close()

    started = time.monotonic()
    writing.set()
    checker = threading.Thread(target=verifier, daemon=True)
    checker.start()
    try:
        run_threads(WRITERS, writer, timeout=600)
    finally:
        writing.clear()
        checker.join(60)
    elapsed = time.monotonic() - started
    broken = [outcome for outcome in verifications if outcome != "ok"]
    stored = rows(db_engine, "SELECT idempotency_key, id FROM reports")
    keys = Counter(key for key, _id in stored)
    audited = scalar(
        db_engine, "SELECT count(*) FROM audit_entries WHERE action = 'report_create' AND outcome = 'success'"
    )
    verified = audit_verify(live_server)
    print(
        f"\n[writers] {WRITERS} x {per_writer} reports in {elapsed:.1f} s "
        f"({len(acknowledged) / elapsed:.0f}/s): {len(acknowledged)} acknowledged, {len(problems)} errors, "
        f"{latency_line(latencies)}"
    )
    print(
        f"[writers] rows: {len(stored)} reports, {len(keys)} distinct keys, {audited} audit rows; "
        f"{verified}; verified {len(verifications)} times during the writes, {len(broken)} broken"
    )
    assert not problems, problems[:5]
    assert broken == [], broken[:3]
    assert len(acknowledged) == WRITERS * per_writer
    assert len(stored) == len(acknowledged)
    assert set(keys) == set(acknowledged)
    assert max(keys.values()) == 1
    assert len({str(report_id).replace("-", "") for _key, report_id in stored}) == len(stored)
    assert {value.replace("-", "") for value in acknowledged.values()} == {
        str(report_id).replace("-", "") for _key, report_id in stored
    }
    assert audited == len(stored)
    assert live_server.server_errors() == []


def _all_at_once(
    clients: list[Http], path: str, body: dict[str, Any], headers: dict[str, str]
) -> list[Answer | None]:
    """The same request from every client, released together by a barrier."""
    answers: list[Answer | None] = [None] * len(clients)
    start_line = threading.Barrier(len(clients))

    def send(number: int) -> None:
        start_line.wait(timeout=30)
        answers[number] = clients[number].request("POST", path, body, headers)

    run_threads(len(clients), send, timeout=120)
    return answers


def test_one_idempotency_key_sent_ten_times_at_once_stores_one_report(live_server, db_engine, long_run):
    """The same report with the same Idempotency-Key from 10 connections released together,
    in 5 rounds (20 in the long run, SAMENOP_RELIABILITY_LONG=1), each round a new key.
    Then: all 10 answers are 201 with the same report id, and each key has exactly one row."""
    rounds = 20 if long_run else 5
    token = live_server.token()
    with live_server.client(token) as setup:
        plans = seed_plans(setup, 1)
        show_to_control_room(setup, plans)
    clients = [live_server.client(token) for _ in range(PARALLEL_RETRIES)]
    try:
        for http in clients:
            http.request("GET", "/health")
        replayed = 0
        for round_number in range(rounds):
            key = new_key()
            body = report_body(plans[0], f"IDEM-{round_number}")
            answers = _all_at_once(clients, "/api/v1/reports", body, {"Idempotency-Key": key})
            statuses = [answer.status if answer else None for answer in answers]
            assert statuses == [201] * PARALLEL_RETRIES, [a.body if a else None for a in answers]
            ids = {answer.body["id"] for answer in answers if answer}
            assert len(ids) == 1, ids
            replayed += sum(1 for answer in answers if answer and answer.headers.get("idempotent-replayed"))
            stored = scalar(db_engine, "SELECT count(*) FROM reports WHERE idempotency_key = :key", key=key)
            assert stored == 1, f"round {round_number}: {stored} rows for one key"
    finally:
        for http in clients:
            http.close()
    total = scalar(db_engine, "SELECT count(*) FROM reports")
    audited = scalar(
        db_engine, "SELECT count(*) FROM audit_entries WHERE action = 'report_create' AND outcome = 'success'"
    )
    # a retry answered with the first report is a read of it: audited too
    audited_replays = scalar(
        db_engine,
        "SELECT count(*) FROM audit_entries WHERE action = 'report_create' AND outcome = 'replayed'",
    )
    print(
        f"\n[idempotency] {rounds} rounds x {PARALLEL_RETRIES} parallel requests with one key: "
        f"{total} reports stored, {replayed} answers marked replayed, {audited} report audit rows"
    )
    assert total == rounds
    assert replayed == rounds * (PARALLEL_RETRIES - 1)
    assert audited == rounds
    assert audited_replays == replayed
    assert live_server.server_errors() == []

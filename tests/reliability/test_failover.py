"""Survive the database: a PostgreSQL primary with a synchronous standby, the primary killed with
SIGKILL under load, the standby promoted, and the app (named both hosts in SAMENOP_DATABASE_URL,
`target_session_attrs=read-write`) carries on against it: every acknowledged write is there, the
audit chain verifies, and lookups answer again within seconds. Loopback and unix sockets only.

Run: `pytest tests/reliability/test_failover.py -s --db=postgresql` prints the figures. The
tests of the URL and of the 503 answer need no second cluster and run on both databases."""

from __future__ import annotations

import contextlib
import http.client as httplib
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from registry.app import create_app
from registry.core.config import ConfigError, load
from registry.core.db import engine_for
from registry.ops import schema
from tests.conftest import FAST_HASH, PASSWORD, close_app
from tests.pg import Cluster
from tests.reliability.conftest import (
    ORGANISATION,
    Http,
    LiveServer,
    SeededPlan,
    new_key,
    report_body,
    rows,
    seed_plans,
    show_to_control_room,
)

PRIMARY_PORT = 5432
STANDBY_PORT = 5433
REPORT_WRITERS = 3
# acknowledged writes before the kill, and after the promotion, before the load stops
WRITES_BEFORE_KILL = 40
WRITES_AFTER_PROMOTION = 20
# generous for a loaded 2-core machine; a failover on an idle one takes about a second
RECOVERY_TIMEOUT = 30.0
WAIT_TIMEOUT = 60.0


def _plain(value: Any) -> str:
    """A UUID as the answer gives it and as the database hands it back, compared alike."""
    return str(value).replace("-", "").lower()


def multi_host_url(primary: Cluster, standby: Cluster, database: str = "samenop") -> str:
    """libpq's multi-host form: both unix socket directories and their ports, in order; libpq
    takes the first that accepts a read-write session."""
    return (
        f"postgresql+psycopg://postgres@/{database}?host={primary.dir},{standby.dir}"
        f"&port={primary.port},{standby.port}&target_session_attrs=read-write"
    )


# --- the URL and the answer when the database is gone (any database) ----------------------------


def test_a_primary_and_its_standby_are_named_in_one_url(monkeypatch, tmp_path):
    """Both of libpq's ways to list hosts are read (the one in the authority rewritten to the query
    form SQLAlchemy reads); several hosts without target_session_attrs=read-write, or a port
    list that does not match the hosts, stop the app at start with the reason."""
    monkeypatch.setenv("SAMENOP_SECRET_KEY", "failover-secret-key-" + "f" * 32)
    monkeypatch.setenv("SAMENOP_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("SAMENOP_INSTANCE_DIR", str(tmp_path / "instance"))
    both = "target_session_attrs=read-write"
    accepted = {
        f"postgresql+psycopg://app@/samenop?host=/run/a,/run/b&port=5432,5433&{both}": (
            f"postgresql+psycopg://app@/samenop?host=/run/a,/run/b&port=5432,5433&{both}"
        ),
        f"postgresql+psycopg://app@db1:5432,db2:5433/samenop?{both}": (
            f"postgresql+psycopg://app@/samenop?host=db1:5432&host=db2:5433&{both}"
        ),
        "postgresql+psycopg://app@/samenop?host=db1&host=db2&target_session_attrs=primary": (
            "postgresql+psycopg://app@/samenop?host=db1&host=db2&target_session_attrs=primary"
        ),
        "postgresql+psycopg://app@db1/samenop": "postgresql+psycopg://app@db1/samenop",
    }
    for given, read in accepted.items():
        monkeypatch.setenv("SAMENOP_DATABASE_URL", given)
        assert load()["DATABASE_URL"] == read
    refused = {
        "postgresql+psycopg://app@db1,db2/samenop": both,
        "postgresql+psycopg://app@/samenop?host=/run/a,/run/b": both,
        f"postgresql+psycopg://app@/samenop?host=a,b&port=1,2,3&{both}": "ports",
        f"postgresql+psycopg://app@/samenop?host=a:1&host=b&port=2&{both}": "mix",
    }
    for given, reason in refused.items():
        monkeypatch.setenv("SAMENOP_DATABASE_URL", given)
        with pytest.raises(ConfigError, match=reason):
            load()


@pytest.fixture
def app_without_database(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """The app pointed at a PostgreSQL primary and standby that are both gone (no socket)."""
    gone = f"postgresql+psycopg://postgres@/samenop?host={tmp_path}/a,{tmp_path}/b&target_session_attrs=read-write"
    application = create_app({**app_config, "DATABASE_URL": gone})
    yield application
    close_app(application)


def test_a_request_without_a_database_answers_503_in_dutch(app_without_database, caplog):
    """No host answers (the moment between losing the primary and promoting the standby): the
    API answers 503 `database_unavailable` with Retry-After, the page says so in Dutch, nothing
    answers 500, and the log has one line per request without a traceback."""
    client = app_without_database.test_client()
    api = client.get("/api/v1/plans", headers={"Authorization": "Bearer " + "x" * 43})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    error = api.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert "database is even niet bereikbaar" in error["message"]
    with client.session_transaction() as cookie:
        cookie["_user_id"] = "x" * 43  # a web session: the page asks the database whose it is
    page = client.get("/")
    assert page.status_code == 503, page.get_data(as_text=True)[:500]
    assert "Even niet bereikbaar" in page.get_data(as_text=True)
    assert "Traceback" not in caplog.text
    assert "database unavailable (OperationalError" in caplog.text


# --- primary and standby --------------------------------------------------------------------------


@dataclass
class Pair:
    primary: Cluster
    standby: Cluster

    @property
    def url(self) -> str:
        return multi_host_url(self.primary, self.standby)


def _wait(condition: Any, what: str, timeout: float = WAIT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def _replication_state(primary: Cluster) -> list[tuple[str, str, str]]:
    engine = create_engine(primary.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        return [
            tuple(row)
            for row in rows(engine, "SELECT application_name, state, sync_state FROM pg_stat_replication")
        ]
    finally:
        engine.dispose()


@pytest.fixture
def replicated(db_kind: str) -> Iterator[Pair]:
    """Two PostgreSQL clusters on unix sockets: a primary and a streaming standby made from it
    with pg_basebackup -R, synchronous (`synchronous_standby_names` names the standby,
    `synchronous_commit = on`): a commit returns once the standby has it."""
    if db_kind != "postgresql":
        pytest.skip("a PostgreSQL primary and standby; SQLite serves one machine")
    # fsync stays off as in every test cluster: the test kills processes, not the machine, and
    # what a killed process wrote is in the operating system's cache
    primary = Cluster(PRIMARY_PORT, {"synchronous_commit": "on", "cluster_name": "primary"})
    standby = Cluster(STANDBY_PORT, {"synchronous_commit": "on", "cluster_name": "standby"})
    try:
        primary.start()
        admin = create_engine(primary.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE samenop"))
        standby.run(
            "pg_basebackup",
            *("-D", str(standby.data), "-h", str(primary.dir), "-p", str(primary.port), "-U", "postgres"),
            *("-X", "stream", "-R", "-c", "fast", "--no-sync"),
        )
        standby.launch()
        _wait(lambda: ("standby", "streaming", "async") in _replication_state(primary), "the standby streams")
        with admin.connect() as conn:
            conn.execute(text("ALTER SYSTEM SET synchronous_standby_names = 'standby'"))
            conn.execute(text("SELECT pg_reload_conf()"))
        admin.dispose()
        _wait(
            lambda: ("standby", "streaming", "sync") in _replication_state(primary),
            "the standby is synchronous",
        )
        yield Pair(primary, standby)
    finally:
        for cluster in (standby, primary):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                cluster.stop()  # the killed primary: pg_ctl finds no server; the files go anyway


def kill_primary(primary: Cluster) -> None:
    """SIGKILL to the postmaster and every process of the cluster at once: the machine is gone.
    pg_ctl starts the postmaster in a session of its own, so its process group is the cluster."""
    pid = int((primary.data / "postmaster.pid").read_text().split()[0])
    group = os.getpgid(pid)
    assert group == pid, "the postmaster leads its own process group"
    os.killpg(group, signal.SIGKILL)
    _wait(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), "the primary is dead", 10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def in_process(server: LiveServer) -> Flask:
    """The app as the live server is configured (the same database URL, keys), in this process,
    for its command line: `samenop` started afresh costs seconds on a busy machine."""
    env = server.env
    return create_app(
        {
            "DATABASE_URL": env["SAMENOP_DATABASE_URL"],
            "INSTANCE_DIR": str(server.workdir / "commands"),
            "INDEX_DIR": str(server.workdir / "commands" / "index"),
            "SECRET_KEY": env["SAMENOP_SECRET_KEY"],
            "TOTP_KEY": env["SAMENOP_TOTP_KEY"],
            "PASSWORD_HASH_PARAMS": FAST_HASH,
        }
    )


def provision(commands: Flask, server: LiveServer) -> None:
    """What LiveServer.provision does with `samenop org add` and `samenop user add`."""
    runner = commands.test_cli_runner()
    added = runner.invoke(args=["org", "add", ORGANISATION, "--kind", "police"])
    assert added.exit_code == 0, added.output
    added = runner.invoke(
        args=[
            *("user", "add", server.username, "--org", ORGANISATION),
            *("--role", "responder", "--role", "registrant", "--password-stdin", "--print-totp-secret"),
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    found = re.search(r"totp_secret: ([A-Z2-7]+)", added.output)
    assert found, added.output
    server.totp_secret = found.group(1)


# --- load -----------------------------------------------------------------------------------------


@dataclass
class Load:
    """Writers POST reports (one sent again with its Idempotency-Key until acknowledged, as a
    control room's client does) and one reader looks up a plan's address, without pause."""

    server: LiveServer
    token: str
    plans: list[SeededPlan]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> report id
    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: list[Any] = field(default_factory=list)  # the bodies of 503 answers
    cut_off: int = 0  # requests that got no answer at all
    lookups: list[tuple[float, float, int]] = field(default_factory=list)  # sent, answered, status
    problems: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        self.threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(REPORT_WRITERS)
        ]
        self.threads.append(threading.Thread(target=self._look_up, daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(WAIT_TIMEOUT)
        assert not any(thread.is_alive() for thread in self.threads), "a load thread did not stop"

    def _send(self, http: Http, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        try:
            answer = http.request("POST", path, body, headers)
        except (OSError, httplib.HTTPException):
            http.close()
            with self.lock:
                self.cut_off += 1
            return None
        with self.lock:
            self.statuses[answer.status] += 1
            if answer.status == 503:
                self.unavailable.append(answer.body)
        return answer

    def _write(self, number: int) -> None:
        http = Http(self.server.port, self.token, timeout=30)
        sent = 0
        key, body = new_key(), report_body(self.plans[number % len(self.plans)], f"FAILOVER-{number}-0")
        while not self.stop.is_set():
            answer = self._send(http, "/api/v1/reports", body, {"Idempotency-Key": key})
            if answer is None or answer.status == 503:
                time.sleep(0.05)
                continue  # the same key and body again
            if answer.status == 201:
                with self.lock:
                    self.acknowledged[key] = answer.body["id"]
            else:
                with self.lock:
                    self.problems.append(f"report: {answer.status} {str(answer.body)[:200]}")
            sent += 1
            key = new_key()
            body = report_body(self.plans[(number + sent) % len(self.plans)], f"FAILOVER-{number}-{sent}")
        http.close()

    def _look_up(self) -> None:
        http = Http(self.server.port, self.token, timeout=30)
        plan = self.plans[0]
        query = {
            "incident_ref": "FAILOVER-1",
            "address": {"postcode": plan.postcode, "house_number": plan.house_number},
        }
        while not self.stop.is_set():
            sent = time.monotonic()
            answer = self._send(http, "/api/v1/lookups", query)
            status = answer.status if answer is not None else 0
            if answer is not None and status == 200:
                if plan.id not in [match["plan"]["id"] for match in answer.body["matches"]]:
                    with self.lock:
                        self.problems.append("a lookup did not find the plan")
            elif answer is not None and status != 503:
                with self.lock:
                    self.problems.append(f"lookup: {status} {str(answer.body)[:200]}")
            with self.lock:
                self.lookups.append((sent, time.monotonic(), status))
            time.sleep(0.02)
        http.close()

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def wait_for_writes(self, more: int) -> None:
        target = self.count() + more
        _wait(lambda: self.count() >= target, f"{more} more acknowledged writes ({self.problems[:3]})")

    def first_lookup_after(self, moment: float) -> float | None:
        """When the first lookup sent after `moment` was answered with a plan (200)."""
        with self.lock:
            answered = [done for sent, done, status in self.lookups if sent >= moment and status == 200]
        return min(answered, default=None)


def test_primary_killed_under_load_the_standby_takes_over_with_every_acknowledged_write(
    replicated: Pair, tmp_path: Path
) -> None:
    """The app (gunicorn, 2 workers x 4 threads) runs with both hosts in SAMENOP_DATABASE_URL.
    Three writers POST reports and a reader looks up an address without pause; after 40
    acknowledged reports the primary (postmaster and every backend) is killed with SIGKILL and
    the standby promoted (pg_ctl promote). Then: every report that got a 201 is on the new
    primary with the id the answer gave, `samenop audit verify` finds the chain intact, lookups
    answer again within seconds of the kill (measured: kill to the first lookup answered with the
    plan), writes continue, and meanwhile no request answered 500: only 503 with Retry-After."""
    url = replicated.url
    schema.upgrade(url)  # the migrations through the multi-host URL
    server = LiveServer(url, tmp_path, workers=2)
    commands = in_process(server)
    try:
        provision(commands, server)
        server.start()
        token = server.token()
        with server.client(token) as setup:
            plans = seed_plans(setup, 3)
            show_to_control_room(setup, plans)

        with Load(server, token, plans) as load:
            load.wait_for_writes(WRITES_BEFORE_KILL)
            before_kill = load.count()
            killed_at = time.monotonic()
            kill_primary(replicated.primary)
            replicated.standby.run("pg_ctl", "-D", str(replicated.standby.data), "promote", "-w", "-t", "60")
            promoted_at = time.monotonic()
            _wait(
                lambda: load.first_lookup_after(killed_at) is not None,
                "a lookup after the kill",
                RECOVERY_TIMEOUT,
            )
            load.wait_for_writes(WRITES_AFTER_PROMOTION)
        recovered_at = load.first_lookup_after(killed_at)
        assert recovered_at is not None

        # on the new primary alone (the old one is gone): every acknowledged report, by its key
        new_primary = engine_for(replicated.standby.url("samenop"))
        try:
            assert rows(new_primary, "SELECT pg_is_in_recovery()") == [(False,)]
            reports = rows(new_primary, "SELECT idempotency_key, id FROM reports")
            audited = Counter(
                _plain(object_id)
                for (object_id,) in rows(
                    new_primary,
                    "SELECT object_id FROM audit_entries"
                    " WHERE action = 'report_create' AND outcome = 'success'",
                )
            )
        finally:
            new_primary.dispose()
        stored = {key: _plain(report_id) for key, report_id in reports}
        found = [key for key, report_id in load.acknowledged.items() if stored.get(key) == _plain(report_id)]
        lost = sorted(set(load.acknowledged) - set(found))
        # `samenop audit verify` through the multi-host URL: it finds the new primary
        checked = commands.test_cli_runner().invoke(args=["audit", "verify"])
        assert checked.exit_code == 0, checked.output
        verified = checked.output.strip()
        lookups_after = sum(1 for sent, _done, status in load.lookups if sent >= killed_at and status == 200)
        print(
            f"\n[failover] {len(load.acknowledged)} reports acknowledged ({before_kill} before the kill), "
            f"{len(found)} found on the new primary, {len(lost)} lost; "
            f"{len(stored)} stored in all, {len(stored) - len(found)} of them never acknowledged"
        )
        print(
            f"[failover] promoted {promoted_at - killed_at:.1f} s after the kill; first lookup answered "
            f"{recovered_at - killed_at:.1f} s after the kill ({recovered_at - promoted_at:.1f} s after "
            f"the promotion); {lookups_after} lookups answered after the kill"
        )
        print(
            f"[failover] answers {dict(sorted(load.statuses.items()))}, "
            f"{load.cut_off} requests cut off; {verified}"
        )
        assert lost == [], f"acknowledged reports lost in the failover: {lost[:5]}"
        assert set(stored.values()) == set(audited), "a report without its audit row, or the reverse"
        assert max(audited.values()) == 1, "a report audited twice"
        assert len(stored) == len(reports), "a report stored twice (one Idempotency-Key, two rows)"
        assert recovered_at - killed_at < RECOVERY_TIMEOUT
        assert load.problems == []
        assert 500 not in load.statuses, server.log_tail()
        for body in load.unavailable:
            assert body["error"]["code"] == "database_unavailable", body
        assert server.server_errors() == [], server.log_tail()
    finally:
        server.kill()
        close_app(commands)
        print(f"server log: {server.log_path}")

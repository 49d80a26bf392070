"""The real app under gunicorn, as a subprocess on 127.0.0.1, for load and fault tests.

`live_server` starts `samenop serve` (gunicorn gthread, several workers) against the test's own
database (`database_url`) and a fresh index directory, waits for /health, provisions an
organisation and a user through the command line, and always kills the whole process group at
teardown. `live_servers` starts several such servers on the one database, each with its own
index directory and user. Loopback only; every wait below is bounded.

The default run (`make test`) uses short variants; the issue's full durations and counts run with
`SAMENOP_RELIABILITY_LONG=1` (or `pytest tests/reliability --reliability-long`).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from registry.auth import two_factor
from registry.core.db import engine_for
from tests.conftest import PASSWORD
from tests.registry.plan_data import address, person, plan_body

HOST = "127.0.0.1"
WORKERS = 3
THREADS = 4
BOOT_SECONDS = 60
ORGANISATION = "Politie Meldkamer Betrouwbaarheid"
USERNAME = "meldkamer"
# the load tests measure the server, not the rate limiter: far above anything they send
HIGH_LIMIT = "1000000 per minute"


def pytest_addoption(parser: pytest.Parser) -> None:
    # only seen when this folder is named on the command line; the variable works everywhere
    parser.addoption(
        "--reliability-long",
        action="store_true",
        default=False,
        help="run the reliability tests with the issue's full durations and counts",
    )


@pytest.fixture(scope="session")
def long_run(request: pytest.FixtureRequest) -> bool:
    flag = bool(request.config.getoption("--reliability-long", default=False))
    return flag or os.environ.get("SAMENOP_RELIABILITY_LONG", "") == "1"


def _samenop() -> str:
    beside = Path(sys.executable).parent / "samenop"
    found = str(beside) if beside.exists() else shutil.which("samenop")
    if not found:
        raise RuntimeError("the samenop console script is not installed (pip install -e .)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- an HTTP client with a keep-alive connection -------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    seconds: float


class Http:
    """One keep-alive connection (http.client), reopened when the server closed it.

    A request that fails on a connection the server closed while it was idle is sent again
    once on a new connection, as every HTTP client does (`stale_retries` counts those)."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30.0) -> None:
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0
        self.stale_retries = 0

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        payload = json.dumps(body) if body is not None else None
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                self.used = 0
            reused = self.used > 0
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=payload, headers=sent)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 1:
                    self.stale_retries += 1
                    continue
                raise
            except BaseException:
                self.close()
                raise
            elapsed = time.perf_counter() - started
            self.used += 1
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            content_type = response.getheader("Content-Type", "")
            parsed: Any = raw.decode("utf-8", "replace")
            if content_type.startswith("application/json") and raw:
                parsed = json.loads(raw)
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed, elapsed)
        raise AssertionError("unreachable")


# --- the server ---------------------------------------------------------------------------------


@dataclass
class LiveServer:
    database_url: str
    workdir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    username: str = USERNAME
    workers: int = WORKERS
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    totp_secret: str = ""
    starts: int = 0
    _last_step: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def index_dir(self) -> Path:
        return self.workdir / "index"

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("SAMENOP_")}
        env.update(
            {
                "SAMENOP_DATABASE_URL": self.database_url,
                "SAMENOP_INDEX_DIR": str(self.index_dir),
                "SAMENOP_INSTANCE_DIR": str(self.workdir / "instance"),
                "SAMENOP_SECRET_KEY": "reliability-secret-key-" + "r" * 32,
                # every app server of one database shares the key of its TOTP secrets, as it
                # shares the secret key (a synthetic key: 32 bytes in url-safe base64)
                "SAMENOP_TOTP_KEY": base64.urlsafe_b64encode(
                    b"reliability-totp-key-".ljust(32, b"t")
                ).decode(),
                "SAMENOP_COOKIE_SECURE": "false",
                "SAMENOP_TOKEN_RATE_LIMIT": HIGH_LIMIT,
                "SAMENOP_LOGIN_RATE_LIMIT": HIGH_LIMIT,
                "SAMENOP_LOOKUP_RATE_LIMIT": HIGH_LIMIT,
                "SAMENOP_LOOKUP_HOURLY_LIMIT": "1000000000",
                "SAMENOP_NAME_LOOKUP_HOURLY_LIMIT": "1000000000",
            }
        )
        env.update(self.env_overrides)
        return env

    # process control

    def start(self) -> None:
        """Start gunicorn in its own process group and wait until /health answers."""
        assert self.process is None or self.process.poll() is not None, "already running"
        for _attempt in range(3):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                log.write(f"\n=== start {self.starts + 1} on port {self.port} ===\n".encode())
                log.flush()
                self.process = subprocess.Popen(
                    [
                        _samenop(),
                        "serve",
                        "--host",
                        HOST,
                        "--port",
                        str(self.port),
                        "--workers",
                        str(self.workers),
                        "--threads",
                        str(THREADS),
                    ],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: killed whole at the end
                )
            self.starts += 1
            if self._wait_ready():
                return
            self.kill()  # e.g. the free port was taken meanwhile: another port
        raise AssertionError(f"gunicorn did not start:\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL to the whole process group (master and workers): a power cut for the app."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self._reap_group()

    def _reap_group(self) -> None:
        """Workers outlive a killed master for a moment: wait until the group is empty."""
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def server_errors(self) -> list[str]:
        """Tracebacks and unexpected errors the workers logged (500s, lock errors, crashes)."""
        return [
            line
            for line in self.log_text().splitlines()
            if "Traceback" in line or "unexpected error" in line or "Error handling request" in line
        ]

    # command line and login

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [_samenop(), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, f"samenop {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def provision(self, add_organisation: bool = True) -> None:
        """An organisation (unless another server added it) and a user with both roles
        (responder, registrant), through the CLI."""
        if add_organisation:
            self.cli("org", "add", ORGANISATION, "--kind", "police")
        added = self.cli(
            "user",
            "add",
            self.username,
            "--org",
            ORGANISATION,
            "--role",
            "responder",
            "--role",
            "registrant",
            "--password-stdin",
            "--print-totp-secret",
            stdin=PASSWORD + "\n",
        )
        found = re.search(r"totp_secret: ([A-Z2-7]+)", added.stdout)
        assert found, added.stdout
        self.totp_secret = found.group(1)

    def token(self) -> str:
        """A bearer token through POST /api/v1/auth/token (each code is accepted once: a second
        token waits for the next time step)."""
        deadline = time.monotonic() + 2 * two_factor.STEP_SECONDS + 5
        while True:
            step = int(time.time() // two_factor.STEP_SECONDS)
            if step > self._last_step:
                break
            assert time.monotonic() < deadline, "no fresh TOTP step"
            time.sleep(0.5)
        self._last_step = step
        code = two_factor.current_code(self.totp_secret, now=step * two_factor.STEP_SECONDS)
        with Http(self.port) as http:
            answer = http.request(
                "POST", "/api/v1/auth/token", {"username": self.username, "password": PASSWORD, "otp": code}
            )
        assert answer.status == 201, answer.body
        return str(answer.body["access_token"])

    def client(self, token: str) -> Http:
        return Http(self.port, token)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """gunicorn (3 workers x 4 threads) on 127.0.0.1:<free port> over the test's database, with
    one provisioned user; stopped (and its process group killed) whatever the test did."""
    server = LiveServer(database_url, tmp_path)
    try:
        server.provision()
        server.start()
        yield server
    finally:
        server.kill()
        print(f"\nserver log: {server.log_path}")


@pytest.fixture
def live_servers(database_url: str, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """A factory: `live_servers("a")` starts one more app server on the test's database, with its
    own work directory (index, instance, log) under tmp_path/<name> and its own user
    (meldkamer-<name>, so every server has its own TOTP steps), all in one organisation.
    `server.kill()` stops one, `server.start()` starts it again on the same index directory;
    every server's process group is killed at teardown."""
    servers: list[LiveServer] = []

    def make(name: str, workers: int = WORKERS) -> LiveServer:
        workdir = tmp_path / name
        workdir.mkdir()
        server = LiveServer(database_url, workdir, username=f"{USERNAME}-{name}", workers=workers)
        servers.append(server)
        server.provision(add_organisation=len(servers) == 1)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.kill()
            print(f"\nserver log: {server.log_path}")


# --- what the database holds --------------------------------------------------------------------


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = engine_for(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def audit_verify(server: LiveServer) -> str:
    """`samenop audit verify`: the hash chain is intact (exit 0)."""
    result = server.cli("audit", "verify", check=False)
    assert result.returncode == 0, f"audit verify failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


# --- synthetic data ------------------------------------------------------------------------------


@dataclass
class SeededPlan:
    id: str
    postcode: str
    house_number: int
    street: str
    city: str
    first_name: str
    surname: str
    birth_date: str
    phone: str
    agreement_ids: list[int]


STREETS = ("Lindelaan", "Beukenweg", "Molenstraat", "Kastanjehof", "Wilgenpad", "Eikenlaan", "Dijkstraat")
CITIES = ("Testdorp", "Proefstad", "Oefenveen")
# no S: SA, SD and SS are not used in Dutch postcodes
POSTCODE_LETTERS = "ABCEFGHJKL"
SURNAMES = ("Testveen", "Proefman", "Oefenberg", "Voorbeeldt", "Steekproef", "Modelaar", "Schetsma")


def seed_plans(http: Http, count: int) -> list[SeededPlan]:
    """`count` plans with distinct (invented) addresses, persons and phone numbers."""
    seeded = []
    for n in range(count):
        street = STREETS[n % len(STREETS)]
        city = CITIES[n % len(CITIES)]
        surname = f"{SURNAMES[n % len(SURNAMES)]}{chr(ord('a') + n // len(SURNAMES) % 26)}"
        birth = f"19{70 + n % 30}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        phone = f"06-{31000000 + n:08d}"
        postcode = f"{9400 + n // 100} {POSTCODE_LETTERS[n % 100 // 10]}{POSTCODE_LETTERS[n % 10]}"
        body = plan_body(
            title=f"Gezin {surname}",
            addresses=[address(postcode=postcode, house_number=n + 1, street=street, city=city)],
            persons=[
                person(first_name="Noor", surname_prefix="", surname=surname, birth_date=birth, phone=phone),
                person(
                    first_name="Sam",
                    surname_prefix="",
                    surname=surname,
                    birth_date="1980-05-05",
                    role="perpetrator",
                    phone=f"06-{41000000 + n:08d}",
                    do_not_inform=True,
                ),
            ],
        )
        answer = http.request("POST", "/api/v1/plans", body)
        assert answer.status == 201, answer.body
        plan = answer.body
        seeded.append(
            SeededPlan(
                id=plan["id"],
                postcode=plan["addresses"][0]["postcode"],
                house_number=n + 1,
                street=street,
                city=city,
                first_name="Noor",
                surname=surname,
                birth_date=birth,
                phone=phone,
                agreement_ids=[a["id"] for a in plan["agreements"]],
            )
        )
    return seeded


def show_to_control_room(http: Http, plans: list[SeededPlan]) -> None:
    """A lookup of each plan by its address, as the control room does before it reports: a
    report without a lookup id needs a lookup of the plan by the organisation in the last 12 hours."""
    for plan in plans:
        query = {"postcode": plan.postcode, "house_number": plan.house_number}
        answer = http.request("POST", "/api/v1/lookups", {"incident_ref": "SEED-1", "address": query})
        assert answer.status == 200, answer.body
        assert plan.id in [match["plan"]["id"] for match in answer.body["matches"]]


def report_body(plan: SeededPlan, incident_ref: str) -> dict[str, Any]:
    return {
        "plan_id": plan.id,
        "incident_ref": incident_ref,
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "mode": "on_site_intervention",
        "responders": ["police"],
        "household_type": "minor_children",
        "agreements": [{"agreement_id": plan.agreement_ids[0], "outcome": "followed"}],
        "actions": ["arrest"],
        "narrative": "Synthetische inzet voor de betrouwbaarheidstest.",
    }


def new_key() -> str:
    return uuid.uuid4().hex


# --- figures -------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def latency_line(seconds: list[float]) -> str:
    return (
        f"p50 {percentile(seconds, 0.5) * 1000:.1f} ms, p99 {percentile(seconds, 0.99) * 1000:.1f} ms, "
        f"max {max(seconds, default=0.0) * 1000:.1f} ms"
    )


def run_threads(count: int, target: Callable[[int], None], timeout: float) -> None:
    """Start `count` threads on target(i) and join them all within `timeout` seconds."""
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after {timeout} s: {stuck}"

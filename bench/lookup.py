"""Lookup benchmark (never a test): synthetic households in, HTTP latency and throughput out.

    python -m bench.lookup                      # 100 000 households, 10 s per operation
    python -m bench.lookup --large              # 1 000 000 households
    python -m bench.lookup --households 20000 --seconds 5 --concurrency 4 --dir /tmp/b

1. Creates a fresh SQLite database through the migrations (registry.schema.upgrade), inserts the
   synthetic households with SQLAlchemy Core (bench/synthetic.py) and builds the whoosh index
   with lookup.search.SearchIndex.rebuild, which records the change-feed position.
2. Serves that database with `samenop serve --workers 2` (gunicorn, gthread) on 127.0.0.1 and a
   free port, provisions a responder through the CLI and logs in with pyotp.
3. Measures GET /health (the floor) and each kind of POST /api/v1/lookups for a fixed time with
   a fixed number of keep-alive client threads; every query is drawn from the generated data, so
   each must find at least one plan ("miss" otherwise) and should find its own ("other").
4. Prints one table and writes it as JSON to bench/results/. Gunicorn is always stopped.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_HOUSEHOLDS = 100_000
LARGE_HOUSEHOLDS = 1_000_000
SAMPLE_HOUSEHOLDS = 3000  # the pool every operation draws its queries from
LOOKUPS = "/api/v1/lookups"

OPERATIONS = ("health", "address", "address_text", "person", "person_born", "phone")
LABELS = {
    "health": "GET /health (floor)",
    "address": "address, exact",
    "address_text": "address_text, typo",
    "person": "person, typo, no date",
    "person_born": "person, typo + birth date",
    "phone": "phone",
}
# the targets: p99 in ms, and the exact lookup's throughput relative to the floor
TARGET_P99_MS = {"address": 20.0, "address_text": 60.0, "person": 60.0, "person_born": 60.0}
TARGET_RATIO = {"address": 0.67}

if __name__ == "__main__" and not __package__:
    # `python bench/lookup.py` would otherwise import this file as the project's `lookup` package
    sys.path[0] = str(ROOT)


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that the finally blocks stop gunicorn."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Interrupted


# --- queries drawn from the generated data --------------------------------------------------------


@dataclass(frozen=True)
class Query:
    body: bytes | None  # None: GET /health
    target: str  # the plan id that must be among the matches ('' for health)
    text: str  # what was asked, for the list of misses


@dataclass
class Household:
    plan_id: str
    postcode: str
    house_number: int
    suffix: str
    street: str
    city: str
    persons: list[tuple[str, str, str, date | None, str | None]] = field(default_factory=list)


def sample_households(url: str, count: int, seed: int) -> tuple[int, list[Household]]:
    """`count` random households (plans) straight from the database, with address and persons."""
    from sqlalchemy import func, select

    from registry.db import engine_for
    from registry.models import Address, Person, PlanVersion

    engine = engine_for(url)
    rng = random.Random(seed)
    households: dict[int, Household] = {}
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(PlanVersion)) or 0
        top = connection.scalar(select(func.max(PlanVersion.id))) or 0
        chosen = sorted(rng.sample(range(1, top + 1), min(count, top)))
        for start in range(0, len(chosen), 500):
            ids = chosen[start : start + 500]
            for version_id, plan_id, postcode, number, suffix, street, city in connection.execute(
                select(
                    PlanVersion.id,
                    PlanVersion.plan_id,
                    Address.postcode,
                    Address.house_number,
                    Address.house_number_suffix,
                    Address.street,
                    Address.city,
                )
                .join(Address, Address.plan_version_id == PlanVersion.id)
                .where(PlanVersion.id.in_(ids))
            ):
                households[version_id] = Household(str(plan_id), postcode, number, suffix, street, city)
            for version_id, first, prefix, surname, born, phone in connection.execute(
                select(
                    Person.plan_version_id,
                    Person.first_name,
                    Person.surname_prefix,
                    Person.surname,
                    Person.birth_date,
                    Person.phone,
                )
                .where(Person.plan_version_id.in_(ids))
                .order_by(Person.id)
            ):
                if version_id in households:
                    households[version_id].persons.append((first, prefix, surname, born, phone))
    engine.dispose()
    return total, [households[key] for key in sorted(households)]


_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def typo(word: str, rng: random.Random) -> str:
    """One edit (substitute, delete or insert a letter) after the first letter; shorter words
    than 4 letters stay as they are (one edit there is a different word, not a typo)."""
    if len(word) < 4:
        return word
    position = rng.randint(1, len(word) - 1)
    edit = rng.choice("sdi")
    if edit == "s":
        letter = rng.choice([ch for ch in _ALPHABET if ch != word[position].lower()])
        return word[:position] + letter + word[position + 1 :]
    if edit == "d":
        return word[:position] + word[position + 1 :]
    return word[:position] + rng.choice(_ALPHABET) + word[position:]


def typo_in_longest_word(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    words[longest] = typo(words[longest], rng)
    return " ".join(words)


def _postcode_as_typed(postcode: str, rng: random.Random) -> str:
    return rng.choice([postcode, f"{postcode[:4]} {postcode[4:]}", f"{postcode[:4]} {postcode[4:].lower()}"])


def _number_as_typed(number: int, suffix: str) -> str:
    """14, 14a, 14-2, 14 bis: how a caller's address reaches the control room."""
    if not suffix:
        return str(number)
    if suffix == "BIS":
        return f"{number} bis"
    if suffix.isdigit():
        return f"{number}-{suffix}"
    return f"{number}{suffix.lower()}"


def _phone_as_typed(e164: str, rng: random.Random) -> str:
    national = e164[3:]  # +31 6xxxxxxxx -> 6xxxxxxxx
    return rng.choice(
        [f"0{national[:1]}-{national[1:]}", f"0{national}", e164, f"0031 {national[:1]} {national[1:]}"]
    )


def build_queries(households: list[Household], seed: int) -> dict[str, list[Query]]:
    rng = random.Random(seed)
    serial = itertools.count(1)
    queries: dict[str, list[Query]] = {op: [] for op in OPERATIONS}
    queries["health"].append(Query(None, "", "GET /health"))

    def add(op: str, target: str, text: str, **payload: Any) -> None:
        body = {"incident_ref": f"BENCH-{next(serial):07d}", **payload}
        queries[op].append(Query(json.dumps(body).encode(), target, text))

    for household in households:
        postcode = _postcode_as_typed(household.postcode, rng)
        suffix = household.suffix.lower()
        add(
            "address",
            household.plan_id,
            f"{postcode} {household.house_number} {suffix}".strip(),
            address={
                "postcode": postcode,
                "house_number": household.house_number,
                "house_number_suffix": suffix,
            },
        )
        text = " ".join(
            (
                typo_in_longest_word(household.street, rng),
                _number_as_typed(household.house_number, household.suffix),
                household.city,
            )
        )
        add("address_text", household.plan_id, text, address_text=text)
        if not household.persons:
            continue
        first, prefix, surname, _born, _phone = rng.choice(household.persons)
        name = " ".join(part for part in (first, prefix, typo_in_longest_word(surname, rng)) if part)
        add("person", household.plan_id, name, person={"name": name})
        dated = [person for person in household.persons if person[3] is not None]
        if dated:
            first, prefix, surname, born, _phone = rng.choice(dated)
            assert born is not None
            name = " ".join(part for part in (first, prefix, typo_in_longest_word(surname, rng)) if part)
            add(
                "person_born",
                household.plan_id,
                f"{name} {born.isoformat()}",
                person={"name": name, "birth_date": born.isoformat()},
            )
        phones = [person[4] for person in household.persons if person[4]]
        if phones:
            typed = _phone_as_typed(rng.choice(phones), rng)
            add("phone", household.plan_id, typed, phone=typed)
    return queries


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _samenop() -> str:
    candidate = Path(sys.executable).parent / "samenop"
    return str(candidate) if candidate.exists() else "samenop"


def server_env(work: Path, url: str, index_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMENOP_")}
    env.update(
        {
            "SAMENOP_DATABASE_URL": url,
            "SAMENOP_INDEX_DIR": str(index_dir),
            "SAMENOP_INSTANCE_DIR": str(work / "instance"),
            "SAMENOP_SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "SAMENOP_COOKIE_SECURE": "false",
            # one responder sends every lookup: the per-user limit (120 per minute in production)
            # would turn the benchmark into a measurement of 429s; the limiter still runs
            "SAMENOP_LOOKUP_RATE_LIMIT": "1000000 per minute",
        }
    )
    return env


class Server:
    """`samenop serve --workers 2` in its own process group, so that it can always be stopped."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path, workers: int = 2) -> None:
        self.env = env
        self.port = port
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                [_samenop(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--workers", str(self.workers)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise click.ClickException(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200 and len(self.worker_pids()) >= self.workers:
                    connection.close()
                    return
                connection.close()
            time.sleep(0.2)
        raise click.ClickException(f"gunicorn did not answer /health within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
                text = stat.read_text()
                if int(text.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(text.split(" ", 1)[0]))
        return sorted(children)

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the group we started: master and workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _cli(env: dict[str, str], command: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise click.ClickException(f"{' '.join(command[1:4])} failed ({done.returncode}):\n{tail}")
    return done


def provision(env: dict[str, str], port: int) -> str:
    """A responder through the CLI (organisation, user with password and TOTP), then a token."""
    import pyotp

    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    org_name = f"Meldkamer Benchmark {stamp}"
    username = f"bench-responder-{stamp}"
    password = "Bench-" + os.urandom(18).hex() + "-kalf-Zwolle"
    cli = _samenop()
    _cli(env, [cli, "org", "add", org_name, "--kind", "police", "--region", "Benchmark"])
    created = _cli(
        env,
        [cli, "user", "add", username, "--org", org_name, "--role", "responder"]
        + ["--password-stdin", "--print-totp-secret"],
        stdin=password + "\n",
    )
    found = re.search(r"totp_secret:\s*(\S+)", created.stdout)
    if not found:
        raise click.ClickException(f"no TOTP secret in the CLI's output: {created.stdout!r}")
    otp = pyotp.TOTP(found.group(1)).now()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": password, "otp": otp})
    connection.request("POST", "/api/v1/auth/token", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 201:
        raise click.ClickException(f"token request answered {response.status}: {data[:300]!r}")
    return str(json.loads(data)["access_token"])


# --- load -------------------------------------------------------------------------------------------


@dataclass
class Row:
    op: str
    requests: int
    seconds: float
    p50: float
    p90: float
    p99: float
    max: float
    errors: int
    misses: int
    other: int
    miss_samples: list[str]
    error_samples: list[str]
    other_samples: list[str]
    load: float = math.nan  # 1-minute load average when the phase ended: other work on the machine

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


Response = tuple[Query, float, int, bytes]


def _client(
    port: int,
    token: str,
    queries: list[Query],
    rng: random.Random,
    deadline: float,
    stop: threading.Event,
    budget: itertools.count[int],
    limit: int,
    out: list[Response],
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        while not stop.is_set() and time.perf_counter() < deadline and next(budget) < limit:
            query = queries[rng.randrange(len(queries))]
            started = time.perf_counter()
            try:
                if query.body is None:
                    connection.request("GET", "/health")
                else:
                    connection.request("POST", LOOKUPS, body=query.body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                status = response.status
                if response.will_close:
                    connection.close()  # the next request opens a new connection
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                out.append((query, time.perf_counter() - started, -1, repr(exc).encode()))
                continue
            out.append((query, time.perf_counter() - started, status, data))
    finally:
        connection.close()


def _load(
    port: int, token: str, queries: list[Query], seconds: float, concurrency: int, limit: int, seed: int
) -> tuple[list[Response], float]:
    stop = threading.Event()
    budget = itertools.count()
    outputs: list[list[Response]] = [[] for _ in range(concurrency)]
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(
                port,
                token,
                queries,
                random.Random(seed * 1000 + i),
                deadline,
                stop,
                budget,
                limit,
                outputs[i],
            ),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
                if time.perf_counter() > deadline + 60:
                    raise click.ClickException("client threads did not finish 60 s after the deadline")
    finally:
        stop.set()
    elapsed = time.perf_counter() - started
    return [response for output in outputs for response in output], elapsed


def _verdict(query: Query, status: int, data: bytes) -> str:
    """ok | error | miss (no match at all) | other (matches, but not the plan asked for)."""
    if status != 200:
        return "error"
    if query.body is None:
        return "ok" if data == b"ok" else "error"
    try:
        matches = json.loads(data)["matches"]
        ids = {match["plan"]["id"] for match in matches}
    except (ValueError, KeyError, TypeError):
        return "error"
    if not matches:
        return "miss"
    return "ok" if query.target in ids else "other"


def measure(
    op: str,
    port: int,
    token: str,
    queries: list[Query],
    seconds: float,
    warmup: float,
    concurrency: int,
    limit: int,
    seed: int,
) -> Row:
    if warmup > 0:
        _load(port, token, queries, warmup, concurrency, limit, seed + 7)
    responses, elapsed = _load(port, token, queries, seconds, concurrency, limit, seed)
    latencies = sorted(duration * 1000 for _query, duration, _status, _data in responses)
    counts: Counter[str] = Counter()
    samples: dict[str, list[str]] = {"error": [], "miss": [], "other": []}
    for query, _duration, status, data in responses:
        verdict = _verdict(query, status, data)
        counts[verdict] += 1
        if verdict != "ok" and len(samples[verdict]) < 10:
            detail = query.text if verdict != "error" else f"{query.text} -> {status} {data[:200]!r}"
            if detail not in samples[verdict]:
                samples[verdict].append(detail)
    return Row(
        op=op,
        requests=len(responses),
        seconds=elapsed,
        p50=percentile(latencies, 50),
        p90=percentile(latencies, 90),
        p99=percentile(latencies, 99),
        max=latencies[-1] if latencies else math.nan,
        errors=counts["error"],
        misses=counts["miss"],
        other=counts["other"],
        miss_samples=samples["miss"],
        error_samples=samples["error"],
        other_samples=samples["other"],
        load=os.getloadavg()[0],
    )


# --- profiling (optional): py-spy against both workers while an operation runs ----------------------


def _py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def start_profiles(
    pids: list[int], seconds: float, directory: Path, op: str
) -> list[subprocess.Popen[bytes]]:
    tool = _py_spy()
    if tool is None:
        raise click.ClickException("--profile needs py-spy: .venv/bin/pip install py-spy")
    directory.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [tool, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200"]
            + ["--idle", "--nonblocking", "--format", "raw", "--output", str(directory / f"{op}-{pid}.txt")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


REQUEST_FRAME = "ThreadWorker.handle_request (gunicorn/workers/gthread.py)"


def summarise_profile(files: list[Path], top: int = 30) -> list[tuple[str, float, float]]:
    """Where the requests' wall time goes: (frame, inclusive %, self %) over the samples taken
    inside gunicorn's handle_request (idle threads included, so waits on locks count too)."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            frames = [_short_frame(frame) for frame in stack.split(";")]
            if REQUEST_FRAME not in frames:
                continue  # a thread waiting for work, or the main loop
            count = int(count_text)
            frames = frames[frames.index(REQUEST_FRAME) + 1 :] or [REQUEST_FRAME]
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            leaf[frames[-1]] += count
    if not total:
        return []
    shared = [(frame, count) for frame, count in inclusive.most_common() if count < 0.995 * total]
    return (
        [(frame, 100 * count / total, 100 * leaf[frame] / total) for frame, count in shared[:top]]
        + [("--- self time (leaf frames) ---", math.nan, math.nan)]
        + [
            (frame, 100 * inclusive[frame] / total, 100 * count / total)
            for frame, count in leaf.most_common(15)
        ]
    )


def _short_frame(frame: str) -> str:
    """'f (/x/site-packages/sqlalchemy/orm/session.py:12)' -> 'f (sqlalchemy/orm/session.py)'"""
    frame = re.sub(r":\d+\)$", ")", frame)
    return re.sub(r"\((?:/[^()]*?/(?:site-packages|python3\.\d+)/|" + re.escape(str(ROOT)) + "/)", "(", frame)


# --- report -----------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    floor = next((row.rps for row in rows if row.op == "health"), 0.0)
    header = (
        f"{'operation':<27} {'requests':>8} {'req/s':>8} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} "
        f"{'errors':>6} {'misses':>6} {'other':>6} {'x floor':>7} {'load':>5}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        ratio = row.rps / floor if floor else math.nan
        lines.append(
            f"{LABELS[row.op]:<27} {row.requests:>8} {row.rps:>8.0f} {row.p50:>7.1f} {row.p90:>7.1f} "
            f"{row.p99:>7.1f} {row.max:>7.1f} {row.errors:>6} {row.misses:>6} {row.other:>6} {ratio:>7.2f} "
            f"{row.load:>5.1f}"
        )
    lines.append(
        "latencies in ms; misses: no match at all; other: matches, but not the plan the query came from"
    )
    return "\n".join(lines)


def verdicts(rows: list[Row]) -> list[str]:
    floor = next((row.rps for row in rows if row.op == "health"), 0.0)
    found = []
    for row in rows:
        if row.op in TARGET_P99_MS:
            target = TARGET_P99_MS[row.op]
            state = "met" if row.p99 <= target else f"MISSED by {row.p99 - target:.1f} ms"
            found.append(f"{LABELS[row.op]}: p99 {row.p99:.1f} ms (target <= {target:.0f}): {state}")
        if row.op in TARGET_RATIO and floor:
            ratio = row.rps / floor
            target = TARGET_RATIO[row.op]
            state = "met" if ratio >= target else f"MISSED ({ratio:.2f} < {target:.2f})"
            found.append(
                f"{LABELS[row.op]}: {row.rps:.0f} req/s = {ratio:.2f} x floor (target >= {target}): {state}"
            )
    return found


_BENIGN = re.compile(
    r"Starting gunicorn|Listening at|Using worker|Booting worker|Handling signal|Worker exiting|"
    r"Shutting down|Control socket"
)
_SUSPECT = re.compile(r"warn|error|exception|traceback|lock|critical|timeout|killed", re.IGNORECASE)


def log_findings(log_path: Path) -> list[str]:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if _SUSPECT.search(line) and not _BENIGN.search(line)]


# --- the command ------------------------------------------------------------------------------------


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--households", type=click.IntRange(1, 5_000_000), default=None, help="default 100 000")
@click.option("--large", is_flag=True, help=f"{LARGE_HOUSEHOLDS:_} households".replace("_", " "))
@click.option("--seconds", type=click.FloatRange(0.5, 600), default=10.0, show_default=True)
@click.option(
    "--warmup", type=click.FloatRange(0, 60), default=1.0, show_default=True, help="s per operation"
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--max-requests", type=click.IntRange(1), default=200_000, show_default=True, help="per operation"
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="work directory (database, index, gunicorn log); default: a temporary one, removed afterwards",
)
@click.option("--reuse", is_flag=True, help="measure the database and index already in --dir")
@click.option("--seed", type=int, default=20261122, show_default=True)
@click.option("--only", "only", multiple=True, type=click.Choice(OPERATIONS[1:]), help="measure only these")
@click.option("--profile", is_flag=True, help="py-spy both workers during each lookup operation")
@click.option(
    "--analyze/--no-analyze",
    default=True,
    help="refresh planner statistics before serving, as `samenop init` does (default on)",
)
def main(
    households: int | None,
    large: bool,
    seconds: float,
    warmup: float,
    concurrency: int,
    max_requests: int,
    directory: Path | None,
    reuse: bool,
    seed: int,
    only: tuple[str, ...],
    profile: bool,
    analyze: bool,
) -> None:
    """Generate synthetic households, serve them with gunicorn and measure the lookups."""
    count = households or (LARGE_HOUSEHOLDS if large else DEFAULT_HOUSEHOLDS)
    if reuse and directory is None:
        raise click.UsageError("--reuse needs --dir")
    temporary = directory is None
    work = Path(tempfile.mkdtemp(prefix="samenop-bench-")) if directory is None else directory.resolve()
    work.mkdir(parents=True, exist_ok=True)
    database = work / "samenop.db"
    index_dir = work / "index"
    url = f"sqlite:///{database}"
    if reuse and not database.exists():
        raise click.UsageError(f"--reuse: no database in {work}")
    if not reuse and (database.exists() or index_dir.exists()):
        raise click.UsageError(f"{work} already holds a benchmark database: use --reuse or an empty --dir")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = work / "gunicorn.log"
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    server: Server | None = None
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "households": count,
        "seconds": seconds,
        "warmup": warmup,
        "concurrency": concurrency,
        "seed": seed,
        "workers": 2,
        "worker_class": "gthread",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "work_dir": str(work),
    }
    try:
        if reuse:
            from registry import schema

            click.echo(f"reusing {database} (schema upgraded to the newest migration)")
            schema.upgrade(url)
        else:
            _generate_and_index(url, index_dir, count, seed, report)
        if analyze:
            _analyze(url)
        report["analyze"] = analyze
        total, sample = sample_households(url, SAMPLE_HOUSEHOLDS, seed + 1)
        report["households"] = total
        queries = build_queries(sample, seed + 2)
        env = server_env(work, url, index_dir)
        port = free_port()
        server = Server(env, port, log_path)
        server.start()
        server.wait_ready()
        pids = server.worker_pids()
        assert server.process is not None
        click.echo(f"gunicorn on 127.0.0.1:{port}: master pid {server.process.pid}, workers {pids}")
        token = provision(env, port)
        click.echo("responder provisioned through the CLI; token issued (password + TOTP)")
        operations = ["health", *[op for op in OPERATIONS[1:] if not only or op in only]]
        rows: list[Row] = []
        profiles: dict[str, list[tuple[str, float, float]]] = {}
        profile_dir = RESULTS / f"profile-{stamp}"
        for number, op in enumerate(operations):
            click.echo(
                f"measuring {LABELS[op]}: {len(queries[op])} distinct queries, {concurrency} clients, "
                f"{warmup:g} s warm-up + {seconds:g} s"
            )
            spies: list[subprocess.Popen[bytes]] = []
            if profile and op != "health":
                if warmup > 0:
                    _load(port, token, queries[op], warmup, concurrency, max_requests, seed + 100 + number)
                spies = start_profiles(pids, seconds, profile_dir, op)
                time.sleep(0.3)  # py-spy attaching
            row = measure(
                op,
                port,
                token,
                queries[op],
                seconds,
                0.0 if spies else warmup,
                concurrency,
                max_requests,
                seed + number,
            )
            rows.append(row)
            for spy in spies:
                try:
                    spy.wait(timeout=seconds + 30)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    spy.wait()
            if spies:
                profiles[op] = summarise_profile([profile_dir / f"{op}-{pid}.txt" for pid in pids])
        _print_report(rows, profiles, report, server, log_path)
        report["rows"] = [
            {
                "operation": row.op,
                "label": LABELS[row.op],
                "requests": row.requests,
                "seconds": round(row.seconds, 3),
                "req_per_s": round(row.rps, 1),
                "p50_ms": round(row.p50, 2),
                "p90_ms": round(row.p90, 2),
                "p99_ms": round(row.p99, 2),
                "max_ms": round(row.max, 2),
                "errors": row.errors,
                "misses": row.misses,
                "other_plan_only": row.other,
                "ratio_to_health": round(row.rps / rows[0].rps, 3) if rows[0].rps else None,
                "load_1m": round(row.load, 2),
                "miss_samples": row.miss_samples,
                "error_samples": row.error_samples,
                "other_samples": row.other_samples,
            }
            for row in rows
        ]
        report["targets"] = verdicts(rows)
        if profiles:
            report["profiles"] = {
                op: [
                    {"frame": f, "inclusive_pct": round(i, 1), "self_pct": round(s, 1)} for f, i, s in summary
                ]
                for op, summary in profiles.items()
            }
        out = RESULTS / f"lookup-{stamp}.json"
        server.stop()
        report["gunicorn_log"] = log_findings(log_path)[:200]
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"\nwritten: {out.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.stop()
            findings = log_findings(log_path)
            click.echo(f"gunicorn stopped; {len(findings)} suspicious line(s) in its log")
            for line in findings[:20]:
                click.echo(f"  {line}")
            with contextlib.suppress(OSError):
                shutil.copyfile(log_path, RESULTS / f"lookup-{stamp}-gunicorn.log")
        if temporary:
            shutil.rmtree(work, ignore_errors=True)


def _analyze(url: str) -> None:
    from registry.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    click.echo(f"ANALYZE done in {time.perf_counter() - started:.1f} s (sqlite_stat1 now in the database)")


def _generate_and_index(url: str, index_dir: Path, count: int, seed: int, report: dict[str, Any]) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from bench import synthetic
    from lookup.search import SearchIndex
    from registry import schema
    from registry.db import engine_for
    from registry.models import PlanChange

    click.echo(f"creating the schema (migrations) in {url}")
    schema.upgrade(url)
    with click.progressbar(length=count, label=f"generating {count} households") as bar:
        generated = synthetic.generate(url, count, seed, progress=bar.update)
    click.echo(
        f"generated {generated.households} households, {generated.persons} persons "
        f"in {generated.seconds:.1f} s"
    )
    engine = engine_for(url)
    started = time.perf_counter()
    with Session(engine) as session:
        index = SearchIndex(str(index_dir))
        with click.progressbar(length=count, label="indexing active plans") as bar:
            indexed = index.rebuild(session, bar.update)
        latest = session.scalar(select(func.max(PlanChange.id))) or 0
    index_seconds = time.perf_counter() - started
    engine.dispose()
    if index.applied() != latest:
        raise click.ClickException(f"index at change {index.applied()}, database at {latest}")
    size = sum(path.stat().st_size for path in index_dir.iterdir() if path.is_file())
    click.echo(
        f"indexed {indexed} plans in {index_seconds:.1f} s ({size / 1e6:.0f} MB); "
        f"change feed applied up to {latest}"
    )
    report.update(
        {
            "generation_s": round(generated.seconds, 1),
            "index_s": round(index_seconds, 1),
            "persons": generated.persons,
            "index_mb": round(size / 1e6, 1),
            "change_feed_position": latest,
        }
    )


def _print_report(
    rows: list[Row],
    profiles: dict[str, list[tuple[str, float, float]]],
    report: dict[str, Any],
    server: Server,
    log_path: Path,
) -> None:
    click.echo("")
    if "generation_s" in report:
        click.echo(
            f"{report['households']} households, {report['persons']} persons: generated in "
            f"{report['generation_s']} s, index built in {report['index_s']} s ({report['index_mb']} MB)"
        )
    else:
        click.echo(f"{report['households']} households (reused)")
    click.echo(
        f"gunicorn 2 workers gthread, {report['concurrency']} keep-alive clients on loopback, "
        f"{report['seconds']:g} s per operation, {report['cpus']} CPUs\n"
    )
    click.echo(table(rows))
    click.echo("")
    for line in verdicts(rows):
        click.echo(line)
    for row in rows:
        for kind, samples in (
            ("miss", row.miss_samples),
            ("error", row.error_samples),
            ("other plan only", row.other_samples),
        ):
            if samples:
                click.echo(f"{LABELS[row.op]}: {kind} e.g. " + " | ".join(samples[:5]))
    for op, summary in profiles.items():
        click.echo(f"\nprofile during {LABELS[op]}: % of request wall time (inclusive, self), both workers")
        for frame, inclusive, own in summary:
            click.echo(
                f"  {inclusive:5.1f} {own:5.1f}  {frame}" if not math.isnan(inclusive) else f"  {frame}"
            )


if __name__ == "__main__":
    main()

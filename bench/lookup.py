"""The performance harness (never a test): synthetic households in, HTTP latency and throughput out.

    python -m bench.lookup                      # 100 000 persons, 10 s per operation
    python -m bench.lookup --large              # 1 000 000 persons
    python -m bench.lookup --persons 20000 --seconds 5 --concurrency 4 --dir /tmp/b

1. Creates a fresh SQLite database through the migrations (registry.ops.schema.upgrade), inserts the
   synthetic households with SQLAlchemy Core (bench/synthetic.py) and builds the whoosh index
   with lookup.search.SearchIndex.rebuild, which records the change-feed position. Both timed.
   A reused database's index is compacted first (`samenop index compact`, cron in production).
2. Provisions the benchmark's users through the CLI, gives a fresh organisation 500 open feedback
   items (bench/feedback.py), serves the database with `samenop serve --workers 2` (gunicorn,
   gthread) on 127.0.0.1 and a free port, and logs in (API: password + TOTP; web: the form).
3. Measures, one after the other with the same closed-loop clients (bench/load.py): GET /health/live
   (the floor), the lookups (bench/queries.py), plan create and update and report create
   (bench/writes.py), and the feedback inbox, page and API (bench/feedback.py). Each but the
   floor and the inbox is then measured again paced: --rate requests/s, Poisson arrivals (open
   loop). Then checks that a written plan is findable and reads each worker's memory.
4. Prints the two tables (closed loop: capacity; paced: latency at a stated load) and the targets,
   and writes them as JSON to bench/results/. Gunicorn is always stopped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

if __name__ == "__main__" and not __package__:
    # `python bench/lookup.py` would otherwise import this file as the project's `lookup` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import feedback, signals, spy
from bench.load import RECONNECT_EVERY, Health, Request, Row, Workload, call, measure
from bench.queries import LOOKUP_OPERATIONS, Lookups, build_queries, sample_households
from bench.server import (
    Server,
    add_organisation,
    add_user,
    api_token,
    cpu_seconds,
    free_port,
    log_findings,
    memory_mb,
    server_env,
    web_login,
)
from bench.writes import PlanBodies, PlanCreate, PlanUpdate, ReportCreate, findable, shown_plans

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PERSONS = 100_000
LARGE_PERSONS = 1_000_000
SAMPLE_HOUSEHOLDS = 3000  # the pool every lookup draws its queries from
SHOWN_FOR_REPORTS = 200  # lookups (not measured) whose plans the reports are about

WRITE_OPERATIONS = ("plan_create", "plan_update", "report_create")
FEEDBACK_OPERATIONS = ("feedback_page", "feedback_api")
OPERATIONS = ("health", *LOOKUP_OPERATIONS, "signal", *WRITE_OPERATIONS, *FEEDBACK_OPERATIONS)
# not paced: the floor is a capacity, and the inbox (seconds per request) could not follow the rate
UNPACED = ("health", *FEEDBACK_OPERATIONS)
LABELS = {
    "health": "GET /health/live (floor)",
    "address": "address, exact",
    "building": "address, building",
    "address_text": "address_text, typo",
    "person": "person, typo, no date",
    "person_born": "person, typo + birth date",
    "phone": "phone",
    "signal": "signal (system, address or phone)",
    "plan_create": "plan create",
    "plan_update": "plan update",
    "report_create": "report create",
    "feedback_page": f"feedback page, {feedback.OPEN_ITEMS} open",
    "feedback_api": f"GET /feedback, {feedback.OPEN_ITEMS} open",
}
# the targets, which hold at TARGET_PERSONS: p99 in ms, index rebuild, memory per worker
TARGET_PERSONS = 1_000_000
TARGET_P99_MS = {
    "address": 25.0,
    "address_text": 60.0,
    "person": 60.0,
    "person_born": 60.0,
    "phone": 25.0,
    "signal": 15.0,
    "plan_create": 100.0,
    "plan_update": 100.0,
}
TARGET_INDEX_S = 15 * 60
TARGET_WORKER_MB = 300.0


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that the finally blocks stop gunicorn."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Interrupted


# --- report -----------------------------------------------------------------------------------------


# the columns after the operation's label, with their widths
COLUMNS = {
    "requests": 8,
    "req/s": 8,
    "p50": 7,
    "p90": 7,
    "p99": 7,
    "max": 7,
    "errors": 6,
    "misses": 6,
    "other": 6,
    "x floor": 7,
    "cpu/req": 7,
    "load": 5,
    "split": 7,
}
# the closed loop's only: a paced row's req/s is the rate asked for, no capacity to set against the
# floor; load and split explain the closed loop's figures (other work, clients stuck on one worker)
CLOSED_LOOP_ONLY = ("x floor", "load", "split")


def _cells(row: Row, floor: float) -> dict[str, str]:
    return {
        "requests": str(row.requests),
        "req/s": f"{row.rps:.1f}",
        "p50": f"{row.p50:.1f}",
        "p90": f"{row.p90:.1f}",
        "p99": f"{row.p99:.1f}",
        "max": f"{row.max:.1f}",
        "errors": str(row.errors),
        "misses": str(row.misses) if row.op in LOOKUP_OPERATIONS else "-",
        "other": "-" if row.op in ("health", "plan_create", "report_create") else str(row.other),
        "x floor": f"{row.rps / floor if floor else math.nan:.3f}",
        "cpu/req": f"{row.cpu_per_request:.2f}",
        "load": f"{row.load:.1f}",
        "split": row.split,
    }


def table(rows: list[Row], paced: bool = False) -> str:
    """The closed-loop table, or with `paced` the open-loop one (without CLOSED_LOOP_ONLY)."""
    floor = next((row.rps for row in rows if row.op == "health"), 0.0)
    columns = {title: width for title, width in COLUMNS.items() if not (paced and title in CLOSED_LOOP_ONLY)}
    header = f"{'operation':<27}" + "".join(f" {title:>{width}}" for title, width in columns.items())
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = _cells(row, floor)
        lines.append(
            f"{LABELS[row.op]:<27}" + "".join(f" {cells[title]:>{width}}" for title, width in columns.items())
        )
    if paced:
        lines.append(
            "req/s: achieved (answers / phase time; with Poisson arrivals a phase's count varies by about "
            "1/sqrt(requests));\nlatencies from each request's scheduled arrival: waiting for a free "
            "client connection included"
        )
        return "\n".join(lines)
    lines.append(
        "latencies in ms; misses: no match at all; other: lookups: matches, but not the plan the query "
        "came from\n(building: not as a building match); plan update: 409 version conflict; "
        "feedback: not the items that page had when walked;\ncpu/req: ms of the workers' CPU per request; "
        "split: each gunicorn worker's share of the CPU the workers used\n(keep-alive clients stay "
        f"with one worker; they reconnect every {RECONNECT_EVERY} requests)"
    )
    return "\n".join(lines)


def _state(value: float, target: float, unit: str) -> str:
    return "met" if value <= target else f"MISSED by {value - target:.1f} {unit}"


def verdicts(rows: list[Row], report: dict[str, Any], paced: list[Row] | None = None) -> list[str]:
    """The targets, latency judged at saturation (`rows`, closed loop) and at the offered rate
    (`paced`)."""
    found = []
    for row in [*rows, *(paced or [])]:
        if row.op in TARGET_P99_MS:
            target = TARGET_P99_MS[row.op]
            state = _state(row.p99, target, "ms")
            load = (
                f"at saturation ({report['concurrency']} clients)"
                if row.offered is None
                else f"at {row.offered:g} req/s"
            )
            found.append(f"{LABELS[row.op]} {load}: p99 {row.p99:.1f} ms (target <= {target:.0f}): {state}")
    if "index_s" in report:
        seconds = report["index_s"]
        found.append(
            f"index rebuild: {seconds / 60:.1f} min (target <= {TARGET_INDEX_S // 60}): "
            + _state(seconds / 60, TARGET_INDEX_S / 60, "min")
        )
    else:
        found.append("index rebuild: not measured (--reuse without --rebuild)")
    peaks = [
        values.get("peak_rss_mb", values.get("rss_mb", math.nan)) for values in report["memory"].values()
    ]
    if peaks:
        worst = max(peaks)
        found.append(
            f"memory per worker: peak {worst:.0f} MB (target <= {TARGET_WORKER_MB:.0f}): "
            + _state(worst, TARGET_WORKER_MB, "MB")
        )
    return found


def _row_json(row: Row, floor: float) -> dict[str, Any]:
    return {
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
        "other": row.other,
        "ratio_to_health": round(row.rps / floor, 3) if floor else None,
        "load_1m": round(row.load, 2),
        "worker_cpu_s": [round(cpu, 2) for cpu in row.worker_cpu],
        "worker_cpu_ms_per_request": round(row.cpu_per_request, 3),
        "miss_samples": row.miss_samples,
        "error_samples": row.error_samples,
        "other_samples": row.other_samples,
    }


# --- the command ------------------------------------------------------------------------------------


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--persons", type=click.IntRange(1, 20_000_000), default=None, help="default 100 000")
@click.option("--households", type=click.IntRange(1, 10_000_000), default=None, help="instead of --persons")
@click.option("--large", is_flag=True, help=f"{LARGE_PERSONS:_} persons".replace("_", " "))
@click.option("--seconds", type=click.FloatRange(0.5, 600), default=10.0, show_default=True)
@click.option(
    "--warmup", type=click.FloatRange(0, 60), default=1.0, show_default=True, help="s per operation"
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(0),
    default=20.0,
    show_default=True,
    help="open-loop requests/s per lookup operation for the paced table; 0: none",
)
@click.option(
    "--write-rate",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="the same for plan create / update and report create; 0: none",
)
@click.option(
    "--paced-seconds",
    type=click.FloatRange(0.5, 600),
    default=30.0,
    show_default=True,
    help="length of each paced phase: its p99 is the 1 %% slowest of rate x seconds requests",
)
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
@click.option("--rebuild", is_flag=True, help="with --reuse: rebuild the index first (timed)")
@click.option("--seed", type=int, default=20261122, show_default=True)
@click.option("--only", "only", multiple=True, type=click.Choice(OPERATIONS[1:]), help="measure only these")
@click.option("--profile", is_flag=True, help="py-spy both workers during each operation")
@click.option(
    "--feedback-items",
    type=click.IntRange(1, 1_000_000),
    default=feedback.OPEN_ITEMS,
    show_default=True,
    help="open items in the measured inbox (e.g. 5000); the page and the API show 50 at a time",
)
@click.option(
    "--analyze/--no-analyze",
    default=True,
    help="refresh planner statistics before serving, as `samenop init` does (default on)",
)
def main(
    persons: int | None,
    households: int | None,
    large: bool,
    seconds: float,
    warmup: float,
    concurrency: int,
    rate: float,
    write_rate: float,
    paced_seconds: float,
    max_requests: int,
    directory: Path | None,
    reuse: bool,
    rebuild: bool,
    seed: int,
    only: tuple[str, ...],
    profile: bool,
    feedback_items: int,
    analyze: bool,
) -> None:
    """Generate synthetic households, serve them with gunicorn and measure lookups, writes and feedback."""
    if persons is not None and households is not None:
        raise click.UsageError("--persons or --households, not both")
    if households is None and persons is None:
        persons = LARGE_PERSONS if large else DEFAULT_PERSONS
    if reuse and directory is None:
        raise click.UsageError("--reuse needs --dir")
    if rebuild and not reuse:
        raise click.UsageError("--rebuild goes with --reuse (a new database is always indexed)")
    LABELS["feedback_page"] = f"feedback page, {feedback_items} open"
    LABELS["feedback_api"] = f"GET /feedback, {feedback_items} open"
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
    now = datetime.now()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = work / "gunicorn.log"
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    server: Server | None = None
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "asked": {"persons": persons} if persons is not None else {"households": households},
        "seconds": seconds,
        "warmup": warmup,
        "concurrency": concurrency,
        "rate": rate,
        "write_rate": write_rate,
        "paced_seconds": paced_seconds,
        "seed": seed,
        "feedback_items": feedback_items,
        "workers": 2,
        "worker_class": "gthread",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "work_dir": str(work),
        "findings": [],
    }
    try:
        if reuse:
            from registry.ops import schema

            click.echo(f"reusing {database} (schema upgraded to the newest migration)")
            schema.upgrade(url)
            if rebuild:
                _index(url, index_dir, report)
            _compact(index_dir, report)
        else:
            _generate_and_index(url, index_dir, households, persons, seed, report)
        if analyze:
            _analyze(url)
        report["analyze"] = analyze
        plans, people, sample = sample_households(url, SAMPLE_HOUSEHOLDS, seed + 1)
        report["households"] = plans
        report["persons"] = people
        queries = build_queries(sample, seed + 2)
        operations = ["health", *[op for op in OPERATIONS[1:] if not only or op in only]]

        env = server_env(work, url, index_dir)
        accounts = _provision(env, url, now.strftime("%Y%m%d%H%M%S"), operations, sample, seed, report)
        port = free_port()
        server = Server(env, port, log_path)
        server.start()
        server.wait_ready()
        pids = server.worker_pids()
        assert server.process is not None
        click.echo(f"gunicorn on 127.0.0.1:{port}: master pid {server.process.pid}, workers {pids}")
        token = api_token(port, accounts["bench"])
        click.echo("benchmark user (responder, registrant) logged in through the API (password + TOTP)")

        rows: list[Row] = []
        paced: list[Row] = []
        profiles: dict[str, list[tuple[str, float, float]]] = {}
        profile_dir = RESULTS / f"profile-{stamp}"
        workloads = _Workloads(port, token, queries, accounts, concurrency, seed, report, url, index_dir)

        def worker_cpu() -> list[float]:
            return [cpu_seconds(pid) for pid in pids]

        for number, op in enumerate(operations):
            workload = workloads.make(op)
            click.echo(f"measuring {LABELS[op]}: {concurrency} clients, {warmup:g} s warm-up + {seconds:g} s")
            spies: list[subprocess.Popen[bytes]] = []
            if profile and op != "health":
                if warmup > 0:
                    measure(op, port, workload, warmup, 0.0, concurrency, max_requests, seed + 100 + number)
                spies = spy.start_profiles(pids, seconds, profile_dir, op)
                time.sleep(0.3)  # py-spy attaching
            row = measure(
                op,
                port,
                workload,
                seconds,
                0.0 if spies else warmup,
                concurrency,
                max_requests,
                seed + number,
                worker_cpu=worker_cpu,
            )
            rows.append(row)
            for process in spies:
                try:
                    process.wait(timeout=seconds + 30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if spies:
                profiles[op] = spy.summarise_profile([profile_dir / f"{op}-{p}.txt" for p in pids])
            op_rate = write_rate if op in WRITE_OPERATIONS else rate
            if op_rate > 0 and op not in UNPACED:
                # same workload: the writes go on with the plans and versions the closed loop left
                click.echo(
                    f"  then paced: {op_rate:g} requests/s, {concurrency} clients, {paced_seconds:g} s"
                )
                paced.append(
                    measure(
                        op,
                        port,
                        workload,
                        paced_seconds,
                        0.0,
                        concurrency,
                        max_requests,
                        seed + 500 + number,
                        worker_cpu=worker_cpu,
                        rate=op_rate,
                    )
                )
            workloads.after(op)

        report["memory"] = {str(pid): memory_mb(pid) for pid in server.worker_pids()}
        if server.worker_pids() != pids:
            report["findings"].append(
                f"gunicorn workers changed during the run: {pids} -> {server.worker_pids()}"
            )
        floor = rows[0].rps if rows else 0.0
        report["rows"] = [_row_json(row, floor) for row in rows]
        if paced:
            report["paced"] = {
                "rate": rate,
                "write_rate": write_rate,
                "rows": [{**_row_json(row, 0.0), "offered_per_s": row.offered} for row in paced],
            }
        report["targets"] = verdicts(rows, report, paced)
        if profiles:
            report["profiles"] = {
                op: [
                    {"frame": f, "inclusive_pct": round(i, 1), "self_pct": round(s, 1)} for f, i, s in summary
                ]
                for op, summary in profiles.items()
            }
        _print_report(rows, paced, profiles, report)
        out = RESULTS / f"lookup-{stamp}.json"
        server.stop()
        report["gunicorn_log"] = log_findings(log_path)[:200]
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
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


def _provision(
    env: dict[str, str],
    url: str,
    stamp: str,
    operations: list[str],
    sample: list[Any],
    seed: int,
    report: dict[str, Any],
) -> dict[str, Any]:
    """The users, through the CLI (before the server starts), and the feedback inbox's data.

    One user holds both roles the measurements need (responder: lookups and reports; registrant:
    plan writes). The inbox's organisation gets two users, one for the web page and one for the
    API: a TOTP code is accepted once per user, and each logs in once."""
    control_room = f"Meldkamer Benchmark {stamp}"
    add_organisation(env, control_room, "police")
    accounts: dict[str, Any] = {
        "bench": add_user(env, f"bench-{stamp}", control_room, ("responder", "registrant"))
    }
    if any(op in FEEDBACK_OPERATIONS for op in operations):
        team = f"Wijkteam Benchmark {stamp}"
        add_organisation(env, team, "social_team")
        accounts["inbox_web"] = add_user(env, f"bench-wijkteam-web-{stamp}", team, ("registrant",))
        accounts["inbox_api"] = add_user(env, f"bench-wijkteam-api-{stamp}", team, ("registrant",))
        reported = [household.plan_id for household in sample[:SHOWN_FOR_REPORTS]]
        looked_up = [household.plan_id for household in sample[SHOWN_FOR_REPORTS:]]
        setup = feedback.seed_open_reports(
            url, team, accounts["bench"].username, reported, looked_up, seed + 3, report["feedback_items"]
        )
        report["feedback_setup"] = setup
        click.echo(
            f"feedback inbox: {setup['open_reports']} open reports and {setup['open_lookups']} lookups "
            f"without report on {setup['plans']} plans of '{team}' ({setup['seconds']} s)"
        )
    click.echo(f"users provisioned through the CLI: {', '.join(a.username for a in accounts.values())}")
    if "signal" in operations:
        work = Path(env["SAMENOP_INSTANCE_DIR"]).parent
        report["signal_header"] = signals.register(env, control_room, work, stamp)
        click.echo("a system of the control room registered through the CLI, with a certificate made here")
    return accounts


class _Workloads:
    """Each operation's workload, made when it is measured (the writes build on each other)."""

    def __init__(
        self,
        port: int,
        token: str,
        queries: dict[str, list[Any]],
        accounts: dict[str, Any],
        concurrency: int,
        seed: int,
        report: dict[str, Any],
        url: str,
        index_dir: Path,
    ) -> None:
        self.port = port
        self.url = url
        self.index_dir = index_dir
        self.token = token
        self.queries = queries
        self.accounts = accounts
        self.concurrency = concurrency
        self.rng = random.Random(seed + 4)
        self.report = report
        # the active plans so far: each run on a reused database writes families of its own
        self.creator = PlanCreate(token, PlanBodies(salt=report["households"]))
        self.updater: PlanUpdate | None = None

    def make(self, op: str) -> Workload:
        if op == "health":
            return Health()
        if op in LOOKUP_OPERATIONS:
            return Lookups(self.token, self.queries[op])
        if op == "signal":
            return signals.Signals(
                self.report.pop("signal_header"), self.queries["address"] + self.queries["phone"]
            )
        if op == "plan_create":
            return self.creator
        if op == "plan_update":
            while len(self.creator.created) < self.concurrency:
                self.creator.create_one(self.port, self.rng)
            self.updater = PlanUpdate(self.token, list(self.creator.created), self.concurrency)
            return self.updater
        if op == "report_create":
            shown = shown_plans(self.port, self.token, self.queries["address"], SHOWN_FOR_REPORTS)
            return ReportCreate(self.token, shown)
        if op == "feedback_page":
            cookie = web_login(self.port, self.accounts["inbox_web"])
            click.echo("inbox reader logged in through the web form (CSRF, password, TOTP)")
            return self._checked(op, feedback.page(cookie))
        if op == "feedback_api":
            return self._checked(op, feedback.api(api_token(self.port, self.accounts["inbox_api"])))
        raise ValueError(op)

    def _checked(self, op: str, inbox: feedback.Inbox) -> feedback.Inbox:
        """Walk every page once before measuring and count the items: all of them, once each,
        so that the figure is honest; the measured requests ask for these pages."""

        def fetch(path: str) -> tuple[int, bytes]:
            status, data, _response = call(
                self.port, Request("GET", path, None, inbox.headers), timeout=inbox.timeout
            )
            return status, data

        expected = self.report["feedback_items"]
        shown = inbox.walk(fetch)
        self.report.setdefault("feedback_check", {})[op] = {"pages": len(inbox.pages), "items_shown": shown}
        click.echo(f"{LABELS[op]}: {len(inbox.pages)} pages walked, {shown} items shown")
        if shown != expected:
            self.report["findings"].append(f"{LABELS[op]}: {shown} items shown, {expected} expected")
        return inbox

    def after(self, op: str) -> None:
        """After a plan write phase: is a plan just written findable (the index followed it)?"""
        written = None
        if op == "plan_create" and self.creator.created:
            written = self.creator.created[-1]
        elif op == "plan_update" and self.updater is not None:
            written = max((plan for pool in self.updater.pools for plan in pool), key=lambda p: p.version)
        if written is None:
            return
        lag = _index_lag(self.url, self.index_dir)
        self.report.setdefault("index_lag_s", {})[op] = lag
        click.echo(
            f"after {LABELS[op]}: the index had every write applied {lag:.2f} s after the last answer"
            if lag is not None
            else f"after {LABELS[op]}: the index had not applied every write {INDEX_LAG_WAIT:g} s later"
        )
        check = findable(self.port, self.token, written, self.rng)
        self.report.setdefault("findable", []).append({"after": op, **check})
        click.echo(
            f"after {LABELS[op]}: plan {written.plan_id} (version {written.version}): {check['verdict']}"
        )
        if check["verdict"] != "ok":
            self.report["findings"].append(
                f"after {LABELS[op]}: '{check['query']}' did not find plan {written.plan_id} "
                f"({check['verdict']})"
            )


INDEX_LAG_WAIT = 30.0


def _index_lag(url: str, index_dir: Path) -> float | None:
    """Seconds until the workers' index followers have applied the whole change feed (writes
    answer before the index has them), or None if they have not within INDEX_LAG_WAIT."""
    from sqlalchemy.orm import Session

    from lookup.search import SearchIndex, latest_change
    from registry.core.db import engine_for

    started = time.perf_counter()
    engine = engine_for(url)
    try:
        with Session(engine) as session:
            latest = latest_change(session)
    finally:
        engine.dispose()
    index = SearchIndex(str(index_dir))
    try:
        while index.applied() < latest:
            if time.perf_counter() - started > INDEX_LAG_WAIT:
                return None
            time.sleep(0.005)
    finally:
        index.close()
    return time.perf_counter() - started


def _analyze(url: str) -> None:
    from registry.core.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    click.echo(f"ANALYZE done in {time.perf_counter() - started:.1f} s (sqlite_stat1 now in the database)")


def _generate_and_index(
    url: str,
    index_dir: Path,
    households: int | None,
    persons: int | None,
    seed: int,
    report: dict[str, Any],
) -> None:
    from bench import synthetic
    from registry.ops import schema

    click.echo(f"creating the schema (migrations) in {url}")
    schema.upgrade(url)
    if persons is not None:
        label = f"generating households until {persons} persons"
        length = persons
    else:
        assert households is not None
        label = f"generating {households} households"
        length = households
    with click.progressbar(length=length, label=label) as bar:
        generated = synthetic.generate(url, households, seed, progress=bar.update, persons=persons)
    click.echo(
        f"generated {generated.households} households, {generated.persons} persons "
        f"in {generated.seconds:.1f} s"
    )
    report["generation_s"] = round(generated.seconds, 1)
    _index(url, index_dir, report)


def _compact(index_dir: Path, report: dict[str, Any]) -> None:
    """Merge what earlier runs' writes left in the index, as `samenop index compact` does from
    cron in production: every run measures lookups on an index in the same state."""
    from lookup.search import SearchIndex

    with SearchIndex(str(index_dir)) as index:
        started = time.perf_counter()
        before, after = index.compact()
    seconds = time.perf_counter() - started
    click.echo(f"index compacted: {before} -> {after} segments in {seconds:.1f} s")
    report["compact"] = {"segments_before": before, "segments_after": after, "seconds": round(seconds, 2)}


def _index(url: str, index_dir: Path, report: dict[str, Any]) -> None:
    """Rebuild the whoosh index from the database, timed; it records the change-feed position."""
    from sqlalchemy.orm import Session

    from lookup.search import SearchIndex, document_count, latest_change
    from registry.core.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    with Session(engine) as session:
        index = SearchIndex(str(index_dir))
        with click.progressbar(length=document_count(session), label="indexing active plans") as bar:
            indexed = index.rebuild(session, bar.update)
        latest = latest_change(session)
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
            "index_s": round(index_seconds, 1),
            "indexed_plans": indexed,
            "index_mb": round(size / 1e6, 1),
            "change_feed_position": latest,
        }
    )


def _print_report(
    rows: list[Row],
    paced: list[Row],
    profiles: dict[str, list[tuple[str, float, float]]],
    report: dict[str, Any],
) -> None:
    click.echo("")
    data = f"{report['households']} active plans, {report['persons']} persons"
    if "generation_s" in report:
        data += f": generated in {report['generation_s']} s"
    if "index_s" in report:
        data += f", index built in {report['index_s']} s ({report['index_mb']} MB)"
    click.echo(data if "generation_s" in report else data + " (reused)")
    click.echo(
        f"gunicorn 2 workers gthread, {report['concurrency']} keep-alive clients on loopback, "
        f"{report['seconds']:g} s per operation, {report['cpus']} CPUs\n"
    )
    if paced:
        click.echo(
            f"closed loop: {report['concurrency']} clients, each sending its next request when the answer "
            "is read (saturation)"
        )
    click.echo(table(rows))
    if paced:
        click.echo(
            f"\npaced: lookups {report['rate']:g} requests/s, writes {report['write_rate']:g}/s offered "
            "(open loop, Poisson arrivals; "
            f"latency from the scheduled arrival), {report['concurrency']} client connections"
        )
        click.echo(table(paced, paced=True))
    click.echo("")
    for pid, values in report["memory"].items():
        shown = ", ".join(f"{key} {value:.0f}" for key, value in values.items())
        click.echo(f"worker {pid}: {shown}")
    if report["persons"] < TARGET_PERSONS:
        click.echo(
            f"targets (they hold at {TARGET_PERSONS:_} persons; this run had {report['persons']:_}):".replace(
                "_", " "
            )
        )
    else:
        click.echo("targets:")
    for line in report["targets"]:
        click.echo(f"  {line}")
    for line in report["findings"]:
        click.echo(f"FINDING: {line}")
    for row in [*rows, *paced]:
        label = LABELS[row.op] if row.offered is None else f"{LABELS[row.op]} at {row.offered:g} req/s"
        for kind, samples in (
            ("miss", row.miss_samples),
            ("error", row.error_samples),
            ("other", row.other_samples),
        ):
            if samples:
                click.echo(f"{label}: {kind} e.g. " + " | ".join(samples[:5]))
    for op, summary in profiles.items():
        click.echo(f"\nprofile during {LABELS[op]}: % of request wall time (inclusive, self), both workers")
        for frame, inclusive, own in summary:
            click.echo(
                f"  {inclusive:5.1f} {own:5.1f}  {frame}" if not math.isnan(inclusive) else f"  {frame}"
            )


if __name__ == "__main__":
    main()

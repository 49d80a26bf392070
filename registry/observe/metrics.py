"""GET /metrics in Prometheus's text format (prometheus-client).

Per process, counted as requests are served: requests by route (the Flask rule, never the path
itself) and status, request latency by route, lookup latency by kind and outcome. Read from the
database and the hooks at every scrape: the search index's lag, the outbox backlog, the jobs'
last runs, and the lookups of the last 24 hours without a report.

Under gunicorn with several workers each worker counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (before the app is imported), prometheus-client keeps the counts
in files in that directory and a scrape of any worker adds up all of them (`samenop serve`
empties the directory at start). Without it, a scrape shows the worker that answered only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from flask import Flask
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import Session

from registry.core.timeutil import utcnow
from registry.observe import operations

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# the counts of this process; never the global default registry, so that tests may build as many
# apps as they like in one process
_PROCESS = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "samenop_http_requests",
    "HTTP requests answered, by route (the Flask rule), method and status",
    ("route", "method", "status"),
    registry=_PROCESS,
)
REQUEST_SECONDS = Histogram(
    "samenop_http_request_duration_seconds",
    "Time from the start of a request to its answer, commit included, by route",
    ("route",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=_PROCESS,
)
LOOKUP_SECONDS = Histogram(
    "samenop_lookup_duration_seconds",
    "Lookups (API and page) from the start of the request to the answer, by query kind and outcome",
    ("kind", "outcome"),
    # the targets of docs/performance.md: p99 at most 25 ms (exact address, phone), 60 ms (names)
    buckets=(0.005, 0.01, 0.015, 0.025, 0.04, 0.06, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=_PROCESS,
)


def multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ProcessCounts:
    """This process's counts (one worker, or everything when there is one process)."""

    def collect(self) -> Iterator[Any]:
        yield from _PROCESS.collect()


class _DatabaseFigures:
    """What the database and the hooks say at the moment of the scrape."""

    def __init__(self, app: Flask, session: Session) -> None:
        self.app = app
        self.session = session

    def collect(self) -> Iterator[Any]:
        hooks = operations.hooks(self.app)
        for read in (self._health, self._lookups, self._index, self._outbox, self._jobs):
            try:
                yield from read(hooks)
            except Exception:
                # one part that cannot be read leaves the others standing (and /health says which)
                log.exception("metrics: %s not read", read.__name__.lstrip("_"))

    def _health(self, _hooks: operations.Hooks) -> Iterator[Any]:
        ok = GaugeMetricFamily(
            "samenop_health_ok", "1 when the part of GET /health is healthy, else 0", labels=("part",)
        )
        for name, part in operations.health(self.app, self.session).items():
            ok.add_metric([name], 1.0 if part.ok else 0.0)
        yield ok

    def _lookups(self, _hooks: operations.Hooks) -> Iterator[Any]:
        showed, without = operations.lookups_last_day(self.session)
        yield GaugeMetricFamily(
            "samenop_lookups_showing_plan_24h",
            "Lookups of the last 24 hours that showed a plan",
            value=showed,
        )
        yield GaugeMetricFamily(
            "samenop_lookups_without_report_24h",
            "Of the lookups of the last 24 hours that showed a plan, those that no report names (yet)",
            value=without,
        )

    def _index(self, hooks: operations.Hooks) -> Iterator[Any]:
        if hooks.index_lag is not None:
            lag = hooks.index_lag(self.session)
            yield GaugeMetricFamily(
                "samenop_index_behind_changes",
                "Changes of the feed this server's search index has not applied",
                value=lag.behind,
            )
            yield GaugeMetricFamily(
                "samenop_index_lag_seconds",
                "Age of the oldest change this server's search index has not applied (0: up to date)",
                value=lag.lag_seconds,
            )

    def _outbox(self, hooks: operations.Hooks) -> Iterator[Any]:
        if hooks.outbox_backlog is not None:
            backlog = hooks.outbox_backlog(self.session)
            yield GaugeMetricFamily(
                "samenop_outbox_pending", "Messages in the outbox not delivered yet", value=backlog.pending
            )
            yield GaugeMetricFamily(
                "samenop_outbox_failed",
                "Messages the outbox gave up on (see Geplande taken)",
                value=backlog.failed,
            )
            oldest = backlog.oldest_queued_at
            yield GaugeMetricFamily(
                "samenop_outbox_oldest_age_seconds",
                "Age of the oldest message not delivered yet (0: none waiting)",
                value=(utcnow() - oldest).total_seconds() if oldest is not None else 0.0,
            )

    def _jobs(self, hooks: operations.Hooks) -> Iterator[Any]:
        if hooks.job_runs is not None:
            runs = list(hooks.job_runs(self.session))
            succeeded = GaugeMetricFamily(
                "samenop_job_last_run_succeeded",
                "1 when the job's last run succeeded, 0 when it failed",
                labels=("job",),
            )
            finished = GaugeMetricFamily(
                "samenop_job_last_run_timestamp_seconds",
                "When the job's last run ended (Unix time)",
                labels=("job",),
            )
            success = GaugeMetricFamily(
                "samenop_job_last_success_timestamp_seconds",
                "When the job last ran successfully (Unix time)",
                labels=("job",),
            )
            for run in runs:
                succeeded.add_metric([run.job], 1.0 if run.succeeded else 0.0)
                if run.finished_at is not None:
                    finished.add_metric([run.job], run.finished_at.timestamp())
                if run.last_success_at is not None:
                    success.add_metric([run.job], run.last_success_at.timestamp())
            yield from (succeeded, finished, success)


def exposition(app: Flask, session: Session) -> bytes:
    """The text a scrape gets."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory is not None:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessCounts())
    registry.register(_DatabaseFigures(app, session))
    return generate_latest(registry)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route).observe(seconds)


def observe_lookup(kind: str, outcome: str, seconds: float) -> None:
    LOOKUP_SECONDS.labels(kind, outcome).observe(seconds)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit: a worker that ended leaves its counts in the directory (counters and
    histograms keep adding up), its live gauges go."""
    directory = multiprocess_directory()
    if directory is not None:
        multiprocess.mark_process_dead(pid, directory)


def empty_directory() -> None:
    """At the start of `samenop serve`: counts of an earlier run would be added to this one's."""
    directory = multiprocess_directory()
    if directory is None:
        return
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))

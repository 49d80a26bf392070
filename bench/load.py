"""HTTP load: N keep-alive clients, in a closed loop or paced.

Closed loop (no rate): each client sends its next request as soon as the answer is read. That is
the server at saturation: throughput is its capacity, and latency is mostly queueing behind the
other clients. Paced (a rate): requests arrive as a Poisson process at `rate` per second in all,
however fast the server answers; the clients take the arrival times in turn from one shared
schedule, and a request's latency counts from its arrival, so waiting for a free client
connection is in it (no coordinated omission). Arrivals after the deadline are not sent.

Each client opens a new connection every RECONNECT_EVERY requests. A keep-alive connection stays
with the gunicorn worker that accepted it: four clients on two workers sit 2/2, 3/1 or 4/0 for a
whole run (and the figures of one operation differed by a third between runs); reconnecting
spreads them as a load balancer's many connections would. The connect is in the latency.

An operation is a Workload: what client i sends next, what to keep of each answer (in the client
thread, e.g. the id of a plan just created) and, after the phase, the verdict on each answer. The
result of a phase is a Row: requests, throughput, latency percentiles and the verdicts counted.
"""

from __future__ import annotations

import http.client
import itertools
import math
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

HOST = "127.0.0.1"
RECONNECT_EVERY = 20
VERDICTS = ("ok", "error", "miss", "other")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""  # what was asked, for the examples of misses and errors
    context: Any = None  # whatever the workload needs to judge the answer


class Workload:
    """One operation. Subclasses implement next_request and verdict; the defaults keep the body."""

    timeout = 30.0  # seconds the client waits for one answer

    def next_request(self, client: int, rng: random.Random) -> Request:
        raise NotImplementedError

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        """Called in client `client`'s thread right after the answer: what to keep of it."""
        return data

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        """ok | error | miss | other (see VERDICTS), after the phase."""
        raise NotImplementedError


class Health(Workload):
    """The floor: GET /health/live, no database, no session (GET /health asks the database)."""

    def next_request(self, client: int, rng: random.Random) -> Request:
        return Request("GET", "/health/live", text="GET /health/live")

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        return "ok" if status == 200 and digest == b"ok" else "error"


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
    # CPU seconds each gunicorn worker spent during the phase: how evenly the clients spread
    worker_cpu: tuple[float, ...] = ()
    offered: float | None = None  # paced: the requests/s asked for (None: closed loop)

    @property
    def split(self) -> str:
        """Each worker's share of the workers' CPU, in %: '50/50', or '75/25' when three
        clients' requests queued on one worker's GIL."""
        total = sum(self.worker_cpu)
        return "/".join(f"{100 * cpu / total:.0f}" for cpu in self.worker_cpu) if total else "-"

    @property
    def cpu_per_request(self) -> float:
        """Milliseconds of the workers' CPU per answered request: the cost of one request,
        steadier from run to run than latency, which also waits for the other clients."""
        return 1000 * sum(self.worker_cpu) / self.requests if self.requests and self.worker_cpu else math.nan

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


Answer = tuple[Request, float, int, Any]  # request, seconds, status (-1: no answer), digest
# paced: a backlog (the server slower than the rate) is worked off for at most this long after the
# deadline, so that the run's grace (60 s + the timeout) still holds; what is left is not sent
PACED_OVERRUN = 30.0


class Arrivals:
    """Poisson arrival times at `rate` per second in all, after `start`: each client takes the next."""

    def __init__(self, rate: float, start: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.last = start
        self.lock = threading.Lock()

    def take(self) -> float:
        with self.lock:
            self.last += self.rng.expovariate(self.rate)
            return self.last


def send(
    connection: http.client.HTTPConnection, request: Request
) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection.request(request.method, request.path, body=request.body, headers=request.headers)
    response = connection.getresponse()
    data = response.read()
    if response.will_close:
        connection.close()  # the next request opens a new connection
    return response.status, data, response


# what a kept-alive connection the server closed while idle gives the request sent on it
_STALE = (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)


def send_once_more_if_stale(
    connection: http.client.HTTPConnection, request: Request
) -> tuple[int, bytes, http.client.HTTPResponse]:
    """send(), and once more on a new connection when the kept-alive one turns out closed: the
    server closes a connection idle past its keep-alive time (gunicorn: 2 s; paced clients idle
    that long), and HTTP client pools resend then too. The server had read nothing of it."""
    reused = connection.sock is not None
    try:
        return send(connection, request)
    except _STALE:
        if not reused:
            raise
        connection.close()
        return send(connection, request)


def _client(
    port: int,
    workload: Workload,
    client: int,
    rng: random.Random,
    deadline: float,
    stop: threading.Event,
    budget: itertools.count[int],
    limit: int,
    out: list[Answer],
    arrivals: Arrivals | None = None,
) -> None:
    """Closed loop; with `arrivals`, each request waits for the next arrival time, which is where
    its latency starts (the time it waited for this client to be free included)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=workload.timeout)
    sent = 0
    try:
        while (
            not stop.is_set()
            and (arrivals is not None or time.perf_counter() < deadline)
            and next(budget) < limit
        ):
            due = arrivals.take() if arrivals is not None else None
            if due is not None and (due >= deadline or time.perf_counter() > deadline + PACED_OVERRUN):
                break
            request = workload.next_request(client, rng)
            sent += 1
            if sent % RECONNECT_EVERY == 0:
                connection.close()  # the request below connects anew (see RECONNECT_EVERY)
            if due is not None and (delay := due - time.perf_counter()) > 0:
                time.sleep(delay)
            started = time.perf_counter() if due is None else due
            try:
                status, data, _response = send_once_more_if_stale(connection, request)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                out.append((request, time.perf_counter() - started, -1, repr(exc).encode()))
                continue
            elapsed = time.perf_counter() - started
            out.append((request, elapsed, status, workload.digest(client, request, status, data)))
    finally:
        connection.close()


def run(
    port: int,
    workload: Workload,
    seconds: float,
    concurrency: int,
    limit: int,
    seed: int,
    rate: float | None = None,
) -> tuple[list[Answer], float]:
    """`concurrency` clients for `seconds` (at most `limit` requests in all), closed loop or, with
    `rate`, paced at `rate` requests/s in all: the answers, and the wall time they took."""
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    stop = threading.Event()
    budget = itertools.count()
    outputs: list[list[Answer]] = [[] for _ in range(concurrency)]
    started = time.perf_counter()
    deadline = started + seconds
    # a stream of its own: seed * 1000 + i seeds client i's requests
    arrivals = Arrivals(rate, started, seed * 1000 - 1) if rate is not None else None
    threads = [
        threading.Thread(
            target=_client,
            args=(
                port,
                workload,
                i,
                random.Random(seed * 1000 + i),
                deadline,
                stop,
                budget,
                limit,
                outputs[i],
                arrivals,
            ),
            daemon=True,
        )
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    grace = 60 + workload.timeout
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
                if time.perf_counter() > deadline + grace:
                    raise click.ClickException(
                        f"client threads did not finish {grace:.0f} s after the deadline"
                    )
    finally:
        stop.set()
    elapsed = time.perf_counter() - started
    return [answer for output in outputs for answer in output], elapsed


def measure(
    op: str,
    port: int,
    workload: Workload,
    seconds: float,
    warmup: float,
    concurrency: int,
    limit: int,
    seed: int,
    worker_cpu: Callable[[], list[float]] = list,
    rate: float | None = None,
) -> Row:
    """A warm-up (not counted), then the measured phase, summed up in a Row; closed loop, or
    paced at `rate` requests/s. `worker_cpu` gives the CPU seconds each server worker has used so
    far (read before and after the phase)."""
    if warmup > 0:
        run(port, workload, warmup, concurrency, limit, seed + 7, rate)
    cpu_before = worker_cpu()
    answers, elapsed = run(port, workload, seconds, concurrency, limit, seed, rate)
    cpu_used = tuple(after - before for after, before in zip(worker_cpu(), cpu_before, strict=True))
    latencies = sorted(duration * 1000 for _request, duration, _status, _digest in answers)
    counts: Counter[str] = Counter()
    samples: dict[str, list[str]] = {"error": [], "miss": [], "other": []}
    for request, _duration, status, digest in answers:
        verdict = workload.verdict(request, status, digest)
        counts[verdict] += 1
        if verdict != "ok" and len(samples[verdict]) < 10:
            detail = request.text
            if verdict == "error":
                shown = digest[:200] if isinstance(digest, bytes) else digest
                detail = f"{request.text} -> {status} {shown!r}"
            if detail not in samples[verdict]:
                samples[verdict].append(detail)
    return Row(
        op=op,
        requests=len(answers),
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
        worker_cpu=cpu_used,
        offered=rate,
    )


def call(port: int, request: Request, timeout: float = 60.0) -> tuple[int, bytes, http.client.HTTPResponse]:
    """One request on its own connection (set-up and checks, never measured)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        return send(connection, request)
    finally:
        connection.close()

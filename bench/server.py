"""The app under test: `samenop serve --workers 2` on loopback, its accounts, and what it used.

Accounts are made the way an administrator makes them (`samenop org add`, `samenop user add
--password-stdin --print-totp-secret`); clients log in as users do: the API with password and
TOTP for a bearer token, the web form with CSRF token, password and then the code.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import click

from bench.load import HOST, Request, call


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def samenop() -> str:
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
            # and no hourly budget: one user at hundreds of lookups a second is what production
            # refuses after 120 an hour, and each check would count every one of them;
            # `python -m bench.budget` measures the check at production's bound
            "SAMENOP_LOOKUP_HOURLY_LIMIT": "0",
            # the benchmark connects from loopback as nginx would, passing a system's certificate
            # in X-Client-Cert (bench/signal.py)
            "SAMENOP_CLIENT_CERT_PROXIES": "127.0.0.1",
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
                [samenop(), "serve", "--host", HOST, "--port", str(self.port)]
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
                status, _data, _response = call(self.port, Request("GET", "/health"), timeout=2)
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (nan where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    # after the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident set size now and its peak (VmHWM) in MB, from /proc (psutil when there is no
    /proc: then the peak is unknown)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        try:
            import psutil
        except ImportError:
            return {}
        with contextlib.suppress(psutil.Error):
            return {"rss_mb": round(psutil.Process(pid).memory_info().rss / 2**20, 1)}
        return {}
    found = {}
    for key, name in (("VmRSS", "rss_mb"), ("VmHWM", "peak_rss_mb")):
        match = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            found[name] = round(int(match.group(1)) / 1024, 1)
    return found


# --- accounts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    totp_secret: str
    organisation: str


def _cli(env: dict[str, str], command: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise click.ClickException(f"{' '.join(command[1:4])} failed ({done.returncode}):\n{tail}")
    return done


def add_organisation(env: dict[str, str], name: str, kind: str) -> None:
    _cli(env, [samenop(), "org", "add", name, "--kind", kind, "--region", "Benchmark"])


def add_user(env: dict[str, str], username: str, organisation: str, roles: tuple[str, ...]) -> Account:
    """A user with a password and TOTP through the CLI; one user may hold several roles."""
    password = "Bench-" + os.urandom(18).hex() + "-kalf-Zwolle"
    created = _cli(
        env,
        [samenop(), "user", "add", username, "--org", organisation]
        + [argument for role in roles for argument in ("--role", role)]
        + ["--password-stdin", "--print-totp-secret"],
        stdin=password + "\n",
    )
    found = re.search(r"totp_secret:\s*(\S+)", created.stdout)
    if not found:
        raise click.ClickException(f"no TOTP secret in the CLI's output: {created.stdout!r}")
    return Account(username, password, found.group(1), organisation)


def _code(account: Account) -> str:
    """The current TOTP code. Each is accepted once per user: every account logs in only once."""
    import pyotp

    return str(pyotp.TOTP(account.totp_secret).now())


def api_token(port: int, account: Account) -> str:
    body = json.dumps({"username": account.username, "password": account.password, "otp": _code(account)})
    status, data, _response = call(
        port,
        Request("POST", "/api/v1/auth/token", body.encode(), {"Content-Type": "application/json"}),
    )
    if status != 201:
        raise click.ClickException(f"token request answered {status}: {data[:300]!r}")
    return str(json.loads(data)["access_token"])


_CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def web_login(port: int, account: Account) -> str:
    """Log in through the web form (password step, then the code step); returns the Cookie header."""
    cookies: dict[str, str] = {}

    def step(method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, data, response = call(port, Request(method, path, body, headers))
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return status, data, response.headers.get("Location", "")

    def csrf(page: bytes) -> str:
        found = _CSRF.search(page)
        if not found:
            raise click.ClickException("web login: no CSRF token in the form")
        return (found.group(1) or found.group(2)).decode()

    status, page, _ = step("GET", "/login")
    form = {"username": account.username, "password": account.password, "csrf_token": csrf(page)}
    status, page, location = step("POST", "/login", form)
    if status != 302 or not location.endswith("/login/code"):
        raise click.ClickException(f"web login, password step: {status} {location} {page[:200]!r}")
    status, page, _ = step("GET", "/login/code")
    status, page, location = step("POST", "/login/code", {"code": _code(account), "csrf_token": csrf(page)})
    if status != 302 or location.endswith("/login") or location.endswith("/login/code"):
        raise click.ClickException(f"web login, code step: {status} {location} {page[:200]!r}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- the log ----------------------------------------------------------------------------------------

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

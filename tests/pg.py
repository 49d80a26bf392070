"""A throwaway PostgreSQL cluster for the test run: initdb + pg_ctl, unix socket only."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return candidates[0]


class Cluster:
    """Started by the test session, removed at its end. Runs as `postgres` when we are root
    (initdb refuses root). Listens on a unix socket in its own directory, no TCP at all.

    `port` names the socket (.s.PGSQL.<port>); `settings` are added to the server's options
    (tests/reliability/test_failover.py runs a primary and a standby with their own)."""

    def __init__(self, port: int = 5432, settings: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="samenop-pg-"))
        self.data = self.dir / "data"
        self.port = port
        self.settings = dict(settings or {})
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.dir.chmod(0o755)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        """A PostgreSQL program (by its name: initdb, pg_ctl, ...) as the cluster's user."""
        command = [_bin(args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        self.init()
        self.launch()

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def launch(self) -> None:
        """pg_ctl start on the data directory (made by init(), or by pg_basebackup), waiting
        until the server accepts connections."""
        options = (
            f"-k {self.dir} -p {self.port} -c listen_addresses='' -c max_connections=200"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        options += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", str(self.dir / "log"), "start")

    def url(self, database: str) -> str:
        port = f"&port={self.port}" if self.port != 5432 else ""
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}{port}"

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

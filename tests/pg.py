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
    (initdb refuses root). Listens on a unix socket in its own directory, no TCP at all."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="samenop-pg-"))
        self.data = self.dir / "data"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.dir.chmod(0o755)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-k {self.dir} -c listen_addresses='' -c max_connections=200"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}"

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

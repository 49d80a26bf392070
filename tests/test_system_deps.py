"""`make test` on a fresh Debian machine: .ci/system-deps installs Debian's chromium and the
PostgreSQL server when they are missing (as root, or with password-less sudo), and otherwise
names the one command to run. apt-get itself is stood in for here by a script that records how it
was called: the machine running the tests has both already."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from registry.core.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / ".ci" / "system-deps"


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def fresh_machine(tmp_path: Path, uid: int, sudo_works: bool) -> tuple[dict[str, str], Path]:
    """A PATH without initdb, no chromium and no PostgreSQL, and stand-ins for apt-get, id and
    sudo. -> the environment, and the file apt-get's calls are written to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-get.calls"
    stand_in(bin_dir, "apt-get", f'echo "$@" >> {calls}')
    stand_in(bin_dir, "id", f"echo {uid}")
    stand_in(
        bin_dir,
        "sudo",
        'if [ "$1" = -n ] && [ "$2" = true ]; then exit '
        + ("0" if sudo_works else "1")
        + '; fi\nshift; exec "$@"',
    )
    for tool in ("ls", "bash", "sh", "env"):
        found = subprocess.run(["which", tool], capture_output=True, text=True, check=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    env = {
        "PATH": str(bin_dir),
        "SAMENOP_CHROMIUM": str(tmp_path / "no-chromium"),
        "SAMENOP_POSTGRESQL_LIB": str(tmp_path / "no-postgresql"),
    }
    return env, calls


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False)


def test_as_root_a_fresh_machine_gets_chromium_and_postgresql(tmp_path: Path) -> None:
    env, calls = fresh_machine(tmp_path, uid=0, sudo_works=False)
    done = run(env)
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends chromium fonts-liberation postgresql",
    ]


def test_with_password_less_sudo_it_installs_through_sudo(tmp_path: Path) -> None:
    env, calls = fresh_machine(tmp_path, uid=1000, sudo_works=True)
    assert run(env).returncode == 0
    assert "install -y -qq --no-install-recommends chromium fonts-liberation postgresql" in calls.read_text()


def test_without_root_or_sudo_it_names_the_one_command_to_run(tmp_path: Path) -> None:
    env, calls = fresh_machine(tmp_path, uid=1000, sudo_works=False)
    done = run(env)
    assert done.returncode == 1
    assert "make test needs: sudo apt-get install chromium fonts-liberation postgresql" in done.stderr
    assert not calls.exists()


def test_a_machine_that_has_both_installs_nothing(tmp_path: Path) -> None:
    env, calls = fresh_machine(tmp_path, uid=0, sudo_works=False)
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    chromium.chmod(0o755)
    initdb = tmp_path / "postgresql" / "15" / "bin" / "initdb"
    initdb.parent.mkdir(parents=True)
    initdb.write_text("")
    env.update(SAMENOP_CHROMIUM=str(chromium), SAMENOP_POSTGRESQL_LIB=str(tmp_path / "postgresql"))
    assert run(env).returncode == 0
    assert not calls.exists()

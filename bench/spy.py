"""Optional profiling (--profile): py-spy against both gunicorn workers while an operation runs,
summed up as where the requests' wall time goes."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent


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

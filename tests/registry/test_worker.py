"""`samenop worker`: the periodic jobs on their schedules, each once per due time however many
workers run (two processes on one database, as on two servers), and each job's last run shown
to the coordinator and to nobody else."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import AuditEntry, JobRun, OutboxMessage, User
from registry.ops import worker
from tests.feedback.conftest import amsterdam, clock_at
from tests.registry.plan_data import plan_body, today
from tests.smtp import Mailbox

MONDAY_MORNING = amsterdam(2026, 3, 16, 7, 0, 1)


def _runs(app: Flask) -> dict[str, tuple[str, int]]:
    with app.app_context():
        rows = {row.name: (row.outcome, row.runs) for row in database.session.scalars(select(JobRun))}
        database.commit()
        return rows


def test_two_workers_on_one_database_run_each_job_once(
    app: Flask,
    app_config: dict[str, Any],
    database_url: str,
    mailbox: tuple[Mailbox, str],
    make_user: Callable[..., User],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    tmp_path: Path,
) -> None:
    box, url = mailbox
    # Given a registrant whose plan ends in 14 days (a reminder is due)
    registrant = make_user(roles=("registrant",))
    with app.app_context():
        stored = database.session.get(User, registrant.id)
        assert stored is not None
        stored.email = "regiehouder@samenop.example"
        database.commit()
    until = (today() + timedelta(days=14)).isoformat()
    created = client.post(
        "/api/v1/plans", json=plan_body(valid_until=until), headers=auth_headers(registrant)
    )
    assert created.status_code == 201
    # When two workers, each its own process with its own connections (two servers), start at once
    script = Path(sys.executable).with_name("samenop")
    base = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SAMENOP_")},
        "SAMENOP_DATABASE_URL": database_url,
        "SAMENOP_INSTANCE_DIR": app_config["INSTANCE_DIR"],
        "SAMENOP_SECRET_KEY": app_config["SECRET_KEY"],
        "SAMENOP_SMTP_URL": url,
        "SAMENOP_MAIL_FROM": "samenop@samenop.example",
    }
    workers = [
        subprocess.Popen(
            [str(script), "worker", "--once"],
            env=base | {"SAMENOP_INDEX_DIR": str(tmp_path / f"index-{name}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [process.communicate(timeout=120) for process in workers]
    assert [process.returncode for process in workers] == [0, 0], outputs
    # Then every job ran once: one worker ran it, the other found it running or done
    said = [dict(line.split(": ", 1) for line in out.splitlines() if ": " in line) for out, _err in outputs]
    runs = _runs(app)
    assert {name.partition("@")[0] for name in runs} == {job.name for job in worker.JOBS}
    for name, (outcome, count) in runs.items():
        assert count == 1, (name, outputs)
        words = sorted(said_by[name].split(" - ")[0] for said_by in said)
        assert words[0] in ("busy", "not_due") or words[1] in ("busy", "not_due"), (name, words)
        assert outcome in ("success", "skipped"), (name, outcome, outputs)
    # And what the jobs do happened once: one purge in the audit log, one reminder e-mail
    with app.app_context():
        purges = database.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "purge")
        )
        reminders = database.session.scalar(select(func.count()).select_from(OutboxMessage))
        database.commit()
    assert (purges, reminders) == (1, 1)
    assert [recipients for recipients, _message in box.messages] == [["regiehouder@samenop.example"]]


def test_each_job_runs_on_its_schedule(app: Flask, mailbox: tuple[Mailbox, str]) -> None:
    app.config["SMTP_URL"] = mailbox[1]
    cli = app.test_cli_runner()
    # On Monday at 07.00 every job is due (none ran before): the digest too
    with clock_at(MONDAY_MORNING):
        first = cli.invoke(args=["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "feedback_digest: success - 0 digest(s) sent for 2026-03-16" in first.output
    assert {outcome for outcome, _runs in _runs(app).values()} == {"success"}
    # Twenty seconds later nothing is due again
    with clock_at(MONDAY_MORNING + timedelta(seconds=20)):
        again = cli.invoke(args=["worker", "--once"])
    assert all(line.endswith("not_due") for line in again.output.splitlines()), again.output
    # Five minutes later the outbox, the escalations and the index, not the daily jobs
    with clock_at(MONDAY_MORNING + timedelta(minutes=5)):
        cli.invoke(args=["worker", "--once"])
    runs = {name.partition("@")[0]: count for name, (_outcome, count) in _runs(app).items()}
    assert runs == {
        "outbox_deliver": 2,
        "feedback_escalate": 2,
        "index_compact": 2,
        "privacy_scan": 1,
        "plans_expire": 1,
        "purge": 1,
        "feedback_digest": 1,
    }
    # A worker that was down on Tuesday morning does not send Tuesday's digest in the afternoon
    with clock_at(amsterdam(2026, 3, 17, 14, 0)):
        late = cli.invoke(args=["worker", "--once"])
    assert "feedback_digest: skipped" in late.output


def test_the_coordinator_sees_each_jobs_last_run_and_nobody_else_does(
    app: Flask,
    make_user: Callable[..., User],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a worker ran once without a mail server: the escalation job failed
    app.config["SMTP_URL"] = None
    with clock_at(MONDAY_MORNING):
        assert app.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0
    # When the coordinator opens Geplande taken
    coordinator = app.test_client()
    web_login(coordinator, make_user(roles=("coordinator",)))
    page = coordinator.get("/beheer/taken")
    # Then every job is there with its outcome, and the failure says why
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    for job in worker.JOBS:
        assert job.label in text
    assert 'id="taak-feedback_escalate"' in text
    row = text.split('id="taak-feedback_escalate"')[1].split("</tr>")[0]
    assert "Mislukt" in row
    assert "SAMENOP_SMTP_URL is not set" in row
    assert "maandag t/m vrijdag om 07.00 uur" in text
    assert "Geplande taken" in coordinator.get("/").get_data(as_text=True)  # in the menu
    # And a registrant, a responder and somebody not logged in are refused
    for roles in (("registrant",), ("responder",), ("auditor",)):
        other = app.test_client()
        web_login(other, make_user(roles=roles))
        assert other.get("/beheer/taken").status_code == 403, roles
        assert "Geplande taken" not in other.get("/").get_data(as_text=True)
    anonymous = app.test_client().get("/beheer/taken")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


def test_worker_status_prints_each_jobs_last_run(app: Flask) -> None:
    app.config["SMTP_URL"] = None
    cli = app.test_cli_runner()
    before = cli.invoke(args=["worker", "status"])
    assert "plans_expire: never ran (dagelijks om 00.30 uur)" in before.output
    with clock_at(MONDAY_MORNING):
        cli.invoke(args=["worker", "--once"])
    after = cli.invoke(args=["worker", "status"])
    assert after.exit_code == 0, after.output
    assert "feedback_escalate: failed at 2026-03-16T06:00" in after.output
    assert "SAMENOP_SMTP_URL is not set" in after.output
    assert "plans_expire: success" in after.output
    assert "outbox: 0 waiting, 0 undeliverable" in after.output


def test_the_long_running_worker_runs_due_jobs_until_it_is_stopped(app: Flask) -> None:
    # Given `samenop worker` looking for due jobs every tenth of a second
    stop = threading.Event()
    running = threading.Thread(target=worker.run_forever, args=(app, stop, 0.1))
    with clock_at(MONDAY_MORNING):  # far from the next due time of every job
        running.start()
        _until_stopped(app, running, stop)
    counts = {name.partition("@")[0]: count for name, (_outcome, count) in _runs(app).items()}
    assert set(counts.values()) == {1}, counts


def _until_stopped(app: Flask, running: threading.Thread, stop: threading.Event) -> None:
    try:
        # Then it runs every job once, and keeps going without running them again
        deadline = time.monotonic() + 60
        while len(_runs(app)) < len(worker.JOBS) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        assert len(_runs(app)) == len(worker.JOBS)
        assert running.is_alive()
    finally:
        # When it is stopped, it ends
        stop.set()
        running.join(timeout=60)
    assert not running.is_alive()

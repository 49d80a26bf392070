"""`samenop worker` (the periodic jobs, on any number of servers), `samenop worker status`, and
`samenop outbox deliver` (what the worker runs every 30 seconds)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.core.db import db
from registry.ops import mail, outbox, worker


@click.group("worker", invoke_without_command=True)
@click.option("--once", is_flag=True, help="run what is due now, then exit")
@click.pass_context
@with_appcontext
def worker_group(context: click.Context, once: bool) -> None:
    """Run the periodic jobs on their schedules (one process per server; each job runs once)."""
    if context.invoked_subcommand is not None:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        for ran in worker.run_due(app):
            summary = ran.message.strip().splitlines()[-1] if ran.message.strip() else ""
            click.echo(f"{ran.job}: {ran.outcome}{' - ' + summary if summary else ''}")
        return
    stop = threading.Event()

    def stopping(_signal: int, _frame: Any) -> None:
        stop.set()  # the job that runs is finished first

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    click.echo(f"worker: {len(worker.JOBS)} jobs, looking every {worker.TICK_SECONDS:g} s")
    worker.run_forever(app, stop)
    click.echo("worker: stopped")


@worker_group.command("status")
@with_appcontext
def status() -> None:
    """Each job's last run and outcome, and the outbox's backlog."""
    for view in worker.overview(db.session):
        run = view.run
        if run is None:
            click.echo(f"{view.name}: never ran ({view.schedule})")
            continue
        finished = run.finished_at.isoformat(timespec="seconds") if run.finished_at else "-"
        click.echo(
            f"{view.name}: {run.outcome} at {finished} on {run.host or '-'}, {run.runs} run(s) "
            f"({view.schedule})"
        )
        for line in run.message.strip().splitlines():
            click.echo(f"    {line}")
    waiting = outbox.backlog(db.session)
    oldest = (
        f", oldest {waiting.oldest_pending_at.isoformat(timespec='seconds')}"
        if waiting.oldest_pending_at
        else ""
    )
    click.echo(f"outbox: {waiting.pending} waiting{oldest}, {waiting.failed} undeliverable")
    db.rollback()


@click.group("outbox")
def outbox_group() -> None:
    """Messages waiting to leave (e-mail, webhooks)."""


@outbox_group.command("deliver")
@with_appcontext
def deliver() -> None:
    """Deliver every message that is due (new, or due for another attempt)."""
    delivery = outbox.deliver(db.session)  # without a mail server: the webhooks only
    if not mail.configured():
        waiting = outbox.backlog(db.session).pending_email
        db.rollback()
        if waiting:
            raise click.ClickException(
                f"SAMENOP_SMTP_URL is not set: {waiting} e-mail(s) waiting; {delivery.line()}"
            )
        if not delivery.delivered and not delivery.retrying and not delivery.given_up:
            click.echo("0 message(s) waiting")
            return
    click.echo(delivery.line())

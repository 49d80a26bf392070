"""Webhook endpoints of an organisation (add, list, rotate the secret, disable; audited) and the
events they are told of, each written to the outbox in the transaction of its fact.

A message carries ids and a link only, never a name, address, phone number, meldingnummer or
narrative: `{"type", "timestamp", "data": {"report_id", "plan_id", "melding_id", ..., "url"}}`.
The receiver fetches what it may read through the API, with a person's token, audited as any
read. Who is told of what follows the inbox: `feedback.created` and `report.urgent` go to the
organisations that hear of the report (registry.core.rules.hearers_of: the plan's owner, those it
is shared with, the Veilig Thuis of the reporting organisation's region), `acknowledgement.created`
to the organisation that reported, `plan.expiring` to the plan's owner.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import FeedbackAcknowledgement, Organisation, Plan, Report, User, WebhookEndpoint
from registry.core.timeutil import utcnow
from registry.core.vocabulary import Role, WebhookEvent
from registry.ops import outbox, webhook

#: who manages an organisation's endpoints through the API (an administrator: the command line)
ROLE = Role.COORDINATOR
#: after a rotation the previous secret signs beside the new one this long: the receiver
#: switches over without refusing a message signed while it did
ROTATION_OVERLAP = timedelta(hours=24)
MAX_URL = 2048


class WebhookError(Exception):
    """What was asked cannot be done; `field` names the input, the message says why (Dutch)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(Exception):
    """No such endpoint of this organisation."""


# --- input --------------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The receiving URL: https (in production only https; elsewhere http too, for a receiver on
    the machine), a host, no credentials or fragment in it."""
    url = url.strip()
    production = current_app.config.get("ENVIRONMENT") == "production"
    allowed = ("https",) if production else ("https", "http")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("url", "Geen geldig adres (URL).") from None
    if parts.scheme not in allowed:
        raise WebhookError(
            "url", "Het adres moet met https:// beginnen." if production else "Gebruik https:// of http://."
        )
    if not parts.hostname or port == 0:
        raise WebhookError("url", "Het adres noemt geen server.")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise WebhookError("url", "Zet geen gebruikersnaam, wachtwoord of #-deel in het adres.")
    if len(url) > MAX_URL or any(character.isspace() for character in url):
        raise WebhookError("url", f"Een adres zonder spaties, van hoogstens {MAX_URL} tekens.")
    return url


def check_events(codes: Iterable[str]) -> list[str]:
    """The event codes, known and at least one, in the vocabulary's order."""
    wanted = {code.strip() for code in codes if code.strip()}
    unknown = sorted(wanted - set(WebhookEvent.codes()))
    if unknown:
        raise WebhookError(
            "events", f"Onbekend: {', '.join(unknown)}. Kies uit {', '.join(WebhookEvent.codes())}."
        )
    if not wanted:
        raise WebhookError("events", f"Kies ten minste één van {', '.join(WebhookEvent.codes())}.")
    return [code for code in WebhookEvent.codes() if code in wanted]


# --- managing endpoints ---------------------------------------------------------------------------


def find_organisation(session: Session, name: str) -> Organisation:
    organisation = session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is None:
        raise WebhookError("org", f"Er is geen organisatie {name}.")
    return organisation


def _audit(
    session: Session, action: str, endpoint: WebhookEndpoint, by: str, user: User | None, **detail: Any
) -> None:
    audit.record(
        session,
        action,
        "success",
        user=user,
        role=ROLE if user is not None else "",
        username=None if user is not None else "cli",
        object_type="webhook",
        object_id=endpoint.id,
        detail={
            "organisation": endpoint.organisation.name,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "by": by,
            **detail,
        },
    )


def add_endpoint(
    session: Session, organisation: Organisation, url: str, events: Iterable[str], by: str,
    user: User | None = None,
) -> tuple[WebhookEndpoint, str]:  # fmt: skip
    """A new endpoint with a new secret (audited). -> (endpoint, the plain secret: shown once)."""
    secret = webhook.new_secret()
    endpoint = WebhookEndpoint(
        organisation=organisation,
        url=check_url(url),
        events=check_events(events),
        secret_encrypted=webhook.seal(secret),
        is_active=True,
        created_at=utcnow(),
        created_by=by[:64],
    )
    session.add(endpoint)
    session.flush()
    _audit(session, "webhook_add", endpoint, by, user)
    return endpoint, secret


def endpoints_of(
    session: Session, organisation_id: int | None, by: str, user: User | None = None
) -> list[WebhookEndpoint]:
    """The endpoints of one organisation (or, for the administrator, of all), audited."""
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if organisation_id is not None:
        query = query.where(WebhookEndpoint.organisation_id == organisation_id)
    endpoints = list(session.scalars(query))
    audit.record(
        session,
        "webhook_list",
        "success",
        user=user,
        role=ROLE if user is not None else "",
        username=None if user is not None else "cli",
        object_type="webhook",
        detail={"shown": len(endpoints), "by": by},
    )
    return endpoints


def get_endpoint(session: Session, endpoint_id: int, organisation_id: int | None = None) -> WebhookEndpoint:
    """One endpoint; NotFound when there is none (of this organisation, when one is given)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (organisation_id is not None and endpoint.organisation_id != organisation_id):
        raise NotFound
    return endpoint


def rotate_secret(session: Session, endpoint: WebhookEndpoint, by: str, user: User | None = None) -> str:
    """A new secret for the endpoint (audited); the previous one signs beside it for
    ROTATION_OVERLAP. -> the new plain secret: shown once."""
    if not endpoint.is_active:
        raise WebhookError("id", "Deze webhook staat uit; voeg een nieuwe toe.")
    secret = webhook.new_secret()
    now = utcnow()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    endpoint.secret_encrypted = webhook.seal(secret)
    endpoint.secret_rotated_at = now
    session.flush()
    _audit(session, "webhook_rotate", endpoint, by, user)
    return secret


def disable(session: Session, endpoint: WebhookEndpoint, by: str, user: User | None = None) -> None:
    """Stop telling the endpoint anything (audited): no new messages, and those still waiting
    for it are given up at their next attempt. A disabled endpoint is not enabled again."""
    if not endpoint.is_active:
        return
    endpoint.is_active = False
    endpoint.disabled_at = utcnow()
    endpoint.disabled_by = by[:64]
    session.flush()
    _audit(session, "webhook_disable", endpoint, by, user)


# --- events ---------------------------------------------------------------------------------------


def _link(path: str) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def body(event: str, at: datetime, data: dict[str, Any]) -> str:
    """The JSON a receiver gets: the type, when it happened (UTC), ids and a link."""
    moment = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps({"type": event, "timestamp": moment, "data": data}, separators=(",", ":"))


def emit(
    session: Session, event: WebhookEvent, organisation_ids: Iterable[int], fact: str, data: dict[str, Any],
) -> list[int]:  # fmt: skip
    """One outbox row per active endpoint of these organisations that wants the event, in the
    caller's transaction, delivered right after its commit. `fact` identifies what happened
    (an event about the same fact reaches an endpoint once). -> the rows added."""
    wanted = list(organisation_ids)
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.organisation_id.in_(wanted), WebhookEndpoint.is_active)
            .order_by(WebhookEndpoint.id)
        )
        if event.value in endpoint.events
    ]
    if not endpoints:
        return []
    payload = body(event.value, utcnow(), data)
    ids = [
        row_id
        for endpoint in endpoints
        if (row_id := outbox.add_webhook(session, f"{event.value}:{fact}", endpoint, payload)) is not None
    ]
    outbox.deliver_after_commit(session, ids)
    return ids


def report_stored(session: Session, report: Report) -> list[int]:
    """A new report: feedback.created for whoever hears of it, and report.urgent as well when it
    is a spoedmelding (with its deadline)."""
    data = {
        "report_id": str(report.id),
        "plan_id": _id(report.plan_id),
        "melding_id": str(report.melding_id),
        "url": _link(f"/api/v1/meldingen/{report.melding_id}"),
    }
    hearers = list(
        session.scalars(select(Organisation.id).where(Organisation.id.in_(rules.hearers_of(report.id))))
    )
    ids = emit(session, WebhookEvent.FEEDBACK_CREATED, hearers, str(report.id), data)
    if report.feedback_due_at is not None:
        due = report.feedback_due_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        urgent = data | {"feedback_due_at": due}
        ids += emit(session, WebhookEvent.REPORT_URGENT, hearers, str(report.id), urgent)
    return ids


def acknowledged(session: Session, acknowledgement: FeedbackAcknowledgement) -> list[int]:
    """An organisation acknowledged a report: acknowledgement.created for the organisation that
    reported it (a lookup without report has nobody to tell)."""
    if acknowledgement.report_id is None:
        return []
    report = session.get(Report, acknowledgement.report_id)
    assert report is not None
    data = {
        "report_id": str(report.id),
        "plan_id": _id(report.plan_id),
        "melding_id": str(report.melding_id),
        "organisation_id": acknowledgement.organisation_id,
        "url": _link(f"/api/v1/reports/{report.id}"),
    }
    fact = f"{report.id}:{acknowledgement.organisation_id}"
    return emit(session, WebhookEvent.ACKNOWLEDGEMENT_CREATED, [report.organisation_id], fact, data)


def plan_expiring(session: Session, plan: Plan, days: int) -> list[int]:
    """The expiry reminder of a plan at a mark (14 or 3 days): plan.expiring for its owner."""
    valid_until: date = plan.valid_until
    data = {
        "plan_id": str(plan.id),
        "valid_until": valid_until.isoformat(),
        "days_before": days,
        "url": _link(f"/api/v1/plans/{plan.id}"),
    }
    return emit(session, WebhookEvent.PLAN_EXPIRING, [plan.owner_organisation_id], f"{plan.id}:{days}", data)

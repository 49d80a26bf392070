"""Signals: a control room's system asks, on every call, whether a handelingskader is there, and
is told yes or no, which organisations own it and a reference; never a name, agreement or address.
A person of the same organisation with two factors opens what was found with the reference, for
the same meldingnummer, within 12 hours: that opening is a lookup like any other.

A signal is asked on an exact address (postcode and number, with or without a suffix: the same
`exact` and `building` matches a lookup shows) or a phone number, straight from the database, and
answers true exactly when a lookup on the same query would show a plan (rules.shown_to_responders).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from lookup import normalise, operations
from registry.clients.operations import AUDIT_ROLE, ClientCaller
from registry.core import audit, rules
from registry.core.db import db
from registry.core.models import Lookup, Signal, SignalResult
from registry.core.timeutil import utcnow
from registry.core.vocabulary import MatchQuality

#: a signal's reference opens what it found this long: the 12 hours within which a lookup is
#: followed by its report
SIGNAL_OPEN = rules.LOOKUP_GRACE


class SignalRefused(Exception):
    """A signal that is not given: a meldingnummer not of the organisation's format (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SignalNotOpened(Exception):
    """The reference opens nothing for this person and meldingnummer (not the organisation's
    signal, another melding, too late, no such reference): answered alike whatever the reason."""


@dataclass
class Given:
    """A signal as it is to be stored, and what the system is told."""

    signal: dict[str, Any]
    reference: str
    matches: list[operations.Match]
    owner_organisations: list[str] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime:
        performed_at: datetime = self.signal["performed_at"]
        return performed_at + SIGNAL_OPEN


def new_reference() -> str:
    """60 random bits in Crockford's base32: S-7KQ4-M9XD-2HPT."""
    characters = "".join(
        secrets.choice(normalise.SIGNAL_ALPHABET) for _ in range(4 * normalise.SIGNAL_GROUPS)
    )
    return "S-" + "-".join(characters[start : start + 4] for start in range(0, len(characters), 4))


def reference_hash(reference: str) -> str:
    """What is stored of a reference (in its one form, normalise.signal_reference)."""
    return hashlib.sha256(reference.encode()).hexdigest()


_INSERT_SIGNAL = insert(cast(Table, Signal.__table__))
_INSERT_RESULTS = insert(cast(Table, SignalResult.__table__))


def prepare(
    session: Session, client: ClientCaller, incident_ref: str, kind: str, args: dict[str, Any]
) -> Given:
    """Find (only reading, in the transaction the certificate check began), and the signal as it is
    to be stored. SignalRefused for a meldingnummer not of the organisation's format."""
    problem = rules.incident_ref_problem(
        incident_ref, client.incident_ref_pattern, client.incident_ref_example
    )
    if problem is not None:
        _audit_kept(session, client, "refused", {"reason": "incident_ref_format", "query_kind": kind})
        raise SignalRefused("incident_ref", problem)
    with db.reading():
        now = utcnow()
        matches = operations.find(session, kind, args)  # address or phone: the database, no index
    reference = new_reference()
    signal = {
        "id": uuid.uuid4(),
        "reference_hash": reference_hash(reference),
        "client_id": client.client_id,
        "organisation_id": client.organisation_id,
        "incident_ref": incident_ref,
        "query_kind": kind,
        "performed_at": now,
        "match_count": len(matches),
    }
    owners = sorted({match.version.organisation_name for match in matches})
    return Given(signal, reference, matches, owners)


def store(session: Session, client: ClientCaller, given: Given) -> None:
    """The signal, the plans it found and its audit row, in one short write transaction."""
    signal = given.signal
    connection = session.connection()
    connection.execute(_INSERT_SIGNAL, signal)
    if given.matches:
        connection.execute(
            _INSERT_RESULTS,
            [
                {
                    "signal_id": signal["id"],
                    "plan_id": m.plan_id,
                    "plan_version_id": m.version_id,
                    "match_on": m.on,
                    "quality": m.quality,
                    "score": m.score,
                }
                for m in given.matches
            ],
        )
    audit.record(
        session,
        "signal",
        "match" if given.matches else "no_match",
        username=client.audit_name,
        organisation=client.organisation_name,
        role=AUDIT_ROLE,
        object_type="signal",
        object_id=signal["id"],
        detail={
            "incident_ref": signal["incident_ref"],
            "query_kind": signal["query_kind"],
            "client": client.name,
            "certificate": client.fingerprint,
            "shown": [{"plan": str(m.plan_id), "version_id": m.version_id} for m in given.matches],
        },
    )


def _audit_kept(session: Session, client: ClientCaller, outcome: str, detail: dict[str, Any]) -> None:
    audit.record_kept(
        session,
        "signal",
        outcome,
        username=client.audit_name,
        organisation=client.organisation_name,
        role=AUDIT_ROLE,
        object_type="signal",
        detail={"client": client.name, "certificate": client.fingerprint, **detail},
    )


# --- a person opens what a signal found ---------------------------------------------------------

_SIGNAL = select(
    Signal.id, Signal.organisation_id, Signal.incident_ref, Signal.query_kind, Signal.performed_at
).where(Signal.reference_hash == bindparam("reference_hash"))
_FOUND = (
    select(SignalResult.plan_id, SignalResult.match_on, SignalResult.quality, SignalResult.score)
    .where(SignalResult.signal_id == bindparam("signal_id"))
    .order_by(SignalResult.id)
)


def open_signal(
    session: Session, user: operations.Responder, incident_ref: str, reference: str
) -> operations.Outcome:
    """What the signal with this reference found, shown to a person of the signal's organisation
    for the signal's meldingnummer (case and spaces ignored), within SIGNAL_OPEN of it: the
    current version of each plan it found that responders are still shown. A lookup of its own
    (the signal's query kind, `signal_id` the signal), which counts against the user's budget and
    opens the report form; the caller stores it (operations.store).

    LookupRefused for a meldingnummer not of the organisation's format or a budget spent;
    SignalNotOpened, after an audit row of the refusal, otherwise."""
    problem = rules.incident_ref_problem(incident_ref, user.incident_ref_pattern, user.incident_ref_example)
    if problem is not None:
        audit.record_kept(
            session, "lookup", "refused", user=user, role=operations.ROLE, object_type="lookup",
            detail={"reason": "incident_ref_format", "query_kind": "signal"},
        )  # fmt: skip
        raise operations.LookupRefused(422, "invalid_input", "incident_ref", problem)
    with db.reading():
        now = utcnow()
        row = session.connection().execute(_SIGNAL, {"reference_hash": reference_hash(reference)}).first()
        if row is None or row.organisation_id != user.organisation_id:
            reason = "not_own_signal"
        elif rules.melding_key_of(row.incident_ref) != rules.melding_key_of(incident_ref):
            reason = "other_incident"
        elif row.performed_at <= now - SIGNAL_OPEN:
            reason = "signal_closed"
        else:
            reason = ""
            operations.check_budget(session, user, False, now)
            found = session.connection().execute(_FOUND, {"signal_id": row.id}).all()
            matches = operations.still_shown(
                session, [(f.plan_id, f.match_on, MatchQuality[f.quality.upper()], f.score) for f in found]
            )
            shown = operations.views(session, matches)
    if reason:
        audit.record_kept(
            session, "lookup", "refused", user=user, role=operations.ROLE, object_type="signal",
            object_id=row.id if row is not None and reason != "not_own_signal" else "",
            detail={"reason": reason, "query_kind": "signal"},
        )  # fmt: skip
        raise SignalNotOpened(reason)
    assert row is not None
    record = Lookup(
        id=uuid.uuid4(),
        user_id=user.id,
        organisation_id=user.organisation_id,
        role=operations.ROLE,
        incident_ref=row.incident_ref,
        query_kind=row.query_kind,
        performed_at=now,
        match_count=len(matches),
        name_only=False,
        opened_from=None,
        signal_id=row.id,
    )
    return operations.Outcome(record, list(zip(shown, matches, strict=True)))

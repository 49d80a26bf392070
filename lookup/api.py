"""POST /api/v1/lookups for responders, and the access log of a plan for its owners."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from lookup import operations, signalling
from lookup.schemas import (
    AccessLogSchema,
    LookupArgs,
    LookupResponseSchema,
    OpenCandidateArgs,
    RevealArgs,
    RevealedAddressSchema,
    SignalArgs,
    SignalSchema,
)
from registry.core.db import db
from registry.plans import operations as plans
from registry.web import pagination
from registry.web.api import ApiError, api_caller, api_user, parse, require_token
from registry.web.clients import client_caller, require_client
from registry.web.openapi import describe
from registry.web.ratelimit import lookup_limit
from registry.web.schemas import dumper

bp = Blueprint("lookup_api", __name__, url_prefix="/api/v1")

_lookup_args = LookupArgs()
_response = LookupResponseSchema()
# the schema's answer, without marshmallow's work around each of its ~75 fields
_dump_response = dumper(_response)
_access_log = AccessLogSchema()
_open_args = OpenCandidateArgs()
_reveal_args = RevealArgs()
_revealed = RevealedAddressSchema()
GEHEIM_WARNING = "Geheim adres — nooit noemen via portofoon of aan de melder."


def answer(outcome: operations.Outcome) -> dict[str, Any]:
    """What LookupResponseSchema dumps."""
    return {
        "lookup_id": outcome.lookup.id,
        "performed_at": outcome.lookup.performed_at,
        "matches": [
            {
                "plan": shown.as_dict(),
                "match": {"on": match.on, "quality": match.quality, "score": match.score},
                "matched_on": match.matched_on.as_dict() if match.matched_on is not None else None,
                "history": {"meldingen": shown.earlier_meldingen, "last": shown.last_melding_on},
            }
            for shown, match in outcome.matches
        ],
        "candidates": [
            {
                "plan_id": candidate.plan_id,
                "name": candidate.name,
                "birth_year": candidate.birth_year,
                "city": candidate.city,
                "owner_organisation": candidate.owner_organisation,
                "match": {"on": "person", "quality": candidate.quality, "score": candidate.score},
            }
            for candidate in outcome.candidates
        ],
    }


def dump_outcome(outcome: operations.Outcome) -> dict[str, Any]:
    return _dump_response(answer(outcome))


@bp.post("/lookups")
@describe(
    "Look up the active plans for an address, a person or a phone number",
    body=LookupArgs,
    response=LookupResponseSchema,
    description="Exactly one of address, address_text, person or phone. No match is an empty list, "
    "and is logged too. A person's name may have typos; a first name given must resemble the "
    "registered one (or be its initial) unless the birth date given is the person's: the surname "
    "alone finds every family with that name. A name without a birth date shows no plan: it "
    "answers `candidates` (name, birth year, city, owner), and POST /lookups/{lookup_id}/open "
    "shows one of them. incident_ref must have the format of the organisation's meldingnummers "
    "(422 otherwise). Each user has a budget of lookups per hour, and of lookups on a name alone, "
    "across every server (429 with Retry-After). Instead of a query, signal_reference opens what a "
    "signal of the organisation's system found (POST /signals), for the signal's incident_ref only, "
    "within 12 hours of it (404 otherwise).",
    errors=(404, 429),
    operation_id="createLookup",
)
# the token check and the search read in one transaction (perform begins by reading)
@require_token(operations.ROLE, reads_first=True)
@lookup_limit
def lookup() -> ResponseReturnValue:
    args = parse(_lookup_args)
    # the caller as the token check found it: no ORM user to build for the hottest request
    caller = api_caller()
    try:
        if args.get("signal_reference") is not None:
            outcome = signalling.open_signal(
                db.session, caller, args["incident_ref"], args["signal_reference"]
            )
        else:
            outcome = operations.prepare(
                db.session, caller, args["incident_ref"], LookupArgs.kind(args), args
            )
    except operations.LookupRefused as refused:
        raise _error(refused) from None
    except signalling.SignalNotOpened:
        raise ApiError(
            404, "not_found", _SIGNAL_NOT_OPENED, {"signal_reference": [_SIGNAL_NOT_OPENED]}
        ) from None
    # the answer is made (as Flask would make it of the dict) before the lookup is stored: on SQLite
    # the store holds the write lock until the request commits, and every other lookup waits for it
    response = current_app.json.response(dump_outcome(outcome))
    operations.store(db.session, caller, outcome)
    return response


def _error(refused: operations.LookupRefused) -> ApiError:
    if refused.retry_after is not None:
        return ApiError(
            refused.status, refused.code, refused.message, headers={"Retry-After": str(refused.retry_after)}
        )
    return ApiError(refused.status, refused.code, refused.message, {refused.field: [refused.message]})


_SIGNAL_NOT_OPENED = (
    "Deze signaalreferentie opent niets voor u: zij hoort bij een ander meldingnummer of een andere "
    "organisatie, of is ouder dan 12 uur. Raadpleeg op adres of telefoonnummer."
)
_NOT_A_CANDIDATE = "Deze kandidaat is er niet (meer) voor u: doe een nieuwe raadpleging."


@bp.post("/lookups/<lookup_id>/open")
@describe(
    "Show one plan from the candidates of your own lookup on a name",
    body=OpenCandidateArgs,
    response=LookupResponseSchema,
    errors=(404, 429),
    description="Within 12 hours of the lookup that listed it, by the user who did it. A lookup of "
    "its own (its lookup_id is the one to report with), with the meldingnummer of the list; it "
    "counts against the budget of lookups on a name.",
    operation_id="openCandidate",
)
@require_token(operations.ROLE)
@lookup_limit
def open_candidate(lookup_id: str) -> ResponseReturnValue:
    args = parse(_open_args)
    try:
        parsed: uuid.UUID | None = uuid.UUID(lookup_id)
    except ValueError:
        parsed = None
    try:
        outcome = operations.open_candidate(db.session, api_caller(), parsed, args["plan_id"])
    except operations.LookupRefused as refused:
        raise _error(refused) from None
    except operations.CandidateRefused:
        raise ApiError(404, "not_found", _NOT_A_CANDIDATE) from None
    return dump_outcome(outcome)


@bp.post("/lookups/<lookup_id>/reveal")
@describe(
    "Show a geheim address of a plan your own lookup showed, with the reason why",
    operation_id="revealAddress",
    body=RevealArgs,
    response=RevealedAddressSchema,
    errors=(404,),
    description="Within 12 hours of the lookup, by the user who did it, for an id among the "
    "plan's secret_addresses. Every reveal is an audit row with its reason (address_reveal). "
    "Never for a plan the lookup found through the perpetrator's name, phone or address: 404, as "
    "for any address the lookup did not show.",
)
@require_token(operations.ROLE)
def reveal(lookup_id: str) -> ResponseReturnValue:
    args = parse(_reveal_args)
    try:
        parsed: uuid.UUID | None = uuid.UUID(lookup_id)
    except ValueError:
        parsed = None
    try:
        address = operations.reveal_address(
            db.session, api_caller(), parsed, args["address_id"], args["reason"]
        )
    except operations.RevealRefused:
        raise ApiError(404, "not_found", "Dit adres kan niet worden getoond bij deze raadpleging.") from None
    return _revealed.dump({"warning": GEHEIM_WARNING, "address": address})


@bp.get("/plans/<plan_id>/access-log")
@describe(
    "Every lookup that showed this plan, and every signal that found it that nobody opened",
    response=AccessLogSchema,
    query=pagination.QUERY,
    operation_id="getAccessLog",
    description="The newest first.",
)
@require_token(plans.ROLE)
def access_log(plan_id: str) -> dict[str, Any]:
    user = api_user()
    try:
        parsed = uuid.UUID(plan_id)
    except ValueError:
        raise ApiError(
            404, "not_found", "Dit handelingskader bestaat niet of u heeft er geen toegang toe."
        ) from None
    plan = plans.get_visible(db.session, user, parsed)
    if plan is None:
        plans.record_refused(db.session, user, "plan_access_log", parsed)
        raise ApiError(404, "not_found", "Dit handelingskader bestaat niet of u heeft er geen toegang toe.")
    # the same query, and the same audit row, as the access log on the plan page
    log = plans.read_access_log(db.session, user, plan)
    page = pagination.paginate(
        log.entries,
        lambda entry: (pagination.key_part(entry.at), str(entry.id)),
        newest_first=True,
    )
    return _access_log.dump({"items": page.items, "next_cursor": page.next_cursor})


_signal_args = SignalArgs()
_signal = SignalSchema()


@bp.post("/signals")
@describe(
    "Ask whether a handelingskader is there for a call (a control room's system)",
    body=SignalArgs,
    response=SignalSchema,
    operation_id="createSignal",
    description="For a registered system of a responder organisation, identified by its client "
    "certificate (mutual TLS), never a person's token. Exactly one of address (postcode and house "
    "number, the suffix optional) or phone. The answer says only whether a plan responders are "
    "shown today is there, which organisations own it, and a reference: never a name, agreement "
    "or address. A person of the same organisation with two factors opens what was found with "
    "POST /lookups {incident_ref, signal_reference}, for the same incident_ref, until expires_at. "
    "incident_ref must have the format of the organisation's meldingnummers (422 otherwise). "
    "Every signal is logged, and the plans' owners see it in their access log.",
)
@require_client
def signal() -> ResponseReturnValue:
    args = parse(_signal_args)
    client = client_caller()
    try:
        given = signalling.prepare(db.session, client, args["incident_ref"], SignalArgs.kind(args), args)
    except signalling.SignalRefused as refused:
        raise ApiError(422, "invalid_input", refused.message, {refused.field: [refused.message]}) from None
    response = current_app.json.response(
        _signal.dump(
            {
                "signal": bool(given.matches),
                "reference": given.reference,
                "owner_organisations": given.owner_organisations,
                "expires_at": given.expires_at,
            }
        )
    )
    signalling.store(db.session, client, given)
    return response

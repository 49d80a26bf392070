"""The control room's lookup page: the incident number, then one search field."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RequestLimit
from marshmallow import ValidationError

from lookup import normalise, operations, signalling
from lookup.schemas import LookupArgs, RevealArgs
from registry.auth import web
from registry.core import dutch
from registry.core.db import db
from registry.core.normalise import phone_display, postcode_display
from registry.core.timeutil import local_today
from registry.core.vocabulary import QueryKind
from registry.feedback import operations as feedback
from registry.meldingen.schemas import answers_of
from registry.regions import operations as regions
from registry.reports import operations as reports
from registry.reports.schemas import MAX_PROPOSED, AmendmentArgs, ReportArgs
from registry.web.api import flatten_messages
from registry.web.ratelimit import seconds_until_reset, web_lookup_limit

bp = Blueprint("lookup", __name__, url_prefix="/raadplegen")


def _args(query: normalise.Query) -> dict[str, Any]:
    """The single field, understood, as the API's input."""
    if query.kind == QueryKind.ADDRESS:
        return {
            "address": {
                "postcode": query.postcode,
                "house_number": query.house_number,
                "house_number_suffix": query.house_number_suffix,
            }
        }
    if query.kind == QueryKind.ADDRESS_TEXT:
        return {"address_text": query.text}
    if query.kind == QueryKind.PHONE:
        return {"phone": query.phone}
    person: dict[str, Any] = {"name": query.name}
    if query.birth_date:
        person["birth_date"] = query.birth_date.isoformat()
    if query.birth_year:
        person["birth_year"] = query.birth_year
    return {"person": person}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def reading(query: normalise.Query) -> str:
    """How the search field was read, in plain words: 'naam Kaya, geboren in 1988'."""
    if query.kind == QueryKind.ADDRESS:
        suffix = f" {query.house_number_suffix}" if query.house_number_suffix else ""
        return f"postcode {postcode_display(query.postcode or '')}, huisnummer {query.house_number}{suffix}"
    if query.kind == QueryKind.PHONE:
        return f"telefoonnummer {phone_display(query.phone)}"
    if query.kind == QueryKind.ADDRESS_TEXT:
        parsed = normalise.address_text(query.text)
        parts = [f"adres: straat {_capital(parsed.street)}"]
        if parsed.house_number is not None:
            suffix = f" {parsed.house_number_suffix}" if parsed.house_number_suffix else ""
            parts.append(f"huisnummer {parsed.house_number}{suffix}")
        if parsed.city:
            parts.append(f"plaats {_capital(parsed.city)}")
        if parsed.house_number is None:
            parts.append("zonder huisnummer")
        return ", ".join(parts)
    said = f"naam {query.name}"
    if query.birth_date is not None:
        return f"{said}, geboren op {dutch.long_date(query.birth_date)}"
    if query.birth_year is not None:
        return f"{said}, geboren in {query.birth_year}"
    return f"{said}, zonder geboortedatum"


# the button that reads the search field the other way: its label, and its key (accesskey)
OTHER_READING = {
    QueryKind.PERSON: ("Lees als naam", "n"),
    QueryKind.ADDRESS_TEXT: ("Lees als adres", "a"),
}


def _too_many_lookups(breached: RequestLimit) -> Response:
    """Over the lookup limit: the page again with what was typed, and when to try again."""
    seconds = seconds_until_reset(breached)
    message = (
        "U heeft in korte tijd te veel raadplegingen gedaan. "
        f"Probeer het over {dutch.count(seconds, 'seconde', 'seconden')} opnieuw."
    )
    incident_ref, text = request.form.get("incident_ref", "").strip(), request.form.get("q", "").strip()
    return current_app.make_response(_page(incident_ref, text, {"q": message}, None, "", 429))


@bp.route("", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
@web_lookup_limit(on_breach=_too_many_lookups)
def page() -> Any:
    incident_ref = request.form.get("incident_ref", "").strip()
    text = request.form.get("q", "").strip()
    read_as = request.form.get("read_as") or None
    if read_as not in OTHER_READING:
        read_as = None
    errors: dict[str, str] = {}
    outcome = None
    understood = None
    status = None
    if request.method == "GET":
        # a link from the control room's own system: a signal's reference (random, no personal
        # data) filled in, not yet opened; the meldingnummer is the police's key to a case file,
        # so it never travels in a URL: the operator types it, and opening takes the button
        text = request.args.get("signaal", "").strip()[:40]
    reference = normalise.signal_reference(text) if request.method == "POST" else None
    if reference is not None:
        return _open_signal(incident_ref, text, reference)
    if request.method == "POST":
        if not incident_ref:
            errors["incident_ref"] = "Vul het meldingnummer in: elke raadpleging hoort bij een melding."
        this_year = local_today(current_app.config["TIMEZONE"]).year
        understood = normalise.understand(text, read_as, this_year)
        if understood is None:
            errors["q"] = (
                "Vul een adres (9401 AB 14 of Kerkstraat 14 Assen), een naam (met of zonder geboortedatum) "
                "of een telefoonnummer in."
            )
        if not errors and understood is not None:
            try:
                args = LookupArgs().load({"incident_ref": incident_ref, **_args(understood)})
            except ValidationError as exc:
                errors["q"] = " ".join(_messages(exc.messages)) or "Deze zoekvraag begrijp ik niet."
            else:
                try:
                    outcome = operations.perform(
                        db.session, web.current(), args["incident_ref"], understood.kind, args
                    )
                except operations.LookupRefused as refused:
                    errors[refused.field] = refused.message
                    status = refused.status
    kind_label = understood.kind.label if understood else ""
    return _page(incident_ref, text, errors, outcome, kind_label, status, understood)


_SIGNAL_NOT_OPENED = (
    "Deze signaalreferentie opent niets voor u: zij hoort bij een ander meldingnummer of een andere "
    "organisatie, of is ouder dan 12 uur. Zoek op adres of telefoonnummer."
)


def _open_signal(incident_ref: str, text: str, reference: str) -> Any:
    """What a signal of the organisation's system found, opened with its reference in the search
    field: a lookup of its own, for the signal's meldingnummer."""
    if not incident_ref:
        errors = {"incident_ref": "Vul het meldingnummer in waarvoor het systeem het signaal gaf."}
        return _page(incident_ref, text, errors, None, "")
    user = web.current()
    try:
        outcome = signalling.open_signal(db.session, user, incident_ref, reference)
    except operations.LookupRefused as refused:
        return _page(incident_ref, text, {refused.field: refused.message}, None, "", refused.status)
    except signalling.SignalNotOpened:
        return _page(incident_ref, text, {"q": _SIGNAL_NOT_OPENED}, None, "", 404)
    operations.store(db.session, user, outcome)
    kind = QueryKind.label_of(outcome.lookup.query_kind)
    return _page(incident_ref, text, {}, outcome, f"{kind} (signaal van het meldkamersysteem)")


def _page(
    incident_ref: str,
    text: str,
    errors: dict[str, str],
    outcome: Any,
    kind_label: str,
    status: int | None = None,
    understood: normalise.Query | None = None,
) -> Any:
    other = OTHER_READING.get(understood.other) if understood and understood.other else None
    page = render_template(
        "lookup/page.html",
        incident_ref=incident_ref,
        q=text,
        errors=errors,
        outcome=outcome,
        kind_label=kind_label,
        reading=reading(understood) if understood else "",
        other_kind=understood.other if understood else None,
        other=other,
    )
    return page, status or (422 if errors else 200)


_ROW_ID = re.compile(r"[0-9]{1,12}")


@bp.post("/adres")
@web.role_required(operations.ROLE)
def reveal_address() -> Any:
    """A geheim address shown on purpose ("Toon adres", with a reason): its own page, opened
    beside the result."""
    reason = request.form.get("reason", "").strip()
    address_id = request.form.get("address_id", "")
    try:
        args = RevealArgs().load(
            {"address_id": int(address_id) if _ROW_ID.fullmatch(address_id) else address_id, "reason": reason}
        )
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        errors = [
            "Reden: " + " ".join(_messages(messages["reason"]))
            if "reason" in messages
            else "Kies het adres opnieuw op de pagina van de raadpleging."
        ]
        return render_template("lookup/reveal.html", address=None, errors=errors), 422
    try:
        address = operations.reveal_address(
            db.session,
            web.current(),
            _uuid(request.form.get("lookup_id")),
            args["address_id"],
            args["reason"],
        )
    except operations.RevealRefused:
        message = "Dit adres kan niet (meer) worden getoond bij deze raadpleging. Doe zo nodig een nieuwe."
        return render_template("lookup/reveal.html", address=None, errors=[message]), 404
    return render_template("lookup/reveal.html", address=address, errors=[])


@bp.post("/kandidaat")
@web.role_required(operations.ROLE)
@web_lookup_limit(on_breach=_too_many_lookups)
def open_candidate() -> Any:
    """One family from the candidates of a name without a birth date (the page's "Openen")."""
    incident_ref = request.form.get("incident_ref", "").strip()
    try:
        outcome = operations.open_candidate(
            db.session,
            web.current(),
            _uuid(request.form.get("lookup_id")),
            _uuid(request.form.get("plan_id")),
        )
    except operations.LookupRefused as refused:
        return _page(incident_ref, "", {refused.field: refused.message}, None, "", refused.status)
    except operations.CandidateRefused:
        message = "Deze kandidaat kan niet (meer) worden geopend. Doe een nieuwe raadpleging."
        return _page(incident_ref, "", {"q": message}, None, "", 404)
    return _page(outcome.lookup.incident_ref, "", {}, outcome, QueryKind.CANDIDATE.label)


def _messages(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [message for value in node.values() for message in _messages(value)]
    if isinstance(node, list):
        return [str(message) for message in node]
    return [str(node)]


# --- recording what was done --------------------------------------------------------------------


def _local(moment: datetime) -> str:
    """A moment as the form's datetime-local value, in the configured time zone."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def _report_args(form: Any, agreements: list[Any]) -> dict[str, Any]:
    """The report form as the API's input: one ReportArgs validates both."""

    data: dict[str, Any] = {
        "incident_ref": form.get("incident_ref", ""),
        "mode": form.get("mode") or None,
        "responders": form.getlist("responders"),
        "actions": form.getlist("actions"),
        "narrative": form.get("narrative", ""),
        "agreements": [],
        "urgent": bool(form.get("urgent")),
    }
    answers = answers_of(form)  # the five core questions, for the melding's shared record
    if answers:
        data["assessment"] = answers
    if form.get("urgent_reason", "").strip():
        data["urgent_reason"] = form["urgent_reason"].strip()
    if form.get("lookup_id"):
        data["lookup_id"] = form["lookup_id"]
    if "plan_id" in form:  # the report on a plan; the melding without one has no such field
        data["plan_id"] = form["plan_id"]
    for name in ("violence_type", "household_type", "care_involvement", "mental_health_service"):
        data[name] = form.get(name) or None
    # the melding sheet and the gemeente: optional, empty is not given
    for name in ("gemeente", "answered_by", "needed_mode"):
        if form.get(name, "").strip():
            data[name] = form[name].strip()
    for name, kind in (("reached_after_minutes", int), ("hours_spent", float)):
        raw = form.get(name, "").strip().replace(",", ".")  # 1,5 uur as well as 1.5
        if raw:
            try:
                data[name] = kind(raw)
            except ValueError:
                data[name] = raw  # the schema names the field
    if data["mode"] is None:
        del data["mode"]
    raw = form.get("occurred_at", "")
    try:
        local = datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(
            tzinfo=ZoneInfo(current_app.config["TIMEZONE"])
        )
        data["occurred_at"] = local.isoformat()
    except ValueError:
        data["occurred_at"] = raw or None
        if not raw:
            del data["occurred_at"]
    for agreement in agreements:
        outcome = form.get(f"outcome-{agreement.id}")
        if outcome:
            data["agreements"].append(
                {
                    "agreement_id": agreement.id,
                    "outcome": outcome,
                    "note": form.get(f"note-{agreement.id}", ""),
                }
            )
    return data


# "Nieuwe afspraken met de familie (voorstel)": rows of the report form, by kind
PROPOSAL_FIELDS = {
    "agreements": ("trigger", "action", "actor"),
    "contacts": ("name", "relation", "phone", "available"),
}
# a row is left out when these are all empty (a select always has a value)
_PROPOSAL_CONTENT = {
    "agreements": ("trigger", "action"),
    "contacts": ("name", "relation", "phone", "available"),
}
_PROPOSAL_KEY = re.compile(r"proposed-(agreements|contacts)-([0-9]{1,2})-[a-z_]+")


def _proposal_rows(form: Any, add: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The proposal rows as typed, each kind at least one (blank) row; `add` ('agreements' or
    'contacts', the form's "+ Nog een ..." button) adds a blank row, up to MAX_PROPOSED."""
    rows: dict[str, list[dict[str, str]]] = {}
    for kind, names in PROPOSAL_FIELDS.items():
        numbers = [
            int(match.group(2))
            for key in form
            if (match := _PROPOSAL_KEY.fullmatch(key)) is not None and match.group(1) == kind
        ]
        count = min(max(numbers, default=0) + 1, MAX_PROPOSED)
        if add == kind and count < MAX_PROPOSED:
            count += 1
        rows[kind] = [
            {name: form.get(f"proposed-{kind}-{i}-{name}", "") for name in names} for i in range(count)
        ]
    return rows


def _proposals_input(
    rows: dict[str, list[dict[str, str]]],
) -> tuple[dict[str, Any] | None, dict[str, dict[int, int]]]:
    """The rows that hold something, as the API's `proposals` (None: nothing proposed), and per
    kind the map from the index ReportArgs sees to the row on the form."""
    data: dict[str, Any] = {}
    index_map: dict[str, dict[int, int]] = {}
    for kind, kind_rows in rows.items():
        kept: list[dict[str, str]] = []
        mapping: dict[int, int] = {}
        for index, row in enumerate(kind_rows):
            if any(row[name].strip() for name in _PROPOSAL_CONTENT[kind]):
                mapping[len(kept)] = index
                kept.append({name: value for name, value in row.items() if value.strip()})
        data[kind], index_map[kind] = kept, mapping
    return (data if any(data.values()) else None), index_map


def _form_errors(errors: dict[str, list[str]], index_map: dict[str, dict[int, int]]) -> dict[str, list[str]]:
    """Errors of proposal rows named by the row on the form ('proposals.agreements.2.actor')."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "proposals" and parts[1] in index_map and parts[2].isdigit():
            parts[2] = str(index_map[parts[1]].get(int(parts[2]), int(parts[2])))
        named.setdefault(".".join(parts), []).extend(messages)
    return named


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def _form_key(lookup_id: uuid.UUID, plan_id: uuid.UUID | None) -> str:
    """The idempotency key of the report form: one per lookup and plan (keys are per user), the same
    however often the form is opened. Pages are never cached, so going back re-fetches the form;
    sent again, it returns the first report instead of storing a second."""
    return f"inzet-{lookup_id}-{plan_id}" if plan_id is not None else f"melding-{lookup_id}"


def _reopened(lookup_id: uuid.UUID | None, plan_id: uuid.UUID | None) -> Any:
    """The form of a lookup whose report is stored, opened again: the stored report, not an
    empty form to fill in twice. None while nothing is stored."""
    stored = reports.report_of_lookup(db.session, web.current(), lookup_id, plan_id)
    if stored is None:
        return None
    return redirect(url_for("lookup.report_done", report_id=stored.id, al="1"), 303)


@bp.route("/inzet", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def report() -> Any:
    """The report form after a lookup: the plan's agreements as a checklist."""

    source = request.form if request.method == "POST" else request.args
    user = web.current()
    lookup_id, plan_id = _uuid(source.get("lookup_id")), _uuid(source.get("plan_id"))
    if request.method == "GET" and (reopened := _reopened(lookup_id, plan_id)) is not None:
        return reopened
    try:
        opened = operations.open_report_form(db.session, user, lookup_id, plan_id)
    except operations.FormRefused:
        return render_template("lookup/report_refused.html"), 404
    answer = _report_form(opened.lookup, opened.version)
    operations.record_report_form(db.session, user, opened)
    return answer


@bp.route("/melding", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def melding() -> Any:
    """After a lookup that showed no handelingskader: the melding on record all the same (without
    a plan, for the region's Veilig Thuis), with the lookup's meldingnummer and time."""
    source = request.form if request.method == "POST" else request.args
    lookup_id = _uuid(source.get("lookup_id"))
    if request.method == "GET" and (reopened := _reopened(lookup_id, None)) is not None:
        return reopened
    try:
        lookup = operations.open_melding_form(db.session, web.current(), lookup_id)
    except operations.FormRefused:
        return render_template("lookup/report_refused.html"), 404
    return _report_form(lookup, None)


def _report_form(lookup: Any, version: Any) -> Any:
    """The report form of a lookup: on the plan it showed (`version`), or without one (None)."""
    user = web.current()
    plan_id = version.plan_id if version is not None else None
    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else request.args
    row_action = request.form.get("row_action", "") if request.method == "POST" else ""
    proposed = _proposal_rows(form, row_action.removeprefix("add:") if row_action else None)
    if request.method == "POST" and not row_action:
        body = _report_args(request.form, version.agreements if version is not None else [])
        proposals, index_map = _proposals_input(proposed)
        if proposals is not None:
            body["proposals"] = proposals
        key = request.form.get("idempotency_key") or None
        body_hash = reports.fingerprint(body)
        stored = reports.report_of_lookup(db.session, user, lookup.id, plan_id)
        if stored is not None and not reports.same_submission(stored, key, body_hash):
            # sent again after it was stored, changed (the back button) or from an older form:
            # the stored report, once, with what was typed ready as an amendment
            typed = str(body.get("narrative", "")).strip()
            note = "" if typed == stored.narrative.strip() else typed
            return _stored_report(stored, already=True, note=note)
        try:
            args = ReportArgs().load(body)
            saved, replayed = reports.create_report(db.session, user, args, key, body_hash)
        except ValidationError as exc:
            errors = _form_errors(flatten_messages(exc.messages, root="_form"), index_map)
        except reports.ReportRefused as exc:
            errors = exc.fields
        except reports.IdempotencyConflict:
            errors = {
                "_form": [
                    "Voor deze raadpleging is al een inzet geregistreerd, met andere gegevens. "
                    "Een geregistreerde inzet wordt niet gewijzigd; "
                    "doe voor een nieuwe inzet een nieuwe raadpleging."
                ]
            }
        else:
            # the page of the stored report says that it is stored and when it is read; sent twice
            # (a double click, the back button and again), it says so once: no second report
            if replayed:
                return redirect(url_for("lookup.report_done", report_id=saved.id, al="1"))
            return redirect(url_for("lookup.report_done", report_id=saved.id))
    return (
        render_template(
            "lookup/report.html",
            lookup=lookup,
            version=version,
            plan_id=plan_id,
            form=form,
            errors=errors,
            proposed=proposed,
            max_proposed=MAX_PROPOSED,
            # the time of the call is the time of the lookup, not of opening the form: a night
            # call registered in the morning counts as a night call
            called_at=_local(lookup.performed_at),
            gemeenten=regions.gemeenten_for(db.session, user.organisation_id),
            idempotency_key=request.form.get("idempotency_key") or _form_key(lookup.id, plan_id),
        ),
        422 if errors else 200,
    )


@bp.get("/inzet/<report_id>")
@web.role_required(operations.ROLE)
def report_done(report_id: str) -> Any:
    """A stored report, read-only, with its amendments and a form for another ("Aanvulling");
    `?al=1`: it was stored before (the form reopened, or sent again)."""
    saved = reports.read_report(db.session, web.current(), _uuid(report_id))
    if saved is None:
        abort(404)
    return _stored_report(saved, already=request.args.get("al") == "1")


@bp.post("/inzet/<report_id>/aanvulling")
@web.role_required(operations.ROLE)
def amend(report_id: str) -> Any:
    """An amendment from the page of a stored report: reports are never edited, a note is added
    (as POST /api/v1/reports/{id}/amendments, audited alike)."""
    user = web.current()
    note = request.form.get("note", "")
    saved = reports.read_report(db.session, user, _uuid(report_id), "report_amend")
    if saved is None:
        abort(404)
    try:
        args = AmendmentArgs().load({"note": note})
    except ValidationError:
        # nothing is stored (the answer is a 422), but the report is shown again: that reading
        # stands in the audit log
        reports.read_report(db.session, user, saved.id, kept=True)
        error = "Schrijf de aanvulling in het tekstvak (hoogstens 4000 tekens)."
        return _stored_report(saved, note=note, error=error, status=422)
    reports.amend(db.session, user, saved, args["note"])
    flash("De aanvulling is opgeslagen.", "success")
    return redirect(url_for("lookup.report_done", report_id=saved.id, _anchor="aanvullingen"))


def _stored_report(
    saved: Any, already: bool = False, note: str = "", error: str | None = None, status: int = 200
) -> Any:
    """The page of a stored report (the caller has read it through reports.read_report)."""
    unheard = saved.plan_id is None and feedback.reaches_nobody(db.session, saved.organisation_id, saved.id)
    page = render_template(
        "lookup/report_done.html",
        report=reports.report_record(db.session, saved),
        owner=reports.owner_of(db.session, saved),
        unheard=unheard,
        already=already,
        note=note,
        error=error,
    )
    return page, status


@bp.get("/teruggekoppeld")
@web.role_required(operations.ROLE)
def answered() -> Any:
    """Teruggekoppeld: the organisation's reports of the last 30 days, with what the organisations
    that heard of them answered (Wat pakken wij op)."""
    shown = reports.answered_reports(db.session, web.current())
    return render_template("lookup/answered.html", reports=shown, days=reports.ANSWERED_DAYS)

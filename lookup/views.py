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

from lookup import normalise, operations
from lookup.schemas import LookupArgs, RevealArgs
from registry.auth import web
from registry.core.db import db
from registry.core.timeutil import nl_date
from registry.core.vocabulary import QueryKind
from registry.feedback import operations as feedback
from registry.regions import operations as regions
from registry.reports import operations as reports
from registry.reports.schemas import ReportArgs
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
    return {"person": person}


def _too_many_lookups(breached: RequestLimit) -> Response:
    """Over the lookup limit: the page again with what was typed, and when to try again."""
    seconds = seconds_until_reset(breached)
    message = (
        "U heeft in korte tijd te veel raadplegingen gedaan. "
        f"Probeer het over {seconds} {'seconde' if seconds == 1 else 'seconden'} opnieuw."
    )
    incident_ref, text = request.form.get("incident_ref", "").strip(), request.form.get("q", "").strip()
    return current_app.make_response(_page(incident_ref, text, {"q": message}, None, "", 429))


@bp.route("", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
@web_lookup_limit(on_breach=_too_many_lookups)
def page() -> Any:
    incident_ref = request.form.get("incident_ref", "").strip()
    text = request.form.get("q", "").strip()
    errors: dict[str, str] = {}
    outcome = None
    understood = None
    status = None
    if request.method == "POST":
        if not incident_ref:
            errors["incident_ref"] = "Vul het meldingnummer in: elke raadpleging hoort bij een melding."
        understood = normalise.understand(text)
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
    return _page(incident_ref, text, errors, outcome, understood.kind.label if understood else "", status)


def _page(
    incident_ref: str,
    text: str,
    errors: dict[str, str],
    outcome: Any,
    kind_label: str,
    status: int | None = None,
) -> Any:
    page = render_template(
        "lookup/page.html",
        incident_ref=incident_ref,
        q=text,
        errors=errors,
        outcome=outcome,
        kind_label=kind_label,
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


@bp.route("/inzet", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def report() -> Any:
    """The report form after a lookup: the plan's agreements as a checklist."""

    source = request.form if request.method == "POST" else request.args
    user = web.current()
    try:
        opened = operations.open_report_form(
            db.session, user, _uuid(source.get("lookup_id")), _uuid(source.get("plan_id"))
        )
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
    try:
        lookup = operations.open_melding_form(db.session, web.current(), _uuid(source.get("lookup_id")))
    except operations.FormRefused:
        return render_template("lookup/report_refused.html"), 404
    return _report_form(lookup, None)


NO_RECIPIENT = (
    "De melding is geregistreerd en telt mee. Uw regio heeft nog geen Veilig Thuis aangewezen: "
    "uw coördinator ziet deze melding onder Te laat."
)


def _report_form(lookup: Any, version: Any) -> Any:
    """The report form of a lookup: on the plan it showed (`version`), or without one (None)."""
    user = web.current()
    plan_id = version.plan_id if version is not None else None
    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        body = _report_args(request.form, version.agreements if version is not None else [])
        key = request.form.get("idempotency_key") or None
        try:
            args = ReportArgs().load(body)
            saved, _replayed = reports.create_report(db.session, user, args, key, reports.fingerprint(body))
        except ValidationError as exc:
            errors = flatten_messages(exc.messages, root="_form")
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
            due = f"op {nl_date(saved.feedback_due)}"
            if saved.feedback_due_at is not None:
                # a spoedmelding: read within hours, at any hour
                local = saved.feedback_due_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
                due = f"als spoedmelding vóór {nl_date(local.date())} {local.hour:02d}.{local.minute:02d} uur"
            if version is not None:
                flash(f"De inzet is geregistreerd. De regiehouder leest de terugkoppeling {due}.", "success")
            elif feedback.reaches_nobody(db.session, user.organisation_id, saved.id):
                flash(NO_RECIPIENT, "warning")
            else:
                flash(f"De melding is geregistreerd. Veilig Thuis in uw regio leest hem {due}.", "success")
            return redirect(url_for("lookup.report_done", report_id=saved.id))
    return (
        render_template(
            "lookup/report.html",
            lookup=lookup,
            version=version,
            plan_id=plan_id,
            form=form,
            errors=errors,
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

    try:
        parsed: uuid.UUID | None = uuid.UUID(report_id)
    except ValueError:
        parsed = None
    saved = reports.read_report(db.session, web.current(), parsed)
    if saved is None:
        abort(404)
    unheard = saved.plan_id is None and feedback.reaches_nobody(db.session, saved.organisation_id, saved.id)
    shown = reports.report_record(db.session, saved)
    return render_template("lookup/report_done.html", report=shown, unheard=unheard)


@bp.get("/teruggekoppeld")
@web.role_required(operations.ROLE)
def answered() -> Any:
    """Teruggekoppeld: the organisation's reports of the last 30 days, with what the organisations
    that heard of them answered (Wat pakken wij op)."""
    shown = reports.answered_reports(db.session, web.current())
    return render_template("lookup/answered.html", reports=shown, days=reports.ANSWERED_DAYS)

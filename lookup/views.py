"""The control room's lookup page: the incident number, then one search field."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import ValidationError

from lookup import normalise, operations
from lookup.schemas import LookupArgs
from registry.auth import web
from registry.db import db

bp = Blueprint("lookup", __name__, url_prefix="/raadplegen")

KIND_LABELS = {
    "address": "postcode en huisnummer",
    "address_text": "adres",
    "person": "persoon",
    "phone": "telefoonnummer",
}


def _args(query: normalise.Query) -> dict[str, Any]:
    """The single field, understood, as the API's input."""
    if query.kind == "address":
        return {
            "address": {
                "postcode": query.postcode,
                "house_number": query.house_number,
                "house_number_suffix": query.house_number_suffix,
            }
        }
    if query.kind == "address_text":
        return {"address_text": query.text}
    if query.kind == "phone":
        return {"phone": query.phone}
    person: dict[str, Any] = {"name": query.name}
    if query.birth_date:
        person["birth_date"] = query.birth_date.isoformat()
    return {"person": person}


@bp.route("", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def page() -> Any:
    incident_ref = request.form.get("incident_ref", "").strip()
    text = request.form.get("q", "").strip()
    errors: dict[str, str] = {}
    outcome = None
    understood = None
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
                outcome = operations.perform(
                    db.session, web.current(), args["incident_ref"], understood.kind, args
                )
                db.commit()
    status = 422 if errors else 200
    return (
        render_template(
            "lookup/page.html",
            incident_ref=incident_ref,
            q=text,
            errors=errors,
            outcome=outcome,
            kind_label=KIND_LABELS.get(understood.kind, "") if understood else "",
        ),
        status,
    )


def _messages(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [message for value in node.values() for message in _messages(value)]
    if isinstance(node, list):
        return [str(message) for message in node]
    return [str(node)]

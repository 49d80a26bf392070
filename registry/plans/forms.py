"""The plan form: flat HTML form fields <-> the nested dict that PlanArgs validates.

Rows are added, removed and moved by submit buttons (no JavaScript needed); what was
typed is kept, and errors are mapped back to the field that caused them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from registry.core.normalise import phone_display, postcode_display

ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "addresses": ("postcode", "house_number", "house_number_suffix", "street", "city", "role"),
    "persons": (
        "first_name",
        "surname_prefix",
        "surname",
        "birth_date",
        "role",
        "phone",
        "do_not_inform",
    ),
    # `proposed`: a row a responder proposed with a report (registry.feedback.proposals), marked
    # on the form until it is saved; it is not part of the plan
    "agreements": ("trigger", "action", "actor", "proposed"),
    "contacts": ("name", "relation", "phone", "available", "proposed"),
}
# a row counts as blank (and is left out) when all of these are empty: selects always have a value
_CONTENT_FIELDS = {
    "addresses": ("postcode", "house_number", "house_number_suffix", "street", "city"),
    "persons": ("first_name", "surname_prefix", "surname", "birth_date", "phone"),
    "agreements": ("trigger", "action"),
    "contacts": ("name", "relation", "phone", "available"),
}
_BOOLEAN = {"do_not_inform", "proposed"}
_FORM_ONLY = {"proposed"}
MAX_FORM_ROWS = 40
# a row number as the page writes it ("persons-2-surname"): a few ASCII digits. int() also takes
# other digits ('٣') and refuses some that isdigit() accepts ('²') or very long ones (a 500)
_ROW_NUMBER = re.compile(r"[0-9]{1,3}")


def empty_row(kind: str) -> dict[str, Any]:
    return {name: False if name in _BOOLEAN else "" for name in ROW_FIELDS[kind]}


def new_form() -> dict[str, Any]:
    return {
        "title": "",
        "summary": "",
        "valid_from": "",
        "valid_until": "",
        "family_profile": "",
        "risk_signals": [],
        "owner": {"name": "", "phone": ""},
        "addresses": [empty_row("addresses")],
        "persons": [empty_row("persons")],
        "agreements": [empty_row("agreements")],
        "contacts": [empty_row("contacts"), empty_row("contacts")],
        "version": "",
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def from_view(shown: Any) -> dict[str, Any]:
    """Prefill the form from a PlanView (editing)."""
    version = shown.version
    form = new_form()
    form.update(
        title=version.title,
        summary=version.summary,
        valid_from=_text(version.valid_from),
        valid_until=_text(version.valid_until),
        family_profile=version.family_profile or "",
        risk_signals=list(version.risk_signals),
        owner={"name": version.owner_name, "phone": phone_display(version.owner_phone)},
        version=str(version.version),
    )
    form["addresses"] = [
        {
            "postcode": postcode_display(a.postcode),
            "house_number": str(a.house_number),
            "house_number_suffix": a.house_number_suffix,
            "street": a.street,
            "city": a.city,
            "role": a.role,
        }
        for a in version.addresses
    ] or [empty_row("addresses")]
    form["persons"] = [
        {
            "first_name": p.first_name,
            "surname_prefix": p.surname_prefix,
            "surname": p.surname,
            "birth_date": _text(p.birth_date),
            "role": p.role,
            "phone": phone_display(p.phone),
            "do_not_inform": p.do_not_inform,
        }
        for p in version.persons
    ] or [empty_row("persons")]
    form["agreements"] = [
        {"trigger": a.trigger, "action": a.action, "actor": a.actor} for a in version.agreements
    ]
    form["contacts"] = [
        {
            "name": c.name,
            "relation": c.relation,
            "phone": phone_display(c.phone),
            "available": c.available,
        }
        for c in version.contacts
    ] or [empty_row("contacts")]
    return form


def with_proposals(form: dict[str, Any], proposed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The form with proposed agreements and contacts added after the plan's own, marked as
    proposals (and blank rows before them dropped)."""
    for kind in ("agreements", "contacts"):
        own = [
            row for row in form[kind] if any(str(row.get(name, "")).strip() for name in _CONTENT_FIELDS[kind])
        ]
        form[kind] = [*own, *({**row, "proposed": True} for row in proposed.get(kind, []))][:MAX_FORM_ROWS]
    return form


def from_request(data: MultiDict[str, str]) -> dict[str, Any]:
    """The form as typed, rows in the order of their index."""
    form = new_form()
    for name in ("title", "summary", "valid_from", "valid_until", "family_profile", "version"):
        form[name] = data.get(name, "")
    form["risk_signals"] = data.getlist("risk_signals")
    form["owner"] = {"name": data.get("owner-name", ""), "phone": data.get("owner-phone", "")}
    for kind, names in ROW_FIELDS.items():
        numbers = {key.split("-")[1] for key in data if key.startswith(f"{kind}-")}
        if not all(_ROW_NUMBER.fullmatch(number) for number in numbers):
            raise BadRequest("Het formulier bevat een veld dat geen pagina schrijft.")
        indices = sorted(int(number) for number in numbers)[:MAX_FORM_ROWS]
        rows = []
        for index in indices:
            row: dict[str, Any] = {}
            for name in names:
                key = f"{kind}-{index}-{name}"
                row[name] = key in data if name in _BOOLEAN else data.get(key, "")
            rows.append(row)
        form[kind] = rows
    return form


def apply_row_action(form: dict[str, Any], action: str) -> bool:
    """'add:persons', 'remove:persons:2', 'up:agreements:3', 'down:agreements:0'."""
    parts = action.split(":")
    if len(parts) < 2 or parts[1] not in ROW_FIELDS:
        return False
    verb, kind = parts[0], parts[1]
    rows = form[kind]
    if verb == "add" and len(rows) < MAX_FORM_ROWS:
        rows.append(empty_row(kind))
        return True
    if len(parts) != 3 or not _ROW_NUMBER.fullmatch(parts[2]) or int(parts[2]) >= len(rows):
        return False
    index = int(parts[2])
    if verb == "remove":
        rows.pop(index)
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    return True


def to_args(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[int, int]]]:
    """The input for PlanArgs (blank rows and empty values left out), and for each row kind
    the map from the index PlanArgs sees to the index on the form."""
    data: dict[str, Any] = {}
    for name in ("title", "summary", "valid_from", "valid_until", "family_profile"):
        if form[name].strip():
            data[name] = form[name]
    data["risk_signals"] = list(form["risk_signals"])
    data["owner"] = {key: value for key, value in form["owner"].items() if value.strip()}
    index_map: dict[str, dict[int, int]] = {}
    for kind in ROW_FIELDS:
        rows: list[dict[str, Any]] = []
        mapping: dict[int, int] = {}
        for form_index, row in enumerate(form[kind]):
            if not any(str(row.get(name, "")).strip() for name in _CONTENT_FIELDS[kind]):
                continue
            mapping[len(rows)] = form_index
            rows.append(
                {
                    key: value
                    for key, value in row.items()
                    if key not in _FORM_ONLY and (isinstance(value, bool) or str(value).strip())
                }
            )
        data[kind] = rows
        index_map[kind] = mapping
    return data, index_map


def form_errors(messages: Any, index_map: dict[str, dict[int, int]]) -> dict[str, list[str]]:
    """marshmallow's nested messages keyed as the form's field names: 'addresses-0-postcode'."""
    flat: dict[str, list[str]] = {}

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
            return
        if len(path) >= 2 and path[0] in index_map and path[1].isdigit():
            path = [path[0], str(index_map[path[0]].get(int(path[1]), int(path[1]))), *path[2:]]
        messages_ = node if isinstance(node, list) else [str(node)]
        flat.setdefault("-".join(path) or "_form", []).extend(str(m) for m in messages_)

    walk(messages, [])
    return flat

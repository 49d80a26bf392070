"""The plan form: flat HTML form fields <-> the nested dict that PlanArgs validates.

Rows are added, removed and moved by submit buttons (no JavaScript needed); what was
typed is kept, and errors are mapped back to the field that caused them.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from registry.core.normalise import phone_display, postcode_display
from registry.plans import availability

ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "addresses": ("postcode", "house_number", "house_number_suffix", "street", "city", "role", "is_secret"),
    "persons": (
        "first_name",
        "surname_prefix",
        "surname",
        "birth_date",
        "role",
        "phone",
        "language",
        "interpreter_needed",
        "do_not_inform",
        "do_not_inform_reason",
        "perpetrator_may_know",
    ),
    # `proposed`: a row a responder proposed with a report (registry.feedback.proposals), marked
    # on the form until it is saved; it is not part of the plan
    "agreements": ("trigger", "action", "actor", "contact_number", "proposed"),
    # preset: a code of availability.PRESETS, "custom" (days, from, to), "kept" (windows, as
    # stored: several that are no preset) or "" (not said)
    "contacts": (
        "name",
        "relation",
        "phone",
        "preset",
        "days",
        "from",
        "to",
        "windows",
        "available",
        "knows_plan",
        "tested_on",
        "proposed",
    ),
    "measures": ("kind", "holder", "starts_on", "ends_on", "note"),
}
# a row counts as blank (and is left out) when all of these are empty: most selects always
# have a value
_CONTENT_FIELDS = {
    "addresses": ("postcode", "house_number", "house_number_suffix", "street", "city"),
    "persons": ("first_name", "surname_prefix", "surname", "birth_date", "phone", "language"),
    "agreements": ("trigger", "action"),
    "contacts": ("name", "relation", "phone", "available", "tested_on"),
    "measures": ("kind", "holder", "starts_on", "ends_on", "note"),
}
_BOOLEAN = {
    "do_not_inform",
    "is_secret",
    "interpreter_needed",
    "perpetrator_may_know",
    "knows_plan",
    "proposed",
}
_LISTS = {"days"}
# the form's fields that are no field of the plan's input: a row's mark as a proposal, and the
# fields that make a contact's availability
_FORM_ONLY = {"proposed"}
_WINDOW_FIELDS = ("preset", "days", "from", "to", "windows")
MAX_FORM_ROWS = 40
# a row number as the page writes it ("persons-2-surname"): a few ASCII digits. int() also takes
# other digits ('٣') and refuses some that isdigit() accepts ('²') or very long ones (a 500)
_ROW_NUMBER = re.compile(r"[0-9]{1,3}")


def empty_row(kind: str) -> dict[str, Any]:
    row: dict[str, Any] = {name: "" for name in ROW_FIELDS[kind]}
    for name in ROW_FIELDS[kind]:
        if name in _BOOLEAN:
            row[name] = False
        elif name in _LISTS:
            row[name] = []
    return row


def new_form() -> dict[str, Any]:
    return {
        "title": "",
        "summary": "",
        "valid_from": "",
        "valid_until": "",
        "family_profiles": [],
        "risk_signals": [],
        "owner": {"name": "", "phone": ""},
        "addresses": [empty_row("addresses")],
        "persons": [empty_row("persons")],
        "agreements": [empty_row("agreements")],
        "contacts": [empty_row("contacts"), empty_row("contacts")],
        "measures": [],
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
        family_profiles=list(version.family_profiles),
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
            "is_secret": a.is_secret,
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
            "language": p.language,
            "interpreter_needed": p.interpreter_needed,
            "do_not_inform": p.do_not_inform,
            "do_not_inform_reason": p.do_not_inform_reason,
            "perpetrator_may_know": p.perpetrator_may_know,
        }
        for p in version.persons
    ] or [empty_row("persons")]
    form["agreements"] = [
        {
            "trigger": a.trigger,
            "action": a.action,
            "actor": a.actor,
            "contact_number": _text(a.contact_number),
        }
        for a in version.agreements
    ]
    form["contacts"] = [
        {
            "name": c.name,
            "relation": c.relation,
            "phone": phone_display(c.phone),
            **window_fields(c.availability),
            "available": c.available,
            "knows_plan": c.knows_plan,
            "tested_on": _text(c.tested_on),
        }
        for c in version.contacts
    ] or [empty_row("contacts")]
    form["measures"] = [
        {
            "kind": m.kind,
            "holder": m.holder,
            "starts_on": _text(m.starts_on),
            "ends_on": _text(m.ends_on),
            "note": m.note,
        }
        for m in version.measures
    ]
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


def window_fields(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """A contact's stored windows as the form's fields."""
    fields: dict[str, Any] = {"preset": "", "days": [], "from": "", "to": "", "windows": ""}
    preset = availability.preset_of(windows) if windows else None
    if preset is not None:
        fields["preset"] = preset
    elif len(windows) == 1:
        only = windows[0]
        fields.update(preset="custom", days=[str(day) for day in only["days"]], to=only["to"])
        fields["from"] = only["from"]
    elif windows:
        fields.update(preset="kept", windows=json.dumps(windows))
    return fields


def _windows(row: dict[str, Any]) -> list[Any]:
    """The availability PlanArgs validates, from the form's fields of one contact."""
    preset = row.get("preset", "")
    if preset in availability.PRESETS:
        return availability.PRESETS[preset][1]
    if preset == "custom":
        days = [int(day) if str(day).isdigit() else day for day in row.get("days") or []]
        return [{"days": days, "from": row.get("from", ""), "to": row.get("to", "")}]
    if preset == "kept":
        try:
            kept = json.loads(row.get("windows") or "[]")
        except ValueError:
            return []
        return kept if isinstance(kept, list) else []
    return []


def from_request(data: MultiDict[str, str]) -> dict[str, Any]:
    """The form as typed, rows in the order of their index."""
    form = new_form()
    for name in ("title", "summary", "valid_from", "valid_until", "version"):
        form[name] = data.get(name, "")
    form["family_profiles"] = data.getlist("family_profiles")
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
                if name in _BOOLEAN:
                    row[name] = key in data
                elif name in _LISTS:
                    row[name] = data.getlist(key)
                else:
                    row[name] = data.get(key, "")
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
    # where each contact goes (1-based; None: removed), so that agreements keep theirs
    moved: dict[int, int | None] = {}
    if verb == "remove":
        rows.pop(index)
        moved = {index + 1: None, **{number: number - 1 for number in range(index + 2, len(rows) + 2)}}
    elif verb == "up" and index > 0:
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
        moved = {index + 1: index, index: index + 1}
    elif verb == "down" and index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
        moved = {index + 1: index + 2, index + 2: index + 1}
    if kind == "contacts":
        for agreement in form["agreements"]:
            number = str(agreement.get("contact_number", ""))
            if number.isdigit() and int(number) in moved:
                target = moved[int(number)]
                agreement["contact_number"] = "" if target is None else str(target)
    return True


def to_args(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[int, int]]]:
    """The input for PlanArgs (blank rows and empty values left out), and for each row kind
    the map from the index PlanArgs sees to the index on the form."""
    data: dict[str, Any] = {}
    for name in ("title", "summary", "valid_from", "valid_until"):
        if form[name].strip():
            data[name] = form[name]
    data["family_profiles"] = list(form["family_profiles"])
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
            kept = {
                key: value
                for key, value in row.items()
                if key not in _FORM_ONLY
                and key not in _WINDOW_FIELDS
                and (isinstance(value, bool) or str(value).strip())
            }
            if kind == "contacts":
                kept["availability"] = _windows(row)
            rows.append(kept)
        data[kind] = rows
        index_map[kind] = mapping
    # an agreement names a contact by its place on the form; blank contact rows are left out
    place = {form_index + 1: index + 1 for index, form_index in index_map["contacts"].items()}
    for agreement in data["agreements"]:
        number = str(agreement.get("contact_number", ""))
        if number:
            agreement["contact_number"] = place.get(int(number), 0) if number.isdigit() else number
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
        # a contact's one window on the form: contacts-0-availability-0-from is contacts-0-from
        if len(path) >= 3 and path[0] == "contacts" and path[2] == "availability":
            path = [*path[:2], path[4] if len(path) >= 5 else "preset"]
        messages_ = node if isinstance(node, list) else [str(node)]
        flat.setdefault("-".join(path) or "_form", []).extend(str(m) for m in messages_)

    walk(messages, [])
    return flat

"""The Logboek's search: person, plan, organisation and period, each field checked in Dutch."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import EXCLUDE, ValidationError, fields, pre_load, validate, validates_schema

from registry.core.vocabulary import AuditAction
from registry.web.schemas import Choice, DutchSchema, PlainText

#: wide enough for anything the log holds; outside it the day bounds in the time zone leave the calendar
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


class LogSearchArgs(DutchSchema):
    """?username=&plan=&organisation=&action=&from=&to=&page= (every field optional; empty is
    absent)."""

    class Meta:
        unknown = EXCLUDE  # a page's query string may carry more (a bookmark's leftovers)

    username = PlainText(max_length=64)
    plan = fields.UUID()
    organisation = PlainText(max_length=200)
    action = Choice(AuditAction)
    # "from" is a keyword: the field is start, the parameter from
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=100_000, error="Kies een paginanummer van 1 tot en met 100000."),
    )

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        if field_name == "plan":
            field_obj.error_messages["invalid_uuid"] = (
                "Vul de id van een handelingskader in, zoals 0b6f1c1e-5d2a-4c1b-9a57-2f1e3d4c5b6a "
                "(de laatste regel van het adres van de pagina van het handelingskader)."
            )

    @pre_load
    def _drop_empty(self, data: Any, **_kwargs: Any) -> dict[str, Any]:
        """A form sends every field; an empty one means: no filter on it."""
        return {
            key: value.strip()
            for key, value in dict(data).items()
            if isinstance(value, str) and value.strip()
        }

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for key, name in (("start", "from"), ("end", "to")):
            day = data.get(key)
            if isinstance(day, date) and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                errors[name] = [f"Kies een datum tussen {EARLIEST_YEAR} en {LATEST_YEAR}."]
        start, end = data.get("start"), data.get("end")
        if not errors and isinstance(start, date) and isinstance(end, date) and start > end:
            errors["from"] = ["Kies een begindatum die niet na de einddatum ligt."]
        if errors:
            raise ValidationError(errors)

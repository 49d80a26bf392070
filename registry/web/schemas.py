"""Schema base classes: Dutch error messages that say what to do, and shared field types."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

from registry.core import normalise
from registry.core.vocabulary import Vocabulary

_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": "Dit veld is verplicht.",
        "null": "Dit veld mag niet leeg zijn.",
    },
    fields.String: {"invalid": "Vul hier tekst in."},
    fields.Number: {"too_large": "Dit getal is te groot."},
    fields.Integer: {
        "invalid": "Vul een heel getal in.",
        "not_an_integer": "Vul een heel getal in.",
    },
    fields.Date: {"invalid": "Vul een datum in als JJJJ-MM-DD, bijvoorbeeld 2026-05-26."},
    fields.AwareDateTime: {
        "invalid": "Vul een tijdstip in als 2026-05-26T23:40:00+02:00.",
        "invalid_awareness": "Geef het tijdstip met tijdzone, bijvoorbeeld +02:00.",
    },
    fields.Boolean: {"invalid": "Kies ja of nee (true of false)."},
    fields.List: {"invalid": "Geef hier een lijst."},
    fields.Nested: {"type": "Geef hier een object met velden."},
    fields.UUID: {"invalid_uuid": "Dit is geen geldige id."},
}


class DutchSchema(Schema):
    """Every field answers in Dutch; unknown fields are refused by name."""

    error_messages = {
        "unknown": "Onbekend veld.",
        "type": "Geef een JSON-object.",
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        # base classes first, so the most specific field type has the last word
        for kind in reversed(type(field_obj).__mro__):
            field_obj.error_messages.update(_MESSAGES.get(kind, {}))
        if isinstance(field_obj, fields.List):
            self.on_bind_field(field_name, field_obj.inner)


def refuse_unstorable(text: str) -> str:
    """Text a database can hold: PostgreSQL refuses NUL, and no driver encodes a lone surrogate
    (JSON's "\\ud800"); without this check such input ended in a 500 instead of a 422."""
    if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
        raise ValidationError("Deze tekst bevat tekens die niet kunnen worden opgeslagen.")
    return text


# Characters that change how the text around them is shown, or are not shown themselves:
# control characters (Cc), format characters (Cf: the bidirectional embeddings, overrides and
# isolates U+202A-U+202E and U+2066-U+2069, the marks U+200E, U+200F and U+061C, zero-width
# U+200B-U+200D, U+2060, U+FEFF, the soft hyphen) and the line and paragraph separators (Zl,
# Zp). A right-to-left override shows "Jan\u202esen" as "Jannes": a control room would read
# another name, street or phone than the one stored, and search would not find it.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
# what a text of several lines may hold besides (a browser's textarea sends CR LF)
_LINE_BREAKS = frozenset("\n\r\t")


def refuse_invisible(text: str, *, multiline: bool = False) -> str:
    """Refuse text with an invisible or direction-changing character, naming the first one;
    `multiline` allows line breaks and tabs."""
    if text.isprintable():  # the common case, at C speed (false for all of the above, and more)
        return text
    allowed = _LINE_BREAKS if multiline else frozenset()
    for char in text:
        if unicodedata.category(char) in _HIDDEN_CATEGORIES and char not in allowed:
            raise ValidationError(
                f"Deze tekst bevat een onzichtbaar teken of stuurteken (U+{ord(char):04X}). "
                "Haal het weg; typ de tekst zo nodig opnieuw."
            )
    return text


class Text(fields.String):
    """Trimmed text with a length bound."""

    def __init__(self, *, max_length: int, min_length: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = refuse_unstorable(super()._deserialize(value, attr, data, **kwargs)).strip()
        if len(text) < self.min_length:
            raise ValidationError(
                "Dit veld is verplicht."
                if self.min_length == 1
                else f"Gebruik minstens {self.min_length} tekens."
            )
        if len(text) > self.max_length:
            raise ValidationError(f"Gebruik hoogstens {self.max_length} tekens.")
        return text


class PlainText(Text):
    """Text that shows what it holds: no invisible or direction-changing characters
    (refuse_invisible); `multiline` for a text of several lines (line breaks and tabs)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return refuse_invisible(super()._deserialize(value, attr, data, **kwargs), multiline=self.multiline)


class Choice(fields.String):
    """One code of a vocabulary (registry/core/vocabulary.py): `Choice(RiskSignal)`.

    A tuple is for a fixed value that is no vocabulary of the contract (a header's "true")."""

    def __init__(
        self, choices: type[Vocabulary] | tuple[str, ...], *, component: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.vocabulary = choices if isinstance(choices, type) else None
        self.choices = choices.codes() if isinstance(choices, type) else choices
        # the name of its enum in the OpenAPI description: a vocabulary's own (registry/web/openapi.py)
        self.component = component

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in self.choices:
            raise ValidationError(f"Kies een van: {', '.join(self.choices)}.")
        return text


class Postcode(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        normal = normalise.postcode(super()._deserialize(value, attr, data, **kwargs))
        if normal is None:
            raise ValidationError("Vul een postcode in zoals 1234 AB.")
        return normal


class Phone(fields.String):
    """Stored in E.164; shown as Dutch users type it (06-12345678)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        normal = normalise.phone(super()._deserialize(value, attr, data, **kwargs))
        if normal is None:
            raise ValidationError("Vul een geldig telefoonnummer in, zoals 06-12345678 of 088-1234567.")
        return normal

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return normalise.phone_display(value) if value else None


def next_cursor_field() -> fields.String:
    """`next_cursor` of a paginated list's answer (registry/web/pagination.py)."""
    return fields.String(
        allow_none=True,
        metadata={"description": "Send it as ?cursor= for the next page; null: this was the last page."},
    )


# --- a lean answer ------------------------------------------------------------------------------


def dumper(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """`schema.dump` of one object, as a function built once from the schema's fields: the same
    answer without marshmallow's work around each field (an accessor, get_value and serialize per
    field, a dump per nested object: ~0.1 ms of an exact address lookup). Each field
    still formats its value with its own `_serialize`; nested schemas are built alike. For the
    hottest answers: the schema stays the contract (its fields, their order, the OpenAPI
    description). What it would not do as marshmallow does is refused when it is built: dump
    hooks, fields that compute their value (Method, Function), dotted attributes."""
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        raise TypeError(f"{type(schema).__name__} has dump hooks: dump it with marshmallow")
    plan: list[tuple[str, str, Callable[[Any, Any], Any], Any]] = []
    for name, field in schema.dump_fields.items():
        key = field.attribute if field.attribute is not None else name
        if "." in key or not field._CHECK_ATTRIBUTE:
            raise TypeError(f"{type(schema).__name__}.{name}: dump it with marshmallow")
        data_key = field.data_key if field.data_key is not None else name
        plan.append((key, data_key, _formatter(name, field), field.dump_default))

    def dump(obj: Any) -> dict[str, Any]:
        answer = {}
        for key, data_key, formatted, default in plan:
            # marshmallow.utils.get_value: the key, else the attribute
            try:
                value = obj[key]
            except (KeyError, IndexError, TypeError, AttributeError):
                value = getattr(obj, key, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            answer[data_key] = formatted(value, obj)
        return answer

    return dump


def _formatter(name: str, field: fields.Field) -> Callable[[Any, Any], Any]:
    """What Field.serialize does with a value once it has it: Nested as marshmallow's Nested does
    (None stays None; a list when the field or its schema is `many`), dumped by a dumper of its own."""
    if type(field) is fields.Nested:
        nested = dumper(field.schema)
        if field.many or field.schema.many:
            return lambda value, _obj: None if value is None else [nested(each) for each in value]
        return lambda value, _obj: None if value is None else nested(value)
    serialize = field._serialize
    return lambda value, obj: serialize(value, name, obj)

"""registry.web.schemas.dumper: a schema's dump as a function built once, for the hottest answers.
It answers exactly as marshmallow does, or refuses to be built."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from marshmallow import Schema, fields, post_dump, pre_dump

from registry.web.schemas import Phone, dumper


class _Row(Schema):
    name = fields.String()
    phone = Phone(allow_none=True)
    born = fields.Date(allow_none=True)


class _Answer(Schema):
    id = fields.UUID()
    count = fields.Integer()
    score = fields.Float()
    flag = fields.Boolean()
    at = fields.AwareDateTime(format="iso")
    renamed = fields.String(data_key="shown_as")
    taken = fields.String(attribute="source")
    defaulted = fields.String(dump_default="standaard")
    codes = fields.List(fields.String())
    one = fields.Nested(_Row, allow_none=True)
    rows = fields.Nested(_Row, many=True)
    only_names = fields.Nested(_Row, many=True, only=("name",))


class _Thing:
    """An object, not a dict: values come from its attributes."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


ROW = {"name": "Noor", "phone": "+31612345678", "born": date(1990, 1, 2)}
EMPTY_ROW = {"name": "", "phone": "", "born": None}


@pytest.mark.parametrize(
    "data",
    [
        {
            "id": uuid.UUID(int=7), "count": 3, "score": 0.8, "flag": True,
            "at": datetime(2026, 5, 26, 21, 40, tzinfo=UTC), "renamed": "x", "source": "y",
            "defaulted": "z", "codes": ["a", "b"], "one": ROW, "rows": [ROW, EMPTY_ROW],
            "only_names": [ROW],
        },
        # missing keys are left out (or take their default), None stays None
        {"count": None, "one": None, "rows": [], "codes": None},
        {},
        _Thing(count=1, one=_Thing(**ROW), rows=[_Thing(**EMPTY_ROW)], source="s"),
    ],
)  # fmt: skip
def test_it_answers_as_marshmallow_does(data: Any) -> None:
    schema = _Answer()

    dumped = dumper(schema)(data)

    assert dumped == schema.dump(data)
    assert list(dumped) == list(schema.dump(data))


def test_a_schema_with_dump_hooks_or_computed_fields_is_refused() -> None:
    class Before(Schema):
        name = fields.String()

        @pre_dump
        def _before(self, data: Any, **_kwargs: Any) -> Any:
            return data

    class After(Schema):
        name = fields.String()

        @post_dump
        def _after(self, data: Any, **_kwargs: Any) -> Any:
            return data

    class Computed(Schema):
        name = fields.Function(lambda obj: "x")

    class Dotted(Schema):
        name = fields.String(attribute="owner.name")

    class Nesting(Schema):
        inner = fields.Nested(After)

    for schema in (Before(), After(), Computed(), Dotted(), Nesting()):
        with pytest.raises(TypeError):
            dumper(schema)

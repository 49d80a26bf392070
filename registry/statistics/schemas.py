"""The monitoring tables as the API answers them: every category with all its values, zeros too."""

from __future__ import annotations

from typing import cast

from marshmallow import fields

from registry.core.vocabulary import AgreementOutcome
from registry.statistics.operations import CATEGORY_TABLES, TIME_OF_DAY, UNREGISTERED
from registry.web.schemas import DutchSchema


def _counts(name: str, keys: tuple[str, ...], **more: fields.Field) -> type[DutchSchema]:
    """{"key": count} for each key of a vocabulary."""
    declared: dict[str, fields.Field] = {key: fields.Integer() for key in keys}
    return cast(type[DutchSchema], DutchSchema.from_dict({**declared, **more}, name=name))


class ResponderModeSchema(DutchSchema):
    responders = fields.List(fields.String())
    mode = fields.String()
    count = fields.Integer()


class LookupCountsSchema(DutchSchema):
    total = fields.Integer()
    with_match = fields.Integer()
    without_report = fields.Integer()


class StatisticsSchema(DutchSchema):
    # `from` is a Python keyword
    from_ = fields.Date(attribute="from", data_key="from")
    to = fields.Date()
    reports = fields.Integer()
    reports_by_month = fields.Dict(keys=fields.String(), values=fields.Integer())
    time_of_day = fields.Nested(_counts("TimeOfDayCounts", TIME_OF_DAY))
    responders_mode = fields.List(fields.Nested(ResponderModeSchema))
    violence_type = fields.Nested(
        _counts("ViolenceTypeCounts", (*CATEGORY_TABLES["violence_type"], UNREGISTERED))
    )
    household_type = fields.Nested(
        _counts("HouseholdTypeCounts", (*CATEGORY_TABLES["household_type"], UNREGISTERED))
    )
    care_involvement = fields.Nested(
        _counts("CareInvolvementCounts", (*CATEGORY_TABLES["care_involvement"], UNREGISTERED))
    )
    mental_health_service = fields.Nested(
        _counts("MentalHealthServiceCounts", (*CATEGORY_TABLES["mental_health_service"], UNREGISTERED))
    )
    lookups = fields.Nested(LookupCountsSchema)
    agreements = fields.Nested(
        _counts(
            "AgreementOutcomeCounts", AgreementOutcome.codes(), share_followed=fields.Float(allow_none=True)
        )
    )
    median_working_hours_to_acknowledgement = fields.Float(allow_none=True)

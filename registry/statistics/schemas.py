"""The monitoring tables as the API answers them: every category with all its values, zeros too."""

from __future__ import annotations

from typing import cast

from marshmallow import fields

from registry.core.vocabulary import AgreementOutcome, ReportMode, Responder, StatisticsScope, TypeInzet
from registry.statistics.operations import CATEGORY_TABLES, TIME_OF_DAY, TIME_OF_DAY_SUBTOTALS, UNREGISTERED
from registry.web.schemas import Choice, DutchSchema


def _counts(name: str, keys: tuple[str, ...], **more: fields.Field) -> type[DutchSchema]:
    """{"key": count} for each key of a vocabulary."""
    declared: dict[str, fields.Field] = {key: fields.Integer() for key in keys}
    return cast(type[DutchSchema], DutchSchema.from_dict({**declared, **more}, name=name))


class ResponderModeSchema(DutchSchema):
    responders = fields.List(Choice(Responder))
    mode = Choice(ReportMode)
    count = fields.Integer()


class LookupCountsSchema(DutchSchema):
    total = fields.Integer()
    with_match = fields.Integer()
    without_report = fields.Integer()


class GemeenteCountsSchema(DutchSchema):
    meldingen = fields.Integer()
    population = fields.Integer()
    # meldingen per year at the period's rate, per 1.000 inhabitants
    per_1000 = fields.Float(allow_none=True)


class CapacitySchema(DutchSchema):
    type_inzet = Choice(TypeInzet)
    hours_per_melding = fields.Float(allow_none=True)
    meldingen_per_year = fields.Integer()
    hours_per_year = fields.Float(allow_none=True)


class ProjectionSchema(DutchSchema):
    meldingen = fields.Integer()
    per_year = fields.Integer()
    population = fields.Integer()
    per_1000 = fields.Float(allow_none=True)
    region_population = fields.Integer(allow_none=True)
    region_per_year = fields.Integer(allow_none=True)
    capacity_basis = Choice(("region", "gemeenten"), component="CapacityBasis")
    capacity = fields.List(fields.Nested(CapacitySchema))
    capacity_hours = fields.Float()


class ReachabilitySchema(DutchSchema):
    reported = fields.Integer()
    within_15 = fields.Integer()
    share_within_15 = fields.Float(allow_none=True)


class NeededSchema(DutchSchema):
    phone_advice = fields.Integer()
    needed_more = fields.Integer()
    share_needed_more = fields.Float(allow_none=True)


class SpoedSchema(DutchSchema):
    meldingen = fields.Integer()
    acknowledged_within_deadline_share = fields.Float(allow_none=True)
    median_minutes_to_acknowledgement = fields.Integer(allow_none=True)


class StatisticsSchema(DutchSchema):
    # `from` is a Python keyword
    from_ = fields.Date(attribute="from", data_key="from")
    to = fields.Date()
    # whose figures: "organisation" (the user's organisation's share) or "region" (the whole
    # region of the taakgroep, named in `region`; null for an organisation)
    scope = Choice(StatisticsScope)
    region = fields.String(allow_none=True)
    meldingen = fields.Integer()
    reports = fields.Integer()
    meldingen_by_month = fields.Dict(keys=fields.String(), values=fields.Integer())
    reports_by_month = fields.Dict(keys=fields.String(), values=fields.Integer())
    time_of_day = fields.Nested(_counts("TimeOfDayCounts", (*TIME_OF_DAY, *TIME_OF_DAY_SUBTOTALS)))
    type_inzet = fields.Nested(_counts("TypeInzetCounts", TypeInzet.codes()))
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
    reachability = fields.Dict(keys=fields.String(), values=fields.Nested(ReachabilitySchema))
    needed_vs_given = fields.Dict(keys=fields.String(), values=fields.Nested(NeededSchema))
    hours = fields.Dict(keys=fields.String(), values=fields.Float())
    per_gemeente = fields.Dict(keys=fields.String(), values=fields.Nested(GemeenteCountsSchema))
    gemeente_unregistered = fields.Integer()
    projection = fields.Nested(ProjectionSchema)
    lookups = fields.Nested(LookupCountsSchema)
    agreements = fields.Nested(
        _counts(
            "AgreementOutcomeCounts", AgreementOutcome.codes(), share_followed=fields.Float(allow_none=True)
        )
    )
    median_working_hours_to_acknowledgement = fields.Float(allow_none=True)
    spoed = fields.Nested(SpoedSchema)

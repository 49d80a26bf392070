"""A melding's record coming in (AssessmentArgs, on a report or added later) and going out
(MeldingSchema)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from registry.core.vocabulary import AssessmentSection, PersonRole, RiskSignal
from registry.web.schemas import Choice, DutchSchema, PlainText

#: each answer is short: the partner after you reads all five on one page
MAX_ANSWER = 2000
_LABELS = AssessmentSection.labels()


def _answer() -> PlainText:
    return PlainText(load_default=None, allow_none=True, max_length=MAX_ANSWER, multiline=True)


class AssessmentArgs(DutchSchema):
    """The five core questions, each optional: what this partner adds to each section."""

    happened = _answer()
    known = _answer()
    safe_now = _answer()
    needed_now = _answer()
    involved = _answer()


class AddAssessmentArgs(AssessmentArgs):
    """An addition to a melding's record after the report: at least one answer; `corrects` names,
    per section, the earlier addition an answer corrects (which stays, marked as corrected)."""

    corrects = fields.Dict(
        keys=Choice(AssessmentSection), values=fields.Integer(strict=True), load_default=dict
    )

    @validates_schema(skip_on_field_errors=True)
    def _rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(data.get(code.value) for code in AssessmentSection):
            raise ValidationError("Vul minstens één van de vijf vragen in.", "_schema")
        missing = {
            f"corrects.{section}": [f"Een correctie heeft tekst: vul de vraag '{_LABELS[section]}' in."]
            for section in data.get("corrects") or {}
            if not data.get(section)
        }
        if missing:
            raise ValidationError(missing)


def answers_of(form: Any) -> dict[str, str]:
    """The five fields of a web form (templates/registry/_assessment_fields.html: `assessment-<code>`)
    as AssessmentArgs' input, empty ones left out: one validation for the form and the API."""
    return {
        code.value: form[f"assessment-{code.value}"]
        for code in AssessmentSection
        if form.get(f"assessment-{code.value}", "").strip()
    }


# --- output -----------------------------------------------------------------------------------


def _about(description: str) -> dict[str, str]:
    return {"description": description}


class AdditionSchema(DutchSchema):
    id = fields.Integer(metadata=_about("the addition's id (a later one `corrects` it by this)"))
    section = Choice(AssessmentSection, metadata=_about("the core question it answers"))
    text = fields.String(metadata=_about("the answer"))
    organisation = fields.String(metadata=_about("the organisation that added it"))
    author = fields.String(metadata=_about("the name of the user who added it"))
    created_at = fields.AwareDateTime(format="iso", metadata=_about("when"))
    corrects = fields.Integer(allow_none=True, metadata=_about("the addition it corrects, or null"))
    corrected_by = fields.Integer(allow_none=True, metadata=_about("the addition that corrects it, or null"))
    report_id = fields.UUID(allow_none=True, metadata=_about("the report it came with, or null"))


def _section() -> fields.List:
    return fields.List(fields.Nested(AdditionSchema), metadata=_about("its additions, oldest first"))


class AssessmentSchema(DutchSchema):
    """Every addition of each section, oldest first: corrected ones too (corrected_by says so)."""

    happened = _section()
    known = _section()
    safe_now = _section()
    needed_now = _section()
    involved = _section()


class PersonNamedSchema(DutchSchema):
    """A person of the plan as the record names them: never a phone, address or birth date."""

    name = fields.String(metadata=_about("first name and surname"))
    role = Choice(PersonRole, metadata=_about("the person's role in the plan"))
    do_not_inform = fields.Boolean(metadata=_about("must not learn of the plan"))


class KnownSchema(DutchSchema):
    """What the registry already knows (question 2): to confirm, not to ask again."""

    plan_id = fields.UUID(metadata=_about("the plan"))
    owner = fields.String(metadata=_about("the organisation that owns it"))
    risk_signals = fields.List(Choice(RiskSignal), metadata=_about("the plan's risk signals"))
    earlier_meldingen = fields.List(
        fields.AwareDateTime(format="iso"), metadata=_about("when the plan's earlier meldingen came in")
    )
    persons = fields.List(
        fields.Nested(PersonNamedSchema), metadata=_about("the plan's persons, by name and role")
    )
    # lopende maatregelen: not recorded by the registry yet, always null until they are
    measures = fields.List(
        fields.String(),
        allow_none=True,
        metadata=_about("lopende maatregelen: always null, not recorded yet"),
    )


class MeldingSchema(DutchSchema):
    """One acute call, however many organisations reported it, and its shared record."""

    id = fields.UUID(metadata=_about("the melding's id (GET /meldingen/{id})"))
    incident_ref = fields.String(metadata=_about("the meldingnummer"))
    occurred_at = fields.AwareDateTime(format="iso", metadata=_about("when the call came in"))
    plan_id = fields.UUID(allow_none=True, metadata=_about("the plan it concerns; null: none"))
    organisations = fields.List(fields.String(), metadata=_about("the organisations that reported on it"))
    known = fields.Nested(
        KnownSchema, allow_none=True, metadata=_about("what the registry knows of the family; null: no plan")
    )
    assessment = fields.Nested(AssessmentSchema, metadata=_about("the five core questions, every addition"))

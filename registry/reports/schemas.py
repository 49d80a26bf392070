"""Reports coming in (ReportArgs, AmendmentArgs) and going out (ReportSchema)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from registry.core.timeutil import utcnow
from registry.core.vocabulary import (
    Action,
    Actor,
    AgreementOutcome,
    CareInvolvement,
    HouseholdType,
    MentalHealthService,
    ProposalOutcome,
    ReportMode,
    Responder,
    ViolenceType,
)
from registry.meldingen.schemas import AssessmentArgs
from registry.plans.schemas import AgreementArgs, ContactArgs
from registry.web.schemas import Choice, DutchSchema, Phone, Text

MAX_AGE_DAYS = 60
#: proposed agreements and contacts per report: what one night's talk with a family yields
MAX_PROPOSED = 10


class AgreementOutcomeArgs(DutchSchema):
    agreement_id = fields.Integer(required=True, strict=True)
    outcome = Choice(AgreementOutcome, required=True)
    note = Text(load_default="", max_length=2000)


def _unique(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Noem elke waarde één keer.")


def _proposed(schema: type[DutchSchema]) -> fields.List:
    return fields.List(
        fields.Nested(schema),
        load_default=list,
        validate=validate.Length(max=MAX_PROPOSED, error=f"Stel hoogstens {MAX_PROPOSED} regels voor."),
    )


class ProposedAgreementArgs(AgreementArgs):
    """A plan's agreement as a responder proposes it: naming none of the plan's contacts (the
    owner links it when taking it in)."""

    class Meta:
        exclude = ("contact_number",)


class ProposedContactArgs(ContactArgs):
    """A plan's contact as a responder proposes it: reachability as said at night (`available`),
    its windows, whether it knows the plan and its test date left to the owner."""

    class Meta:
        exclude = ("availability", "knows_plan", "tested_on")


class ProposalsArgs(DutchSchema):
    """New agreements and contacts the responder made with the family, for the plan's owners to
    take into the plan or not: the fields and rules of a plan's agreements and contacts."""

    agreements = _proposed(ProposedAgreementArgs)
    contacts = _proposed(ProposedContactArgs)


class ReportArgs(DutchSchema):
    # without a plan: a melding about a family without a handelingskader (no agreements)
    plan_id = fields.UUID(load_default=None, allow_none=True)
    lookup_id = fields.UUID(load_default=None, allow_none=True)
    # the melding this report belongs to; without it, the one with the same meldingnummer
    # within 7 days, or a new one
    melding_id = fields.UUID(load_default=None, allow_none=True)
    incident_ref = Text(required=True, min_length=1, max_length=64)
    # the melding's gemeente, by name (one of the known gemeenten); without it, the city of the
    # plan's residence address when that is a gemeente of the region
    gemeente = Text(load_default=None, allow_none=True, max_length=100)
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    mode = Choice(ReportMode, required=True)
    responders = fields.List(
        Choice(Responder),
        required=True,
        validate=[validate.Length(min=1, error="Kies minstens één organisatie die erop af ging."), _unique],
    )
    violence_type = Choice(ViolenceType, load_default=None, allow_none=True)
    household_type = Choice(HouseholdType, load_default=None, allow_none=True)
    care_involvement = Choice(CareInvolvement, load_default=None, allow_none=True)
    mental_health_service = Choice(MentalHealthService, load_default=None, allow_none=True)
    # the melding sheet (Bereikt na, Beantwoord door, Nodige inzet, Bestede tijd): all optional
    reached_after_minutes = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=24 * 60, error="Geef het aantal minuten, van 0 tot 1440."),
    )
    answered_by = Text(load_default=None, allow_none=True, max_length=100)
    needed_mode = Choice(ReportMode, load_default=None, allow_none=True)
    hours_spent = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=0, max=48, error="Geef de bestede tijd in uren, van 0 tot 48, bijvoorbeeld 1.5."
        ),
    )
    agreements = fields.List(
        fields.Nested(AgreementOutcomeArgs), load_default=list, validate=validate.Length(max=30)
    )
    actions = fields.List(Choice(Action), load_default=list, validate=_unique)
    narrative = Text(load_default="", max_length=10000)
    # a spoedmelding without an arrest or a restraining order: the responder says why
    urgent = fields.Boolean(load_default=False)
    urgent_reason = Text(load_default=None, allow_none=True, max_length=500)
    # Nieuwe afspraken met de familie (voorstel): for the plan's owners to decide on
    proposals = fields.Nested(ProposalsArgs, load_default=None, allow_none=True)
    # the five core questions: what this organisation adds to the melding's shared record
    assessment = fields.Nested(AssessmentArgs, load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        occurred = data.get("occurred_at")
        if occurred is not None:
            now = utcnow()
            if occurred > now + timedelta(minutes=10):
                errors["occurred_at"] = ["Het tijdstip ligt in de toekomst."]
            elif occurred < now - timedelta(days=MAX_AGE_DAYS):
                errors["occurred_at"] = [f"Registreer een inzet binnen {MAX_AGE_DAYS} dagen."]
        ids = [row["agreement_id"] for row in data.get("agreements") or [] if "agreement_id" in row]
        if len(set(ids)) != len(ids):
            errors["agreements"] = ["Noem elke afspraak één keer."]
        # (a plan_id that is no id is missing from data: its own error says so)
        if "plan_id" in data and data["plan_id"] is None and data.get("agreements"):
            errors["agreements"] = ["Zonder handelingskader zijn er geen afspraken: laat de afspraken weg."]
        proposals = data.get("proposals") or {}
        if "plan_id" in data and data["plan_id"] is None and any(proposals.values()):
            errors["proposals"] = [
                "Voorgestelde afspraken gaan naar de regiehouder van een handelingskader; zonder "
                "handelingskader: zet ze in de toelichting."
            ]
        if data.get("urgent") and not (data.get("urgent_reason") or "").strip():
            errors["urgent_reason"] = [
                "Zeg waarom deze inzet spoed is, bijvoorbeeld: kinderen onveilig thuis."
            ]
        if errors:
            raise ValidationError(errors)


class AmendmentArgs(DutchSchema):
    note = Text(required=True, min_length=1, max_length=4000)


# --- output -----------------------------------------------------------------------------------


def _about(description: str) -> dict[str, str]:
    return {"description": description}


class AgreementOutcomeSchema(DutchSchema):
    agreement_id = fields.Integer(metadata=_about("the agreement of the plan version the responder saw"))
    outcome = Choice(AgreementOutcome, metadata=_about("whether it was followed"))
    note = fields.String(metadata=_about("the responder's note on it; empty when none"))


class ProposedAgreementSchema(DutchSchema):
    position = fields.Integer(metadata=_about("its place among the proposed agreements, from 1"))
    trigger = fields.String(metadata=_about("when it applies"))
    action = fields.String(metadata=_about("what is to be done then"))
    actor = Choice(Actor, metadata=_about("who does it"))


class ProposedContactSchema(DutchSchema):
    position = fields.Integer(metadata=_about("its place among the proposed contacts, from 1"))
    name = fields.String(metadata=_about("the contact's name"))
    relation = fields.String(metadata=_about("how the contact relates to the family"))
    phone = Phone(metadata=_about("the contact's phone number"))
    available = fields.String(metadata=_about("when the contact can be reached"))


class DecisionSchema(DutchSchema):
    """The owners' decision on the proposals, as every organisation that heard of the report reads
    it: who decided, when, and into which version of the plan they went (null: declined)."""

    outcome = Choice(ProposalOutcome, metadata=_about("taken into the plan, or not"))
    version = fields.Integer(
        allow_none=True, metadata=_about("the plan version they were taken into; null when declined")
    )
    organisation = fields.String(metadata=_about("the organisation that decided"))
    decided_at = fields.AwareDateTime(format="iso", metadata=_about("when"))


class OwnDecisionSchema(DecisionSchema):
    """The decision as the reporting organisation reads it: with the reason of a decline."""

    reason = fields.String(allow_none=True, metadata=_about("why they were declined; null when accepted"))


class ProposalsSchema(DutchSchema):
    """New agreements and contacts the responder made with the family, for the plan's owners."""

    agreements = fields.List(fields.Nested(ProposedAgreementSchema), metadata=_about("proposed agreements"))
    contacts = fields.List(fields.Nested(ProposedContactSchema), metadata=_about("proposed contacts"))
    decision = fields.Nested(
        DecisionSchema, allow_none=True, metadata=_about("the owners' decision; null: not decided yet")
    )


class OwnProposalsSchema(ProposalsSchema):
    decision = fields.Nested(
        OwnDecisionSchema, allow_none=True, metadata=_about("the owners' decision; null: not decided yet")
    )


class AmendmentSchema(DutchSchema):
    note = fields.String(metadata=_about("the note appended"))
    created_at = fields.AwareDateTime(format="iso", metadata=_about("when it was appended"))
    by = fields.String(metadata=_about("the name of the user who appended it"))


class ReportSchema(DutchSchema):
    """What a responder did during an incident, as stored: never edited (amendments append)."""

    id = fields.UUID(metadata=_about("the report's id (GET /reports/{id}; a feedback item's id)"))
    melding_id = fields.UUID(metadata=_about("the melding (one acute call) the report belongs to"))
    plan_id = fields.UUID(
        allow_none=True, metadata=_about("the plan; null: a melding without a handelingskader")
    )
    lookup_id = fields.UUID(
        allow_none=True, metadata=_about("the lookup that showed the plan; null when none")
    )
    incident_ref = fields.String(metadata=_about("the meldingnummer"))
    occurred_at = fields.AwareDateTime(format="iso", metadata=_about("when the incident happened (UTC)"))
    mode = Choice(ReportMode, metadata=_about("the most intensive way of responding"))
    responders = fields.List(Choice(Responder), metadata=_about("who responded, each once"))
    violence_type = Choice(ViolenceType, allow_none=True, metadata=_about("null: not registered"))
    household_type = Choice(HouseholdType, allow_none=True, metadata=_about("null: not registered"))
    care_involvement = Choice(CareInvolvement, allow_none=True, metadata=_about("null: not registered"))
    mental_health_service = Choice(
        MentalHealthService, allow_none=True, metadata=_about("null: not registered")
    )
    reached_after_minutes = fields.Integer(
        allow_none=True, metadata=_about("after how many minutes the partner (VT) was on the line")
    )
    answered_by = fields.String(allow_none=True, metadata=_about("the team that answered (never a person)"))
    needed_mode = Choice(ReportMode, allow_none=True, metadata=_about("the response that was needed"))
    hours_spent = fields.Float(allow_none=True, metadata=_about("hours spent"))
    agreements = fields.List(
        fields.Nested(AgreementOutcomeSchema), metadata=_about("what became of each agreement named")
    )
    actions = fields.List(Choice(Action), metadata=_about("what was done, each once"))
    narrative = fields.String(metadata=_about("the responder's account; empty when none"))
    urgent = fields.Boolean(metadata=_about("marked urgent by the responder, with urgent_reason"))
    urgent_reason = fields.String(allow_none=True, metadata=_about("why urgent; null when not marked urgent"))
    # a spoedmelding: due at feedback_due_at (SPOED_HOURS after the incident); otherwise null,
    # and the report is due on its terugkoppeldag, feedback_due
    spoed = fields.Boolean(
        metadata=_about(
            "a spoedmelding (an arrest, a temporary restraining order, or urgent): due within hours"
        )
    )
    feedback_due = fields.Date(metadata=_about("the terugkoppeldag: the working day the feedback is due"))
    feedback_due_at = fields.AwareDateTime(
        format="iso", allow_none=True, metadata=_about("a spoedmelding's deadline; null for any other report")
    )
    created_at = fields.AwareDateTime(format="iso", metadata=_about("when it was stored"))
    organisation = fields.String(metadata=_about("the organisation that recorded it"))
    reported_by = fields.String(metadata=_about("the name of the user who recorded it"))
    call_back = Phone(
        allow_none=True, metadata=_about("whom to call back: the reporter's phone, else the organisation's")
    )
    amendments = fields.List(fields.Nested(AmendmentSchema), metadata=_about("notes appended, oldest first"))
    # what the responder proposed for the plan, and the owners' decision; null: nothing proposed
    proposals = fields.Nested(
        ProposalsSchema, allow_none=True, metadata=_about("agreements and contacts proposed; null: none")
    )


class AcknowledgementShownSchema(DutchSchema):
    organisation = fields.String(metadata=_about("the organisation that acknowledged the report"))
    note = fields.String(metadata=_about("what it picks up (Wat pakken wij op); empty when none"))
    acknowledged_at = fields.AwareDateTime(format="iso", metadata=_about("when"))


class OwnReportSchema(ReportSchema):
    """A report as the organisation that recorded it reads it: with the answers (organisation,
    note, when) of the organisations that heard of it. Never for anyone else: the feedback
    items nest ReportSchema, without them."""

    acknowledgements = fields.List(
        fields.Nested(AcknowledgementShownSchema),
        metadata=_about("each organisation that heard of the report and acknowledged it, earliest first"),
    )
    proposals = fields.Nested(
        OwnProposalsSchema, allow_none=True, metadata=_about("agreements and contacts proposed; null: none")
    )

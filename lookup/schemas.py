"""Lookup input (…Args) and the responders' view of a plan: an allow-list, nothing more."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from lookup import normalise
from registry.core.models import MAX_ID
from registry.core.vocabulary import (
    AccessKind,
    Actor,
    AddressRole,
    FamilyProfile,
    MatchedOn,
    MatchQuality,
    PersonRole,
    QueryKind,
    RiskSignal,
)
from registry.plans.schemas import Suffix
from registry.web.schemas import Choice, DutchSchema, Phone, PlainText, Postcode, Text, next_cursor_field

# one field per kind of query: the field given is the lookup's query kind
QUERY_FIELDS = QueryKind.searched()


class AddressQueryArgs(DutchSchema):
    postcode = Postcode(required=True)
    house_number = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(1, 99999, error="Vul een huisnummer in van 1 tot en met 99999."),
    )
    house_number_suffix = Suffix(load_default="", allow_none=True)


class PersonQueryArgs(DutchSchema):
    name = Text(required=True, min_length=2, max_length=200)
    birth_date = fields.Date(load_default=None, allow_none=True)
    birth_year = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        metadata={
            "description": "the year of birth when the date is not known ('Kaya 1988'): lists the "
            "persons of that name born that year (and those registered without a birth date) as candidates"
        },
    )

    @validates_schema(skip_on_field_errors=True)
    def _year(self, data: dict[str, Any], **_kwargs: Any) -> None:
        year, born = data.get("birth_year"), data.get("birth_date")
        if year is None:
            return
        this_year = date.today().year
        if not normalise.FIRST_BIRTH_YEAR <= year <= this_year:
            raise ValidationError(
                f"Geef een geboortejaar van {normalise.FIRST_BIRTH_YEAR} tot en met {this_year}.",
                "birth_year",
            )
        if born is not None and born.year != year:
            raise ValidationError("Het geboortejaar hoort bij de geboortedatum: geef er één.", "birth_year")


class AddressText(Text):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if normalise.address_text(text).house_number is None:
            raise ValidationError("Noem straat én huisnummer, bijvoorbeeld: Kerkstraat 14 Assen.")
        return text


class SignalReference(Text):
    """A signal's reference as a control room's system got it (S-7KQ4-M9XD-2HPT), read as typed:
    either case, with or without the dashes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=40, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        reference = normalise.signal_reference(text)
        if reference is None:
            raise ValidationError(
                "Vul de signaalreferentie in zoals het systeem die gaf, bijvoorbeeld S-7KQ4-M9XD-2HPT."
            )
        return reference


#: a lookup names exactly one of these: what to search on, or the signal to open
LOOKUP_FIELDS = (*QUERY_FIELDS, "signal_reference")


def _exactly_one(original: Any, names: tuple[str, ...]) -> None:
    """Exactly one of `names` given (not null), else a message on each of them."""
    given = [name for name in names if isinstance(original, dict) and original.get(name) is not None]
    listed = ", ".join(names[:-1]) + f" of {names[-1]}"
    if not given:
        message = f"Zoek op precies één van: {listed}."
        raise ValidationError({name: [message] for name in names})
    if len(given) > 1:
        message = f"Zoek op één ding tegelijk: {listed}."
        raise ValidationError({name: [message] for name in given})


class LookupArgs(DutchSchema):
    incident_ref = Text(required=True, min_length=1, max_length=64)
    address = fields.Nested(AddressQueryArgs)
    address_text = AddressText(min_length=3, max_length=300)
    person = fields.Nested(PersonQueryArgs)
    phone = Phone()
    signal_reference = SignalReference(
        metadata={
            "description": "open the plans a signal of your organisation's system found, for the same "
            "meldingnummer, within 12 hours of it (POST /signals)"
        }
    )

    # the rule below in the API's OpenAPI description: a named schema per query (registry/web/openapi.py)
    openapi_variants = {
        "AddressLookup": (
            "address",
            "By postcode and house number (the suffix optional): the plans with that address; "
            "`exact` when the suffix is the same, `building` when it differs or one side has none.",
        ),
        "AddressTextLookup": (
            "address_text",
            "By an address as typed ('Kerkstraat 14 Assen'): a street and a number are required; the "
            "street may have a typo or two, a city when named must resemble the stored one.",
        ),
        "PersonLookup": (
            "person",
            "By a person's name, with a birth date (shows the plans) or without one (answers "
            "`candidates` only, to open one with POST /lookups/{lookup_id}/open).",
        ),
        "PhoneLookup": ("phone", "By a phone number of a person in a plan, in any notation."),
        "SignalReferenceLookup": (
            "signal_reference",
            "Open what a signal of your organisation's system found (POST /signals), for the "
            "signal's incident_ref, within 12 hours of it.",
        ),
    }

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _exactly_one(self, _data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        _exactly_one(original, LOOKUP_FIELDS)

    @staticmethod
    def kind(loaded: dict[str, Any]) -> str:
        """The query kind searched on (a lookup that opens a signal has the signal's)."""
        return next(name for name in QUERY_FIELDS if loaded.get(name) is not None)


#: what a signal may be asked on: the database's exact matches, never a fuzzy search
SIGNAL_FIELDS = (QueryKind.ADDRESS.value, QueryKind.PHONE.value)


class SignalArgs(DutchSchema):
    """A control room's system asks whether a handelingskader is there for a call."""

    incident_ref = Text(
        required=True,
        min_length=1,
        max_length=64,
        metadata={"description": "the meldingnummer of the call, in the organisation's format"},
    )
    address = fields.Nested(AddressQueryArgs)
    phone = Phone()

    openapi_variants = {
        "AddressSignal": ("address", "By postcode and house number (the suffix optional)."),
        "PhoneSignal": ("phone", "By a phone number, in any notation."),
    }

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _exactly_one(self, _data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        _exactly_one(original, SIGNAL_FIELDS)

    @staticmethod
    def kind(loaded: dict[str, Any]) -> str:
        return next(name for name in SIGNAL_FIELDS if loaded.get(name) is not None)


class SignalSchema(DutchSchema):
    """The answer to a system: whether a handelingskader is there, never what it says."""

    class Meta:
        ordered = True

    signal = fields.Boolean(
        metadata={
            "description": "true: a handelingskader responders are shown today is there "
            "(Signaal: handelingskader aanwezig)"
        }
    )
    reference = fields.String(
        metadata={
            "description": "a person of your organisation opens what was found with it (POST /lookups "
            "with the same incident_ref, or the page Raadplegen), until expires_at",
            "example": "S-7KQ4-M9XD-2HPT",
        }
    )
    owner_organisations = fields.List(
        fields.String(), metadata={"description": "the organisations that own the plans found (regiehouders)"}
    )
    expires_at = fields.AwareDateTime(
        format="iso", metadata={"description": "until when the reference opens what was found (12 hours)"}
    )


# --- output: what a responder sees --------------------------------------------------------------


class _Owner(DutchSchema):
    organisation = fields.String()
    name = fields.String()
    phone = Phone()


class _Address(DutchSchema):
    postcode = fields.String()
    house_number = fields.Integer()
    house_number_suffix = fields.String()
    street = fields.String()
    city = fields.String()
    role = Choice(AddressRole)


class _Person(DutchSchema):
    first_name = fields.String()
    surname_prefix = fields.String()
    surname = fields.String()
    birth_date = fields.Date(allow_none=True)
    role = Choice(PersonRole)
    phone = Phone(allow_none=True)
    language = fields.String()
    interpreter_needed = fields.Boolean()
    do_not_inform = fields.Boolean()
    do_not_inform_reason = fields.String()


class _Window(DutchSchema):
    days = fields.List(fields.Integer())
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()


class _Contact(DutchSchema):
    class Meta:
        ordered = True

    name = fields.String()
    relation = fields.String()
    phone = Phone()
    available = fields.String(metadata={"description": "the owner's note on reachability"})
    availability = fields.List(fields.Nested(_Window))
    reachable_now = fields.Boolean(
        allow_none=True, metadata={"description": "by its windows, now (SAMENOP_TIMEZONE); null: not said"}
    )
    next_reachable_at = fields.AwareDateTime(
        format="iso", allow_none=True, metadata={"description": "when not reachable now: from when"}
    )
    knows_plan = fields.Boolean()
    tested_on = fields.Date(allow_none=True)


class _AgreementContact(DutchSchema):
    name = fields.String()
    phone = Phone()


class _Agreement(DutchSchema):
    id = fields.Integer()  # the report refers to it
    position = fields.Integer()
    trigger = fields.String()
    action = fields.String()
    actor = Choice(Actor)
    contact = fields.Nested(
        _AgreementContact, allow_none=True, metadata={"description": "the contact to call for it"}
    )


class _Measure(DutchSchema):
    kind = fields.String()
    holder = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    note = fields.String()


class _SecretAddress(DutchSchema):
    id = fields.Integer(metadata={"description": "for POST /lookups/{lookup_id}/reveal"})
    role = fields.String()


class ResponderPlanSchema(DutchSchema):
    """Risk signals first, agreements in order, contacts, persons, owner, validity."""

    class Meta:
        ordered = True

    id = fields.UUID()
    version = fields.Integer()
    title = fields.String()
    risk_signals = fields.List(Choice(RiskSignal))
    measures = fields.Nested(
        _Measure, many=True, metadata={"description": "lopende maatregelen: those not ended today"}
    )
    agreements = fields.Nested(_Agreement, many=True)
    contacts = fields.Nested(_Contact, many=True)
    persons = fields.Nested(_Person, many=True)
    addresses = fields.Nested(_Address, many=True, metadata={"description": "never a geheim address"})
    secret_addresses = fields.Nested(
        _SecretAddress,
        many=True,
        metadata={
            "description": "geheim addresses: that one exists (never say it over the radio or to "
            "the caller), shown only by POST /lookups/{lookup_id}/reveal with a reason; empty when "
            "the plan was found through the perpetrator's name, phone or address"
        },
    )
    summary = fields.String()
    family_profiles = fields.List(Choice(FamilyProfile))
    family_profile = Choice(
        FamilyProfile, allow_none=True, metadata={"description": "deprecated: the first profile"}
    )
    owner = fields.Nested(_Owner)
    valid_until = fields.Date()


class MatchSchema(DutchSchema):
    on = Choice(
        ("address", "person"),
        component="MatchOn",
        metadata={"description": "whether an address or a person (name or phone) of the plan matched"},
    )
    quality = Choice(MatchQuality)
    score = fields.Float(metadata={"description": "0 to 1: exact 1.0, building 0.8, fuzzy below"})


class MatchedOnSchema(DutchSchema):
    """What of the plan the lookup found it on: a match through a person who must not be informed
    says so (do_not_inform), and `text` says it all in the responder's words."""

    class Meta:
        ordered = True

    kind = Choice(MatchedOn, metadata={"description": "address, phone or name"})
    text = fields.String(
        metadata={
            "description": "in Dutch, as the page shows it after 'Gevonden op': 'telefoon van Murat Kaya — "
            "pleger — NIET INFORMEREN', 'naam Sanne Bos (slachtoffer), geboortedatum klopt', "
            "'adres Kerkstraat 14, Assen — woonadres'"
        }
    )
    person_role = Choice(
        PersonRole,
        allow_none=True,
        metadata={"description": "the role of the person matched; null for an address"},
    )
    do_not_inform = fields.Boolean(
        metadata={"description": "the person matched must not learn of the plan: never say it to the caller"}
    )
    birth_date_matches = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "a name with a birth date: whether it is the registered one; null when no birth "
            "date was said or none is registered"
        },
    )
    address_role = Choice(
        AddressRole,
        allow_none=True,
        metadata={"description": "the role of the address matched; null for a person"},
    )


class HistorySchema(DutchSchema):
    """What happened before on the plan: counts and a date, never what happened."""

    meldingen = fields.Integer(metadata={"description": "meldingen on the plan before this lookup"})
    last = fields.Date(allow_none=True, metadata={"description": "the day of the last one; null when none"})


class LookupMatchSchema(DutchSchema):
    plan = fields.Nested(ResponderPlanSchema)
    match = fields.Nested(MatchSchema)
    matched_on = fields.Nested(
        MatchedOnSchema,
        allow_none=True,
        metadata={"description": "what of the plan the query found; null for a plan opened from a signal"},
    )
    history = fields.Nested(HistorySchema)


class CandidateSchema(DutchSchema):
    """One family a name without a birth date found: enough to choose, not the plan itself."""

    class Meta:
        ordered = True

    plan_id = fields.UUID(metadata={"description": "open it with POST /lookups/{lookup_id}/open"})
    name = fields.String(metadata={"description": "the person whose name matched"})
    birth_year = fields.Integer(allow_none=True)
    city = fields.String(metadata={"description": "the city of the residence; never a safe address"})
    owner_organisation = fields.String()
    match = fields.Nested(MatchSchema)


class LookupResponseSchema(DutchSchema):
    class Meta:
        ordered = True

    lookup_id = fields.UUID()
    performed_at = fields.AwareDateTime(format="iso")
    matches = fields.Nested(LookupMatchSchema, many=True)
    candidates = fields.Nested(
        CandidateSchema,
        many=True,
        metadata={
            "description": "a name without a birth date: the families found, none shown (matches is empty)"
        },
    )


class RevealArgs(DutchSchema):
    """Show a geheim address: which, and why (audited)."""

    address_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, MAX_ID, error="Kies een geheim adres.")
    )
    reason = PlainText(required=True, min_length=1, max_length=500, multiline=True)


class RevealedAddressSchema(DutchSchema):
    class Meta:
        ordered = True

    warning = fields.String()
    address = fields.Nested(_Address)


class OpenCandidateArgs(DutchSchema):
    plan_id = fields.UUID(required=True)


class AccessLogEntrySchema(DutchSchema):
    at = fields.AwareDateTime(format="iso", default_timezone=None)
    organisation = fields.String()
    user = fields.String(metadata={"description": "the person; for a signal, the system's name"})
    incident_ref = fields.String()
    query_kind = Choice(QueryKind)
    kind = Choice(
        AccessKind,
        metadata={
            "description": "lookup: a person saw the plan; signal: a control room's system was told only "
            "that a handelingskader is there, and nobody opened it (yet)"
        },
    )


class AccessLogSchema(DutchSchema):
    items = fields.List(fields.Nested(AccessLogEntrySchema))
    next_cursor = next_cursor_field()

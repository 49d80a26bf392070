"""What a plan looks like coming in (…Args, naming every bad field) and going out."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app, has_app_context
from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from registry.core.normalise import house_number_suffix
from registry.core.timeutil import local_today
from registry.core.vocabulary import (
    Actor,
    AddressRole,
    FamilyProfile,
    MeasureKind,
    PersonRole,
    PlanStatus,
    RiskSignal,
)
from registry.plans import availability
from registry.web.schemas import (
    Choice,
    DutchSchema,
    Phone,
    PlainText,
    Postcode,
    next_cursor_field,
    refuse_invisible,
    refuse_unstorable,
)

MAX_ROWS = {"addresses": 10, "persons": 20, "agreements": 30, "contacts": 20, "measures": 10}
MAX_WINDOWS = 7
VALID_MONTHS = 6
# fields a client may send back unchanged from a GET; they are set by the server
_READ_ONLY = {"id", "status", "position", "organisation"}


def today() -> date:
    zone = current_app.config["TIMEZONE"] if has_app_context() else "Europe/Amsterdam"
    return local_today(zone)


class _Row(DutchSchema):
    @pre_load
    def _drop_read_only(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in _READ_ONLY}
        return data


class Suffix(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = refuse_invisible(refuse_unstorable(super()._deserialize(value, attr, data, **kwargs)))
        suffix = house_number_suffix(text)
        if len(suffix) > 10:
            raise ValidationError("Gebruik hoogstens 10 tekens voor de toevoeging.")
        return suffix


class HouseNumber(fields.Integer):
    """A whole number; the web form sends "14", so strings are fine, but 14.5 is refused
    rather than silently stored as 14 (a wrong address)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class AddressArgs(_Row):
    postcode = Postcode(required=True)
    house_number = HouseNumber(
        required=True,
        strict=False,
        validate=validate.Range(1, 99999, error="Vul een huisnummer in van 1 tot en met 99999."),
    )
    house_number_suffix = Suffix(load_default="", allow_none=True)
    street = PlainText(required=True, min_length=1, max_length=200)
    city = PlainText(required=True, min_length=1, max_length=100)
    role = Choice(AddressRole, required=True)
    is_secret = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _secret(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("is_secret") and data.get("role") == AddressRole.PERPETRATOR_ADDRESS:
            raise ValidationError(
                "Alleen een adres waar slachtoffer of kinderen veilig zijn is geheim; "
                "kies een ander soort adres of haal 'geheim' weg.",
                "is_secret",
            )

    @post_load
    def _no_suffix_is_empty(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["house_number_suffix"] = data.get("house_number_suffix") or ""
        return data


class PersonArgs(_Row):
    first_name = PlainText(load_default="", max_length=100)
    surname_prefix = PlainText(load_default="", max_length=30)
    surname = PlainText(required=True, min_length=1, max_length=150)
    birth_date = fields.Date(load_default=None, allow_none=True)
    role = Choice(PersonRole, required=True)
    phone = Phone(load_default=None, allow_none=True)
    language = PlainText(load_default="", max_length=50)
    interpreter_needed = fields.Boolean(load_default=False)
    do_not_inform = fields.Boolean(load_default=False)
    do_not_inform_reason = PlainText(load_default="", max_length=1000, multiline=True)
    # a perpetrator who is not do_not_inform: the owner says so explicitly
    perpetrator_may_know = fields.Boolean(load_default=False)

    # also when another field of the person failed, so that every problem shows at once
    @validates_schema(skip_on_field_errors=False)
    def _person_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        born = data.get("birth_date")
        if born is not None and born > today():
            errors["birth_date"] = ["Een geboortedatum ligt niet in de toekomst."]
        elif born is not None and born.year < 1900:
            errors["birth_date"] = ["Controleer het geboortejaar."]
        if data.get("do_not_inform") and not data.get("do_not_inform_reason"):
            errors["do_not_inform_reason"] = ["Schrijf op waarom deze persoon niet geïnformeerd mag worden."]
        if data.get("do_not_inform") and data.get("perpetrator_may_know"):
            errors["perpetrator_may_know"] = [
                "Niet informeren en 'mag van het handelingskader weten' sluiten elkaar uit: kies één."
            ]
        elif (
            data.get("role") == PersonRole.PERPETRATOR
            and not data.get("do_not_inform")
            and not data.get("perpetrator_may_know")
        ):
            errors["perpetrator_may_know"] = [
                "Bevestig dat de pleger van het handelingskader mag weten, of kies Niet informeren."
            ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _only_what_applies(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if not data.get("do_not_inform"):
            data["do_not_inform_reason"] = ""
        if data.get("role") != PersonRole.PERPETRATOR:
            data["perpetrator_may_know"] = False
        return data


class AgreementArgs(_Row):
    trigger = PlainText(required=True, min_length=1, max_length=1000, multiline=True)
    action = PlainText(required=True, min_length=1, max_length=2000, multiline=True)
    actor = Choice(Actor, required=True)
    # the contact to call: its place among the plan's contacts (1 = the first)
    contact_number = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        validate=validate.Range(1, MAX_ROWS["contacts"], error="Kies een van de contactpersonen."),
    )


class Time(fields.String):
    """A local time of day, "HH:MM" (the form's 09:00; "24:00" is the end of a day)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().replace(".", ":")
        if len(text) == 4 and text[1] == ":":
            text = "0" + text
        if not availability.TIME.fullmatch(text):
            raise ValidationError("Vul een tijd in als 09:00 (00:00 tot en met 24:00).")
        return text


class WindowArgs(DutchSchema):
    """When a contact can be reached, on some days of the week."""

    days = fields.List(
        fields.Integer(
            strict=True, validate=validate.Range(1, 7, error="Een dag is 1 (maandag) tot en met 7 (zondag).")
        ),
        required=True,
        validate=validate.Length(min=1, error="Kies minstens één dag."),
    )
    from_ = Time(required=True, data_key="from")
    to = Time(required=True)

    @validates_schema(skip_on_field_errors=True)
    def _window(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["from_"] == "24:00":
            raise ValidationError("Een begintijd is hoogstens 23:59.", "from")
        if data["from_"] == data["to"]:
            raise ValidationError("Kies een eindtijd die verschilt van de begintijd.", "to")
        if len(set(data["days"])) != len(data["days"]):
            raise ValidationError("Noem elke dag één keer.", "days")

    @post_load
    def _as_stored(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {"days": sorted(data["days"]), "from": data["from_"], "to": data["to"]}


class ContactArgs(_Row):
    name = PlainText(required=True, min_length=1, max_length=200)
    relation = PlainText(load_default="", max_length=200)
    phone = Phone(required=True)
    # a note on reachability ("via de meldkamer van de piketdienst")
    available = PlainText(load_default="", max_length=200)
    availability = fields.List(
        fields.Nested(WindowArgs),
        load_default=list,
        validate=validate.Length(max=MAX_WINDOWS, error=f"Hoogstens {MAX_WINDOWS} tijdvakken."),
    )
    knows_plan = fields.Boolean(load_default=False)
    tested_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _tested(self, data: dict[str, Any], **_kwargs: Any) -> None:
        tested = data.get("tested_on")
        if tested is not None and tested > today():
            raise ValidationError("Een testdatum ligt niet in de toekomst.", "tested_on")


class MeasureArgs(_Row):
    """A lopende maatregel: what, who holds it, from and until when."""

    kind = Choice(MeasureKind, required=True)
    holder = PlainText(load_default="", max_length=200)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    note = PlainText(load_default="", max_length=1000, multiline=True)

    @validates_schema(skip_on_field_errors=False)
    def _dates(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if data.get("kind") == MeasureKind.CUSTODY:
            if not data.get("holder"):
                errors["holder"] = ["Noem wie het gezag heeft."]
        elif ends is None and "ends_on" not in errors:
            errors["ends_on"] = ["Vul de einddatum in: de maatregel verdwijnt op die dag uit de raadpleging."]
        if starts is not None and ends is not None and ends < starts:
            errors["ends_on"] = ["De einddatum ligt vóór de begindatum; kies een latere datum."]
        if errors:
            raise ValidationError(errors)


class OwnerArgs(_Row):
    name = PlainText(required=True, min_length=1, max_length=200)
    phone = Phone(required=True)


def _rows(schema: type[DutchSchema], name: str) -> fields.List:
    return fields.List(
        fields.Nested(schema),
        load_default=list,
        validate=validate.Length(max=MAX_ROWS[name], error=f"Hoogstens {MAX_ROWS[name]} regels."),
    )


class PlanArgs(_Row):
    title = PlainText(required=True, min_length=1, max_length=200)
    summary = PlainText(load_default="", max_length=4000, multiline=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(required=True)
    family_profiles = fields.List(Choice(FamilyProfile), load_default=None)
    # the one profile of API clients written before several could apply: [family_profile]
    family_profile = Choice(FamilyProfile, load_default=None, allow_none=True)
    risk_signals = fields.List(Choice(RiskSignal), load_default=list)
    owner = fields.Nested(OwnerArgs, required=True)
    addresses = _rows(AddressArgs, "addresses")
    persons = _rows(PersonArgs, "persons")
    agreements = _rows(AgreementArgs, "agreements")
    contacts = _rows(ContactArgs, "contacts")
    measures = _rows(MeasureArgs, "measures")

    # also when some fields failed: the user sees every problem at once
    @validates_schema(skip_on_field_errors=False)
    def _plan_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        now = today()
        until = data.get("valid_until")
        start = data.get("valid_from") or now
        if until is not None:
            if until <= now:
                errors["valid_until"] = ["Kies een datum na vandaag."]
            elif until > now + relativedelta(months=VALID_MONTHS):
                errors["valid_until"] = [
                    f"Een handelingskader geldt hoogstens {VALID_MONTHS} maanden; kies een eerdere datum."
                ]
            elif start > until:
                errors["valid_from"] = ["Geldig vanaf ligt na geldig tot."]
        if not data.get("addresses") and not data.get("persons"):
            errors["addresses"] = ["Vul minstens één adres of één persoon in."]
        if not data.get("agreements"):
            errors["agreements"] = ["Vul minstens één afspraak in."]
        signals = data.get("risk_signals") or []
        if len(set(signals)) != len(signals):
            errors["risk_signals"] = ["Noem elk risicosignaal één keer."]
        profiles = data.get("family_profiles") or []
        if len(set(profiles)) != len(profiles):
            errors["family_profiles"] = ["Noem elk gezinsprofiel één keer."]
        single = data.get("family_profile")
        if single is not None and data.get("family_profiles") is not None and [single] != profiles[:1]:
            errors["family_profile"] = [
                "Geef family_profiles, of alleen family_profile (verouderd), niet allebei."
            ]
        contacts = len(data.get("contacts") or [])
        unlinked: dict[int, dict[str, list[str]]] = {}
        for number, agreement in enumerate(data.get("agreements") or []):
            linked = agreement.get("contact_number") if isinstance(agreement, dict) else None
            if linked is not None and linked > contacts:
                unlinked[number] = {
                    "contact_number": [
                        f"Kies een van de contactpersonen van dit handelingskader (1 tot en met {contacts})."
                        if contacts
                        else "Voeg eerst de contactpersoon toe."
                    ]
                }
        if errors or unlinked:
            raise ValidationError({**errors, **({"agreements": unlinked} if unlinked else {})})

    @post_load
    def _defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["valid_from"] = data.get("valid_from") or today()
        single = data.pop("family_profile", None)
        if data.get("family_profiles") is None:
            data["family_profiles"] = [single] if single else []
        return data


class PlanUpdateArgs(PlanArgs):
    # bounded like the database column, and so that the next version (version + 1, sent to the
    # database even when the version is stale) fits too: more answered 500 (integer out of range)
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, 2**31 - 2, error="Geef het versienummer dat u ophaalde."),
    )


class WithdrawArgs(DutchSchema):
    reason = PlainText(required=True, min_length=1, max_length=2000, multiline=True)


class ShareArgs(DutchSchema):
    organisation = PlainText(required=True, min_length=1, max_length=200)


# --- output -----------------------------------------------------------------------------------


class AddressSchema(DutchSchema):
    id = fields.Integer()
    postcode = fields.String()
    house_number = fields.Integer()
    house_number_suffix = fields.String()
    street = fields.String()
    city = fields.String()
    role = Choice(AddressRole)
    is_secret = fields.Boolean()


class PersonSchema(DutchSchema):
    id = fields.Integer()
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
    perpetrator_may_know = fields.Boolean()


class AgreementSchema(DutchSchema):
    id = fields.Integer()
    position = fields.Integer()
    trigger = fields.String()
    action = fields.String()
    actor = Choice(Actor)
    contact_number = fields.Integer(allow_none=True)


class WindowSchema(DutchSchema):
    days = fields.List(fields.Integer())
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()


class ContactSchema(DutchSchema):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    phone = Phone()
    available = fields.String()
    availability = fields.List(fields.Nested(WindowSchema))
    knows_plan = fields.Boolean()
    tested_on = fields.Date(allow_none=True)


class MeasureSchema(DutchSchema):
    id = fields.Integer()
    kind = fields.String()
    holder = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    note = fields.String()


class OwnerSchema(DutchSchema):
    organisation = fields.String()
    name = fields.String()
    phone = Phone()


class PlanSchema(DutchSchema):
    """The contract's plan: one PlanView (plan + the version shown) per dump."""

    id = fields.UUID()
    version = fields.Integer()
    status = Choice(PlanStatus)
    title = fields.String()
    summary = fields.String()
    valid_from = fields.Date()
    valid_until = fields.Date()
    family_profiles = fields.List(Choice(FamilyProfile))
    family_profile = Choice(
        FamilyProfile,
        allow_none=True,
        metadata={"description": "deprecated: the first of family_profiles, or null"},
    )
    risk_signals = fields.List(Choice(RiskSignal))
    owner = fields.Nested(OwnerSchema)
    addresses = fields.List(fields.Nested(AddressSchema))
    persons = fields.List(fields.Nested(PersonSchema))
    agreements = fields.List(fields.Nested(AgreementSchema))
    contacts = fields.List(fields.Nested(ContactSchema))
    measures = fields.List(fields.Nested(MeasureSchema))


class PlanWarningSchema(DutchSchema):
    """Advice that does not stop a write, such as "one is none" (only one reachable contact)."""

    field = fields.String()
    code = fields.String()
    message = fields.String()


class WrittenPlanSchema(PlanSchema):
    """The answer to a create or an update: the plan and the warnings about it."""

    warnings = fields.List(fields.Nested(PlanWarningSchema))


class PlanListSchema(DutchSchema):
    items = fields.List(fields.Nested(PlanSchema))
    next_cursor = next_cursor_field()


class ShareSchema(DutchSchema):
    organisation = fields.String()


class ShareListSchema(DutchSchema):
    items = fields.List(fields.Nested(ShareSchema))
    next_cursor = next_cursor_field()

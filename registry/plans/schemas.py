"""What a plan looks like coming in (…Args, naming every bad field) and going out."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app, has_app_context
from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from registry.core.normalise import house_number_suffix
from registry.core.timeutil import local_today
from registry.core.vocabulary import Actor, AddressRole, FamilyProfile, PersonRole, PlanStatus, RiskSignal
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

MAX_ROWS = {"addresses": 10, "persons": 20, "agreements": 30, "contacts": 20}
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
    do_not_inform = fields.Boolean(load_default=False)

    # also when another field of the person failed, so that every problem shows at once
    @validates_schema(skip_on_field_errors=False)
    def _birth_date(self, data: dict[str, Any], **_kwargs: Any) -> None:
        born = data.get("birth_date")
        if born is not None and born > today():
            raise ValidationError("Een geboortedatum ligt niet in de toekomst.", "birth_date")
        if born is not None and born.year < 1900:
            raise ValidationError("Controleer het geboortejaar.", "birth_date")


class AgreementArgs(_Row):
    trigger = PlainText(required=True, min_length=1, max_length=1000, multiline=True)
    action = PlainText(required=True, min_length=1, max_length=2000, multiline=True)
    actor = Choice(Actor, required=True)


class ContactArgs(_Row):
    name = PlainText(required=True, min_length=1, max_length=200)
    relation = PlainText(load_default="", max_length=200)
    phone = Phone(required=True)
    available = PlainText(load_default="", max_length=200)


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
    family_profile = Choice(FamilyProfile, load_default=None, allow_none=True)
    risk_signals = fields.List(Choice(RiskSignal), load_default=list)
    owner = fields.Nested(OwnerArgs, required=True)
    addresses = _rows(AddressArgs, "addresses")
    persons = _rows(PersonArgs, "persons")
    agreements = _rows(AgreementArgs, "agreements")
    contacts = _rows(ContactArgs, "contacts")

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
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["valid_from"] = data.get("valid_from") or today()
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


class PersonSchema(DutchSchema):
    id = fields.Integer()
    first_name = fields.String()
    surname_prefix = fields.String()
    surname = fields.String()
    birth_date = fields.Date(allow_none=True)
    role = Choice(PersonRole)
    phone = Phone(allow_none=True)
    do_not_inform = fields.Boolean()


class AgreementSchema(DutchSchema):
    id = fields.Integer()
    position = fields.Integer()
    trigger = fields.String()
    action = fields.String()
    actor = Choice(Actor)


class ContactSchema(DutchSchema):
    id = fields.Integer()
    name = fields.String()
    relation = fields.String()
    phone = Phone()
    available = fields.String()


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
    family_profile = Choice(FamilyProfile, allow_none=True)
    risk_signals = fields.List(Choice(RiskSignal))
    owner = fields.Nested(OwnerSchema)
    addresses = fields.List(fields.Nested(AddressSchema))
    persons = fields.List(fields.Nested(PersonSchema))
    agreements = fields.List(fields.Nested(AgreementSchema))
    contacts = fields.List(fields.Nested(ContactSchema))


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

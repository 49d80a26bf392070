"""Each vocabulary is one enum with its Dutch words (registry/core/vocabulary.py), and every choice that
the API, the forms and the command line offer is one of those enums: never a tuple typed by hand,
which would drift from the enum the pages and the statistics use."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from types import ModuleType
from typing import Any

import click
import pytest
from flask_wtf import FlaskForm
from marshmallow import Schema, fields, validate
from wtforms.fields import SelectChoice, SelectFieldBase
from wtforms.fields.core import UnboundField

import lookup
import registry
from registry.core.config import PROJECT_ROOT
from registry.core.vocabulary import Responder, Vocabulary, WebhookEvent
from registry.web.openapi import Operation
from registry.web.schemas import Choice

VOCABULARIES: list[type[Vocabulary]] = Vocabulary.__subclasses__()


def _name(vocabulary: type[Vocabulary]) -> str:
    return vocabulary.__name__


@cache
def _modules() -> tuple[ModuleType, ...]:
    """Every module of the product: a schema, form or command is found wherever it is declared."""
    found = []
    for package in (registry, lookup):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            found.append(importlib.import_module(info.name))
    return tuple(found)


def _ours(thing: Any) -> bool:
    return thing.__module__.split(".")[0] in ("registry", "lookup")


def _vocabulary_with_codes(codes: Any) -> type[Vocabulary] | None:
    codes = tuple(codes)
    return next((v for v in VOCABULARIES if codes == v.codes()), None)


# --- the vocabularies themselves -----------------------------------------------------------------


def test_the_contracts_vocabularies_are_all_there() -> None:
    assert {_name(v) for v in VOCABULARIES} >= {
        "OrganisationKind", "Role", "PlanStatus", "AddressRole", "PersonRole", "Actor", "RiskSignal",
        "FamilyProfile", "QueryKind", "MatchQuality", "ReportMode", "Responder", "ViolenceType",
        "HouseholdType", "CareInvolvement", "MentalHealthService", "AgreementOutcome", "Action",
    }  # fmt: skip


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=_name)
def test_every_code_has_a_dutch_label_of_its_own(vocabulary: type[Vocabulary]) -> None:
    assert len(vocabulary) > 0
    for member in vocabulary:
        assert isinstance(member.label, str)
        assert member.label.strip(), member
        assert member.label == member.label.strip(), member
        assert member.label != member.value, f"{member!r} shows its code, not a Dutch word"
    labels = [member.label for member in vocabulary]
    assert len(set(labels)) == len(labels), "two options the user cannot tell apart"


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=_name)
def test_codes_are_unique(vocabulary: type[Vocabulary]) -> None:
    # a repeated code does not fail on its own: the enum makes the second name an alias
    assert len(vocabulary.__members__) == len(vocabulary), "a code is declared twice"
    codes = vocabulary.codes()
    assert len(set(codes)) == len(codes)
    # webhook event types are `resource.event`, as receivers of Standard Webhooks expect them
    pattern = r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*" if vocabulary is WebhookEvent else r"[a-z][a-z0-9_]*"
    for code in codes:
        assert re.fullmatch(pattern, code), f"{code!r}: codes are lower-case snake_case"


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=_name)
def test_a_member_is_its_code_wherever_it_goes(vocabulary: type[Vocabulary]) -> None:
    """The database columns stay String and the API answers the same: a member is stored, dumped,
    compared and formatted as the plain code."""
    for member in vocabulary:
        assert type(member.value) is str
        assert member == member.value
        assert str(member) == f"{member}" == member.value
        assert json.dumps({member: [member]}) == json.dumps({member.value: [member.value]})
        assert member in {member.value}
        assert vocabulary(member.value) is member
    assert all(type(code) is str for code in vocabulary.codes())
    assert vocabulary.labels() == {member.value: member.label for member in vocabulary}
    assert list(vocabulary.labels()) == list(vocabulary.codes())


def test_label_of_shows_an_unknown_code_as_it_is() -> None:
    assert Responder.label_of("mental_health") == "GGZ"
    assert Responder.label_of(Responder.CIT) == "CIT / SEZ (spoedeisende zorg jeugd)"
    assert Responder.label_of("brandweer") == "brandweer"


# --- every choice offered comes from a vocabulary ------------------------------------------------


def _schemas() -> Iterator[type[Schema]]:
    _modules()
    stack: list[type[Schema]] = [Schema]
    seen: set[type[Schema]] = set()
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                if _ours(sub):
                    yield sub


def _fields(field: fields.Field, path: str, seen: set[int]) -> Iterator[tuple[str, fields.Field]]:
    """The field and every field inside it (list items, dict values, nested schemas)."""
    yield path, field
    if isinstance(field, fields.List):
        yield from _fields(field.inner, f"{path}[]", seen)
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _fields(field.value_field, f"{path}{{}}", seen)
    elif isinstance(field, fields.Nested):
        yield from _schema_fields(type(field.schema), path, seen)


def _schema_fields(schema: type[Schema], prefix: str, seen: set[int]) -> Iterator[tuple[str, fields.Field]]:
    if id(schema) in seen:
        return
    seen.add(id(schema))
    for name, field in schema._declared_fields.items():
        yield from _fields(field, f"{prefix}.{name}", seen)


def _input_fields() -> Iterator[tuple[str, fields.Field]]:
    """Every field of every schema, and the query parameters and headers of every API operation."""
    for schema in _schemas():
        yield from _schema_fields(schema, f"{schema.__module__}.{schema.__qualname__}", set())
    for module in _modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            operation = getattr(function, "openapi_operation", None)
            if isinstance(operation, Operation):
                where = f"{module.__name__}.{name}"
                for parameter, field in {**operation.query, **operation.headers}.items():
                    yield from _fields(field, f"{where}({parameter})", set())


def _answer_only(path: str) -> bool:
    """A field of an answer's schema (`...Schema`), never of what a client sends (`...Args`, the
    query parameters and headers of an operation)."""
    schema = path.split("(")[0].split(".")
    return (
        not any(part.endswith("Args") for part in schema)
        and "(" not in path
        and any(part.endswith("Schema") for part in schema)
    )


def test_every_choice_of_the_api_is_a_vocabulary() -> None:
    wrong, used = [], set()
    for path, field in _input_fields():
        if isinstance(field, Choice):
            if field.vocabulary in VOCABULARIES and field.choices == field.vocabulary.codes():
                used.add(_name(field.vocabulary))
            elif _answer_only(path) and (field.component or len(field.choices) == 1):
                # a fixed value of an answer, named in the spec (error codes, a match's `on`,
                # "Bearer"): no code a user picks, so no vocabulary with Dutch labels
                continue
            else:
                wrong.append(f"{path}: Choice{field.choices!r}")
        for validator in field.validators:
            if isinstance(validator, validate.OneOf) and _vocabulary_with_codes(validator.choices) is None:
                wrong.append(f"{path}: OneOf{tuple(validator.choices)!r}")
    assert not wrong, "choices typed by hand; use Choice(<a Vocabulary of registry/core/vocabulary.py>)"
    # the walk found them (a walk that finds nothing would pass as well)
    assert used >= {
        "AddressRole", "PersonRole", "Actor", "FamilyProfile", "RiskSignal", "PlanStatus",
        "AgreementOutcome", "ReportMode", "Responder", "ViolenceType", "HouseholdType",
        "CareInvolvement", "MentalHealthService", "Action",
    }  # fmt: skip


def _forms() -> Iterator[type[FlaskForm]]:
    _modules()
    stack: list[type[FlaskForm]] = [FlaskForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if _ours(sub):
                yield sub


def test_every_choice_of_a_form_is_a_vocabulary_with_its_labels() -> None:
    wrong, used = [], set()
    for form in _forms():
        for name, unbound in inspect.getmembers(form, lambda value: isinstance(value, UnboundField)):
            if not issubclass(unbound.field_class, SelectFieldBase):
                continue
            choices = unbound.kwargs.get("choices")
            if callable(choices):
                choices = choices()
            offered = [
                (choice.value, choice.label) if isinstance(choice, SelectChoice) else tuple(choice)[:2]
                for choice in choices or []
            ]
            # every code of a vocabulary, or (the roles a coordinator may give) members of one
            vocabulary = _vocabulary_with_codes(code for code, _label in offered) or next(
                (v for v in VOCABULARIES if all(isinstance(code, v) for code, _label in offered)), None
            )
            if vocabulary is not None and all(vocabulary.labels()[code] == label for code, label in offered):
                used.add(_name(vocabulary))
            else:
                wrong.append(f"{form.__module__}.{form.__qualname__}.{name}: {offered!r}")
    assert not wrong, "a form's choices typed by hand; build them from a Vocabulary's labels()"
    assert used >= {"Role"}


def _commands() -> Iterator[click.Command]:
    stack = [
        value
        for module in _modules()
        for value in vars(module).values()
        if isinstance(value, click.Command) and value.callback is not None and _ours(value.callback)
    ]
    seen: set[int] = set()
    while stack:
        command = stack.pop()
        if id(command) in seen:
            continue
        seen.add(id(command))
        yield command
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())


def test_every_choice_of_the_command_line_is_a_vocabulary() -> None:
    wrong, used = [], set()
    for command in _commands():
        for parameter in command.params:
            if isinstance(parameter.type, click.Choice):
                vocabulary = _vocabulary_with_codes(parameter.type.choices)
                if vocabulary is None:
                    wrong.append(f"{command.name} {parameter.name}: {tuple(parameter.type.choices)!r}")
                else:
                    used.add(_name(vocabulary))
    assert not wrong, "command-line choices typed by hand; use click.Choice(<Vocabulary>.codes())"
    assert used >= {"OrganisationKind", "Role"}


def test_no_template_writes_a_code_by_hand() -> None:
    """Option lists, radio buttons and checkboxes iterate a vocabulary (vocab.RiskSignal)."""
    codes = {code for vocabulary in VOCABULARIES for code in vocabulary.codes()}
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}: value={value!r}"
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
        for value in re.findall(r'value="([^"{}]*)"', path.read_text(encoding="utf-8"))
        if value in codes
    ]
    assert not wrong


def test_every_audit_row_written_names_an_action_of_the_logboek() -> None:
    """audit.record refuses a code the Logboek cannot name, at run time: a page that writes one
    answers 500 (deactivating an account did). Each call names its action as a literal code or
    an AuditAction member, never a composed string, and each literal is a code."""
    import ast

    from registry.core.vocabulary import AuditAction

    wrong = []
    for path in sorted(
        [*(PROJECT_ROOT / "registry").rglob("*.py"), *(PROJECT_ROOT / "lookup").rglob("*.py")]
    ):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
                and node.func.attr in ("record", "record_kept")
            ):
                continue
            action = (
                node.args[1]
                if len(node.args) > 1
                else next(k.value for k in node.keywords if k.arg == "action")
            )
            where = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
            if isinstance(action, ast.Constant):
                if action.value not in AuditAction.codes():
                    wrong.append(f"{where}: {action.value!r} is no AuditAction")
            elif isinstance(action, ast.JoinedStr):
                wrong.append(f"{where}: a composed action code")
    assert not wrong

"""The OpenAPI 3 description of /api/v1, built from the routes and their marshmallow schemas.

Each API view carries its own description (`@describe(...)`, under the route decorator); the
roles come from `require_token`, the shapes from the …Args and …Schema classes. What follows
from those is added here once: 401 and 403 for a token and its roles, 400 and 422 for a body,
404 for an id in the path, 400 for a query parameter or header. Input schemas (…Args) mark
their required fields; an output schema (any other) is dumped whole, so all its fields are
required in the description. Served at GET /api/v1/openapi.json, and as a page at /api/docs.

Written for a client generated from it (openapi-python-client; tests/reliability/
test_generated_client.py): every vocabulary field is a named enum (ReportMode...), a nested schema
that may be null is `allOf [it], nullable` (not an untyped object), a body of exactly one of
several fields (`openapi_variants` on its …Args) is a oneOf of named schemas. Every 201 describes
`Location`; an operation that answers 429 describes the RateLimit-* headers on its success.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Blueprint, Flask, current_app
from marshmallow import Schema, fields

from registry.core import normalise
from registry.plans.schemas import Suffix
from registry.web.api import API_PREFIX, REQUIRED_ROLES, ErrorSchema
from registry.web.clients import REQUIRES_CLIENT
from registry.web.schemas import Choice, Phone, Postcode, Text

OPENAPI_VERSION = "3.0.3"
_DESCRIPTION = "openapi_operation"  # the attribute `describe` sets on a view
_EXTENSION = "samenop.openapi"

F = TypeVar("F", bound=Callable[..., Any])

Body = type[Schema] | dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Operation:
    summary: str
    # the body of the success answer: a schema class, a raw JSON Schema, or None for no body
    response: Body | None
    status: int = 200
    body: type[Schema] | None = None
    query: Mapping[str, fields.Field] = dataclasses.field(default_factory=dict)
    headers: Mapping[str, fields.Field] = dataclasses.field(default_factory=dict)
    response_headers: Mapping[str, fields.Field] = dataclasses.field(default_factory=dict)
    # statuses that do not follow from the token, the body or the path (409, 423, 429)
    errors: tuple[int, ...] = ()
    description: str = ""
    # the name an integrator's generated client gives the operation (createSignal); default: the
    # view's endpoint
    operation_id: str | None = None


def describe(
    summary: str,
    *,
    response: Body | None,
    status: int = 200,
    body: type[Schema] | None = None,
    query: Mapping[str, fields.Field] | None = None,
    headers: Mapping[str, fields.Field] | None = None,
    response_headers: Mapping[str, fields.Field] | None = None,
    errors: tuple[int, ...] = (),
    description: str = "",
    operation_id: str | None = None,
) -> Callable[[F], F]:
    """The OpenAPI description of one view; put it right under the route decorator."""
    operation = Operation(
        summary,
        response,
        status,
        body,
        query or {},
        headers or {},
        response_headers or {},
        errors,
        description,
        operation_id,
    )

    def decorator(view: F) -> F:
        setattr(view, _DESCRIPTION, operation)
        return view

    return decorator


class UndescribedRoute(LookupError):
    """An /api/v1 route without `@describe`: the description must cover every operation."""


# --- marshmallow -> JSON Schema --------------------------------------------------------------------


class _Converter(OpenAPIConverter):
    def init_attribute_functions(self) -> None:
        super().init_attribute_functions()
        self.attribute_functions.append(self._our_fields)

    def _our_fields(self, field: fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """Our field types keep their rules in attributes and code, not in validators."""
        extra: dict[str, Any] = {}
        if isinstance(field, Text):
            extra["maxLength"] = field.max_length
            if field.min_length:
                extra["minLength"] = field.min_length
        if isinstance(field, Choice):
            extra["enum"] = [*field.choices, *([None] if field.allow_none else [])]
        if isinstance(field, Postcode):
            extra["pattern"] = normalise.POSTCODE_PATTERN
            extra["example"] = "9401 AB"
            extra["description"] = "Dutch postcode; SA, SD and SS are never issued."
        if isinstance(field, Phone):
            extra["example"] = "06-12345678"
            extra["description"] = (
                "Dutch (06-12345678, 088-1234567) or international (+32 2 123 45 67) number; "
                "answered as Dutch users write it."
            )
        if isinstance(field, Suffix):
            extra["description"] = "A, bis, 2-hoog: at most 10 characters once separators are dropped."
        return extra

    def field2property(self, field: fields.Field) -> dict[str, Any]:
        ret: dict[str, Any] = super().field2property(field)
        if isinstance(field, Choice) and (field.vocabulary is not None or field.component):
            return self._enum(field, ret)
        return _nullable_ref(ret)

    def _enum(self, field: Choice, ret: dict[str, Any]) -> dict[str, Any]:
        """A vocabulary as a named enum (ReportMode, Responder...): one type in a generated client,
        for the answers and the requests alike."""
        vocabulary = field.vocabulary
        name = field.component or _ENUM_NAMES.get(vocabulary.__name__, vocabulary.__name__)  # type: ignore[union-attr]
        definition: dict[str, Any] = {"type": "string", "enum": list(field.choices)}
        if vocabulary is not None:
            labels = "; ".join(f"`{code}`: {label}" for code, label in vocabulary.labels().items())
            definition["description"] = f"The codes, each with the Dutch label the pages show: {labels}."
        assert self.spec is not None
        known = self.spec.components.schemas.get(name)
        if known is None:
            self.spec.components.schema(name, definition)
        elif known.get("enum") != definition["enum"]:
            raise ValueError(f"two schemas named {name} in the OpenAPI description: rename one (_ENUM_NAMES)")
        ref = {"$ref": f"#/components/schemas/{name}"}
        rest = {key: value for key, value in ret.items() if key not in ("type", "enum", "nullable")}
        if not ret.get("nullable") and not rest:
            return ref
        return {"allOf": [ref], **rest, **({"nullable": True} if ret.get("nullable") else {})}

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        cls = schema if isinstance(schema, type) else type(schema)
        if not cls.__name__.endswith("Args"):
            # output schemas: a dump writes every declared field, null where allowed
            jsonschema["required"] = sorted(jsonschema["properties"])
        jsonschema.update(getattr(cls, "json_schema_extra", {}))
        return jsonschema


#: vocabularies named like a schema of the description: their enum's name
_ENUM_NAMES = {"AgreementOutcome": "AgreementOutcomeCode", "MatchedOn": "MatchedOnKind"}


def _nullable_ref(ret: dict[str, Any]) -> dict[str, Any]:
    """apispec describes a nested schema that may be null as anyOf [an object that may be null,
    the schema]: a generated client then types it as a bare dict. OpenAPI 3.0's own way keeps the
    type: allOf [the schema], nullable."""
    variants = ret.get("anyOf")
    if not isinstance(variants, list) or len(variants) != 2:
        return ret
    refs = [variant for variant in variants if "$ref" in variant]
    if len(refs) != 1 or {"type": "object", "nullable": True} not in variants:
        return ret
    rest = {key: value for key, value in ret.items() if key != "anyOf"}
    return {"allOf": refs, **rest, "nullable": True}


def _variants(schema: type[Schema], converter: OpenAPIConverter) -> dict[str, Any]:
    """A body that holds exactly one of several fields (LookupArgs: address, person, ...), as a
    oneOf of a named schema per field: each the fields common to all, and its own."""
    variants: Mapping[str, tuple[str, str]] = getattr(schema, "openapi_variants")  # noqa: B009
    own = {name for name, _description in variants.values()}
    loaded = schema().fields
    common = {name: field for name, field in loaded.items() if name not in own}
    assert converter.spec is not None
    components = converter.spec.components
    refs = []
    for variant, (name, description) in variants.items():
        chosen = {**common, name: loaded[name]}
        if variant not in components.schemas:
            components.schema(
                variant,
                {
                    "type": "object",
                    "description": description,
                    "properties": {key: converter.field2property(field) for key, field in chosen.items()},
                    "required": sorted(key for key, field in chosen.items() if field.required or key == name),
                    "additionalProperties": False,
                },
            )
        refs.append({"$ref": f"#/components/schemas/{variant}"})
    return {"oneOf": refs}


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def _schema_name(schema: Any) -> str:
    """PlanSchema -> Plan, PlanArgs -> PlanArgs; lookup's private _Address -> LookupAddress."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    if name.startswith("_"):
        name = cls.__module__.split(".")[0].capitalize() + name.lstrip("_")
    return name.removesuffix("Schema") or name


# --- the document --------------------------------------------------------------------------------

_ERRORS = {
    400: "Bad request: the body is not a JSON object, or a query parameter or header is invalid.",
    401: (
        "No valid bearer token (or, for POST /auth/token, a wrong factor); for a machine client's "
        "operation: no registered, unrevoked, unexpired client certificate."
    ),
    403: "The token's user lacks the role this operation needs.",
    404: "Not found, or not visible to the user's organisation.",
    409: "Conflict: the plan changed in the meantime (stale version), or can no longer change.",
    422: "Invalid input; `fields` names every bad field.",
    423: (
        "Too many failed logins: this address waits (Retry-After, in seconds), or the account "
        "is locked until a coordinator unlocks it."
    ),
    429: "Too many requests; try again later.",
}
#: on the answers of a rate-limited operation (registry/web/ratelimit.py), as the IETF's draft
#: "RateLimit header fields for HTTP" names them: of the limit nearest to its end
_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the current window (the token's per client address, "
    "the lookups' per user).",
    "RateLimit-Remaining": "Requests left in the current window.",
    "RateLimit-Reset": "Seconds until the window ends.",
}
_ROUTE_PARAMETER = re.compile(r"<(?:[a-z]+:)?(\w+)>")


def _cache_control() -> dict[str, Any]:
    return {"$ref": "#/components/headers/Cache-Control"}


def _operation(
    endpoint: str,
    operation: Operation,
    roles: tuple[str, ...] | None,
    path_parameters: list[str],
    converter: OpenAPIConverter,
    client: bool = False,
) -> dict[str, Any]:
    def parameter(name: str, where: str, field: fields.Field, required: bool) -> dict[str, Any]:
        return {"name": name, "in": where, "required": required, "schema": converter.field2property(field)}

    parameters = [
        # every id in the API is a UUID; an id that is not one answers 404, like an unknown one
        parameter(name, "path", fields.UUID() if name.endswith("_id") else fields.String(), True)
        for name in path_parameters
    ]
    parameters += [parameter(name, "query", field, False) for name, field in operation.query.items()]
    parameters += [parameter(name, "header", field, False) for name, field in operation.headers.items()]

    headers: dict[str, Any] = {"Cache-Control": _cache_control()}
    if operation.status == 201:
        headers["Location"] = {"$ref": "#/components/headers/Location"}
    if 429 in operation.errors:  # a rate-limited operation
        headers |= {name: {"$ref": f"#/components/headers/{name}"} for name in _RATE_LIMIT_HEADERS}
    headers |= {
        name: {"schema": converter.field2property(field), "required": False}
        for name, field in operation.response_headers.items()
    }
    success: dict[str, Any] = {"description": operation.summary, "headers": headers}
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": operation.response}}

    statuses = set(operation.errors)
    if roles is not None or client:
        statuses.add(401)
    if roles:
        statuses.add(403)
    if operation.body is not None:
        statuses |= {400, 422}
    if path_parameters:
        statuses.add(404)
    if operation.query or operation.headers:
        statuses.add(400)
    responses: dict[str, Any] = {str(operation.status): success}
    for status in sorted(statuses):
        error_headers = {"Cache-Control": _cache_control()}
        if status == 401:
            error_headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        if status == 429:
            error_headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        responses[str(status)] = {
            "description": _ERRORS[status],
            "headers": error_headers,
            "content": {"application/json": {"schema": ErrorSchema}},
        }

    if client:
        who = "A registered system of a responder organisation, by its client certificate (mutual TLS)."
    elif roles is None:
        who = "No token needed."
    elif roles:
        who = f"Role: {' or '.join(roles)}."
    else:
        who = "Any signed-in user."
    result: dict[str, Any] = {
        "operationId": operation.operation_id or endpoint,
        "tags": [endpoint.split(".")[0].removesuffix("_api")],
        "summary": operation.summary,
        "description": " ".join(part for part in (operation.description, who) if part),
        "parameters": parameters,
        "responses": responses,
    }
    if roles is None:
        result["security"] = []  # no token (a client operation: its certificate, in the TLS layer)
    if operation.body is not None:
        body: Any = operation.body
        if hasattr(operation.body, "openapi_variants"):
            body = _variants(operation.body, converter)
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return result


def build(app: Flask) -> dict[str, Any]:
    """The document for every /api/v1 route of the app; UndescribedRoute if one is missing."""
    plugin = _Plugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="Samen Op API",
        version="1",
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": (
                "Handelingskaders (the acute-situation agreements of a family's safety plan), "
                "lookups by the control room, reports of what was done and feedback to the "
                "plan's owners. Every answer carries Cache-Control: no-store."
            )
        },
        security=[{"bearerAuth": []}],
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "From POST /api/v1/auth/token."}
    )
    spec.components.header(
        "Cache-Control",
        {
            "description": "Answers may carry personal data: never stored by a browser or proxy.",
            "required": True,
            "schema": {"type": "string", "enum": ["no-store"]},
        },
    )
    spec.components.header(
        "WWW-Authenticate",
        {"description": "The scheme that is accepted.", "required": True, "schema": {"type": "string"}},
    )
    spec.components.header(
        "Retry-After",
        {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer", "minimum": 0}},
    )
    spec.components.header(
        "Location",
        {
            "description": "Where what was made can be read (an absolute path under /api/v1).",
            "required": True,
            "schema": {"type": "string"},
        },
    )
    for name, description in _RATE_LIMIT_HEADERS.items():
        spec.components.header(
            name, {"description": description, "required": False, "schema": {"type": "integer", "minimum": 0}}
        )
    assert plugin.converter is not None  # set by APISpec(plugins=...)

    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API_PREFIX}/"):
            continue
        view = app.view_functions[rule.endpoint]
        operation: Operation | None = getattr(view, _DESCRIPTION, None)
        if operation is None:
            raise UndescribedRoute(f"{rule.rule} ({rule.endpoint}) has no @describe(...)")
        path = _ROUTE_PARAMETER.sub(r"{\1}", rule.rule)
        path_parameters = _ROUTE_PARAMETER.findall(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint,
                operation,
                getattr(view, REQUIRED_ROLES, None),
                path_parameters,
                plugin.converter,
                bool(getattr(view, REQUIRES_CLIENT, False)),
            )
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


def document(app: Flask) -> dict[str, Any]:
    """Built once per app, on first use: the routes do not change after start-up."""
    if _EXTENSION not in app.extensions:
        app.extensions[_EXTENSION] = build(app)
    built: dict[str, Any] = app.extensions[_EXTENSION]
    return built


bp = Blueprint("openapi", __name__, url_prefix=API_PREFIX)


@bp.get("/openapi.json")
@describe(
    "This description",
    response={"type": "object", "description": "An OpenAPI 3.0 document."},
    description="Holds no personal data. Read as a page at /api/docs.",
    operation_id="getOpenApi",
)
def openapi_json() -> dict[str, Any]:
    return document(current_app)

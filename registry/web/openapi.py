"""The OpenAPI 3 description of /api/v1, built from the routes and their marshmallow schemas.

Each API view carries its own description (`@describe(...)`, under the route decorator); the
roles come from `require_token`, the shapes from the …Args and …Schema classes. What follows
from those is added here once: 401 and 403 for a token and its roles, 400 and 422 for a body,
404 for an id in the path, 400 for a query parameter or header. Input schemas (…Args) mark
their required fields; an output schema (any other) is dumped whole, so all its fields are
required in the description. Served at GET /api/v1/openapi.json.
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

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        cls = schema if isinstance(schema, type) else type(schema)
        if not cls.__name__.endswith("Args"):
            # output schemas: a dump writes every declared field, null where allowed
            jsonschema["required"] = sorted(jsonschema["properties"])
        jsonschema.update(getattr(cls, "json_schema_extra", {}))
        return jsonschema


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

    success: dict[str, Any] = {
        "description": operation.summary,
        "headers": {
            "Cache-Control": _cache_control(),
            **{
                name: {"schema": converter.field2property(field), "required": False}
                for name, field in operation.response_headers.items()
            },
        },
    }
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
        headers = {"Cache-Control": _cache_control()}
        if status == 401:
            headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        if status == 429:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        responses[str(status)] = {
            "description": _ERRORS[status],
            "headers": headers,
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
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": operation.body}},
        }
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
    description="Holds no personal data.",
)
def openapi_json() -> dict[str, Any]:
    return document(current_app)

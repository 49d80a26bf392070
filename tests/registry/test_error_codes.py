"""One table of the API's error codes (registry.web.api.ERROR_CODES): every code the code can
answer is in it, the OpenAPI description's ErrorCode enum is it, and docs/api.md lists it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask.testing import FlaskClient

from registry.web.api import _CODES, ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
# the calls that carry an error code as their second argument: (status, code, ...)
CARRIERS = {"ApiError", "error_response", "ProposalRefused", "ScopeError", "LookupRefused"}


def codes_in_the_code() -> set[str]:
    found = set(_CODES.values())
    for path in [*ROOT.joinpath("registry").rglob("*.py"), *ROOT.joinpath("lookup").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            code = node.args[1]
            if name in CARRIERS and isinstance(code, ast.Constant) and isinstance(code.value, str):
                found.add(code.value)
    return found


def test_every_code_the_api_answers_is_in_the_table() -> None:
    used = codes_in_the_code()

    assert used - set(ERROR_CODES) == set()
    assert "invalid_credentials" in used  # the scan sees the calls


def test_the_description_and_the_page_list_the_table(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    enum = document["components"]["schemas"]["ErrorCode"]["enum"]
    detail = document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    page = (ROOT / "docs" / "api.md").read_text()
    listed = re.findall(r"^\| ([\d, ]+) \| `(\w+)` \|", page, flags=re.MULTILINE)

    assert enum == list(ERROR_CODES)
    assert detail == {"$ref": "#/components/schemas/ErrorCode"} or detail["allOf"] == [
        {"$ref": "#/components/schemas/ErrorCode"}
    ]
    assert [code for _statuses, code in listed] == list(ERROR_CODES)
    for statuses, code in listed:
        assert tuple(int(status) for status in statuses.split(",")) == ERROR_CODES[code][0], code

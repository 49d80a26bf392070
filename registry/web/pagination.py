"""Cursor pagination of the API's lists: `?limit=&cursor=` in, `next_cursor` out.

A list is ordered by a key that is unique per item (its order's own fields, then an id). The
cursor is the key of the last item of a page, opaque to the client (URL-safe base64 of JSON);
the next page is the items after it in that order. An item that joined or left the list in the
meantime therefore neither shifts a page nor makes one skip an item: acknowledging the first page
of the feedback and then asking the next loses nothing (an offset would skip as many items).

Without `limit` a page holds DEFAULT_LIMIT items: more than any list of the pilots held at once,
so a client written before pagination reads what it read before (and `next_cursor` is null).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from flask import request
from marshmallow import fields, validate

from registry.web.api import ApiError

T = TypeVar("T")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 1000

#: the query parameters of every paginated list, for its OpenAPI description (registry/web/openapi.py)
QUERY: dict[str, fields.Field] = {
    "limit": fields.Integer(
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"At most this many items (1 to {MAX_LIMIT}; default {DEFAULT_LIMIT})."},
    ),
    "cursor": fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": "The `next_cursor` of the page before; without it, the first page."},
    ),
}

Key = tuple[int | str, ...]


def key_part(value: Any) -> int | str:
    """A value of an order's key as something JSON keeps and compares as the value does."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return round(value.timestamp() * 1_000_000)  # aware datetimes: microseconds since 1970
    if isinstance(value, date):
        return value.toordinal()
    if isinstance(value, int | str):
        return value
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"no cursor key for {type(value).__name__}")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_input", "Ongeldige paginering.", {field: [message]})


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _bad("limit", f"Geef een heel getal van 1 tot en met {MAX_LIMIT}.")
    return int(raw)


def encode(key: Key) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")
    )


_BAD_CURSOR = "Gebruik de next_cursor van de vorige pagina, zoals die kwam."


def _cursor() -> Key | None:
    raw = request.args.get("cursor")
    if not raw:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        decoded = None
    if not isinstance(decoded, list) or not all(
        isinstance(part, int | str) and not isinstance(part, bool) for part in decoded
    ):
        raise _bad("cursor", _BAD_CURSOR)
    return tuple(decoded)


def paginate(items: Sequence[T], key: Callable[[T], Key], *, newest_first: bool = False) -> Page[T]:
    """The page of `items` that the request's `limit` and `cursor` ask for, in the order of `key`
    (descending with `newest_first`); the items are sorted by it here, so the order is total."""
    limit = _limit()
    after = _cursor()
    ordered = sorted(items, key=key, reverse=newest_first)
    if after is not None and ordered:
        if len(after) != len(key(ordered[0])):
            raise _bad("cursor", _BAD_CURSOR)
        try:
            ordered = [item for item in ordered if (key(item) < after if newest_first else key(item) > after)]
        except TypeError:  # a cursor of another list: its parts do not compare with these
            raise _bad("cursor", _BAD_CURSOR) from None
    page = ordered[:limit]
    return Page(page, encode(key(page[-1])) if len(ordered) > limit else None)

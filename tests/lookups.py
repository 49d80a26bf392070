"""What a lookup's answer found, for tests that ask whether a search finds a plan."""

from __future__ import annotations

from typing import Any


def found_plan_ids(body: dict[str, Any]) -> list[str]:
    """The plans a lookup found, in its order: shown (matches), or listed without being shown
    (candidates: a name without a birth date)."""
    return [match["plan"]["id"] for match in body["matches"]] + [
        candidate["plan_id"] for candidate in body["candidates"]
    ]

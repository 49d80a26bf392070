"""The melding sheet's optional fields on a report (Bereikt na, Beantwoord door, Nodige inzet,
Bestede tijd) and what Monitoring counts of them: reachability by time of day, the phone advice
that needed more, the hours per type inzet. Through the real API, on the real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.testing import FlaskClient

from registry.core.models import Organisation, User

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

VT, SEZ = ["police", "veilig_thuis"], ["police", "cit"]
# (meldingnummer, local time, mode, responders, reached after, needed, hours)
SHEETS = [
    ("A-1", datetime(2026, 3, 16, 10, 0), "phone_advice", VT, 0, "on_site_intervention", 1.5),
    ("A-2", datetime(2026, 3, 16, 11, 0), "phone_advice", VT, 20, "phone_advice", 1.0),
    ("A-3", datetime(2026, 3, 16, 20, 0), "phone_advice", VT, 5, "joint_assessment", 2.0),
    ("A-4", datetime(2026, 3, 16, 23, 0), "phone_advice", VT, 16, "remote_intervention", 0.5),
    ("A-5", datetime(2026, 3, 17, 2, 0), "on_site_intervention", SEZ, 14, "on_site_intervention", 4.25),
    ("A-6", datetime(2026, 3, 17, 3, 0), "phone_advice", VT, None, None, None),
]  # fmt: skip


@pytest.fixture
def police(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> dict[str, User]:
    organisation = make_org("Meldkamer Blad", kind="police", region=None)
    return {
        "responder": make_user(roles=("responder",), org=organisation),
        "coordinator": make_user(roles=("coordinator",), org=organisation),
    }


def _body(ref: str, local: datetime, mode: str, responders: list[str], **sheet: Any) -> dict[str, Any]:
    return {
        "incident_ref": ref,
        "occurred_at": local.replace(tzinfo=AMSTERDAM).isoformat(),
        "mode": mode,
        "responders": responders,
        **sheet,
    }


def test_the_sheet_is_stored_and_counted(
    client: FlaskClient, police: dict[str, User], auth_headers: Callable[[User], dict[str, str]]
) -> None:
    with time_machine.travel(NOW, tick=True):
        headers = auth_headers(police["responder"])
        # Given reports with the sheet filled in, and one without it
        for ref, local, mode, responders, reached, needed, hours in SHEETS:
            sheet = {"reached_after_minutes": reached, "needed_mode": needed, "hours_spent": hours}
            answer = client.post(
                "/api/v1/reports",
                json=_body(ref, local, mode, responders, answered_by="ANT Veilig Thuis", **sheet),
                headers=headers,
            )
            assert answer.status_code == 201, answer.get_json()
        # And a second report of A-5 by the same control room, with its own time spent
        answer = client.post(
            "/api/v1/reports",
            json=_body("A-5", datetime(2026, 3, 17, 2, 0), "phone_advice", ["police"], hours_spent=0.75),
            headers=headers,
        )
        # Then the report answers what was sent
        shown = answer.get_json()
        assert (shown["hours_spent"], shown["reached_after_minutes"], shown["needed_mode"]) == (
            0.75,
            None,
            None,
        )
        # When the coordinator looks at March
        figures = client.get(
            "/api/v1/statistics",
            query_string={"from": "2026-03-01", "to": "2026-03-31"},
            headers=auth_headers(police["coordinator"]),
        ).get_json()
    # Then reachability is counted per time of day: within 15 minutes is below 15
    assert figures["reachability"]["day_weekday"] == {"reported": 2, "within_15": 1, "share_within_15": 0.5}
    assert figures["reachability"]["evening"] == {"reported": 1, "within_15": 1, "share_within_15": 1.0}
    assert figures["reachability"]["night"] == {"reported": 2, "within_15": 1, "share_within_15": 0.5}
    assert figures["reachability"]["total"] == {"reported": 5, "within_15": 3, "share_within_15": 0.6}
    # the phone advice that needed more, by day and in the evening and night
    assert figures["needed_vs_given"] == {
        "day": {"phone_advice": 2, "needed_more": 1, "share_needed_more": 0.5},
        "evening_night": {"phone_advice": 2, "needed_more": 2, "share_needed_more": 1.0},
    }
    # and the hours per type inzet of the melding, all its reports together
    assert figures["hours"]["vt_phone_advice"] == 5.0
    assert figures["hours"]["sez_on_site_with_police"] == 5.0
    assert figures["hours"]["total"] == 10.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reached_after_minutes", -1),
        ("reached_after_minutes", 1441),
        ("reached_after_minutes", "vijf"),
        ("reached_after_minutes", 2.5),
        ("hours_spent", 49),
        ("hours_spent", -0.5),
        ("needed_mode", "helikopter"),
        ("answered_by", "x" * 101),
    ],
)
def test_a_bad_sheet_field_is_named(
    client: FlaskClient,
    police: dict[str, User],
    auth_headers: Callable[[User], dict[str, str]],
    field: str,
    value: Any,
) -> None:
    with time_machine.travel(NOW, tick=True):
        answer = client.post(
            "/api/v1/reports",
            json=_body("B-1", datetime(2026, 3, 20, 9, 0), "phone_advice", ["police"], **{field: value}),
            headers=auth_headers(police["responder"]),
        )
    assert answer.status_code == 422
    assert list(answer.get_json()["error"]["fields"]) == [field]


def test_a_report_without_the_sheet_is_as_before(
    client: FlaskClient, police: dict[str, User], auth_headers: Callable[[User], dict[str, str]]
) -> None:
    with time_machine.travel(NOW, tick=True):
        answer = client.post(
            "/api/v1/reports",
            json=_body("C-1", datetime(2026, 3, 20, 9, 0) - timedelta(hours=1), "phone_advice", ["police"]),
            headers=auth_headers(police["responder"]),
        )
    assert answer.status_code == 201
    shown = answer.get_json()
    assert [
        shown[name] for name in ("reached_after_minutes", "answered_by", "needed_mode", "hours_spent")
    ] == [None] * 4

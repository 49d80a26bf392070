"""Terugkoppeling as a worker with many open items reads it: spoedmeldingen first (the earliest
deadline first), then the newest; the counts at the top (open, te laat, spoed) that filter it; a
plan to narrow it to; a page at a time (50 on the page, ?limit= in the API), where an item
acknowledged between pages moves nothing; and back to the same place after "Gelezen en
opgepakt". The home page tells the registrant how many items are open and late.

One scene, on Wednesday 18 March 2026 at 10.00 in Amsterdam:

    Gezin Aalders   r1  Monday 08.00, due Tuesday: te laat
                    s2  spoed, Tuesday 22.00 (an arrest): deadline Wednesday 07.00, te laat
                    r3  Wednesday 07.00
    Gezin Bakker    r2  Tuesday 20.00, due Wednesday
                    s1  spoed, Wednesday 02.00: deadline 11.00
                    l1  a lookup on Tuesday 12.00 that got no report, due Wednesday

The order: s2, s1 (spoed, by deadline), then r3, r2, l1, r1 (the newest first).
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import User
from registry.feedback import operations
from tests.conftest import csrf_from
from tests.feedback.conftest import People, amsterdam, clock_at

API = "/api/v1/feedback"
NOW = amsterdam(2026, 3, 18, 10, 0)
ORDER = ["s2", "s1", "r3", "r2", "l1", "r1"]


@pytest.fixture
def scene(
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    report_on: Callable[..., Any],
) -> dict[str, Any]:
    """The six open items of the module's docstring. -> {"ids": {name: id}, "plans": {...}}"""

    def report(plan: dict[str, Any], at: datetime, **extra: Any) -> str:
        with clock_at(at + timedelta(minutes=30)):
            return str(report_on(plan, occurred_at=at, **extra)[1]["id"])

    with clock_at(amsterdam(2026, 3, 16, 7, 0)):
        aalders = create_plan(title="Gezin Aalders")
        bakker = create_plan(title="Gezin Bakker")
    ids = {
        "r1": report(aalders, amsterdam(2026, 3, 16, 8, 0)),
        "s2": report(aalders, amsterdam(2026, 3, 17, 22, 0), actions=["arrest"]),
        "r3": report(aalders, amsterdam(2026, 3, 18, 7, 0)),
        "r2": report(bakker, amsterdam(2026, 3, 17, 20, 0)),
        "s1": report(bakker, amsterdam(2026, 3, 18, 2, 0), actions=["arrest"]),
    }
    with clock_at(amsterdam(2026, 3, 17, 12, 0)):
        ids["l1"] = str(look_up(bakker, incident_ref="P-2026-0099")["lookup_id"])
    return {
        "ids": ids,
        "names": {value: key for key, value in ids.items()},
        "aalders": aalders,
        "bakker": bakker,
    }


def named(scene: dict[str, Any], item_ids: list[str]) -> list[str]:
    return [scene["names"].get(item_id, item_id) for item_id in item_ids]


def api_page(client: FlaskClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get(API, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def api_ids(body: dict[str, Any]) -> list[str]:
    return [(item["report"] or item["lookup"])["id"] for item in body["items"]]


def cards(text: str) -> list[str]:
    return re.findall(r'<article class="card feedback-item[^"]*" id="item-([0-9a-f-]+)"', text)


def counts_of(text: str) -> tuple[int, int, int]:
    """open, te laat, spoed, as the links at the top say."""
    return (count_of(text, "toon-open"), count_of(text, "toon-te-laat"), count_of(text, "toon-spoed"))


def count_of(text: str, link_id: str) -> int:
    found = re.search(rf'id="{link_id}"[^>]*><strong[^>]*>(\d+)</strong>', text)
    assert found, link_id
    return int(found.group(1))


@pytest.fixture
def reader(app: Flask, people: People, web_login: Callable[[FlaskClient, User], Any]) -> FlaskClient:
    browser = app.test_client()
    with clock_at(NOW):
        web_login(browser, people.registrant)
    return browser


# --- the order ----------------------------------------------------------------------------------


def test_spoed_first_by_deadline_then_the_newest_on_the_page_and_in_the_api(
    scene: dict[str, Any],
    reader: FlaskClient,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(NOW):
        page = reader.get("/terugkoppeling")
        body = api_page(client, auth_headers(people.registrant))
    assert page.status_code == 200
    assert named(scene, cards(page.get_data(as_text=True))) == ORDER
    assert named(scene, api_ids(body)) == ORDER
    assert body["next_cursor"] is None  # six items: one page
    assert [item["spoed"] for item in body["items"]] == [True, True, False, False, False, False]


# --- the counts, and each filter ----------------------------------------------------------------


def test_the_counts_at_the_top_filter_the_page(scene: dict[str, Any], reader: FlaskClient) -> None:
    with clock_at(NOW):
        text = html.unescape(reader.get("/terugkoppeling").get_data(as_text=True))
        # Then the counts say 6 open, 2 late (r1 past its day, s2 past its deadline), 2 spoed
        assert (
            count_of(text, "toon-open"),
            count_of(text, "toon-te-laat"),
            count_of(text, "toon-spoed"),
        ) == (
            6,
            2,
            2,
        )
        # and each is a link that shows those items, in the same order
        late_link = re.search(r'href="([^"]+)" id="toon-te-laat"', text)
        assert late_link is not None
        assert late_link.group(1) == "/terugkoppeling?show=late"
        late = reader.get(late_link.group(1)).get_data(as_text=True)
        assert named(scene, cards(late)) == ["s2", "r1"]
        assert 'id="toon-te-laat" aria-current="true"' in late
        spoed = reader.get("/terugkoppeling?show=spoed").get_data(as_text=True)
        assert named(scene, cards(spoed)) == ["s2", "s1"]


def test_a_plan_narrows_the_page_and_its_counts(scene: dict[str, Any], reader: FlaskClient) -> None:
    aalders, bakker = scene["aalders"]["id"], scene["bakker"]["id"]
    with clock_at(NOW):
        text = html.unescape(reader.get("/terugkoppeling").get_data(as_text=True))
        # the choice lists the organisation's plans with open items, by title, with their number,
        # by id: no name in the address
        options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', text)
        assert options == [
            ("", "Alle handelingskaders"),
            (aalders, "Gezin Aalders (3 open)"),
            (bakker, "Gezin Bakker (3 open)"),
        ]
        page = html.unescape(reader.get(f"/terugkoppeling?plan={bakker}").get_data(as_text=True))
        assert named(scene, cards(page)) == ["s1", "r2", "l1"]
        assert f'<option value="{bakker}" selected>' in page
        assert (
            count_of(page, "toon-open"),
            count_of(page, "toon-te-laat"),
            count_of(page, "toon-spoed"),
        ) == (
            3,
            0,
            1,
        )
        # the counts keep the plan: late within Gezin Aalders
        assert f'href="/terugkoppeling?show=late&amp;plan={aalders}"' in reader.get(
            f"/terugkoppeling?plan={aalders}"
        ).get_data(as_text=True)
        late_aalders = reader.get(f"/terugkoppeling?show=late&plan={aalders}").get_data(as_text=True)
        assert named(scene, cards(late_aalders)) == ["s2", "r1"]
        nothing = reader.get(f"/terugkoppeling?show=late&plan={bakker}").get_data(as_text=True)
        assert cards(nothing) == []
        assert "Bij deze keuze is er geen open terugkoppeling." in html.unescape(nothing)


def test_the_api_filters_the_same_way(
    scene: dict[str, Any], client: FlaskClient, people: People, auth_headers: Callable[[User], dict[str, str]]
) -> None:
    headers = auth_headers(people.registrant)
    with clock_at(NOW):
        assert named(scene, api_ids(api_page(client, headers, show="late"))) == ["s2", "r1"]
        assert named(scene, api_ids(api_page(client, headers, show="spoed"))) == ["s2", "s1"]
        bakker = scene["bakker"]["id"]
        assert named(scene, api_ids(api_page(client, headers, plan=bakker))) == ["s1", "r2", "l1"]
        assert api_ids(api_page(client, headers, plan="none")) == []  # no melding without a plan here


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"show": "alles"}, "show"),
        ({"plan": "Gezin Aalders"}, "plan"),
        ({"cursor": "1.abc.def"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"page": "2"}, "page"),
    ],
)
def test_a_query_the_links_never_make_is_a_400_naming_the_field(
    scene: dict[str, Any],
    reader: FlaskClient,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    query: dict[str, str],
    field: str,
) -> None:
    with clock_at(NOW):
        answer = client.get(API, query_string=query, headers=auth_headers(people.registrant))
        assert answer.status_code == 400
        assert list(answer.get_json()["error"]["fields"]) == [field]
        if field != "limit":  # the page has no ?limit=
            page = reader.get("/terugkoppeling", query_string=query)
            assert page.status_code == 400
            assert "Deze keuze kan niet" in page.get_data(as_text=True)


# --- a page at a time ---------------------------------------------------------------------------


def test_the_api_pages_by_cursor_and_an_acknowledgement_between_pages_moves_nothing(
    scene: dict[str, Any], client: FlaskClient, people: People, auth_headers: Callable[[User], dict[str, str]]
) -> None:
    headers = auth_headers(people.registrant)
    with clock_at(NOW):
        # Given two items a page
        first = api_page(client, headers, limit=2)
        assert named(scene, api_ids(first)) == ["s2", "s1"]
        second = api_page(client, headers, limit=2, cursor=first["next_cursor"])
        assert named(scene, api_ids(second)) == ["r3", "r2"]
        third = api_page(client, headers, limit=2, cursor=second["next_cursor"])
        assert named(scene, api_ids(third)) == ["l1", "r1"]
        assert third["next_cursor"] is None

        # When r3 (the first of page 2) is acknowledged after page 1 was read
        acked = client.post(f"{API}/{scene['ids']['r3']}/acknowledge", json={}, headers=headers)
        assert acked.status_code == 200
        # Then the rest follow page 1 without a gap or a repeat
        second = api_page(client, headers, limit=2, cursor=first["next_cursor"])
        third = api_page(client, headers, limit=2, cursor=second["next_cursor"])
        assert named(scene, api_ids(second) + api_ids(third)) == ["r2", "l1", "r1"]

        # And acknowledging the last item of a page read (s1) moves nothing either
        assert (
            client.post(f"{API}/{scene['ids']['s1']}/acknowledge", json={}, headers=headers).status_code
            == 200
        )
        again = api_page(client, headers, limit=2, cursor=first["next_cursor"])
        assert named(scene, api_ids(again)) == ["r2", "l1"]


def test_the_page_shows_50_and_links_to_the_next(
    scene: dict[str, Any], reader: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "PAGE_SIZE", 4)  # 50 on the page: four of six here
    with clock_at(NOW):
        first = html.unescape(reader.get("/terugkoppeling").get_data(as_text=True))
        assert named(scene, cards(first)) == ["s2", "s1", "r3", "r2"]
        following = re.search(r'href="([^"]+)" id="volgende-pagina"', first)
        assert following is not None
        query = parse_qs(urlsplit(following.group(1)).query)
        assert set(query) == {"cursor"}  # a position, no name or other personal data
        second = html.unescape(reader.get(following.group(1)).get_data(as_text=True))
        assert named(scene, cards(second)) == ["l1", "r1"]
        assert 'id="volgende-pagina"' not in second
        assert 'id="eerste-pagina"' in second
        # the counts are of all items, whichever page
        assert count_of(second, "toon-open") == 6


def test_after_an_acknowledgement_the_page_returns_where_it_was(
    scene: dict[str, Any], reader: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(operations, "PAGE_SIZE", 2)
    aalders = scene["aalders"]["id"]
    with clock_at(NOW):
        # Given the worker is on the second page of Gezin Aalders' items: s2, r3 | r1
        first = html.unescape(reader.get(f"/terugkoppeling?plan={aalders}").get_data(as_text=True))
        assert named(scene, cards(first)) == ["s2", "r3"]

        # When they acknowledge r3, the last item of the first page
        token = csrf_from(first)
        action = f"/terugkoppeling/{scene['ids']['r3']}/gelezen"
        form = re.search(rf'<form method="post" action="{action}" class="ack">(.*?)</form>', first, re.S)
        assert form is not None
        hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form.group(1)))
        assert hidden["plan"] == aalders
        assert hidden["next"] == scene["ids"]["r1"]  # the first item of the next page
        done = reader.post(
            f"/terugkoppeling/{scene['ids']['r3']}/gelezen",
            data={**hidden, "csrf_token": token, "note": "Gebeld"},
        )

        # Then they are back on the same selection and page, at the item that followed
        assert done.status_code == 302
        location = urlsplit(done.headers["Location"])
        assert location.path == "/terugkoppeling"
        assert parse_qs(location.query) == {"plan": [aalders]}
        assert location.fragment == f"item-{scene['ids']['r1']}"
        back = reader.get(f"{location.path}?{location.query}").get_data(as_text=True)
        assert named(scene, cards(back)) == ["s2", "r1"]

        # And on a later page, with te laat chosen (s2 | r1), the page and the choice are kept
        cursor = operations.Cursor.after(_spoed_item(scene)).encode()  # the page after s2
        on_two = html.unescape(
            reader.get(f"/terugkoppeling?show=late&cursor={cursor}").get_data(as_text=True)
        )
        assert named(scene, cards(on_two)) == ["r1"]
        done = reader.post(
            f"/terugkoppeling/{scene['ids']['r1']}/gelezen",
            data={"csrf_token": csrf_from(on_two), "show": "late", "cursor": cursor, "note": ""},
        )
        location = urlsplit(done.headers["Location"])
        assert parse_qs(location.query) == {"show": ["late"], "cursor": [cursor]}
        assert location.fragment == ""  # nothing followed it
        emptied = html.unescape(reader.get(f"{location.path}?{location.query}").get_data(as_text=True))
        assert "Op deze pagina staat niets meer open." in emptied


def _spoed_item(scene: dict[str, Any]) -> operations.Item:
    """s2 as the page's cursor knows it: its deadline (Wednesday 07.00) and id."""
    return operations.Item(
        "report",
        uuid.UUID(scene["ids"]["s2"]),
        uuid.UUID(scene["aalders"]["id"]),
        NOW.date(),
        False,
        amsterdam(2026, 3, 18, 7, 0),
        True,
    )


def test_hidden_fields_the_page_never_writes_are_refused_and_nothing_is_acknowledged(
    scene: dict[str, Any],
    reader: FlaskClient,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(NOW):
        token = csrf_from(reader.get("/terugkoppeling").get_data(as_text=True))
        refused = reader.post(
            f"/terugkoppeling/{scene['ids']['r1']}/gelezen",
            data={"csrf_token": token, "next": "javascript:alert(1)", "note": ""},
        )
        assert refused.status_code == 400
        assert scene["ids"]["r1"] in api_ids(api_page(client, auth_headers(people.registrant)))


# --- the home page ------------------------------------------------------------------------------


def test_the_home_page_shows_the_open_and_late_count_to_the_registrant(
    app: Flask, scene: dict[str, Any], reader: FlaskClient, people: People, web_login: Callable[..., Any]
) -> None:
    with clock_at(NOW):
        text = html.unescape(reader.get("/").get_data(as_text=True))
        tile = re.search(r'<p class="feedback-count" id="open-terugkoppeling">(.*?)</p>', text, re.S)
        assert tile is not None
        assert re.sub(r"<[^>]+>", "", tile.group(1)) == "Terugkoppeling: 6 open, 2 te laat"
        assert 'href="/terugkoppeling?show=late"' in tile.group(1)

        # and a colleague elsewhere, or the control room, sees no count of theirs
        stranger = app.test_client()
        web_login(stranger, people.stranger_registrant)
        other = re.sub(r"<[^>]+>", "", html.unescape(stranger.get("/").get_data(as_text=True)))
        assert "Terugkoppeling: 0 open" in other
        assert "te laat" not in other
        operator = app.test_client()
        web_login(operator, people.responder)
        assert 'id="open-terugkoppeling"' not in operator.get("/").get_data(as_text=True)

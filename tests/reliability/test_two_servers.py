"""Two app servers on one PostgreSQL database, each with its own search index, follow each other.

"Write on A, find on B; withdraw on B, gone on A; stop A, write on B, start A, found on A."
Both servers are the real app under gunicorn (`samenop serve`) on 127.0.0.1. Names and addresses
go through each server's own whoosh index (a person's name, free-text address), so a match proves
that the index followed the change feed; the exact address lookup (straight from SQL) is checked
too. Every name and address below is invented and occurs in no other plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from whoosh import index as whoosh_index

from lookup import search
from tests.registry.plan_data import address, person, plan_body
from tests.reliability.conftest import Http, LiveServer, scalar

# each server runs two workers: two indexes kept by two processes each, on a 2-core machine
WORKERS = 2


def _family(surname: str, street: str, number: int, city: str, postcode: str, phone: str) -> dict[str, Any]:
    """A plan of one invented family at one invented address (no other plan shares either)."""
    return {
        "surname": surname,
        "street": street,
        "number": number,
        "city": city,
        "postcode": postcode,
        "body": plan_body(
            title=f"Gezin {surname}",
            addresses=[address(postcode=postcode, house_number=number, street=street, city=city)],
            persons=[
                person(first_name="Ilse", surname_prefix="", surname=surname, birth_date=None, phone=phone),
                person(
                    first_name="Ruud",
                    surname_prefix="",
                    surname=f"{surname}hof",
                    birth_date=None,
                    role="perpetrator",
                    phone=None,
                    do_not_inform=True,
                ),
            ],
        ),
    }


# invented surnames, streets and towns; postcodes in the 98xx range no other test uses
WRITTEN_ON_A = _family("Spiegelbrink", "Dubbeldraadlaan", 17, "Tweelingveen", "9871 KX", "06-55501001")
WRITTEN_WHILE_A_DOWN = _family("Wachtersma", "Herstartkade", 41, "Inhaaldorp", "9872 GH", "06-55502002")


def _lookups(http: Http, family: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The three lookups for a family: its person's name and free-text address (both through
    the server's search index) and its exact address (straight from the database)."""
    bodies: dict[str, dict[str, Any]] = {
        "person": {"person": {"name": f"Ilse {family['surname']}"}},
        "address_text": {"address_text": f"{family['street']} {family['number']} {family['city']}"},
        "address": {"address": {"postcode": family["postcode"], "house_number": family["number"]}},
    }
    matches = {}
    for kind, query in bodies.items():
        answer = http.request("POST", "/api/v1/lookups", {"incident_ref": f"TWEE-{kind}-1", **query})
        assert answer.status == 200, answer.body
        matches[kind] = answer.body["matches"] + answer.body["candidates"]
    return matches


def _plan_ids(matches: list[dict[str, Any]]) -> list[str]:
    """The plans shown, or listed as candidates (a name without a birth date)."""
    return [match["plan"]["id"] if "plan" in match else match["plan_id"] for match in matches]


def _assert_found(matches: dict[str, list[dict[str, Any]]], plan_id: str, where: str) -> None:
    for kind, found in matches.items():
        assert plan_id in _plan_ids(found), f"{where}: {kind} lookup misses {plan_id}: {found}"
        match = next(m["match"] for m in found if plan_id in _plan_ids([m]))
        # no birth date asked: a name is found only through the index; free text only ever is
        expected = "exact" if kind == "address" else "fuzzy"
        assert match["quality"] == expected, f"{where}: {kind} lookup matched {match}"


def _assert_absent(matches: dict[str, list[dict[str, Any]]], plan_id: str, where: str) -> None:
    for kind, found in matches.items():
        assert plan_id not in _plan_ids(found), f"{where}: {kind} lookup still shows {plan_id}"


def _on_disk(index_dir: Path, plan_id: str) -> tuple[int, int]:
    """(documents of the plan in a server's index, the last change it applied), read from disk;
    (0, 0) while the server has not created its index yet (this never creates one)."""
    if not whoosh_index.exists_in(str(index_dir)):
        return 0, 0
    index = search.SearchIndex(str(index_dir))
    with index.ix.searcher() as searcher:
        documents = len(list(searcher.documents(plan_id=plan_id)))
    return documents, index.applied()


def _eventually_on_disk(index_dir: Path, plan_id: str, expected: tuple[int, int], wait: float = 15.0) -> bool:
    deadline = time.monotonic() + wait
    while _on_disk(index_dir, plan_id) != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _latest_change(engine: Engine) -> int:
    return int(scalar(engine, "SELECT max(id) FROM plan_changes") or 0)


def test_two_servers_on_one_database_follow_each_others_writes(
    live_servers: Callable[..., LiveServer], db_kind: str, db_engine: Engine
) -> None:
    """Given servers A and B on one PostgreSQL database, each with its own index directory:
    a plan written on A is found on B by name, free text and address; withdrawn on B it is gone
    on A (and out of A's index); with A stopped a plan written on B is found on A once A is
    started again on its old index, which catches up from the change feed."""
    if db_kind != "postgresql":
        pytest.skip("several app servers share one PostgreSQL database; SQLite serves one machine")
    server_a = live_servers("a", workers=WORKERS)
    server_b = live_servers("b", workers=WORKERS)
    assert server_a.port != server_b.port
    assert server_a.index_dir != server_b.index_dir
    # each server has its own user (and so its own TOTP steps): no waiting for a fresh code
    token_a, token_b = server_a.token(), server_b.token()

    # write on A, find on B
    with server_a.client(token_a) as on_a:
        written = on_a.request("POST", "/api/v1/plans", WRITTEN_ON_A["body"])
    assert written.status == 201, written.body
    first = written.body["id"]
    first_change = _latest_change(db_engine)
    # A's follower indexes its own write after the commit, with no lookup asking (1 address,
    # 2 persons); B has not seen it yet
    assert _eventually_on_disk(server_a.index_dir, first, (3, first_change))
    assert _on_disk(server_b.index_dir, first)[0] == 0, "B's index has the plan before B followed"
    with server_b.client(token_b) as on_b:
        _assert_found(_lookups(on_b, WRITTEN_ON_A), first, "B after a write on A")
    # B's own index took the plan from the feed
    assert _on_disk(server_b.index_dir, first) == (3, first_change)

    # withdraw on B, gone on A
    with server_b.client(token_b) as on_b:
        withdrawn = on_b.request(
            "POST", f"/api/v1/plans/{first}/withdraw", {"reason": "Synthetisch: ingetrokken op server B"}
        )
    assert withdrawn.status == 200, withdrawn.body
    assert withdrawn.body["status"] == "withdrawn"
    withdraw_change = _latest_change(db_engine)
    assert withdraw_change > first_change
    with server_a.client(token_a) as on_a:
        _assert_absent(_lookups(on_a, WRITTEN_ON_A), first, "A after a withdrawal on B")
    # A's own index dropped the withdrawn plan
    assert _on_disk(server_a.index_dir, first) == (0, withdraw_change)

    # stop A, write on B, start A (on the index it had), found on A
    server_a.kill()
    with server_b.client(token_b) as on_b:
        written = on_b.request("POST", "/api/v1/plans", WRITTEN_WHILE_A_DOWN["body"])
    assert written.status == 201, written.body
    second = written.body["id"]
    second_change = _latest_change(db_engine)
    # A's index is as A left it: the plan is not there
    assert _on_disk(server_a.index_dir, second) == (0, withdraw_change)
    server_a.start()
    with server_a.client(token_a) as on_a:  # the token outlives the restart: it is in the database
        _assert_found(_lookups(on_a, WRITTEN_WHILE_A_DOWN), second, "A after a restart")
        _assert_absent(_lookups(on_a, WRITTEN_ON_A), first, "A after a restart")
    # A caught up from the feed on its old index
    assert _on_disk(server_a.index_dir, second) == (3, second_change)

    assert server_a.server_errors() == [], server_a.log_tail()
    assert server_b.server_errors() == [], server_b.log_tail()

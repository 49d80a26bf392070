"""The search index follows the database: `samenop index rebuild`, several workers writing one
index at once, an index lost from disk, and a first lookup on an empty index."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from lookup import normalise, search
from lookup.cli import compact, rebuild
from lookup.search import SearchIndex, documents, follower, merging
from registry.core.db import db as database
from registry.core.models import Plan, PlanChange
from tests.lookups import found_plan_ids
from tests.registry.plan_data import address, person, plan_body

LOOKUPS = "/api/v1/lookups"
PLANS = "/api/v1/plans"


@pytest.fixture
def plan_headers(make_user: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(make_user(roles=("registrant",)))


@pytest.fixture
def headers(make_user: Any, make_org: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(make_user(roles=("responder",), org=make_org("Meldkamer Oost", kind="police")))


def create(client: FlaskClient, plan_headers: dict[str, str], surname: str, house_number: int = 14) -> str:
    body = plan_body(
        addresses=[address(house_number=house_number, street="Kerkstraat", city="Assen")],
        persons=[person(first_name="Noor", surname_prefix="", surname=surname, phone=None)],
    )
    response = client.post(PLANS, json=body, headers=plan_headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def apply_changes(app: Flask) -> None:
    """What a lookup does before it searches: apply the change feed (the writes' follower thread
    may be at it too; this waits for its batch)."""
    with app.app_context():
        search.index_for(app.config["INDEX_DIR"]).catch_up(database.session)
        database.commit()


def delete_index(app: Flask) -> None:
    """Delete the index from disk once the follower thread is idle: after a write it may still be
    finishing an attempt that the lookup made unnecessary (whoosh writes a segment's files even
    when it cancels), and a file written while the directory goes fails the deletion. The next
    write starts the follower again."""
    follower._stop_followers(app.config["INDEX_DIR"])
    shutil.rmtree(app.config["INDEX_DIR"])


def found_by_name(client: FlaskClient, headers: dict[str, str], name: str) -> list[str]:
    response = client.post(LOOKUPS, json={"incident_ref": "P-1", "person": {"name": name}}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return found_plan_ids(response.get_json())


def found_by_text(client: FlaskClient, headers: dict[str, str], text: str) -> list[str]:
    response = client.post(LOOKUPS, json={"incident_ref": "P-1", "address_text": text}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [match["plan"]["id"] for match in response.get_json()["matches"]]


def in_index(index: SearchIndex | str, surname: str) -> set[str]:
    """The plans an index (or a fresh SearchIndex on a directory) finds by surname."""
    if isinstance(index, str):
        with SearchIndex(index) as opened:
            return in_index(opened, surname)
    return {str(hit.plan_id) for hit in index.find_persons(normalise.query_name(surname))}


# --- samenop index rebuild ----------------------------------------------------------------------


def test_rebuild_indexes_the_active_plans_from_the_database_with_a_progress_bar(
    app, client, plan_headers, headers
):
    # Given an index that has drifted from the database: a plan withdrawn behind its back
    kept = [create(client, plan_headers, surname) for surname in ("Bakker", "Visser", "Smit")]
    gone = create(client, plan_headers, "Mulder", house_number=20)
    apply_changes(app)
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        database.session.execute(update(Plan).where(Plan.id == uuid.UUID(gone)).values(status="withdrawn"))
        database.commit()
    assert in_index(index_dir, "Mulder") == {gone}

    # When an administrator runs `samenop index rebuild`
    result = app.test_cli_runner().invoke(rebuild, [])

    # Then it reports its progress and count, and the index holds exactly the active plans
    assert result.exit_code == 0, result.output
    assert "indexing active plans" in result.output
    assert "indexed 3 active plan(s)" in result.output
    for plan_id, surname in zip(kept, ("Bakker", "Visser", "Smit"), strict=True):
        assert in_index(index_dir, surname) == {plan_id}
    assert in_index(index_dir, "Mulder") == set()
    assert found_by_name(client, headers, "Bakker") == [kept[0]]
    assert found_by_text(client, headers, "Kerkstraat 20 Assen") == []


def test_rebuild_of_an_empty_database_gives_an_empty_index_that_lookups_can_use(app, client, headers):
    result = app.test_cli_runner().invoke(rebuild, [])

    assert result.exit_code == 0, result.output
    assert "indexed 0 active plan(s)" in result.output
    assert found_by_name(client, headers, "Bakker") == []


# --- several workers ----------------------------------------------------------------------------


def test_two_workers_applying_changes_concurrently_lose_no_update_and_raise_no_lock_error(
    app: Flask, tmp_path: Path, plan_headers: dict[str, str]
):
    # Given two workers, each with its own SearchIndex on one directory (as two gunicorn processes)
    shared = tmp_path / "shared-index"
    workers = [SearchIndex(str(shared)), SearchIndex(str(shared))]
    batches = [[f"Aanvraag{thread}Gezin{number}" for number in range(6)] for thread in range(2)]
    created: dict[str, str] = {}
    errors: list[BaseException] = []
    registering = threading.Event()
    registering.set()

    def register(batch: list[str]) -> None:
        client = app.test_client()
        try:
            for surname in batch:
                created[surname] = create(client, plan_headers, surname)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def apply_feed(worker: SearchIndex) -> None:
        # each worker applies the change feed over and over, with its own session, while plans
        # are being registered, and once more when registering is over
        try:
            with app.extensions["samenop.db"]() as session:
                while True:
                    last_round = not registering.is_set()
                    worker.catch_up(session)
                    session.rollback()  # end the read transaction: see the next commit
                    if last_round:
                        return
                    time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    registrants = [threading.Thread(target=register, args=(batch,)) for batch in batches]
    appliers = [threading.Thread(target=apply_feed, args=(worker,)) for worker in workers]
    for thread in appliers + registrants:
        thread.start()
    for thread in registrants:
        thread.join(timeout=120)
    registering.clear()
    for thread in appliers:
        thread.join(timeout=120)

    # Then no worker saw an error, and every plan is findable through either worker's index
    assert errors == []
    assert len(created) == 12
    with app.app_context():
        latest = database.session.scalar(select(func.max(PlanChange.id)))
    late_reader = SearchIndex(str(shared))
    assert late_reader.applied() == latest
    for surname, plan_id in created.items():
        for index in (*workers, late_reader):
            assert plan_id in in_index(index, surname), surname
    for index in (*workers, late_reader):
        index.close()


def test_a_plan_write_does_not_wait_for_the_index_and_the_follower_applies_it_without_a_lookup(
    app: Flask, client: FlaskClient, plan_headers: dict[str, str], headers: dict[str, str]
) -> None:
    index = search.index_for(app.config["INDEX_DIR"])
    # Given the index's writer lock held elsewhere (as by a long `samenop index compact`)
    held = index.ix.writer()
    try:
        # When a plan is registered, Then the registration is answered without the index
        plan_id = create(client, plan_headers, "Hoekstra")
        with app.app_context():
            latest = search.latest_change(database.session)
        assert index.applied() < latest
    finally:
        held.cancel()

    # Then, with no lookup asking, the worker's follower applies it once the lock is free
    deadline = time.monotonic() + 15
    while index.applied() < latest and time.monotonic() < deadline:
        time.sleep(0.02)
    assert index.applied() == latest
    assert plan_id in in_index(index, "Hoekstra")
    assert found_by_name(client, headers, "Noor Hoekstra") == [plan_id]


# --- an index lost from disk --------------------------------------------------------------------


def test_an_index_deleted_from_disk_is_rebuilt_from_the_feed_and_finds_plans_again(
    app, client, plan_headers, headers
):
    plan_id = create(client, plan_headers, "Bakker")
    assert found_by_name(client, headers, "Bakker") == [plan_id]

    delete_index(app)

    assert found_by_name(client, headers, "Bakker") == [plan_id]
    assert found_by_text(client, headers, "Kerkstraat 14 Assen") == [plan_id]
    later = create(client, plan_headers, "Visser", house_number=16)
    assert found_by_name(client, headers, "Visser") == [later]


def test_an_index_deleted_from_disk_can_be_rebuilt_by_the_command(app, client, plan_headers, headers):
    plan_id = create(client, plan_headers, "Bakker")
    assert found_by_name(client, headers, "Bakker") == [plan_id]
    delete_index(app)

    result = app.test_cli_runner().invoke(rebuild, [])

    assert result.exit_code == 0, result.output
    assert "indexed 1 active plan(s)" in result.output
    assert in_index(app.config["INDEX_DIR"], "Bakker") == {plan_id}
    assert found_by_name(client, headers, "Bakker") == [plan_id]


# --- the first lookups of a new installation ----------------------------------------------------


def test_fuzzy_lookups_on_an_empty_index_keep_working_once_plans_arrive(client, plan_headers, headers):
    # Given a new installation whose first lookups find nothing
    assert found_by_text(client, headers, "Kerkstraat 14 Assen") == []
    assert found_by_name(client, headers, "Bakker") == []

    # When the first plan is registered, Then the same worker finds it
    plan_id = create(client, plan_headers, "Bakker")

    assert found_by_name(client, headers, "Bakker") == [plan_id]
    assert found_by_text(client, headers, "Kerkstraat 14 Assen") == [plan_id]


# --- segments: merged a little on every write, the rest by `samenop index compact` --------------

SURNAMES = [
    "Aalders", "Bosman", "Claassen", "Dijkstra", "Eijkelboom", "Fokkema", "Gerritsen", "Hofstede",
    "IJzerman", "Jongbloed", "Kuipers", "Lindeboom", "Meulenbelt", "Nijenhuis", "Oosterhof",
    "Postma", "Quist", "Rozendaal", "Schipper", "Terpstra", "Uittenbogaard", "Veenstra",
    "Wiersma", "Zwart",
]  # fmt: skip


def test_writes_keep_the_index_to_a_few_segments_and_compact_merges_what_they_leave(
    app: Flask, client: FlaskClient, plan_headers: dict[str, str], headers: dict[str, str], monkeypatch: Any
) -> None:
    index = search.index_for(app.config["INDEX_DIR"])
    start = index.segment_count()

    def written_one_by_one(surnames: list[str], first_number: int) -> dict[str, str]:
        written = {}
        for n, surname in enumerate(surnames):
            written[surname] = create(client, plan_headers, surname, house_number=first_number + n)
            apply_changes(app)  # each write on its own, not in one batch with the next
        return written

    # Every write adds a segment and merges the small ones within its budget
    first = written_one_by_one(SURNAMES[:16], 1)
    assert index.segment_count() <= start + 2 * merging.MERGE_FACTOR

    # When writes may merge nothing (as if every merge were over budget), segments pile up ...
    monkeypatch.setattr(merging, "MERGE_BUDGET", 0)
    rest = written_one_by_one(SURNAMES[16:], 40)
    piled = index.segment_count()
    assert piled >= len(rest)
    # ... each segment holding a few of the names: every plan is found by name all the same
    for surname, plan_id in rest.items():
        assert found_by_name(client, headers, f"Noor {surname}")[:1] == [plan_id], surname

    # ... until `samenop index compact` merges them; every plan is still found, once
    result = app.test_cli_runner().invoke(compact, [])
    assert result.exit_code == 0, result.output
    assert f"segments: {piled} -> " in result.output
    assert index.segment_count() < merging.MERGE_FACTOR * 2 <= piled
    for surname, plan_id in {**first, **rest}.items():
        assert found_by_name(client, headers, f"Noor {surname}")[:1] == [plan_id], surname
    assert len(in_index(index, "Noor Zwart")) == 1


def test_a_surname_new_to_the_index_is_found_with_a_typo_at_once_and_across_merges(
    app: Flask, client: FlaskClient, plan_headers: dict[str, str], headers: dict[str, str]
) -> None:
    # the typo search draws on the words the index holds, kept up to date segment by segment
    index = search.index_for(app.config["INDEX_DIR"])
    index.searcher()
    plan_id = create(client, plan_headers, "Zwiebelkamp")

    assert found_by_name(client, headers, "Noor Zwiebelkanp") == [plan_id]
    others = [
        create(client, plan_headers, surname, house_number=60 + n) for n, surname in enumerate(SURNAMES)
    ]
    assert found_by_name(client, headers, "Noor Zwiebelkanp") == [plan_id]
    assert found_by_name(client, headers, f"Noor {SURNAMES[-1]}x") == others[-1:]

    response = client.post(f"{PLANS}/{plan_id}/withdraw", json={"reason": "Veilig"}, headers=plan_headers)
    assert response.status_code == 200, response.get_json()
    assert found_by_name(client, headers, "Noor Zwiebelkamp") == []
    assert app.test_cli_runner().invoke(compact, []).exit_code == 0
    assert found_by_name(client, headers, "Noor Zwiebelkamp") == []
    # what the long-running process knows is what a process opening the index now reads
    with SearchIndex(app.config["INDEX_DIR"]) as fresh:
        fresh.searcher()
        assert index._vocabulary == fresh._vocabulary


class _Segment:
    """A stand-in for a whoosh segment: the merge policy reads only the live document count."""

    def __init__(self, documents: int) -> None:
        self.documents = documents

    def doc_count(self) -> int:
        return self.documents

    def __repr__(self) -> str:
        return f"<{self.documents} documents>"


def _segments(*counts: int) -> list[_Segment]:
    return [_Segment(count) for count in counts]


def test_a_write_merges_the_highest_full_tier_that_fits_its_budget_and_leaves_bigger_merges() -> None:
    rebuilt = _segments(700_000, 700_000)  # what a rebuild writes: never merged by a write
    small, medium = _segments(2, 2, 3, 3), _segments(20, 20, 30, 30)
    # a full tier of tiny segments and a full tier of a few dozen documents: both fit, the higher wins
    assert set(merging.due(rebuilt + small + medium, budget=160)) == set(small + medium)
    # the same tier at a hundred documents each does not fit: only the tiny ones are merged
    bigger = _segments(100, 100, 120, 120)
    assert set(merging.due(rebuilt + small + bigger, budget=160)) == set(small)
    # `samenop index compact` has no budget
    assert set(merging.due(rebuilt + small + bigger, budget=None)) == set(small + bigger)
    # three of a tier are not full: nothing to merge
    assert merging.due(rebuilt + small[:3], budget=160) == []


def test_once_segments_pile_up_a_write_merges_the_cheapest_full_tier_whatever_the_budget() -> None:
    piled = _segments(*([100] * (merging.MAX_SEGMENTS - 1)))  # all over the budget together
    assert merging.due(piled, budget=160) == []  # left to `samenop index compact`
    piled += _segments(5_000)
    assert merging.due(piled, budget=160) == piled[: merging.MERGE_FACTOR]


def test_free_text_candidates_come_from_the_longest_words_first(tmp_path: Path) -> None:
    # every town has a Sint-street with a number 10: 'sint' alone would fill the candidates
    # before the word that says which street was meant (a bench run missed such an address)
    with SearchIndex(str(tmp_path / "index")) as index:
        writer = index.ix.writer()
        for n, street in enumerate(
            ["Sint Pieterslaan", "Sint Annastraat", "Sint Jorisweg", "Sint Nicolaasplein"]
        ):
            writer.add_document(**documents.address_document(uuid.uuid4(), n, 10, "", street, "Emmen"))
        wanted = uuid.uuid4()
        writer.add_document(**documents.address_document(wanted, 99, 10, "", "Sint Jansstraat", "Capelle"))
        writer.commit()

        hits = index.find_addresses(["sint", "jansstraalt"], 10, limit=2)

    assert wanted in [hit.plan_id for hit in hits]

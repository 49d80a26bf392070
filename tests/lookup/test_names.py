"""Dutch names as people say and type them: each spelling of one sound is the same name to the
lookup (lookup.normalise.sound), scores as the name (lookup.search.scoring), and finds the person
in the index (lookup.search.candidates), while names that only look alike stay apart."""

from __future__ import annotations

from typing import Any

import pytest

from lookup import normalise
from lookup.search import name_score, person_score
from tests.registry.plan_data import person, plan_body

# (registered, as said or typed): every rule of the issue, and the transliterations
SAME_NAME = [
    ("Dijk", "Dyk"),
    ("Dijk", "Deik"),
    ("Dijkstra", "Deikstra"),
    ("Meijer", "Meyer"),
    ("Meijer", "Meier"),
    ("van der Heijden", "van der Heyden"),
    ("Bos", "Bosch"),
    ("Cornelis", "Kornelis"),
    ("Jacobs", "Jakobs"),
    ("Philip", "Filip"),
    ("Brandt", "Brand"),
    ("Brandt", "Brant"),
    ("Smid", "Smit"),
    ("Lachman", "Lagman"),
    ("Bakker", "Baker"),
    ("Janssen", "Jansen"),
    ("Janssen", "Janszen"),
    ("Murat", "Moerat"),
    ("Murat", "Mourad"),
    ("Mohamed", "Mohammed"),
    ("Mohamed", "Muhammed"),
    ("Kaya", "Kaja"),
    ("Yılmaz", "Jilmaz"),
    ("Yılmaz", "Yilmaz"),
    ("Youssef", "Yousef"),
    ("Bouzid", "Boezid"),
    ("Boukhari", "Boechari"),
    ("Çelik", "Tsjelik"),
    ("Şahin", "Sjahin"),
    ("Hendriks", "Hendrix"),
    ("Ahmed", "Ahmet"),
    ("Huijgens", "Huygens"),
    ("Thijs", "Tijs"),
    ("Maas", "Maes"),
]
# names that only look alike: another name, another sound
OTHER_NAME = [("Bos", "Vos"), ("Kaya", "Kara"), ("Jansen", "Hansen"), ("Dijk", "Dirk"), ("Murat", "Marat")]


@pytest.mark.parametrize(("registered", "said"), SAME_NAME)
def test_spellings_of_one_sound_are_one_name(registered, said):
    assert normalise.sound(normalise.fold(said)) == normalise.sound(normalise.fold(registered))


@pytest.mark.parametrize(("registered", "said"), OTHER_NAME)
def test_names_that_only_look_alike_keep_their_own_sound(registered, said):
    assert normalise.sound(normalise.fold(said)) != normalise.sound(normalise.fold(registered))


@pytest.mark.parametrize(("registered", "said"), SAME_NAME)
def test_a_surname_spelt_otherwise_scores_as_the_name_but_below_its_own_spelling(registered, said):
    stored = normalise.stored_name("Sanne", "", registered)
    query = normalise.query_name(f"Sanne {said}")

    score = name_score(query, stored)

    assert score >= 0.85
    assert score <= name_score(normalise.query_name(f"Sanne {registered}"), stored)


def test_a_first_name_spelt_otherwise_is_not_taken_for_another_first_name():
    """Moerat Kaya is Murat Kaya; Mehmet Kaya is not (without the birth date of Murat)."""
    stored = normalise.stored_name("Murat", "", "Kaya")

    assert person_score(normalise.query_name("Moerat Kaja"), stored, None, None) is not None
    assert person_score(normalise.query_name("Mehmet Kaya"), stored, None, None) is None


def test_the_sound_of_a_word_is_not_a_word_to_show():
    """A sound is only compared: 'Dijk' sounds as 'dYk', which nobody reads."""
    assert normalise.sound_of_word("dijk") == "dYk"
    assert normalise.sound("mohammed el amrani") == "mohamet el amrani"


# --- in the index, through the API ----------------------------------------------------------------

LOOKUPS = "/api/v1/lookups"


@pytest.fixture
def headers(make_user: Any, make_org: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(make_user(roles=("responder",), org=make_org("Meldkamer Oost", kind="police")))


@pytest.fixture
def plan_id(client: Any, make_user: Any, auth_headers: Any) -> str:
    body = plan_body(
        persons=[
            person(first_name="Sanne", surname_prefix="", surname="Bos", birth_date="1992-03-04", phone=None),
            person(first_name="Murat", surname_prefix="", surname="Kaya", birth_date="1988-07-15",
                   role="perpetrator", phone=None, do_not_inform=True),
            person(first_name="Mohamed", surname_prefix="van", surname="Dijk", birth_date=None, phone=None),
        ]
    )  # fmt: skip
    response = client.post("/api/v1/plans", json=body, headers=auth_headers(make_user(roles=("registrant",))))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


@pytest.mark.parametrize(
    ("said", "born"),
    [
        ("Moerat Kaja", "1988-07-15"),
        ("Murat Kaja", None),
        ("Moerat Kaja", None),
        ("Sanne Bosch", None),
        ("Sanne Bosch", "1992-03-04"),
        ("Muhammed van Dyk", None),
        ("Mohammed van Deik", None),
    ],
)
def test_a_name_spelt_as_said_finds_the_family(client, headers, plan_id, said, born):
    query: dict[str, Any] = {"name": said}
    if born:
        query["birth_date"] = born

    response = client.post(LOOKUPS, json={"incident_ref": "P-2026-0001", "person": query}, headers=headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    found = [m["plan"]["id"] for m in body["matches"]] + [c["plan_id"] for c in body["candidates"]]
    assert found == [plan_id]

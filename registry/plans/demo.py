"""Synthetic handelingskaders for the demo: invented families, addresses and numbers."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from registry.core.models import User
from registry.core.vocabulary import Actor, AddressRole, FamilyProfile, PersonRole, RiskSignal
from registry.plans import operations
from registry.plans.schemas import PlanArgs, today

_SURNAMES = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van der", "Veen"),
    ("", "El Amrani"),
    ("", "Yılmaz"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("de", "Boer"),
    ("", "Öztürk"),
    ("van 't", "Hof"),
    ("", "Visser"),
    ("", "Smit"),
]
_FIRST = [
    "Noë",
    "Sanne",
    "Daan",
    "Fatima",
    "Emre",
    "Lotte",
    "Mohammed",
    "Iris",
    "Ünal",
    "Anouk",
    "Bram",
    "Zoë",
]
_STREETS = [
    "Kerkstraat",
    "Molenweg",
    "Dorpsstraat",
    "Julianalaan",
    "Stationsstraat",
    "Beukenlaan",
    "Parallelweg",
]
_LETTERS = "ABCEGHJKLMNPRTVXZ"
_CITIES = ["Assen", "Emmen", "Hoogeveen", "Meppel", "Coevorden"]
_AGREEMENTS = [
    (
        "Melding van geluidsoverlast op dit adres",
        "Direct uitrukken met prioriteit 1; mogelijk huiselijk geweld.",
        Actor.POLICE,
    ),
    (
        "Vermoeden van huiselijk geweld",
        "Aanhouden en het protocol tijdelijk huisverbod starten.",
        Actor.POLICE,
    ),
    (
        "De kinderen kunnen niet thuis blijven",
        "Kinderen onderbrengen bij de tante (zie contactpersonen).",
        Actor.NETWORK,
    ),
    ("Na elke inzet", "Bel de piketdienst van Jeugdbescherming.", Actor.YOUTH_PROTECTION),
    ("Altijd", "Maak een melding bij Veilig Thuis.", Actor.VEILIG_THUIS),
]


def _phone(rng: random.Random, mobile: bool = True) -> str:
    # 06-1... numbers in a range that looks real but is invented for the demo
    return f"06-{rng.randint(20000000, 49999999)}" if mobile else f"088-{rng.randint(1000000, 9999999)}"


def create_demo_plans(session: Session, registrant: User, count: int = 12, seed: int = 7) -> None:
    rng = random.Random(seed)
    for index in range(count):
        prefix, surname = _SURNAMES[index % len(_SURNAMES)]
        children = rng.randint(0, 3)
        persons = [
            {
                "first_name": rng.choice(_FIRST),
                "surname_prefix": prefix,
                "surname": surname,
                "birth_date": (today() - timedelta(days=rng.randint(25 * 365, 45 * 365))).isoformat(),
                "role": PersonRole.VICTIM,
                "phone": _phone(rng),
            },
            {
                "first_name": rng.choice(_FIRST),
                "surname_prefix": prefix,
                "surname": surname,
                "birth_date": (today() - timedelta(days=rng.randint(25 * 365, 50 * 365))).isoformat(),
                "role": PersonRole.PERPETRATOR,
                "phone": _phone(rng),
                "do_not_inform": True,
            },
        ] + [
            {
                "first_name": rng.choice(_FIRST),
                "surname_prefix": prefix,
                "surname": surname,
                "birth_date": (today() - timedelta(days=rng.randint(365, 17 * 365))).isoformat(),
                "role": PersonRole.CHILD,
            }
            for _ in range(children)
        ]
        addresses = [
            {
                "postcode": f"{rng.randint(7700, 9499)} {rng.choice(_LETTERS)}{rng.choice(_LETTERS)}",
                "house_number": rng.randint(1, 180),
                "house_number_suffix": rng.choice(["", "", "", "a", "b", "2"]),
                "street": rng.choice(_STREETS),
                "city": rng.choice(_CITIES),
                "role": AddressRole.RESIDENCE,
            },
        ]
        body = {
            "title": f"Gezin {' '.join(p for p in (prefix, surname) if p)}",
            "summary": (
                "Synthetisch demo-handelingskader. Vader eerder aangehouden; "
                "moeder wil met de kinderen veilig blijven."
            ),
            "valid_until": (today() + timedelta(days=rng.randint(5, 170))).isoformat(),
            "family_profile": rng.choice(
                [FamilyProfile.INTIMATE_TERROR, FamilyProfile.FAMILY_IN_STRESS, FamilyProfile.COMPLEX_DIVORCE]
            ),
            "risk_signals": rng.sample(
                [
                    RiskSignal.WEAPONS,
                    RiskSignal.THREAT_TO_KILL,
                    RiskSignal.STRANGULATION,
                    RiskSignal.PRIOR_VIOLENCE,
                    RiskSignal.SUBSTANCE_ABUSE,
                ],
                2,
            ),
            "owner": {"name": registrant.display_name, "phone": _phone(rng, mobile=False)},
            "addresses": addresses,
            "persons": persons,
            "agreements": [
                {"trigger": trigger, "action": action, "actor": actor}
                for trigger, action, actor in _AGREEMENTS[: rng.randint(3, 5)]
            ],
            "contacts": [
                {
                    "name": "Tante (demo)",
                    "relation": "tante",
                    "phone": _phone(rng),
                    "available": "dag en nacht",
                },
                {
                    "name": "Piketdienst Jeugdbescherming (demo)",
                    "relation": "piket",
                    "phone": _phone(rng, mobile=False),
                    "available": "17.00–09.00 uur",
                },
            ],
        }
        operations.create_plan(session, registrant, PlanArgs().load(body))

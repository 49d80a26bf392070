"""Synthetic handelingskaders for the demo: invented families, addresses and numbers."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from registry.core.models import User
from registry.core.vocabulary import (
    Actor,
    AddressRole,
    FamilyProfile,
    MeasureKind,
    PersonRole,
    RiskSignal,
)
from registry.plans import availability, operations
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


# which contact an agreement names (its place among the contacts below)
_CALLS = {Actor.NETWORK: 1, Actor.YOUTH_PROTECTION: 2}


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
                "do_not_inform_reason": "Mag niet weten dat moeder en kinderen een veilig adres hebben.",
                # the values below come from the plan's number, not from rng: the demo's other
                # families stay what they were
                **({"language": "Turks", "interpreter_needed": True} if index % 4 == 1 else {}),
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
        if index % 3 == 0:
            # the shelter: geheim, never said over the radio (synthetic postcode and street)
            addresses.append(
                {
                    "postcode": f"{9400 + index} ZZ",
                    "house_number": 1 + index,
                    "street": "Verscholenlaan",
                    "city": "Assen",
                    "role": AddressRole.SAFE_ADDRESS,
                    "is_secret": True,
                }
            )
        measures = []
        if index % 2 == 0:
            measures.append(
                {
                    "kind": MeasureKind.TEMPORARY_RESTRAINING_ORDER,
                    "starts_on": (today() - timedelta(days=3)).isoformat(),
                    "ends_on": (today() + timedelta(days=7)).isoformat(),
                    "note": "Opgelegd door de burgemeester (demo).",
                }
            )
        if children and index % 3 == 1:
            measures.append(
                {
                    "kind": MeasureKind.SUPERVISION_ORDER,
                    "holder": "Jeugdbescherming Noord (demo)",
                    "starts_on": (today() - timedelta(days=60)).isoformat(),
                    "ends_on": (today() + timedelta(days=300)).isoformat(),
                }
            )
        body = {
            "title": f"Gezin {' '.join(p for p in (prefix, surname) if p)}",
            "summary": (
                "Synthetisch demo-handelingskader. Vader eerder aangehouden; "
                "moeder wil met de kinderen veilig blijven."
            ),
            "valid_until": (today() + timedelta(days=rng.randint(5, 170))).isoformat(),
            "family_profiles": [
                rng.choice(
                    [
                        FamilyProfile.INTIMATE_TERROR,
                        FamilyProfile.FAMILY_IN_STRESS,
                        FamilyProfile.COMPLEX_DIVORCE,
                    ]
                ),
                *([FamilyProfile.LONG_TERM_CARE] if index % 4 == 2 else []),
            ],
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
                # the children's agreement names the aunt, the youth-protection one the on-call service
                {"trigger": trigger, "action": action, "actor": actor, "contact_number": _CALLS.get(actor)}
                for trigger, action, actor in _AGREEMENTS[: rng.randint(3, 5)]
            ],
            "contacts": [
                {
                    "name": "Tante (demo)",
                    "relation": "tante",
                    "phone": _phone(rng),
                    "availability": availability.PRESETS["always"][1],
                    "knows_plan": True,
                    "tested_on": (today() - timedelta(days=20 + 30 * index)).isoformat(),
                },
                {
                    "name": "Piketdienst Jeugdbescherming (demo)",
                    "relation": "piket",
                    "phone": _phone(rng, mobile=False),
                    "availability": availability.PRESETS["out_of_hours"][1],
                    "available": "Overdag: de eigen jeugdbeschermer.",
                    "knows_plan": True,
                    "tested_on": (today() - timedelta(days=10)).isoformat(),
                },
            ],
            "measures": measures,
        }
        operations.create_plan(session, registrant, PlanArgs().load(body))

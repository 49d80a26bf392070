"""The writes: plan create and update through the plans API (each one applies the change feed to
the search index in the same request, after commit), and reports after a lookup.

Plan bodies are invented like bench/synthetic.py's households: one address, 2–3 persons, 2–3
agreements, 2 contacts. Each client updates only the plans it was dealt, with the version it
last wrote, so a 409 (version conflict) is a finding, counted apart from the errors.
"""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from bench import synthetic
from bench.load import Request, Workload, call
from bench.queries import Query, judge_lookup, lookup_request, name_with_typo
from registry.core.vocabulary import CareInvolvement, MentalHealthService, ReportMode

PLANS = "/api/v1/plans"
REPORTS = "/api/v1/reports"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _json_headers(token: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def _mobile(rng: random.Random) -> str:
    # 06-2xxxxxxx .. 06-4xxxxxxx, as bench/synthetic.py: valid for phonenumbers, invented
    return f"06-{rng.randint(20000000, 49999999)}"


def _today() -> date:
    return datetime.now(AMSTERDAM).date()


class PlanBodies:
    """Invented plan bodies for POST /api/v1/plans.

    `salt` mixes into each body's draws: a run on a database earlier runs wrote to (--reuse)
    passes the number of plans it holds, so it writes other families than they did (with the
    same seed every run wrote the same names again: dozens of namesakes after a few runs)."""

    def __init__(self, salt: int = 0) -> None:
        self.names = synthetic.Names()
        self.streets = synthetic.street_names()
        self.salt = salt

    def body(self, rng: random.Random) -> dict[str, Any]:
        if self.salt:
            rng = random.Random(rng.getrandbits(64) ^ self.salt)
        today = _today()
        while True:
            letters = rng.choice(synthetic.LETTERS) + rng.choice(synthetic.LETTERS)
            if letters not in synthetic.UNUSED_LETTERS:
                break
        number = rng.randint(1000, 9999)
        family_prefix, family_surname = self.names.surname(rng)
        family = " ".join(part for part in (family_prefix, family_surname) if part)
        partner_prefix, partner_surname = (
            (family_prefix, family_surname) if rng.random() < 0.5 else self.names.surname(rng)
        )
        persons = [
            self._person(rng, partner_prefix, partner_surname, "victim", today),
            self._person(rng, family_prefix, family_surname, "perpetrator", today)
            | {"do_not_inform": True, "do_not_inform_reason": "Zoekt het gezin (benchmark)."},
        ]
        if rng.random() < 0.6:
            persons.append(self._person(rng, family_prefix, family_surname, "child", today))
        relative_prefix, relative_surname = self.names.surname(rng)
        relative = [self.names.first(rng, "f"), relative_prefix, relative_surname]
        return {
            "title": f"Handelingskader familie {family}",
            "summary": "Synthetisch handelingskader, aangemaakt door de benchmark.",
            "valid_until": (today + timedelta(days=rng.randint(30, 150))).isoformat(),
            "family_profile": rng.choice(synthetic.FAMILY_PROFILES),
            "risk_signals": sorted(rng.sample(synthetic.RISK_SIGNALS, rng.choice([0, 1, 2]))),
            "owner": {"name": f"{self.names.first(rng)} Beschermer", "phone": self._office(rng)},
            "addresses": [
                {
                    "postcode": f"{number} {letters}",
                    "house_number": min(1 + int(rng.expovariate(1 / 40)), 2500),
                    "house_number_suffix": rng.choice(["", "", "", "", "a", "2"]),
                    "street": rng.choice(self.streets),
                    "city": synthetic.city_for(number, rng),
                    "role": "residence",
                }
            ],
            "persons": persons,
            "agreements": [
                {"trigger": trigger, "action": action, "actor": actor}
                for trigger, action, actor in rng.sample(synthetic.AGREEMENTS, rng.choice([2, 3]))
            ],
            "contacts": [
                {
                    "name": " ".join(part for part in relative if part),
                    "relation": rng.choice(synthetic.RELATIONS),
                    "phone": _mobile(rng),
                    "available": rng.choice(["dag en nacht", "na 17.00 uur", "overdag"]),
                },
                {
                    "name": "Piketdienst Jeugdbescherming",
                    "relation": "achtervang",
                    "phone": self._office(rng),
                    "available": "24/7",
                },
            ],
        }

    @staticmethod
    def _office(rng: random.Random) -> str:
        return f"088-{rng.randint(1000000, 9999999)}"

    def _person(
        self, rng: random.Random, prefix: str, surname: str, role: str, today: date
    ) -> dict[str, Any]:
        adult = role != "child"
        born = synthetic.birth_date(rng, today, 18, 80) if adult else synthetic.birth_date(rng, today, 0, 17)
        return {
            "first_name": self.names.first(rng),
            "surname_prefix": prefix,
            "surname": surname,
            "birth_date": born.isoformat(),
            "role": role,
            "phone": _mobile(rng) if adult or rng.random() < 0.4 else None,
            "do_not_inform": False,
        }

    @staticmethod
    def changed(body: dict[str, Any], rng: random.Random, round_: int) -> dict[str, Any]:
        """What a registrant changes: the summary, one agreement's action and two phone numbers."""
        new = copy.deepcopy(body)
        new["summary"] = f"Bijgewerkt door de benchmark (ronde {round_})."
        agreement = rng.choice(new["agreements"])
        agreement["action"] = rng.choice(synthetic.AGREEMENTS)[1]
        new["contacts"][0]["phone"] = _mobile(rng)
        new["persons"][0]["phone"] = _mobile(rng)
        return new


@dataclass
class Written:
    """A plan the benchmark wrote, as last written."""

    plan_id: str
    version: int
    body: dict[str, Any]


class PlanCreate(Workload):
    """POST /api/v1/plans: a new plan per request; the plans created are kept for the updates."""

    def __init__(self, token: str, bodies: PlanBodies) -> None:
        self.token = token
        self.bodies = bodies
        self.created: list[Written] = []  # list.append is atomic: the clients share it

    def next_request(self, client: int, rng: random.Random) -> Request:
        body = self.bodies.body(rng)
        return Request(
            "POST", PLANS, json.dumps(body).encode(), _json_headers(self.token), body["title"], body
        )

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        if status != 201:
            return data[:300]
        plan = json.loads(data)
        self.created.append(Written(str(plan["id"]), int(plan["version"]), request.context))
        return b""

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        return "ok" if status == 201 else "error"

    def create_one(self, port: int, rng: random.Random) -> Written:
        """One plan outside any measurement (for updates without a create phase)."""
        request = self.next_request(0, rng)
        status, data, _response = call(port, request)
        if status != 201:
            raise click.ClickException(f"plan create answered {status}: {data[:300]!r}")
        self.digest(0, request, status, data)
        return self.created[-1]


_CURRENT_VERSION = re.compile(rb"versie (\d+)")


class PlanUpdate(Workload):
    """PUT /api/v1/plans/{id} with the version last written: each client cycles through its own
    plans, so no two clients race for one; a 409 counts as "other", and the client re-reads the
    version from the answer."""

    def __init__(self, token: str, plans: list[Written], clients: int) -> None:
        self.token = token
        self.pools = [plans[i::clients] for i in range(clients)]
        if not all(self.pools):
            raise ValueError("every client needs a plan of its own")
        self.turn = [0] * clients

    def next_request(self, client: int, rng: random.Random) -> Request:
        pool = self.pools[client]
        plan = pool[self.turn[client] % len(pool)]
        self.turn[client] += 1
        body = PlanBodies.changed(plan.body, rng, self.turn[client])
        return Request(
            "PUT",
            f"{PLANS}/{plan.plan_id}",
            json.dumps({**body, "version": plan.version}).encode(),
            _json_headers(self.token),
            f"{plan.plan_id} version {plan.version}",
            (plan, body),
        )

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        plan, body = request.context
        if status == 200:
            plan.version += 1
            plan.body = body
            return b""
        if status == 409:
            found = _CURRENT_VERSION.search(data)
            if found:
                plan.version = int(found.group(1))
        return data[:300]

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        return "ok" if status == 200 else "other" if status == 409 else "error"


def findable(port: int, token: str, plan: Written, rng: random.Random) -> dict[str, Any]:
    """One fuzzy lookup (a typo in the surname, with the birth date) of a person of a plan the
    benchmark wrote: the index must have followed the write."""
    person = plan.body["persons"][0]
    name = name_with_typo(person["first_name"], person["surname_prefix"], person["surname"], rng)
    query = Query(
        {"person": {"name": name, "birth_date": person["birth_date"]}},
        plan.plan_id,
        f"{name} {person['birth_date']}",
    )
    status, data, _response = call(port, lookup_request(token, query))
    verdict = judge_lookup(query, status, data)
    return {"plan_id": plan.plan_id, "version": plan.version, "query": query.text, "verdict": verdict}


# --- reports ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A plan a lookup showed: what a report refers to."""

    lookup_id: str
    incident_ref: str
    plan_id: str
    agreement_ids: list[int]


def shown_plans(port: int, token: str, queries: list[Query], count: int) -> list[Shown]:
    """Exact address lookups (not measured) for the plans the reports will be about."""
    found = []
    for query in queries[:count]:
        request = lookup_request(token, query)
        status, data, _response = call(port, request)
        if status != 200:
            continue
        answer = json.loads(data)
        for match in answer["matches"]:
            if match["plan"]["id"] == query.target:
                agreements = [row["id"] for row in match["plan"]["agreements"]]
                found.append(
                    Shown(
                        answer["lookup_id"],
                        json.loads(request.body or b"{}")["incident_ref"],
                        query.target,
                        agreements,
                    )
                )
    if not found:
        raise click.ClickException("report create: no lookup showed a plan to report on")
    return found


class ReportCreate(Workload):
    """POST /api/v1/reports after a lookup that showed the plan, with a fresh Idempotency-Key."""

    MODES = ReportMode.codes()

    def __init__(self, token: str, shown: list[Shown]) -> None:
        self.token = token
        self.shown = shown

    def next_request(self, client: int, rng: random.Random) -> Request:
        shown = self.shown[rng.randrange(len(self.shown))]
        occurred = datetime.now(UTC) - timedelta(minutes=rng.randint(5, 180))
        body = report_body(rng, shown.plan_id, shown.incident_ref, occurred, shown.agreement_ids)
        body["lookup_id"] = shown.lookup_id
        headers = _json_headers(self.token) | {"Idempotency-Key": uuid.uuid4().hex}
        return Request("POST", REPORTS, json.dumps(body).encode(), headers, f"report on {shown.plan_id}")

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        return b"" if status == 201 else data[:300]

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        return "ok" if status == 201 else "error"


def report_body(
    rng: random.Random, plan_id: str, incident_ref: str, occurred: datetime, agreement_ids: list[int]
) -> dict[str, Any]:
    """A report as the API takes it (also the values the feedback set-up stores directly)."""
    responders = sorted(rng.sample(["police", "cit", "veilig_thuis", "youth_protection"], rng.choice([1, 2])))
    return {
        "plan_id": plan_id,
        "incident_ref": incident_ref,
        "occurred_at": occurred.astimezone(AMSTERDAM).isoformat(timespec="seconds"),
        "mode": rng.choice(ReportCreate.MODES),
        "responders": responders,
        "violence_type": rng.choice(["partner_violence", "child_abuse", "parent_abuse", None]),
        "household_type": rng.choice(["minor_children", "no_children", None]),
        "care_involvement": rng.choice([*CareInvolvement.codes(), None]),
        "mental_health_service": rng.choice([*MentalHealthService.codes(), None]),
        "agreements": [
            {
                "agreement_id": agreement_id,
                "outcome": rng.choice(["followed", "followed", "not_followed", "not_applicable"]),
                "note": rng.choice(["", "Tante kwam de kinderen ophalen.", "Niet nodig gebleken."]),
            }
            for agreement_id in agreement_ids
        ],
        "actions": sorted(
            rng.sample(["arrest", "children_with_network", "vt_report_filed"], rng.choice([0, 1, 2]))
        ),
        "narrative": "Melding van buren over geschreeuw. Ter plaatse de afspraken uit het "
        "handelingskader gevolgd.",
    }

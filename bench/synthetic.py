"""Synthetic Dutch households, written straight into the database with SQLAlchemy Core.

Every name, address and number is invented (a seeded generator): one household is one active
plan (one version) with one address, 1–5 persons, 2 agreements and 2 contacts. Nothing goes
through the ORM or the API: rows are inserted with executemany in large batches, and the
change feed gets one row per plan, as if each plan had been created through the registry.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from registry.core.vocabulary import FamilyProfile, PlanStatus, RiskSignal

# --- names ----------------------------------------------------------------------------------------

# the most common surnames in the Netherlands (and of its larger communities), most common first;
# together HEAD_SHARE of all persons, the most common about half a percent (de Jong, as in the
# population), the hundredth a tenth of that; everyone else has one of the long tail's names
COMMON_SURNAMES: list[tuple[str, str]] = [
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
    ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Bruin"),
    ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"), ("van", "Vliet"),
    ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"), ("", "Koster"),
    ("van", "Dam"), ("van der", "Wal"), ("", "Prins"), ("", "Blom"), ("", "Huisman"),
    ("", "Yılmaz"), ("", "Kaya"), ("", "Demir"), ("", "Şahin"), ("", "Çelik"),
    ("", "Öztürk"), ("", "Doğan"), ("", "Aydın"), ("", "Arslan"), ("", "Kılıç"),
    ("", "El Amrani"), ("", "Bouzid"), ("", "Benali"), ("", "El Idrissi"), ("", "Ait Taleb"),
    ("", "Azzouzi"), ("", "Boukhari"), ("", "El Khatib"), ("", "Ouali"), ("", "Ziani"),
    ("", "Ramdin"), ("", "Jagessar"), ("", "Sewnath"), ("", "Bhagwandin"), ("", "Ramsaran"),
    ("", "Nijmeijer"), ("", "Kuipers"), ("van 't", "Hof"), ("in 't", "Veld"), ("van 't", "Zand"),
    ("", "Nguyễn"), ("", "Kowalski"), ("", "Nowak"), ("", "Wiśniewski"), ("", "Müller"),
    ("", "Schröder"), ("", "Da Silva"), ("", "Pereira"), ("", "González"), ("", "Ibrahim"),
    ("", "Mohamud"), ("", "Tesfaye"), ("", "Haile"), ("", "Osei"), ("", "Mensah"),
    ("ter", "Horst"), ("ten", "Brink"), ("van", "Wijk"), ("van", "Loon"), ("", "Gerritsen"),
]  # fmt: skip

# the long tail: toponymic and Frisian-style compounds (head, a linking part, an ending), with or
# without a tussenvoegsel: some 30 000 names, each as rare as most Dutch surnames are
_TAIL_HEADS = [
    "Hoog", "Groen", "Zand", "Wester", "Ooster", "Noord", "Zuid", "Klein", "Groot", "Nieuw",
    "Oud", "Brand", "Steen", "Rozen", "Linde", "Eiken", "Beuken", "Molen", "Kerk", "Burg",
    "Ham", "Holt", "Mars", "Wolf", "Vos", "Haver", "Rog", "Tarwe", "Blauw", "Wit",
    "Zwart", "Hage", "Berk", "Veld", "Dijk", "Beek", "Broek", "Velde", "Hout", "Kamp",
    "Aal", "Bleek", "Dam", "Eng", "Gras", "Heuvel", "Kooi", "Lang", "Mast", "Raven",
    "Riet", "Schaap", "Stroo", "Valk", "Weide", "Wind", "Zomer", "Winter", "Haas", "Kuil",
]  # fmt: skip
_TAIL_LINKS = ["", "e", "en", "er", "s", "el", "ke"]
_TAIL_ENDS = [
    "veld", "berg", "kamp", "huis", "dijk", "hof", "man", "sma", "stra", "inga",
    "ink", "horst", "beek", "broek", "bos", "hout", "meer", "veen", "wijk", "laar",
    "ens", "ing", "kes", "stein", "mans", "boom", "hoven", "water", "land", "kate",
    "sloot", "weg", "rade", "stee", "gaard",
]  # fmt: skip
_TAIL_PREFIXES = ["", "", "", "", "", "van", "van de", "van der", "ter", "te", "ten", "de", "van den"]
HEAD_SHARE = 0.09

FEMALE_FIRST = [
    "Emma", "Julia", "Sophie", "Tess", "Zoë", "Noë", "Chloë", "Anouk", "Sanne", "Lotte",
    "Iris", "Maaike", "Geertje", "Joëlle", "Renée", "Mila", "Saar", "Fleur", "Lieke", "Femke",
    "Fatima", "Khadija", "Noor", "Yasmina", "Salma", "Özlem", "Ayşe", "Gülşen", "Çağla", "Elif",
    "Büşra", "Zeynep", "Inès", "Léa", "Mónica", "Agnieszka", "Małgorzata", "Priya", "Sunita", "Thi Lan",
    "Marieke", "Annelies", "Ingrid", "Wilma", "Hennie", "Truus", "Ria", "Yvonne", "Esmée", "Daphnée",
]  # fmt: skip
MALE_FIRST = [
    "Jan", "Pieter", "Daan", "Sem", "Lucas", "Noah", "Levi", "Finn", "Bram", "Thijs",
    "Jeroen", "Gerrit", "Henk", "Kees", "Willem", "Ruud", "Bas", "Sjoerd", "Wouter", "Joost",
    "Mohammed", "Yassine", "Soufiane", "Ilias", "Ayoub", "Ünal", "Emre", "Yusuf", "Şükrü", "Gökhan",
    "Barış", "Mustafa", "Ömer", "José", "André", "René", "Björn", "Søren", "Łukasz", "Rajesh",
    "Ravi", "Minh", "Kwame", "Dawit", "Ahmed", "Hüseyin", "Cor", "Teun", "Jurriën", "Gijs",
]  # fmt: skip

# more first names, less common ones (the lists above come first: they are drawn most)
FEMALE_FIRST += [
    "Anna", "Eva", "Sara", "Lisa", "Nina", "Lynn", "Evi", "Yara", "Liv", "Nora",
    "Isa", "Fenna", "Roos", "Loïs", "Elin", "Jasmijn", "Hannah", "Lina", "Olivia", "Mia",
    "Sofie", "Amber", "Britt", "Demi", "Kim", "Lisanne", "Manon", "Merel", "Nienke", "Romy",
    "Sterre", "Vera", "Wendy", "Linda", "Petra", "Monique", "Marloes", "Esther", "Sandra", "Patricia",
    "Claudia", "Karin", "Marjolein", "Mirjam", "Anneke", "Tineke", "Gerda", "Joke", "Corrie", "Diny",
    "Hanneke", "Ilse", "Jolanda", "Kirsten", "Marleen", "Nicole", "Saskia", "Simone", "Suzanne", "Tamara",
    "Dewi", "Lieve", "Floor", "Jente", "Marit", "Silke", "Hiba", "Amira", "Nadia", "Samira",
    "Imane", "Hajar", "Loubna", "Meryem", "Hatice", "Emine", "Fatma", "Zehra", "Songül", "Derya",
    "Esra", "Kübra", "Aylin", "Gizem", "Ewa", "Katarzyna", "Joanna", "Oksana", "Olena", "Shanti",
    "Reshma", "Anjali", "Aïcha", "Hélène", "Maëlle", "Céline", "Ngọc Anh", "Mariam", "Hanna", "Selin",
]  # fmt: skip
MALE_FIRST += [
    "Jesse", "Ruben", "Stijn", "Tim", "Lars", "Sven", "Max", "Luuk", "Milan", "Julian",
    "Tom", "Niels", "Koen", "Rick", "Mark", "Martijn", "Dennis", "Erik", "Frank", "Hans",
    "Peter", "Paul", "Rob", "Marco", "Johan", "Arjan", "Michiel", "Roel", "Sander", "Vincent",
    "Wim", "Piet", "Klaas", "Dirk", "Hendrik", "Jacob", "Cornelis", "Gert", "Harm", "Albert",
    "Anton", "Arie", "Bert", "Evert", "Fokke", "Sietse", "Douwe", "Hidde", "Wessel", "Jelle",
    "Olivier", "Mees", "Siem", "Boaz", "Bilal", "Hamza", "Adam", "Rayan", "Omar", "Youssef",
    "Mehdi", "Karim", "Nordin", "Anouar", "Mehmet", "Ali", "Hasan", "Murat", "Kemal", "Serkan",
    "Burak", "Cem", "Oğuz", "Tolga", "Piotr", "Tomasz", "Krzysztof", "Paweł", "Andrzej", "Dmitri",
    "Oleksandr", "Ashwin", "Sanjay", "Vikash", "Anand", "Kofi", "Yaw", "Mulugeta", "Tesfay", "François",
    "Raphaël", "Noël", "Matthijs", "Jorrit", "Ids", "Tjeerd", "Quinten", "Xander", "Stefan", "Thomas",
]  # fmt: skip

# --- addresses ------------------------------------------------------------------------------------

_STREET_HEADS = [
    "Kerk", "Dorps", "Molen", "School", "Juliana", "Beatrix", "Wilhelmina", "Oranje", "Nassau", "Emma",
    "Stations", "Hoofd", "Markt", "Haven", "Linden", "Eiken", "Beuken", "Berken", "Populieren", "Kastanje",
    "Esdoorn", "Tulpen", "Rozen", "Narcissen", "Zonnebloem", "Vondel", "Rembrandt", "Vermeer", "Erasmus",
    "Spinoza", "Thorbecke", "Prins Hendrik", "Koningin Emma", "Burgemeester de Wit", "Van Goghs",
    "Sint Jans", "Noorder", "Zuider", "Ooster", "Wester", "Nieuwe", "Oude", "Lange", "Korte", "Hooge",
    "Brink", "Weide", "Akker", "Schapen", "Koe", "Paarden", "Vissers", "Bakkers", "Smeden", "Brouwers",
]  # fmt: skip
_STREET_TAILS = [
    "straat", "straat", "straat", "laan", "laan", "weg", "weg", "plein", "kade", "singel",
    "gracht", "dijk", "pad", "hof", "steeg", "park",
]  # fmt: skip
SPECIAL_STREETS = [
    "Coolsingel", "Oudegracht", "Lange Voorhout", "Noorderhaven", "Damrak", "Rokin", "Kalverstraat",
    "Vismarkt", "Grote Markt", "Brink", "Stationsplein", "Buitenhof", "Binnenweg", "Hereweg",
    "Van 't Hoffstraat", "Willem de Zwijgerlaan", "Prinses Margrietlaan", "Dr. Schaepmanstraat",
    "Burg. Reigerstraat", "Prof. Dondersstraat", "Mr. Visserplein", "Ruysdaelkade", "Lindengracht",
]  # fmt: skip

# postcode region (first two digits) -> a city of that region; the rest draw from OTHER_CITIES
_REGION_CITIES = {
    10: "Amsterdam", 11: "Amsterdam", 13: "Almere", 14: "Purmerend", 15: "Zaandam", 16: "Hoorn",
    17: "Heerhugowaard", 18: "Alkmaar", 19: "Beverwijk", 20: "Haarlem", 21: "Hoofddorp", 22: "Katwijk",
    23: "Leiden", 24: "Alphen aan den Rijn", 25: "Den Haag", 26: "Delft", 27: "Zoetermeer",
    28: "Gouda", 29: "Capelle aan den IJssel", 30: "Rotterdam", 31: "Schiedam", 32: "Spijkenisse",
    33: "Dordrecht", 34: "Nieuwegein", 35: "Utrecht", 36: "Maarssen", 37: "Zeist", 38: "Amersfoort",
    39: "Veenendaal", 40: "Tiel", 41: "Culemborg", 42: "Gorinchem", 43: "Middelburg", 44: "Goes",
    45: "Terneuzen", 46: "Bergen op Zoom", 47: "Roosendaal", 48: "Breda", 49: "Oosterhout",
    50: "Tilburg", 51: "Dongen", 52: "'s-Hertogenbosch", 53: "Zaltbommel", 54: "Uden", 55: "Veldhoven",
    56: "Eindhoven", 57: "Helmond", 58: "Venray", 59: "Venlo", 60: "Weert", 61: "Sittard",
    62: "Maastricht", 63: "Valkenburg", 64: "Heerlen", 65: "Nijmegen", 66: "Wijchen", 67: "Ede",
    68: "Arnhem", 69: "Zevenaar", 70: "Doetinchem", 71: "Winterswijk", 72: "Zutphen", 73: "Apeldoorn",
    74: "Deventer", 75: "Enschede", 76: "Almelo", 77: "Hardenberg", 78: "Emmen", 79: "Hoogeveen",
    80: "Zwolle", 81: "Raalte", 82: "Lelystad", 83: "Emmeloord", 84: "Heerenveen", 85: "Joure",
    86: "Sneek", 87: "Bolsward", 88: "Franeker", 89: "Leeuwarden", 90: "Dokkum", 91: "Drachten",
    92: "Drachten", 93: "Roden", 94: "Assen", 95: "Stadskanaal", 96: "Hoogezand", 97: "Groningen",
    98: "Groningen", 99: "Delfzijl",
}  # fmt: skip
OTHER_CITIES = ["Súdwest-Fryslân", "Den Helder", "Vlaardingen", "Hengelo", "Oss", "Meppel", "Kampen"]

# postcode letter pairs PostNL never issues
UNUSED_LETTERS = {"SA", "SD", "SS"}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# stored (normalised) suffixes and how often they occur
_SUFFIXES = ["", "A", "B", "C", "D", "H", "1", "2", "3", "BIS"]
_SUFFIX_WEIGHTS = [78, 6, 4, 1, 1, 2, 3, 3, 1, 1]
_HOUSEHOLD_SIZES = [1, 2, 3, 4, 5]
# ~2.1 persons per household, as in docs/performance.md
_HOUSEHOLD_WEIGHTS = [38, 30, 17, 10, 5]

# --- plans ----------------------------------------------------------------------------------------

AGREEMENTS = [
    ("Melding van geluidsoverlast op dit adres", "Direct uitrukken met prioriteit 1.", "police"),
    ("Vermoeden van huiselijk geweld", "Aanhouden en het protocol tijdelijk huisverbod starten.", "police"),
    ("De kinderen kunnen niet thuis blijven", "Kinderen naar het netwerk (zie contacten).", "network"),
    ("Na elke inzet", "Bel de piketdienst van Jeugdbescherming.", "youth_protection"),
    ("Altijd", "Maak een melding bij Veilig Thuis.", "veilig_thuis"),
    ("Escalatie buiten kantoortijd", "CIT inschakelen voor een crisisbeoordeling.", "cit"),
    ("De volgende werkdag", "Wijkteam informeren over de inzet.", "social_team"),
]  # fmt: skip
RELATIONS = ["tante", "oom", "oma", "opa", "buurvrouw", "zus", "broer", "vriendin"]
RISK_SIGNALS = list(RiskSignal.codes())
FAMILY_PROFILES = [None, *FamilyProfile.codes()]

ORGANISATION_NAME = "Jeugdbescherming Benchmark (synthetisch)"


def _cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


class Names:
    """Names as skewed as the population's: a crowded head and a long tail of surnames; first
    names most common first, with Zipf-like weights (the most common about 2 % of each sex)."""

    def __init__(self) -> None:
        self.head = COMMON_SURNAMES
        self.head_weights = _cumulative([1.0 / math.sqrt(rank + 1) for rank in range(len(self.head))])
        self.tail = [
            (prefix, _joined(_joined(head, link), end))
            for head in _TAIL_HEADS
            for link in _TAIL_LINKS
            for end in _TAIL_ENDS
            for prefix in ("", _TAIL_PREFIXES[(len(head) + len(link) + len(end)) % len(_TAIL_PREFIXES)])
        ]
        self.firsts = {
            sex: (names, _cumulative([1.0 / (rank + 10) for rank in range(len(names))]))
            for sex, names in (("f", FEMALE_FIRST), ("m", MALE_FIRST))
        }

    def surname(self, rng: random.Random) -> tuple[str, str]:
        if rng.random() < HEAD_SHARE:
            return rng.choices(self.head, cum_weights=self.head_weights)[0]
        return rng.choice(self.tail)

    def first(self, rng: random.Random, sex: str | None = None) -> str:
        """A first name of a woman ('f'), a man ('m') or either (None)."""
        names, weights = self.firsts[sex or rng.choice("fm")]
        return rng.choices(names, cum_weights=weights)[0]


def _joined(head: str, end: str) -> str:
    # 'Veld' + 'dijk': 'Veldijk', as such names are written
    return head + end[1:] if end and head.endswith(end[0]) else head + end.lower()


def street_names() -> list[str]:
    return sorted({head + tail for head in _STREET_HEADS for tail in _STREET_TAILS}) + SPECIAL_STREETS


def city_for(postcode_number: int, rng: random.Random) -> str:
    return _REGION_CITIES.get(postcode_number // 100) or rng.choice(OTHER_CITIES)


@dataclass
class Generated:
    households: int
    persons: int
    plan_changes: int
    seconds: float


class _Pools:
    """Unique phone numbers and addresses."""

    def __init__(self) -> None:
        self.phones: set[int] = set()
        self.addresses: set[tuple[str, int, str]] = set()

    def mobile(self, rng: random.Random) -> str:
        # 06-2xxxxxxx .. 06-4xxxxxxx: valid for phonenumbers, invented for the benchmark
        while True:
            number = rng.randint(20000000, 49999999)
            if number not in self.phones:
                self.phones.add(number)
                return f"+316{number}"

    def address(self, rng: random.Random) -> tuple[str, int, str]:
        while True:
            number = rng.randint(1000, 9999)
            letters = rng.choice(LETTERS) + rng.choice(LETTERS)
            if letters in UNUSED_LETTERS:
                continue
            house = min(1 + int(rng.expovariate(1 / 40)), 2500)
            suffix = rng.choices(_SUFFIXES, weights=_SUFFIX_WEIGHTS)[0]
            key = (f"{number}{letters}", house, suffix)
            if key not in self.addresses:
                self.addresses.add(key)
                return key


def birth_date(rng: random.Random, today: date, min_years: int, max_years: int) -> date:
    return today - timedelta(days=rng.randint(min_years * 365 + 1, max_years * 365 + 364))


def mean_household_size() -> float:
    """Persons per household the generator averages (≈2.14)."""
    return sum(s * w for s, w in zip(_HOUSEHOLD_SIZES, _HOUSEHOLD_WEIGHTS, strict=True)) / sum(
        _HOUSEHOLD_WEIGHTS
    )


def generate(
    url: str,
    households: int | None = None,
    seed: int = 20261122,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    *,
    persons: int | None = None,
) -> Generated:
    """Insert synthetic households into an empty database at `url` (schema at head): exactly
    `households` of them, or (`persons`) households until exactly that many persons exist, the
    last household cut short if need be. `progress` is told the households or persons added."""
    if (households is None) == (persons is None):
        raise ValueError("give households or persons")
    from sqlalchemy import insert, select

    from registry.core.db import engine_for
    from registry.core.models import (
        Address,
        Agreement,
        Contact,
        Organisation,
        Person,
        Plan,
        PlanChange,
        PlanVersion,
    )
    from registry.core.timeutil import local_today, utcnow

    started = time.perf_counter()
    rng = random.Random(seed)
    names = Names()
    streets = street_names()
    pools = _Pools()
    today = local_today()
    now = utcnow()
    engine = engine_for(url)
    tables: dict[str, Any] = {
        "plans": Plan.__table__,
        "plan_versions": PlanVersion.__table__,
        "addresses": Address.__table__,
        "persons": Person.__table__,
        "agreements": Agreement.__table__,
        "contacts": Contact.__table__,
        "plan_changes": PlanChange.__table__,
    }
    with engine.begin() as connection:
        if connection.scalar(select(Plan.id).limit(1)) is not None:
            raise RuntimeError("the database already holds plans: the benchmark needs a fresh one")
        org_id = connection.scalar(
            insert(Organisation)
            .values(name=ORGANISATION_NAME, kind="youth_protection", created_at=now)
            .returning(Organisation.id)
        )

    person_id = 0
    done = 0

    def wanted() -> bool:
        return done < households if households is not None else person_id < (persons or 0)

    while wanted():
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        persons_before = person_id
        for index in range(done + 1, done + batch + 1):
            if index > (households or index) or person_id >= (persons or person_id + 1):
                break  # enough households, or enough persons
            plan_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            version_id = index  # one version per plan: ids line up with the household number
            family_prefix, family_surname = names.surname(rng)
            valid_until = today + timedelta(days=rng.randint(7, 182))
            rows["plans"].append(
                {
                    "id": plan_id,
                    "owner_organisation_id": org_id,
                    "status": PlanStatus.ACTIVE,
                    "current_version": 1,
                    "valid_until": valid_until,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            owner_first = names.first(rng)
            owner_prefix, owner_surname = names.surname(rng)
            rows["plan_versions"].append(
                {
                    "id": version_id,
                    "plan_id": plan_id,
                    "version": 1,
                    "title": "Handelingskader familie "
                    + " ".join(p for p in (family_prefix, family_surname) if p),
                    "summary": "Synthetisch huishouden voor de benchmark.",
                    "valid_from": today - timedelta(days=rng.randint(0, 120)),
                    "valid_until": valid_until,
                    "family_profiles": [rng.choice(FAMILY_PROFILES)],
                    "risk_signals": sorted(rng.sample(RISK_SIGNALS, rng.choice([0, 1, 1, 2, 3]))),
                    "owner_name": " ".join(p for p in (owner_first, owner_prefix, owner_surname) if p),
                    "owner_phone": f"+3188{rng.randint(1000000, 9999999)}",
                    "created_by_id": None,
                    "created_at": now,
                }
            )
            postcode, house_number, suffix = pools.address(rng)
            rows["addresses"].append(
                {
                    "id": index,
                    "plan_version_id": version_id,
                    "postcode": postcode,
                    "house_number": house_number,
                    "house_number_suffix": suffix,
                    "street": rng.choice(streets),
                    "city": city_for(int(postcode[:4]), rng),
                    "role": "residence",
                }
            )
            size = rng.choices(_HOUSEHOLD_SIZES, weights=_HOUSEHOLD_WEIGHTS)[0]
            if persons is not None:
                size = min(size, persons - person_id)
            for member in range(size):
                person_id += 1
                if member == 0:
                    role, adult, do_not_inform = "victim", True, False
                    # half of the partners kept their own surname
                    prefix, surname = (
                        (family_prefix, family_surname) if rng.random() < 0.5 else names.surname(rng)
                    )
                elif member == 1:
                    role, adult, do_not_inform = "perpetrator", True, True
                    prefix, surname = family_prefix, family_surname
                else:
                    adult = rng.random() < 0.1  # a grandparent or adult child now and then
                    role, do_not_inform = ("other" if adult else "child"), False
                    prefix, surname = family_prefix, family_surname
                born: date | None = birth_date(rng, today, 18, 80) if adult else birth_date(rng, today, 0, 17)
                if rng.random() < 0.04:
                    born = None  # not known to the registrant
                age = (today - born).days // 365 if born else 30
                has_phone = rng.random() < (0.85 if adult else 0.4 if age >= 12 else 0.0)
                rows["persons"].append(
                    {
                        "id": person_id,
                        "plan_version_id": version_id,
                        "first_name": names.first(rng),
                        "surname_prefix": prefix,
                        "surname": surname,
                        "birth_date": born,
                        "role": role,
                        "phone": pools.mobile(rng) if has_phone else None,
                        "do_not_inform": do_not_inform,
                    }
                )
            for position, (trigger, action, actor) in enumerate(rng.sample(AGREEMENTS, 2), start=1):
                rows["agreements"].append(
                    {
                        "plan_version_id": version_id,
                        "position": position,
                        "trigger": trigger,
                        "action": action,
                        "actor": actor,
                    }
                )
            relative_prefix, relative_surname = names.surname(rng)
            rows["contacts"].append(
                {
                    "plan_version_id": version_id,
                    "name": " ".join(
                        p for p in (names.first(rng, "f"), relative_prefix, relative_surname) if p
                    ),
                    "relation": rng.choice(RELATIONS),
                    "phone": pools.mobile(rng),
                    "available": rng.choice(["dag en nacht", "na 17.00 uur", "overdag", "in het weekend"]),
                }
            )
            rows["contacts"].append(
                {
                    "plan_version_id": version_id,
                    "name": "Piketdienst Jeugdbescherming",
                    "relation": "achtervang",
                    "phone": f"+3188{rng.randint(1000000, 9999999)}",
                    "available": "24/7",
                }
            )
            rows["plan_changes"].append({"plan_id": plan_id, "changed_at": now})
        with engine.begin() as connection:
            for name, table in tables.items():
                connection.execute(insert(table), rows[name])
        if progress is not None:
            progress(len(rows["plans"]) if persons is None else person_id - persons_before)
        done += len(rows["plans"])
    engine.dispose()
    return Generated(done, person_id, done, time.perf_counter() - started)

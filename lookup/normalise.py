"""Normal forms for searching: what the caller says, folded the way the index stores it.

Pure functions. Stored values (postcode, suffix, phone) are normalised by registry.core.normalise;
this module builds on it so that query and store can never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from registry.core import normalise as stored
from registry.core.vocabulary import QueryKind

postcode = stored.postcode
house_number_suffix = stored.house_number_suffix
phone = stored.phone

# letters that NFKD does not decompose into a base letter + accent
_SPECIAL = str.maketrans(
    {"ß": "ss", "ı": "i", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
     "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "ð": "d",
     # typographic apostrophes vanish like the plain one: d’Ancona = d'Ancona = dancona
     "’": "", "‘": "", "`": "", "'": ""}
)  # fmt: skip
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lowercase, no diacritics, punctuation to spaces: 'Noë' -> 'noe', 'Ünal' -> 'unal'."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower().translate(_SPECIAL))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", bare.lower()).split())


# --- house numbers ------------------------------------------------------------------------------

# all the digits, then the range check: '100000' is refused, not read as 10000 + suffix '0'
_HOUSE = re.compile(r"^\s*(\d+)\s*(?:[-/.]\s*)?([0-9a-zA-Z][0-9a-zA-Z\s\-]{0,14})?\s*$")


def house_number(text: str) -> tuple[int, str] | None:
    """'12a', '12-A', '12 bis', '12-2hoog', '12 II' -> (12, 'A'), (12, 'A'), (12, 'BIS'),
    (12, '2HOOG'), (12, 'II'); None when there is no house number 1..99999."""
    match = _HOUSE.match(text or "")
    if not match or len(match.group(1)) > 5:
        return None
    number = int(match.group(1))
    if not 1 <= number <= 99999:
        return None
    return number, house_number_suffix(match.group(2))


# --- streets and cities -------------------------------------------------------------------------

# written abbreviations, as folded words (the dot is gone by then)
_STREET_WORDS = {
    "str": "straat",
    "strt": "straat",
    "ln": "laan",
    "wg": "weg",
    "pl": "plein",
    "gr": "gracht",
    "burg": "burgemeester",
    "burgem": "burgemeester",
    "pr": "prins",
    "pres": "president",
    "st": "sint",
    "mr": "meester",
    "dr": "dokter",
    "prof": "professor",
    "v": "van",
    "vd": "van der",
    "kon": "koningin",
    "jhr": "jonkheer",
    "ds": "dominee",
}
# compounds written as one word or two: 'kerk straat', 'kerkstr' -> 'kerkstraat'
_SUFFIX_ABBREVIATIONS = (("str", "straat"), ("ln", "laan"), ("pln", "plein"), ("wg", "weg"))
_STREET_TAILS = (
    "straat",
    "laan",
    "weg",
    "plein",
    "gracht",
    "kade",
    "singel",
    "dijk",
    "steeg",
    "hof",
    "park",
    "pad",
)


def street(text: str) -> str:
    """'Burg. de Withstr.' -> 'burgemeester de withstraat'; 'Kerk straat' -> 'kerkstraat'."""
    words = [_STREET_WORDS.get(word, word) for word in fold(text).split()]
    out: list[str] = []
    for word in " ".join(words).split():
        for short, full in _SUFFIX_ABBREVIATIONS:
            if word.endswith(short) and len(word) > len(short) + 2 and not word.endswith(full):
                word = word[: -len(short)] + full
                break
        if out and word in _STREET_TAILS:
            out[-1] += word  # 'kerk straat' is how people say 'kerkstraat'
            continue
        out.append(word)
    return " ".join(out)


_CITY_ALIASES = {
    "den haag": "s gravenhage",
    "the hague": "s gravenhage",
    "den bosch": "s hertogenbosch",
    "s hertogenbosch": "s hertogenbosch",
    "hertogenbosch": "s hertogenbosch",
}


def city(text: str) -> str:
    """'Den Haag' and "'s-Gravenhage" -> 's gravenhage'; 'Ámsterdam' -> 'amsterdam'."""
    folded = fold(text)
    return _CITY_ALIASES.get(folded, folded)


# --- person names -------------------------------------------------------------------------------

# tussenvoegsels, folded; longest first so that 'van der' wins over 'van'
PREFIXES = tuple(
    sorted(
        {
            "van", "van de", "van der", "van den", "van het", "van t", "van s", "de", "der", "den",
            "het", "t", "te", "ter", "ten", "in t", "in het", "in de", "op de", "op den", "op t",
            "uit de", "uit den", "uit het", "aan de", "aan den", "bij de", "onder de", "over de",
            "voor de", "vd", "v d", "la", "le", "du", "da", "di", "dos", "des", "von", "von der", "zu", "s",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip


@dataclass(frozen=True)
class Name:
    """A folded name: `core` is the surname without its tussenvoegsel ('veen' for 'van der Veen')."""

    first: str
    prefix: str
    core: str

    @property
    def full(self) -> str:
        return " ".join(part for part in (self.first, self.prefix, self.core) if part)


def split_prefix(surname: str) -> tuple[str, str]:
    """'van der Veen' -> ('van der', 'veen'); 'Veen' -> ('', 'veen'); "van 't Hof" -> ('van t', 'hof')."""
    folded = fold(surname)
    for prefix in PREFIXES:
        if folded.startswith(prefix + " ") and len(folded) > len(prefix) + 1:
            return prefix, folded[len(prefix) + 1 :]
    return "", folded


def stored_name(first_name: str, surname_prefix: str, surname: str) -> Name:
    """A registered person's name, whether the prefix was typed in its own field or not."""
    prefix, core = split_prefix(surname)
    return Name(fold(first_name), fold(surname_prefix) or prefix, core)


def query_name(text: str) -> Name:
    """What a caller says: 'Noë van der Veen', 'van der Veen', 'Veen', 'Veen, Noë', 'N. van der Veen'."""
    if "," in text:
        surname_part, _, first_part = text.partition(",")
        prefix, core = split_prefix(surname_part)
        first = fold(first_part)
        if not prefix:
            # the register's order puts the tussenvoegsel last: 'Veen, Noë van der'
            for candidate in PREFIXES:
                if first == candidate or first.endswith(" " + candidate):
                    return Name(first[: -len(candidate)].strip(), candidate, core)
        return Name(first, prefix, core)
    words = fold(text).split()
    if not words:
        return Name("", "", "")
    prefix, core = split_prefix(" ".join(words))
    if prefix:
        return Name("", prefix, core)  # 'van der Veen', "van 't Hof": the surname alone
    # the first prefix word after the first word starts the surname: 'noe van der veen'
    for index in range(1, len(words)):
        rest = " ".join(words[index:])
        for prefix in PREFIXES:
            if rest.startswith(prefix + " "):
                return Name(" ".join(words[:index]), prefix, rest[len(prefix) + 1 :])
    if len(words) == 1:
        return Name("", "", words[0])
    return Name(" ".join(words[:-1]), "", words[-1])


# --- the one search field -----------------------------------------------------------------------

_DATE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
# not followed by a letter, but possibly by the house number: '9401AB14'
_POSTCODE_IN_TEXT = re.compile(r"\b([1-9]\d{3})\s*([A-Za-z]{2})(?![A-Za-z])")
# a suffix is attached ('14a', '14-A', '12-2hoog') or, after a space, one letter or 'bis'
# ('14 a', '12 bis'): '3 Den Haag' keeps its city
_NUMBER_IN_TEXT = re.compile(
    r"(?<![\d+])(\d{1,5})"
    r"(?:\s*[-/]\s*(?:\d{1,2}\s*hoog|[a-zA-Z0-9]{1,4})\b|(?:\d{1,2}\s*hoog|[a-zA-Z]{1,4})\b"
    r"|\s+(?:[a-zA-Z]|bis|\d{1,2}\s*hoog)\b(?!\s*[-/]))?",
    re.IGNORECASE,
)
_PHONE_LIKE = re.compile(r"^[\s+()\-.\d]{8,}$")
# an ordinal that belongs to the street name: '1e Kerkstraat 3', '2de Hugo de Grootstraat 7'
_ORDINAL = re.compile(r"^\s*\d{1,2}\s*(?:e|de|ste)\s+(?=[^\W\d_])", re.IGNORECASE)


@dataclass(frozen=True)
class AddressText:
    """A free-text address: 'Kerkstr. 14a, Assen' -> street 'kerkstraat', 14, 'A', city 'assen'."""

    street: str
    house_number: int | None
    house_number_suffix: str
    city: str


def address_text(text: str) -> AddressText:
    text = text or ""
    ordinal = _ORDINAL.match(text)
    match = _NUMBER_IN_TEXT.search(text, ordinal.end() if ordinal else 0)
    if match is None:
        return AddressText(street(text), None, "", "")
    parsed = house_number(match.group(0))
    number, suffix = parsed if parsed else (None, "")
    before, after = text[: match.start()], text[match.end() :]
    if not fold(before) and len(fold(after).split()) > 1:
        # the number said first: '14 Kerkstraat Assen' -> street 'kerkstraat', city 'assen'
        *street_words, city_word = after.replace(",", " ").split()
        return AddressText(street(" ".join(street_words)), number, suffix, city(city_word))
    if not fold(before):
        return AddressText(street(after), number, suffix, "")
    return AddressText(street(before), number, suffix, city(after))


@dataclass(frozen=True)
class Query:
    """What the single search field of the lookup page was understood as."""

    kind: QueryKind
    postcode: str | None = None
    house_number: int | None = None
    house_number_suffix: str = ""
    text: str = ""
    name: str = ""
    birth_date: date | None = None
    phone: str | None = None


def parse_date(text: str) -> date | None:
    match = _DATE.search(text)
    if not match:
        return None
    try:
        if match.group(1):
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date(int(match.group(4)), int(match.group(5)), int(match.group(6)))
    except ValueError:
        return None


def understand(text: str) -> Query | None:
    """'9401AB 14' -> address; 'Kerkstraat 14 Assen' -> address_text; '06-12345678' -> phone;
    'Noë van der Veen 02-01-1990' -> person (with birth date); None for nothing usable."""
    text = (text or "").strip()
    if not text:
        return None
    if _PHONE_LIKE.match(text) and (e164 := phone(text)):
        return Query(QueryKind.PHONE, phone=e164)
    born = parse_date(text)
    without_date = _DATE.sub(" ", text).strip() if born else text
    pc = _POSTCODE_IN_TEXT.search(without_date)
    if pc and postcode(pc.group(0)):
        rest = (without_date[: pc.start()] + " " + without_date[pc.end() :]).strip()
        number = _NUMBER_IN_TEXT.search(rest)
        if number:
            parsed = house_number(number.group(0))
            if parsed:
                return Query(
                    QueryKind.ADDRESS,
                    postcode=postcode(pc.group(0)),
                    house_number=parsed[0],
                    house_number_suffix=parsed[1],
                )
    if _NUMBER_IN_TEXT.search(without_date) and not born and re.search(r"[A-Za-z]", without_date):
        return Query(QueryKind.ADDRESS_TEXT, text=without_date)
    if re.search(r"[^\W\d_]", without_date):
        return Query(QueryKind.PERSON, name=without_date, birth_date=born)
    return None


# --- a signal's reference ----------------------------------------------------------------------

#: Crockford's base32: no I, L, O or U, so that a reference read aloud or typed over is read alike
SIGNAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SIGNAL_GROUPS = 3  # of four characters: 60 random bits
_SIGNAL_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# the dashes are part of it: a name ('Sandervanveen') is never taken for a reference
_SIGNAL_REFERENCE = re.compile(r"^\s*S-([0-9A-Z]{4})-([0-9A-Z]{4})-([0-9A-Z]{4})\s*$", re.IGNORECASE)


def signal_reference(text: str) -> str | None:
    """A signal's reference as typed ('s-7kq4-m9xd-2hpt', an O for a zero) in its one form
    'S-7KQ4-M9XD-2HPT'; None when it is not one."""
    match = _SIGNAL_REFERENCE.match(text or "")
    if match is None:
        return None
    groups = [group.upper().translate(_SIGNAL_LOOKALIKES) for group in match.groups()]
    if any(character not in SIGNAL_ALPHABET for group in groups for character in group):
        return None
    return "S-" + "-".join(groups)

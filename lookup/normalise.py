"""Normal forms for searching: what the caller says, folded the way the index stores it.

Pure functions. Stored values (postcode, suffix, phone) are normalised by registry.core.normalise;
this module builds on it so that query and store can never disagree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
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


# --- names as they sound -------------------------------------------------------------------------

# Spellings of one sound, as Dutch people say and type names, each to one form: ij/y/ei, Bos/Bosch,
# Dijk/Dyk/Deik, c/k, ph/f, dt/d/t, ch/g, double letters, oe/u, and the transliterations of
# Turkish and Arabic names (Moerat/Murat, Mohamed/Mohammed/Muhammed, Kaja/Kaya, Jilmaz/Yılmaz).
# No maintained phonetic library does Dutch (Soundex, Metaphone: English; Kölner Phonetik:
# German, digits only, far coarser): docs/performance.md says why this short list is our own.
# One pass from left to right: at each letter the first spelling that fits is written as its sound
# (so 'sch' at the end before 'ch', 'ck' before 'c'); then double letters, then the final d.
_SPELLINGS: tuple[tuple[str, str], ...] = (
    (r"sch$", "s"),  # Bosch = Bos, Den Bosch
    (r"tsj", "s"),  # Tsjelik = Çelik
    (r"sj|sh", "s"),  # Sjahin = Şahin = Shahin
    (r"ch|kh|gh", "g"),  # Lachman = Lagman, Boukhari = Boechari
    (r"ph", "f"),  # Philip = Filip
    (r"th", "t"),  # Thijs = Tijs
    (r"ck", "k"),
    (r"c(?=[eiy])", "s"),  # Cecilia = Sesilia
    (r"c", "k"),  # Cornelis = Kornelis
    (r"qu|q", "kw"),
    (r"x", "ks"),  # Hendrix = Hendriks
    (r"z", "s"),  # Janszen = Janssen, Yılmaz = Jilmas
    (r"uij|uy", "ui"),  # Huijgens = Huygens
    (r"eij|ij|ei|ey", "Y"),  # Dijk = Deik = Dyk, Meijer = Meyer = Meier
    (r"y(?=[aeiou])", "j"),  # Kaya = Kaja, Yılmaz = Jilmaz, Yusuf = Joesoef
    (r"y", "Y"),  # Dyk = Dijk
    (r"uh", "oh"),  # Muhammed = Mohammed
    (r"oe|ou", "u"),  # Moerat = Mourad = Murat, Boezid = Bouzid
    (r"ae", "a"),  # Maes = Maas
    (r"ie", "i"),  # Marieke = Marike
)
_SPELLING = re.compile(
    "|".join(f"(?P<s{number}>{pattern})" for number, (pattern, _) in enumerate(_SPELLINGS))
)
_SOUNDS = {f"s{number}": sound for number, (_, sound) in enumerate(_SPELLINGS)}
_DOUBLE = re.compile(r"(.)\1+")  # Bakker = Baker, Mohammed = Mohamed
_FINAL_D = re.compile(r"dt$|d$")  # Brandt = Brand = Brant, Ahmed = Ahmet


def _sound_of(match: re.Match[str]) -> str:
    return _SOUNDS[match.lastgroup or ""]


def sound_of_word(word: str) -> str:
    """The sound of one folded word: the spellings of one sound written one way
    ('dijk', 'dyk', 'deik' -> 'dYk'; 'moerat', 'murat', 'mourad' -> 'murat'). Not a word to show."""
    return _sound(word)


@functools.lru_cache(maxsize=65536)
def _sound(word: str) -> str:
    return _FINAL_D.sub("t", _DOUBLE.sub(r"\1", _SPELLING.sub(_sound_of, word)))


def sound(text: str) -> str:
    """The sound of folded words, word by word ('mohammed el amrani' -> 'mohamet el amrani')."""
    return " ".join(_sound(word) for word in text.split())


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
        # no number: the words after the street are the city ('Lindenlaan Assen')
        words = street(text).split()
        for index, word in enumerate(words[:-1]):
            if word.endswith(_STREET_ENDINGS):
                return AddressText(" ".join(words[: index + 1]), None, "", city(" ".join(words[index + 1 :])))
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
    """What the single search field of the lookup page was understood as; `other` is the other
    way the same text can be read (a name or an address), offered on the page with one key."""

    kind: QueryKind
    postcode: str | None = None
    house_number: int | None = None
    house_number_suffix: str = ""
    text: str = ""
    name: str = ""
    birth_date: date | None = None
    phone: str | None = None
    birth_year: int | None = None
    other: QueryKind | None = None


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


# a year of birth said with a name: 'Kaya 1988' (four digits standing alone)
_YEAR = re.compile(r"(?<![\w\-/.])((?:19|20)\d{2})(?![\w\-/.])")
FIRST_BIRTH_YEAR = 1900
# the words that make a text an address even without a house number ('Lindenlaan Assen'), folded:
# street endings that are rare in surnames ('dijk', 'hof', 'kamp' and 'veld' are common in both)
_STREET_ENDINGS = ("straat", "laan", "plein", "gracht", "kade", "singel", "steeg", "dreef", "markt", "weg")
_LETTER = re.compile(r"[^\W\d_]")


def _names_a_street(text: str) -> bool:
    """Whether a word of the text is a street ('Lindenlaan', 'Kerkstr.', 'Kerk straat')."""
    return any(
        word.endswith(_STREET_ENDINGS) and (len(word) > 4 or word in _STREET_ENDINGS)
        for word in street(text).split()
    )


def birth_year(text: str, this_year: int) -> tuple[str, int | None]:
    """A year of birth said with a name: 'Kaya 1988' -> ('Kaya', 1988); the text as it is
    when it holds no year from FIRST_BIRTH_YEAR to this year, or more than one number."""
    if len(re.findall(r"\d+", text)) != 1:
        return text, None
    match = _YEAR.search(text)
    if match is None or not FIRST_BIRTH_YEAR <= int(match.group(1)) <= this_year:
        return text, None
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).replace(",", " ").split())
    return rest, int(match.group(1))


def understand(text: str, read_as: str | None = None, this_year: int | None = None) -> Query | None:
    """'9401AB 14' -> address; 'Kerkstraat 14 Assen', 'Lindenlaan Assen' -> address_text;
    '06-12345678' -> phone; 'Noë van der Veen 02-01-1990' -> person (with birth date); 'Kaya 1988'
    -> person born in 1988 (not Kayastraat 1988); None for nothing usable.

    `read_as` ('person' or 'address_text') reads a text of words the other way than it would be
    read: the page's "Lees als …" button. Each reading of a name or an address names the other
    reading (`other`) when the text can be read that way too."""
    text = (text or "").strip()
    if not text:
        return None
    if _PHONE_LIKE.match(text) and (e164 := phone(text)):
        return Query(QueryKind.PHONE, phone=e164)
    year_now = this_year or date.today().year
    born = parse_date(text)
    without_date = _DATE.sub(" ", text).strip() if born else text
    pc = _POSTCODE_IN_TEXT.search(without_date)
    if pc and postcode(pc.group(0)) and read_as is None:
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
    if not _LETTER.search(without_date):
        return None
    name, year = (without_date, None) if born else birth_year(without_date, year_now)
    has_number = bool(_NUMBER_IN_TEXT.search(without_date))
    as_person = Query(
        QueryKind.PERSON,
        name=" ".join(re.sub(r"\d+", " ", name).split()) if read_as == QueryKind.PERSON else name,
        birth_date=born,
        birth_year=year,
        other=QueryKind.ADDRESS_TEXT,
    )
    as_address = Query(
        QueryKind.ADDRESS_TEXT, text=without_date, other=QueryKind.PERSON if born is None else None
    )
    if not _LETTER.search(as_person.name):
        as_person = replace(as_person, name="")
    if read_as == QueryKind.PERSON:
        return as_person if as_person.name else None
    if read_as == QueryKind.ADDRESS_TEXT:
        return as_address if born is None else None
    if born is not None:
        # a full date is a birth date: a name, never an address
        return replace(as_person, other=None)
    if _names_a_street(without_date):
        return as_address
    if year is not None or not has_number:
        return as_person if as_person.name else None
    return as_address


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

"""Exclusions: numbers that are not figures (dates, times, ages, identifiers, page furniture).

Each rule reads only the characters around the number; `rejection` names the first that applies."""

from __future__ import annotations

import re

from newsmon.figures.lexicon import MONTH_NAMES, word_set
from newsmon.figures.numerals import Numeral

_MONTH = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_SMALL_WORDS = "one two three four five six seven eight nine ten"
_SMALL = {w: i for i, w in enumerate(_SMALL_WORDS.split(), start=1)}
_NUMBER_WORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
# "one in five adults", "3 in 10 voters": a proportion, not a count (N below a round M)
_PROPORTION_AFTER = re.compile(rf"^\s+in\s+({_NUMBER_WORD})\b(?![.,]\d)", re.I)
_PROPORTION_BEFORE = re.compile(rf"\b({_NUMBER_WORD})\s+in\s+$", re.I)
_PROPORTION_DENOMINATORS = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 50, 100, 1000})

# (reason, pattern over the characters glued to the numeral's left)
_TOUCHING_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("identifier", re.compile(r"(?:[A-Za-z]-?|[#№])$")),  # Su-27, G7, MH17, #3
    ("date or time", re.compile(r"\d[:/.]$")),  # 14:05, 9/11, 21.10.2024
    ("phone or ticker", re.compile(r"\d\s$")),  # 020 7946 0958, "S&P 500 5,120.3"
    ("signed ticker value", re.compile(r"(?:^|\s)[+\-−]$")),  # +0.4%
)
# (reason, pattern over the text before the figure, i.e. before its qualifier if any)
_BEFORE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("date", re.compile(rf"\b(?:{_MONTH})\.?\s+$")),  # June 19, Jan. 9, October 2022
    ("date", re.compile(rf"\b(?:{_MONTH})\.?\s+\d{{1,2}}\s*(?:to|-|–|and)\s*$")),  # June 13 to 15
    ("age", re.compile(r"\b(?:aged|age|ages)\s+(?:between\s+)?$", re.I)),
    (
        "page furniture",
        re.compile(
            r"\b(?:page|photo|image|slide|picture|part|episode|step|item)"
            r"\s+\d+\s+of\s+$",
            re.I,
        ),
    ),  # fmt: skip
    (
        "identifier",
        re.compile(
            r"\b(?:articles?|resolutions?|section|chapter|title|paragraph|clause|route|highway"
            r"|interstate|flight|room|gate|terminal|platform|pages?|photos?|image|slide|fig\.|table"
            r"|category|phase|episode|volume|vol\.|no\.|nos\.|(?<!now\s)(?<!still\s)(?<!to\s)"
            r"(?<!could\s)(?<!would\s)(?<!may\s)(?<!ly\s)number|windows|iphone|boeing|airbus"
            r"|apollo|top|share|call|tel\.?|phone|protocol|annex|item|exhibit|psalm|verse|code)\s+$",
            re.I,
        ),
    ),  # fmt: skip
    ("identifier", re.compile(r"\b[A-Z][A-Z&]+\s$")),  # DOW 38,120, FTSE 100, S&P 500
)
_AFTER_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("date or time", re.compile(r"^[:/]\d|^\.\d")),
    (
        "time",
        re.compile(
            r"^\s?(?:a\.m\.|p\.m\.|am\b|pm\b|GMT\b|UTC\b|BST\b|CET\b|CEST\b|EST\b"
            r"|EDT\b|ET\b|PST\b|PT\b|o'clock)"
        ),
    ),  # fmt: skip
    ("age", re.compile(r"^[-\s](?:year|month|week|day)s?[-\s]olds?\b", re.I)),
    ("date", re.compile(rf"^\s+(?:{_MONTH})\b")),
    (
        "address",
        re.compile(
            r"^\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave"
            r"|Boulevard|Blvd|Lane|Drive|Way|Place|Square|Court)\b"
        ),
    ),  # fmt: skip
    (
        "multiplier",
        re.compile(
            r"^(?:\s+times\b(?!\s+(?:since|so\s+far|in\s+the\s+past|a|per|each|every|over\s+the"
            r"|during|in\s+\d|(?:this|last)\s+(?:year|month|week|season)\b(?!['’]))\b)"
            r"|-?\s?fold\b)",
            re.I,
        ),
    ),  # "three times more" (a frequency, "raised rates 11 times since 2022", is a figure)
    (
        "time reference",
        re.compile(
            r"^\s+(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)"
            r"\s+(?:ago|earlier|later|before|after|prior)\b",
            re.I,
        ),
    ),  # fmt: skip
    ("page furniture", re.compile(r"^\s+min(?:ute)?s?\s+read\b", re.I)),
)
# Hyphenated words after a number that keep it a figure: units, "-strong", "-magnitude", scales.
HYPHEN_UNITS = word_set(
    "strong magnitude km kilometre kilometres kilometer kilometers metre metres meter meters mile "
    "miles foot feet inch percent tonne tonnes ton tons acre acres hectare hectares mm cm kg "
    "million billion thousand trillion dollar plus megawatt megawatts gigawatt gigawatts kilowatt "
    "kilowatts watt watts litre litres liter liters gallon gallons horsepower hp cylinder "
    "pound pounds ounce ounces yard yards storey story speed lane bed tonner"
)
# Dimension words after a length: "a 37m-long hull", "a 10km-wide zone".
DIMENSIONS = word_set("long wide high tall deep thick")
_HYPHEN_WORD = re.compile(r"-([A-Za-z]+)")
_MEASURE_QUALIFIER = re.compile(
    r"(?:up\s+to|as\s+(?:many|much|long)\s+as|more\s+than|at\s+least|nearly|almost|about"
    r"|around|roughly|some)\s",
    re.IGNORECASE,
)
# Hyphenated words after a number that make no figure: ages, "one-off", "two-way", "-odd".
_NOT_ADJECTIVE = re.compile(
    r"-(?:(?:year|month|week|day)s?-olds?|off|way|time|odd|ish|nil|all|up|on|in|out|to|and"
    r"|or|by|sided|fold|times?)\b",
    re.IGNORECASE,
)
_APPOSITION_BEFORE = re.compile(r"[A-Za-z]\s*,\s*$|[A-Za-z]\s*\($")  # "The striker, 24," / "(24)"
_APPOSITION_AFTER = re.compile(r"^\s*[,)]")
_DEFINITE_BEFORE = re.compile(
    r"\b(?:(?:the\s+)?(?:first|second|latter|former|other|last|final|bottom|top)|the|these"
    r"|those|both|all|its|their|his|her|our|my|your|whose)\s+$",
    re.I,
)
_ONE_NOT_COUNT_AFTER = re.compile(
    r"^\s+(?:of|another|or|day|time|point|way|side|hand|thing|reason|by)\b", re.I
)
_ONE_NOT_COUNT_BEFORE = re.compile(r"\b(?:no|any|every|each|at)\s+$", re.I)
_CALIBRE_AFTER = re.compile(r"^\s+(?!of\b)[a-z]+")
_CAPITALISED_BEFORE = re.compile(r"\b([A-Z][A-Za-z.-]*)\s$")
_CURRENCY_CODES = frozenset({"USD", "EUR", "GBP", "JPY", "CNY", "CHF", "RUB", "UAH", "INR"})
_FURNITURE_SENTENCE = re.compile(
    r"(?:read more|related|watch|listen|more|see also|source|video|photo|image)\s*:"
    r"|(?:updated|published|last updated|copyright|©|follow us|share|advertisement|sign up"
    r"|subscribe|getty)\b",
    re.IGNORECASE,
)
_LOWERCASE = re.compile(r"[a-z]")


def is_furniture_sentence(sentence: str) -> bool:
    """Page furniture ("Updated 14:05 GMT", "Read more: ...") or a ticker line (no lower case)."""
    return bool(_FURNITURE_SENTENCE.match(sentence)) or not _LOWERCASE.search(sentence)


def rejection(text: str, num: Numeral, floor: int, lead: int, end: int) -> str | None:
    """Why the numeral is not a figure, or None. `floor` is where the sentence starts, `lead`
    where the figure's qualifier (or the numeral) starts, `end` where the numeral (or range)
    ends."""
    if num.rejected:
        return num.rejected
    before = text[max(floor, num.start - 40) : num.start]
    lead_before = text[max(floor, lead - 60) : lead]
    after = text[end : end + 40]
    for reason, pattern in _TOUCHING_RULES:
        if pattern.search(before):
            return reason
    for reason, pattern in _BEFORE_RULES:
        if pattern.search(lead_before):
            return reason
    for reason, pattern in _AFTER_RULES:
        if pattern.search(after) and not (
            reason == "time reference" and _MEASURE_QUALIFIER.match(text, lead, num.start)
        ):
            return reason  # "up to four hours after the failure" is a measure, not a time
    hyphen = _HYPHEN_WORD.match(after)
    if hyphen and num.unit and hyphen.group(1).lower() in DIMENSIONS:
        return None
    if hyphen and _NOT_ADJECTIVE.match(after):
        return "modifier"  # 26-year-old, a one-off, a 3-0 lead (a 30-day truce is a figure)
    if _is_proportion(num.value, lead_before, after):
        return "proportion"
    if lead == num.start and _is_identifier_name(text, floor, lead):
        return "identifier"
    if (
        num.kind == "digits"
        and num.unit is None
        and num.value <= 120
        and lead == num.start
        and _is_apposition(before, after)
    ):
        return "age"
    if num.kind == "fraction" and _DEFINITE_BEFORE.search(lead_before):
        return "reference"  # "the second half of the year", "its third of the market"
    if num.kind == "words":
        if num.value <= 10 and _DEFINITE_BEFORE.search(lead_before) and not hyphen:
            return "reference"  # "the two leaders"
        if num.value == 1 and (
            _ONE_NOT_COUNT_AFTER.search(after) or _ONE_NOT_COUNT_BEFORE.search(lead_before)
        ):
            return "not a count"
    if num.unit in ("mm", "cm") and _CALIBRE_AFTER.match(after):
        return "calibre"  # "a 155mm shell", "9mm pistols"
    return None


def _is_identifier_name(text: str, floor: int, lead: int) -> bool:
    """A capitalised name right before the number, not at the sentence start: "Boeing 737",
    "Resolution 2270", "Paris 2024", "Category 3"."""
    m = _CAPITALISED_BEFORE.search(text, max(floor, lead - 30), lead)
    if not m or m.group(1) in _CURRENCY_CODES or m.group(1).rstrip(".") in MONTH_NAMES:
        return False
    return bool(text[floor : m.start()].strip())


def _small_number(word: str) -> float:
    return float(word) if word.isdigit() else float(_SMALL.get(word.lower(), 0))


def _is_proportion(value: float, before: str, after: str) -> bool:
    m = _PROPORTION_AFTER.search(after)
    if m:
        denominator = _small_number(m.group(1))
        if denominator in _PROPORTION_DENOMINATORS and value < denominator:
            return True
    m = _PROPORTION_BEFORE.search(before)
    return m is not None and value in _PROPORTION_DENOMINATORS and _small_number(m.group(1)) < value


def _is_apposition(before: str, after: str) -> bool:
    return bool(_APPOSITION_BEFORE.search(before) and _APPOSITION_AFTER.search(after))

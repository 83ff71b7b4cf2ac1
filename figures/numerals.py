"""Numerals: find number expressions in text and read their value.

Handles digits ("3,000", "2.4", "10,0000" as a typo of 10,000), attached and spelled scales
("2bn", "12k", "1.5 million"), currency symbols, number words ("twelve thousand", "a dozen",
"half a million") and vague amounts ("hundreds of", "tens of thousands")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsmon.figures.lemmas import UNIT_ALIASES
from newsmon.figures.lexicon import ONES, SCALES, TENS

_ONES_RE = "|".join(sorted(ONES, key=len, reverse=True))
_TENS_RE = "|".join(TENS)
_WORD_TOKEN = (
    rf"(?:(?:{_TENS_RE})(?:[\s-](?:{_ONES_RE}))?|{_ONES_RE}|hundred|thousand|million|billion"
    r"|trillion|quadrillion|quintillion|dozen)\b"
)
_VAGUE_BASE = {"tens": 10, "dozens": 12, "scores": 20, "hundreds": 100, "thousands": 1000,
               "millions": 1e6, "billions": 1e9}  # fmt: skip

# One alternative per kind of number; the vague kind comes first so "hundreds" is not "hundred".
CANDIDATE = re.compile(
    # a cheap gate first: a digit, a vulgar fraction, or the start of a word whose first letter
    # can open a number word (most positions fail here, before the alternatives are tried)
    r"(?:(?=[\d½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞])|(?<![A-Za-z])(?=[aAbBdDeEfFhHmMnNoOqQsStT]))"
    r"(?:\b(?P<proportion>(?:one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:in|out"
    r"\s+of)\s+(?:every\s+)?(?:two|three|four|five|six|seven|eight|nine|ten|twenty|fifty"
    r"|hundred|\d{1,3})\b)"
    r"(?![.,]\d)(?=\s+[a-z])"
    r"|(?P<slash>(?:\d{1,3}\s+)?\d{1,2}/\d{1,3})(?![/\d])(?=\s|$)"
    r"|(?P<vulgar>\d{0,3}[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞])|"
    r"(?P<digits>\d+(?:(?:,|[\u2009\u202f\u00a0](?=\d{3}(?!\d)))\d+)*(?:\.\d+)?"
    r"(?:[eE][+-]?\d{1,3}(?![\w])|\s?[×x]\s?10\^?[−-]?\d{1,3}(?![\w]))?)"
    r"|\b(?P<vague>(?:several|a\s+few)\s+(?:dozen|hundred|thousand|million|billion)\b"
    r"|(?:tens|dozens|scores|hundreds|thousands|millions|billions)"
    r"(?:\s+of\s+(?:thousands|millions|billions))?\b)"
    r"|\b(?P<half>half\s+an?)(?=\s+(?:percentage\s+point|point|per\s+cent|percent|metre|meter"
    r"|mile|kilometre|kilometer|hour|day|week|month|year|century|litre|liter|kilo|kilogram|tonne"
    r"|ton|pound|inch|foot|degree|cup|teaspoon|tablespoon)\b)"
    r"|\b(?P<fraction>(?:(?:a|one|two|three|four|five|six|seven|eight|nine)[\s-]+)?"
    r"(?:half|halves|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?"
    r"|tenths?))"
    r"(?=\s+of\s|\s*[.,;:)]|\s+(?:since|compared|than|and|from|in|on|over|last|this)\b)"
    rf"|\b(?P<words>(?:(?:half\s+a|an?)\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?"
    rf"{_WORD_TOKEN}(?:(?:[\s-]+|(?<=hundred)\s+and\s+){_WORD_TOKEN})*))",
    re.IGNORECASE,
)

_CURRENCY_BEFORE = re.compile(
    r"(?:US\$|A\$|C\$|HK\$|NZ\$|S\$|R\$|[$€£¥₹₽₩]|\$US\s?|\bRM\s?|\bRs\.?\s?"
    r"|(?<!/)\b(?:USD|EUR|GBP|JPY|CNY|CHF|RUB|UAH|INR|KRW|AUD|CAD|MYR|SGD|NZD|BRL|HKD)\s?)$"
)
_CURRENCY_CODES = {"$us": "usd", "rm": "myr", "rs": "inr", "rs.": "inr"}
# A sign right before the digits: "−5C", "-3.2%" (a ticker's "+0.4%" is rejected elsewhere).
_MINUS_BEFORE = re.compile(r"(?:^|(?<=[\s(]))[−-]$")
# What may be glued to digits: a scale, a unit, an ordinal, a time or a decade ending.
_SUFFIX = re.compile(
    r"(?P<scale>bn|mn|tn|bln|mln|mil|[kKmMbB])(?![A-Za-z0-9])"
    r"|(?P<unit>%|km²|km2|km|cm|mm|kg|mph|kph|MW|GW|kW|ha|°C|°F|C|F|t|T|lbs|lb|oz|mg|p|hrs?|mins?|secs?)"
    r"(?![A-Za-z0-9])"
    r"|(?P<ordinal>st|nd|rd|th)\b"
    r"|(?P<time>am|pm|a\.m\.|p\.m\.|h)(?![A-Za-z])"
    r"|(?P<decade>s|'s)\b"
)
_SCALE_AFTER = re.compile(
    r"\s*(?:-\s*)?(thousand|million|billion|trillion|quadrillion|quintillion|bn|mn|tn|mil|crore"
    r"|crores|lakh|lakhs)\b",
    re.I,
)
_SCALE_SUFFIX = {"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "mil": 1e6, "b": 1e9, "bn": 1e9,
                 "bln": 1e9, "tn": 1e12, "thousand": 1e3, "million": 1e6, "billion": 1e9,
                 "trillion": 1e12, "quadrillion": 1e15, "quintillion": 1e18, "crore": 1e7,
                 "crores": 1e7, "lakh": 1e5, "lakhs": 1e5}  # fmt: skip
_EXPONENT = re.compile(r"(?:[eE]([+-]?\d{1,3})|\s?[×x]\s?10\^?([−-]?\d{1,3}))$")
_DIMENSION_AFTER = re.compile(r"(?:-|\s+)(?:long|wide|high|tall|deep|thick)\b")
_GROUP_SPACES = re.compile(r"[\u2009\u202f\u00a0]")
_PLUS_AFTER = re.compile(r"\+|-plus\b")


@dataclass(slots=True)
class Numeral:
    """A number expression: `start`/`end` cover currency symbol, digits or words, and scale."""

    value: float
    start: int
    end: int
    kind: str  # "digits", "words", "vague" or "fraction" (a share, as percent)
    currency: str | None = None  # unit lemma of a currency symbol or code before the number
    unit: str | None = None  # a unit glued to the digits ("%", "km", "C")
    low: float | None = None  # the span of a vague amount
    high: float | None = None
    scale: float = 1.0
    scale_text: str = ""  # how the scale was written ("m", "bn", "million")
    plain_integer: bool = False  # digits only: no comma, decimal, scale, unit or currency
    plus: bool = False  # "12,000-plus", "500+"
    negative: bool = False  # a minus sign before the digits ("−5C"); start covers it
    rejected: str | None = None  # why this is not a figure (ordinal, time, identifier, ...)


def read_numeral(text: str, m: re.Match[str]) -> Numeral | None:
    """The numeral that candidate match `m` starts; None when the digits are malformed."""
    if m.group("digits") is not None:
        return _read_digits(text, m)
    if m.group("vague") is not None:
        return _read_vague(m)
    if m.group("half") is not None:
        return Numeral(value=0.5, start=m.start(), end=m.end(), kind="words")
    if m.group("slash") is not None or m.group("vulgar") is not None:
        return _read_written_fraction(text, m)
    if m.group("fraction") is not None or m.group("proportion") is not None:
        return _read_fraction(text, m)
    return _read_words(text, m)


def numeral_at(text: str, pos: int, endpos: int) -> Numeral | None:
    """The numeral starting exactly at `pos` (after an optional currency symbol), else None."""
    cur = re.match(r"(?:US\$|A\$|C\$|HK\$|[$€£¥₹₽])", text[pos : pos + 3])
    start = pos + (cur.end() if cur else 0)
    if not cur and text[start : start + 1] in ("-", "−") and text[start + 1 : start + 2].isdigit():
        start += 1  # "-18 °C to -34 °C": the sign is read with the digits
    m = CANDIDATE.match(text, start, endpos)
    return read_numeral(text, m) if m else None


def _read_digits(text: str, m: re.Match[str]) -> Numeral | None:
    raw = _GROUP_SPACES.sub(",", m.group("digits"))  # "10 000" with thin spaces
    exponent = _EXPONENT.search(raw)
    if exponent:
        raw = raw[: exponent.start()]
    value = _digits_value(raw, text, m.end())
    if value is None:
        return None
    if exponent:  # "1.2e6", "3 × 10^5"
        value *= 10.0 ** int((exponent.group(1) or exponent.group(2)).replace("−", "-"))
    num = Numeral(value=value, start=m.start(), end=m.end(), kind="digits")
    cur = _CURRENCY_BEFORE.search(text, max(0, m.start() - 4), m.start())
    if cur:
        code = cur.group().strip().lower()
        num.currency = _CURRENCY_CODES.get(code) or UNIT_ALIASES.get(code)
        num.start = cur.start()
    elif _MINUS_BEFORE.search(text, max(0, m.start() - 2), m.start()):
        num.negative = True
    suffix = _SUFFIX.match(text, m.end())
    if suffix:
        kind = suffix.lastgroup
        if kind == "scale" and suffix.group() == "m" and _DIMENSION_AFTER.match(text, suffix.end()):
            num.unit = "metre"  # "a 37m-long hull", "1.8m tall": metres, not millions
        elif kind == "unit" and suffix.group() == "T" and num.currency:
            num.scale, num.scale_text = 1e12, "T"  # "$2.174T"
        elif kind == "scale":
            num.scale = _SCALE_SUFFIX[suffix.group().lower()]
            num.scale_text = suffix.group()
        elif kind == "unit":
            num.unit = UNIT_ALIASES.get(suffix.group().lower(), suffix.group().lower())
        else:
            num.rejected = kind
        num.end = suffix.end()
    elif m.end() < len(text) and (text[m.end()].isalpha() or text[m.end()] == "_"):
        num.rejected = "identifier"  # "5G", "4x4", "737Max"
    else:
        scale = _SCALE_AFTER.match(text, m.end())
        if scale:
            num.scale = _SCALE_SUFFIX[scale.group(1).lower()]
            num.scale_text = scale.group(1)
            num.end = scale.end()
    plus = _PLUS_AFTER.match(text, num.end)
    if plus:
        num.plus = True
        num.end = plus.end()
    num.value *= num.scale
    num.plain_integer = (
        raw.isdigit()
        and num.scale == 1.0
        and num.unit is None
        and num.currency is None
        and not exponent
    )
    if num.negative:
        num.value, num.start = -num.value, num.start - 1
    if len(raw) > 1 and raw[0] == "0" and raw[1] != ".":
        num.rejected = "leading zero"  # phone numbers, codes
    return num


def _digits_value(raw: str, text: str, end: int) -> float | None:
    """Value of "3,000", "2.4", "10,0000" (a typo: 10,000, never 100,000) or "3,5 million"."""
    if "," not in raw:
        return float(raw)
    whole, _, decimals = raw.partition(".")
    groups = whole.split(",")
    if len(groups[0]) > 3:
        return None
    fixed: list[str] = []
    for g in groups[1:]:
        if len(g) == 3:
            fixed.append(g)
        elif len(g) == 4 and g.endswith("0"):
            fixed.append(g[:3])  # a doubled zero: the writer meant a thousands group
        elif (
            len(g) in (1, 2) and len(groups) == 2 and not decimals and _SCALE_AFTER.match(text, end)
        ):
            return float(f"{groups[0]}.{g}")  # decimal comma: "3,5 million"
        else:
            return None
    return float("".join([groups[0], *fixed]) + (f".{decimals}" if decimals else ""))


def _read_words(text: str, m: re.Match[str]) -> Numeral | None:
    tokens = re.split(r"[\s-]+", m.group("words").lower())
    value = _words_value(tokens)
    if value is None:
        return None
    num = Numeral(value=value, start=m.start(), end=m.end(), kind="words")
    scale = _SCALE_AFTER.match(text, m.end())
    if scale and tokens[-1] not in SCALES:  # "twelve million" is already one match
        num.value *= _SCALE_SUFFIX[scale.group(1).lower()]
        num.end = scale.end()
    return num


def _words_value(tokens: list[str]) -> float | None:
    total = 0.0
    current = 0.0
    half = False
    for tok in tokens:
        if tok in ("a", "an", "and"):
            continue
        if tok == "half":
            half = True
        elif tok in ONES:
            current += ONES[tok]
        elif tok in TENS:
            current += TENS[tok]
        elif tok == "dozen":
            current = (current or 1) * 12
        elif tok == "hundred":
            current = (current or 1) * 100
        elif tok in SCALES:
            total += (current or 1) * SCALES[tok]
            current = 0.0
        else:
            return None
    value = total + current
    return value / 2 if half else value


_SLASH_DENOMINATORS = frozenset({2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 40, 50, 64, 100})
_VULGAR = {"½": 1 / 2, "⅓": 1 / 3, "⅔": 2 / 3, "¼": 1 / 4, "¾": 3 / 4, "⅕": 1 / 5, "⅖": 2 / 5,
           "⅗": 3 / 5, "⅘": 4 / 5, "⅙": 1 / 6, "⅚": 5 / 6, "⅛": 1 / 8, "⅜": 3 / 8, "⅝": 5 / 8,
           "⅞": 7 / 8}  # fmt: skip
_OF_AFTER = re.compile(r"\s+of\s")


def _read_written_fraction(text: str, m: re.Match[str]) -> Numeral | None:
    """ "1/4 mile", "10 1/2 miles", "⅓ cup", "3½ hours"; "1/40 of" a thing is a share (percent).
    Dates and codes ("9/11", "24/7") have other denominators and are no figures."""
    raw = m.group("slash") or m.group("vulgar")
    whole = 0.0
    if m.group("vulgar"):
        whole = float(raw[:-1]) if raw[:-1] else 0.0
        part = _VULGAR[raw[-1]]
    else:
        *lead, fraction = raw.split()
        top, bottom = (int(x) for x in fraction.split("/"))
        if bottom not in _SLASH_DENOMINATORS or top == 0 or (top >= bottom and not lead):
            return None
        whole = float(lead[0]) if lead else 0.0
        part = top / bottom
    value = whole + part
    num = Numeral(value=value, start=m.start(), end=m.end(), kind="digits")
    if not whole and _OF_AFTER.match(text, m.end()):
        num.value, num.unit = round(100 * part, 2), "percent"
    return num


_DENOMINATORS = {"fourth": 4, "half": 2, "halve": 2, "third": 3, "quarter": 4, "fifth": 5,
                 "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}  # fmt: skip
_SMALL_NUMBERS = {**ONES, **TENS, "a": 1, "hundred": 100}


def _read_fraction(text: str, m: re.Match[str]) -> Numeral | None:
    """ "a third of", "two-thirds of", "half of", "one in four", "3 out of 10": a percentage."""
    words = re.split(r"[\s-]+", (m.group("fraction") or m.group("proportion")).lower())
    if "in" in words or "out" in words:
        top, bottom = words[0], words[-1]
        num = float(top) if top.isdigit() else _SMALL_NUMBERS.get(top)
        den = float(bottom) if bottom.isdigit() else _SMALL_NUMBERS.get(bottom)
        if not num or not den or num >= den:
            return None  # "3 in 2" is no proportion
        value = 100 * num / den
    else:
        if len(words) == 1 and not text.startswith(" of", m.end()):
            return None  # "the first half.", "third quarter": no share without "a"/"one"
        den_word = words[-1].removesuffix("s")
        num = _SMALL_NUMBERS.get(words[0], 1) if len(words) > 1 else 1
        value = 100 * num / _DENOMINATORS[den_word]
        if value > 100:
            return None
    return Numeral(value=round(value, 2), start=m.start(), end=m.end(), kind="fraction",
                   unit="percent")  # fmt: skip


def _read_vague(m: re.Match[str]) -> Numeral:
    words = m.group("vague").lower().split()
    if words[0] in ("several", "a"):
        base = 12 if words[-1] == "dozen" else SCALES[words[-1]]
        lo, hi = (3, 9) if words[0] == "several" else (2, 5)
    else:
        base = _VAGUE_BASE[words[0]]
        if len(words) == 3:  # "tens of thousands"
            base *= _VAGUE_BASE[words[2]]
        lo, hi = 2, 9
    low, high = lo * base, hi * base
    return Numeral(
        value=(low + high) / 2, start=m.start(), end=m.end(), kind="vague", low=low, high=high
    )

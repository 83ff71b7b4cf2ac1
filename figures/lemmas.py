"""Unit lemmas: the singular lower-case form under which counted nouns and units are compared."""

from __future__ import annotations

import re

# canonical: every spelling of it ("_" stands for a space inside a multi-word spelling)
_UNIT_TABLE = """
percent: % percent per_cent pct pc percentage
percentage point: percentage_point percentage_points
basis point: basis_point basis_points bps bp
point: point points pts
usd: $ us$ usd dollar dollars
eur: € eur euro euros
gbp: £ gbp sterling
penny: p pence penny
jpy: ¥ jpy yen
cny: yuan cny renminbi rmb
inr: ₹ inr rupee rupees rs rs.
krw: ₩ krw won
myr: rm myr ringgit ringgits
nzd: nz$ nzd
sgd: s$ sgd
brl: r$ brl reais
rub: ₽ rub rouble roubles ruble rubles
uah: hryvnia hryvnias uah
aud: a$ aud
cad: c$ cad
hkd: hk$ hkd
chf: chf swiss_franc swiss_francs
nok: nok kroner norwegian_kroner
sek: sek kronor krona swedish_kronor
zar: zar rand
km: km kms kilometre kilometres kilometer kilometers
cm: cm centimetre centimetres centimeter centimeters
mm: mm millimetre millimetres millimeter millimeters
metre: m metre metres meter meters
mile: mile miles mi
foot: ft feet foot
kg: kg kgs kilo kilos kilogram kilograms
mg: mg milligram milligrams
gram: g gram grams gramme grammes
tablespoon: tbsp tablespoon tablespoons
teaspoon: tsp teaspoon teaspoons
tonne: t tonne tonnes ton tons metric_ton metric_tons
hectare: ha hectare hectares
km2: km2 km² sq_km square_kilometre square_kilometres square_kilometer square_kilometers
mile2: square_mile square_miles
km/h: km/h kph
mph: mph
celsius: c °c celsius
fahrenheit: f °f fahrenheit
mw: mw megawatt megawatts
gw: gw gigawatt gigawatts
kw: kw kilowatt kilowatts
kwh: kwh kilowatt-hour kilowatt-hours
mwh: mwh megawatt-hour megawatt-hours
horsepower: hp horsepower bhp
pound-foot: lb-ft pound-feet pound-foot
litre: l litre litres liter liters
gallon: gallon gallons gal
pound: lb lbs
ounce: oz ounce ounces
inch: inch inches
second: sec secs second seconds
minute: min mins minute minutes
hour: hr hrs hour hours
degree: degree degrees °
mmbtu: mmbtu
barrel: barrel barrels bbl
"""

# Plurals no suffix rule gets right, and words that only look plural.
_IRREGULAR_TABLE = """
people:person persons:person men:man women:woman children:child feet:foot teeth:tooth
mice:mouse geese:goose lives:life wives:wife knives:knife wolves:wolf halves:half leaves:leaf
thieves:thief shelves:shelf calves:calf buses:bus viruses:virus bonuses:bonus
censuses:census statuses:status crises:crisis analyses:analysis theses:thesis heroes:hero
volcanoes:volcano tornadoes:tornado potatoes:potato tomatoes:tomato vetoes:veto echoes:echo
torpedoes:torpedo movies:movie cookies:cookie zombies:zombie rookies:rookie calories:calorie
ties:tie lies:lie pies:pie indices:index criteria:criterion phenomena:phenomenon
"""
_INVARIANT_WORDS = """
news series species means aircraft spacecraft sheep fish deer personnel police staff cattle
gas lens corps chassis basis axis bias atlas canvas alias dead wounded injured killed missing
homeless jobless media data
"""
_MEN_EXCEPTIONS_WORDS = "specimen regimen abdomen omen amen acumen stamen"


def _parse_unit_table(table: str) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for line in table.strip().splitlines():
        canonical, _, spellings = line.partition(":")
        for spelling in spellings.split():
            aliases[spelling.replace("_", " ")] = canonical
    return aliases


UNIT_ALIASES: dict[str, str] = _parse_unit_table(_UNIT_TABLE)
_IRREGULAR: dict[str, str] = dict(pair.split(":") for pair in _IRREGULAR_TABLE.split())
_INVARIANT = frozenset(_INVARIANT_WORDS.split())
_MEN_EXCEPTIONS = frozenset(_MEN_EXCEPTIONS_WORDS.split())
_SPACES = re.compile(r"\s+")


def unit_lemma(word: str) -> str:
    """The singular lower-case lemma of a counted noun or unit: "Soldiers" -> "soldier",
    "casualties" -> "casualty", "%" -> "percent", "kilometres" -> "km"."""
    w = _SPACES.sub(" ", word.strip().lower())
    if w in UNIT_ALIASES:
        return UNIT_ALIASES[w]
    if " " in w:  # a compound ("artillery shells"): lemmatise its last word only
        head, _, last = w.rpartition(" ")
        return f"{head} {unit_lemma(last)}"
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w in _INVARIANT or len(w) < 3:
        return w
    if w.endswith("men") and w not in _MEN_EXCEPTIONS:
        return w[:-3] + "man"  # servicemen, gunmen
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "zzes", "ches", "shes")):
        return w[:-2]
    if w.endswith(("ss", "us", "is")):
        return w
    if w.endswith("s"):
        return w[:-1]
    return w

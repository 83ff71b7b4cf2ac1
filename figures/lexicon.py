"""Word lists the extractor reads: function words, months, casualty words, source nouns.

Kept as plain sets so every rule module shares one spelling of each list."""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` as a set."""
    return frozenset(text.split())


MONTH_NAMES = word_set(
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
)
WEEKDAYS = word_set("monday tuesday wednesday thursday friday saturday sunday")

# Words that end a counted noun phrase: determiners, prepositions, conjunctions, auxiliaries,
# pronouns and time adverbs. A number followed by one of these (and no noun) counts nothing.
STOP_WORDS = word_set(
    """
    a an the this that these those its their his her our my your whose which who whom what
    of in on at to from by for with without into onto over under across since during after
    before per than against between through near off about around within toward towards
    including like as upon via amid among amongst despite until till versus vs
    and or but nor while because so if when where although though whereas
    is are was were be been being has have had will would could can may might should must
    shall do does did am it they them he she we you i there here
    now already also still just only ago earlier later last next each apiece overall alone too
    yet again less fewer most least away ahead back up down out even almost nearly
    today yesterday tonight overnight tomorrow annually daily weekly monthly yearly
    year-on-year month-on-month week-on-week a.m. p.m. am pm
    """
)

# Pre-noun words that do not end the phrase although they look like adverbs ("1,000 more troops").
SKIPPABLE_MODIFIERS = word_set("more additional further other extra new fresh")

# Plural nouns with no trailing "s", and collective nouns counted as they are.
IRREGULAR_PLURALS = word_set(
    "people men women children personnel police staff aircraft spacecraft cattle sheep fish "
    "deer feet teeth mice geese militia"
)

# Adjectives used as counted nouns after a number ("600 dead", "300 killed"); the value is the
# unit stored. "homeless"/"displaced" describe people, so they count persons.
CASUALTY_WORDS: dict[str, str] = {
    "dead": "dead",
    "killed": "killed",
    "wounded": "wounded",
    "injured": "injured",
    "missing": "missing",
    "hurt": "injured",
    "homeless": "person",
    "displaced": "person",
}

# Heads of noun phrases that name a source ("economists had forecast"), used where a figure is
# followed by a relative clause rather than by its counted noun.
SOURCE_NOUNS = word_set(
    "economist analyst expert forecaster investor market trader pollster official observer "
    "strategist bank government ministry agency survey poll consensus"
)

# Counted nouns that are page furniture, not news ("245 comments", "12 photos").
FURNITURE_UNITS = word_set("comment view like reply retweet repost photo reaction")

_ONES = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
)
ONES: dict[str, int] = {w: i for i, w in enumerate(_ONES.split(), start=1)}
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
TENS: dict[str, int] = {w: 10 * i for i, w in enumerate(_TENS.split(), start=2)}
SCALES: dict[str, float] = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
}

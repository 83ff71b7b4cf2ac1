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

# Heads of noun phrases that can say something: what a figure may be credited to ("health
# officials said", "the ministry's data show"), besides proper names.
SPEAKER_NOUNS = word_set(
    """
    official spokesman spokeswoman spokesperson agency ministry minister police army military
    government authority department office service data figure statistic survey poll report
    study analysis analyst expert economist researcher scientist source witness resident doctor
    hospital organisation organization group company firm bank council commission committee
    court prosecutor investigator observer monitor leader president chief head commander general
    governor mayor secretary lawmaker legislator senator intelligence estimate newspaper outlet
    broadcaster media statement representative envoy ambassador regulator watchdog union
    association institute center centre university board fund forecaster strategist pollster
    diplomat spy coalition alliance navy force guard ministry's authorities parliament congress
    administration cabinet campaign party team club league federation operator insurer trader
    investor consultancy tracker count census index model projection assessment document
    filing memo briefing release campaigner activist charity ngo
    """
)

# Heads that end a noun phrase but never a source: movements, amounts, ordinals, time words.
NOT_SPEAKERS = word_set(
    """
    rise fall increase decrease drop jump surge decline growth gain loss cut total number
    amount level rate share majority half third quarter percent record high low peak one first
    second third last such same other more most many some several few time year month week day
    hour minute period season term quarter decade century morning evening night weekend
    series round phase stage part end start beginning middle way kind sort type lot
    """
)

# Sentence adverbs that open a clause but never name who speaks ("Earlier, ...").
ADVERBS = word_set(
    """
    earlier later meanwhile however separately also still now then previously yesterday today
    overall instead moreover furthermore additionally nevertheless nonetheless recently already
    first second finally initially subsequently elsewhere there here last this next such
    """
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
    "quadrillion": 1e15,
    "quintillion": 1e18,
}

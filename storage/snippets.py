"""Search snippets built from an article's stored title and text, the same on both backends: a
window of words around the place where most of the query's words occur, each match marked.

PostgreSQL's `ts_headline` parses and stems the whole article for every hit shown (about
0.6 ms each, 12 ms for 20 hits). Here only the words that could stem to one of the query's
lexemes are looked at: those starting with a lexeme's first letters (the stemmers change a
word's ending only), found with `str.find`, and stemmed with the algorithm the backend's index
uses (PostgreSQL's `english` configuration: Snowball English; SQLite's FTS5 `porter`
tokenizer: Porter), so a word is marked when the search counts it as a match. Splitting every
word of the text, even with a regular expression, took longer than `ts_headline`; words of the
window are counted as runs of non-space characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

ELLIPSIS = "…"
# between a document's title and text: whitespace to the patterns below, and a place a window
# may start; a snippet shows it as TITLE_SHOWN
TITLE_END = "\u2029"  # PARAGRAPH SEPARATOR
TITLE_SHOWN = " — "
# a word as PostgreSQL's parser splits them: letters and digits; `north-korean` and `Russia's`
# give their parts (PostgreSQL also indexes the hyphenated whole, and its parts)
_WORD = re.compile(r"\w+")
_CHUNK = re.compile(r"\S+")  # what a snippet counts as one word: `Russia's`, `10,000`
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_ENGLISH = snowballstemmer.stemmer("english")
_PORTER = snowballstemmer.stemmer("porter")
_IRREGULAR = {"die": "dying", "lie": "lying", "tie": "tying"}  # stems not starting as the word
CHARS_PER_WORD = 16  # a generous average, to split only the text around the window


@lru_cache(maxsize=65_536)
def english_stem(word: str) -> str:
    """The lexeme PostgreSQL's `english` configuration makes of a lower-case word."""
    return str(_ENGLISH.stemWord(word))


@lru_cache(maxsize=65_536)
def porter_stem(word: str) -> str:
    """The token SQLite's FTS5 `porter` tokenizer makes of a lower-case word."""
    return str(_PORTER.stemWord(word))


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    lexeme: str


def build_snippet(
    document: str,
    lexemes: Collection[str],
    words: int,
    start_mark: str,
    end_mark: str,
    stem: Callable[[str], str] = english_stem,
) -> str:
    """`words` consecutive words of the document holding the most distinct query lexemes (then
    the most matches; the earliest on a tie), starting at the sentence of the first match when
    that keeps them all inside, else with the matches centred; matches between the marks, an
    ellipsis where the document goes on. The document's start when nothing matches."""
    matches = _matches(document, frozenset(lexemes), stem)
    kept = _best_window(document, matches, words)
    first = kept[0].start if kept else 0
    last = kept[-1].end if kept else 0
    # the words around the kept matches, as many before as the window can hold, and after
    low = max(0, first - words * CHARS_PER_WORD)
    chunks = [m.span() for m in _CHUNK.finditer(document, low, last + words * CHARS_PER_WORD)]
    if low > 0:
        chunks = chunks[1:]  # the first may be cut
    if not chunks:
        return ""
    at_first = next(n for n, (_, end) in enumerate(chunks) if end > first)
    at_last = next(n for n, (_, end) in enumerate(chunks) if end >= last)
    begin = _window_start(document, chunks, range(at_first, at_last - words, -1))
    if begin is None:  # no sentence starts there: the matches centred
        begin = max(0, at_first - (words - (at_last - at_first + 1)) // 2)
    end = min(len(chunks), begin + words)
    if end - begin < words:  # near the end: from a sentence start that leaves half a window
        latest = min(begin, end - words // 2)
        begin = _window_start(document, chunks, range(end - words, latest + 1))
        begin = max(0, end - words if begin is None else begin)
    text_start, text_end = chunks[begin][0], chunks[end - 1][1]
    marked = _marked(document, text_start, text_end, matches, start_mark, end_mark)
    before = ELLIPSIS if text_start > 0 and document[:text_start].strip() else ""
    after = ELLIPSIS if document[text_end:].strip() else ""
    return before + marked + after


def _matches(document: str, lexemes: frozenset[str], stem: Callable[[str], str]) -> list[_Match]:
    """Each word of the document that stems to one of the lexemes, in order."""
    lowered = document.lower()
    found = []
    # the Snowball English and Porter stemmers keep a word's first two letters, and its first
    # three when the stem has four or more ("cry" gives "cri"), but for three words English lists
    prefixes = {lexeme[: 3 if len(lexeme) >= 4 else 2] for lexeme in lexemes}
    prefixes.update(word[:2] for lexeme, word in _IRREGULAR.items() if lexeme in lexemes)
    for prefix in prefixes:
        at = lowered.find(prefix)
        while at >= 0:
            if at == 0 or not lowered[at - 1].isalnum():
                word = _WORD.match(lowered, at)
                if word is not None and (lexeme := stem(word.group())) in lexemes:
                    found.append(_Match(at, word.end(), lexeme))
            at = lowered.find(prefix, at + 1)
    return sorted(found, key=lambda match: match.start)


def _best_window(document: str, matches: list[_Match], words: int) -> list[_Match]:
    """The matches of the best window of `words` words that starts at a match."""
    at = [0] * len(matches)  # each match's word number, counted from the first match
    for n in range(1, len(matches)):
        at[n] = at[n - 1] + _spaces(document, matches[n - 1].start, matches[n].start)
    best: tuple[int, int] | None = None
    kept: list[_Match] = []
    stop = 0
    for first in range(len(matches)):
        while stop < len(matches) and at[stop] - at[first] < words:
            stop += 1
        inside = matches[first:stop]
        score = (len({match.lexeme for match in inside}), len(inside))
        if best is None or score > best:  # the earliest of equals
            best, kept = score, inside
    return kept


def _spaces(document: str, start: int, end: int) -> int:
    """About how many words lie from start to end (in text where one space parts words)."""
    return document.count(" ", start, end) + document.count("\n", start, end)


def _window_start(document: str, chunks: list[tuple[int, int]], candidates: range) -> int | None:
    """The first candidate word that starts a sentence, the document or the text after the
    title."""
    for begin in candidates:
        if begin <= 0:
            if not document[: chunks[0][0]].strip():
                return 0
            continue  # the split began inside the document: not known to start a sentence
        previous_end, start = chunks[begin - 1][1], chunks[begin][0]
        gap = document[previous_end:start]
        if "\n" in gap or TITLE_END in gap:
            return begin
        if _SENTENCE_END.search(document, chunks[begin - 1][0], previous_end):
            return begin
    return None


def _marked(
    document: str,
    start: int,
    end: int,
    matches: list[_Match],
    start_mark: str,
    end_mark: str,
) -> str:
    parts = []
    position = start
    for match in matches:
        if start <= match.start and match.end <= end:
            parts += [document[position : match.start], start_mark]
            parts += [document[match.start : match.end], end_mark]
            position = match.end
    parts.append(document[position:end])
    return "".join(parts).replace(TITLE_END, TITLE_SHOWN)

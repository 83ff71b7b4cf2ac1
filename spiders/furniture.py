"""Page furniture left in extracted article text: lines that are not reporting.

trafilatura keeps some short blocks next to the body: share prompts ("Share this article"),
paywall prompts ("Already a subscriber?", "この記事は会員限定です"), loading placeholders,
comment-policy notices, social links, "(END)" marks, bylines set as a separate block. Each
one read as reporting is noise, and its numbers become false figures.
The rules are general (what a line is, where it stands), never per site:
- a line that is one of the common furniture phrases, or a link/handle with at most a label,
  is dropped wherever it stands, when short (a real paragraph may start with "Read more");
- a run of two or more lines that are each the whole text of a link, as long as a headline,
  is a list of other stories wherever it stands, and goes with the label heading it;
- at the end of the body, a run of short lines without sentence punctuation is dropped when
  the page shows one of them as a link or button (share bars, "Comment", tags, a menu, a
  sidebar's box headers): a sign-off ("x Franzi", "Herzlichst / Eure / MARTINA BERG"), a
  credit or a price there is plain text and stays; without the page (`controls` None) such a
  run always goes;
- a handle (`@name`) alone is a social link, except in code the page shows (`@classmethod`);
- at the start, a short line of `|`-separated parts is a byline/dateline block, a one- or
  two-word line without punctuation a label ("Photos"), and a line whose first word is all
  lower case the tail of a cut standfirst ("which were released online ..."): a paragraph
  never starts mid-sentence.
"""

from __future__ import annotations

import re

MAX_FURNITURE_WORDS = 12  # longer lines are prose, whatever their first words
MAX_TAIL_WORDS = 4  # a trailing line this short without punctuation is a label or a button
MAX_HEAD_WORDS = 2  # a leading line this short without punctuation is a label ("Photos")
MAX_TAIL_CHARS = 30  # the same in characters, for scripts written without spaces

FURNITURE_PHRASE = re.compile(
    r"""^(?:
        advertisement|advertising|anzeige|publicidad|sponsored(?:\ content)?
      | (?:share|tweet|email|print|save)(?:\ (?:this|on|the|article|story|page|via)\b.*)?
      | (?:\d+\ )?comments?|comment\ on\ this.*|leave\ a\ (?:comment|reply).*|add\ a\ comment
      | loading\b.*
      | (?:read|see|view|watch)\ (?:more|also|next|full)\b.*
      | (?:related|more\ on\ this|most\ (?:read|popular|viewed)|trending|recommended)\b.{0,30}
      | (?:sign\ up|subscribe)\b.*|.*\bnewsletter\b.*
      | already\ (?:a\ )?(?:subscriber|member|registered)\b.*|.*\bto\ continue\ reading\b.*
      | (?:log|sign)\ in\ to\ (?:read|continue|view)\b.*
      | (?:this|the)\ (?:article|story|content)\ is\ (?:only\ )?(?:for|available\ to|reserved\ for)
        \ (?:paying\ )?(?:subscribers|members)\b.*
      | .*(?:会員限定|続きをお読み).*
      | follow\ (?:us|@).*|.*\bon\ (?:twitter|facebook|instagram)\b\W*
      | (?:copyright|©).*|.*\ball\ rights\ reserved\b.*
      | \(?end\)?|\*\ ?\*\ ?\*|back\ to\ top|top\ of\ page|click\ here\b.*
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|@\w+")
SENTENCE_END = re.compile(r"[.!?。！？…:;\"'”’»)\]]\W*$")


def squash(text: str) -> str:
    """The text with every run of whitespace one space: a line as it is compared."""
    return " ".join(text.split())


def is_furniture(line: str, code: frozenset[str] = frozenset()) -> bool:
    """A line that is page furniture wherever it stands; `code`: lines the page shows as code."""
    words = line.split()
    if len(words) > MAX_FURNITURE_WORDS:
        return False
    if FURNITURE_PHRASE.match(line):
        return True
    # a link, an address or a handle with at most a short label ("Twitter https://…")
    rest = LINK.sub("", line)
    return rest != line and len(rest.split()) <= 3 and line not in code


def strip_furniture(
    text: str,
    controls: frozenset[str] | None = None,
    code: frozenset[str] = frozenset(),
) -> str:
    """The text without furniture lines; lines are paragraphs (normalised text). `controls`:
    the texts of the page's links and buttons (None: the page is not known); `code`: the lines
    of its <pre>/<code> blocks."""
    lines = [line for line in text.split("\n") if not is_furniture(line, code)]
    if controls is not None:
        lines = _without_link_lists(lines, controls)
    lines = lines[: _tail_start(lines, controls)]
    while lines and (_is_byline_block(lines[0]) or _is_head_label(lines[0])):
        lines.pop(0)
    return "\n".join(lines[_cut_standfirst(lines) :])


MIN_LINK_LIST = 2  # linked headlines in a row: a list of other stories; one alone may be a source


def _without_link_lists(lines: list[str], controls: frozenset[str]) -> list[str]:
    """The lines without lists of other stories: runs of lines that are each the whole text of a
    link and as long as a headline, with the label just before a run (its heading, "Related")."""
    linked = [line in controls and not _is_tail_label(line) for line in lines]
    drop: set[int] = set()
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and linked[end]:
            end += 1
        if end - start >= MIN_LINK_LIST:
            heading = start > 0 and _is_tail_label(lines[start - 1])
            drop.update(range(start - heading, end))
        start = end + 1
    return [line for index, line in enumerate(lines) if index not in drop]


def _tail_start(lines: list[str], controls: frozenset[str] | None) -> int:
    """Where the trailing run of labels starts, when it is furniture: a run with a link or
    button in it is a menu, a share bar or a sidebar's box headers, and goes whole; a run
    of plain text (a sign-off) stays."""
    start = len(lines)
    while start and _is_tail_label(lines[start - 1]):
        start -= 1
    if controls is None or any(line in controls for line in lines[start:]):
        return start
    return len(lines)


def _is_tail_label(line: str) -> bool:
    short = len(line.split()) <= MAX_TAIL_WORDS and len(line) <= MAX_TAIL_CHARS
    return short and not SENTENCE_END.search(line)


MAX_CUT_LINES = 3  # a cut standfirst is a line or three; more lower-case starts are the style


def _cut_standfirst(lines: list[str]) -> int:
    """How many leading lines are a sentence's tail: at most a few lines whose first word is
    all lower case, followed by a line that starts with a capital. A body in lower case
    throughout (a style, or a script without case) stays whole."""
    run = 0
    while run < len(lines) and _first_word(lines[run]).islower():
        run += 1
    if 0 < run <= MAX_CUT_LINES and run < len(lines) and _first_word(lines[run])[:1].isupper():
        return run
    return 0


def _first_word(line: str) -> str:
    word = line.split(maxsplit=1)[0] if line.strip() else ""
    return word if word[:1].isalpha() else ""


def _is_head_label(line: str) -> bool:
    short = len(line.split()) <= MAX_HEAD_WORDS and len(line) <= MAX_TAIL_CHARS
    return short and not SENTENCE_END.search(line)


def _is_byline_block(line: str) -> bool:
    return line.count(" | ") >= 1 and len(line.split()) <= MAX_FURNITURE_WORDS

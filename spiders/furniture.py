"""Page furniture left in extracted article text: lines that are not reporting.

trafilatura keeps some short blocks next to the body: share prompts ("Share this article"),
loading placeholders, comment-policy notices, social links, "(END)" marks, bylines set as
a separate block. Each one read as reporting is noise, and its numbers become false figures.
The rules are general (what a line is, where it stands), never per site:
- a line that is one of the common furniture phrases, or a link/handle with at most a label,
  is dropped wherever it stands, when short (a real paragraph may start with "Read more");
- at the end of the body, short lines without sentence punctuation are dropped (share bars,
  "Comment", tags): reporting ends with a sentence, a sub-heading never comes last;
- at the start, a short line of `|`-separated parts is a byline/dateline block, and a one- or
  two-word line without punctuation a label ("Photos").
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
      | follow\ (?:us|@).*|.*\bon\ (?:twitter|facebook|instagram)\b\W*
      | (?:copyright|©).*|.*\ball\ rights\ reserved\b.*
      | \(?end\)?|\*\ ?\*\ ?\*|back\ to\ top|top\ of\ page|click\ here\b.*
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|@\w+")
SENTENCE_END = re.compile(r"[.!?。！？…:;\"'”’»)\]]\W*$")


def is_furniture(line: str) -> bool:
    """A line that is page furniture wherever it stands."""
    words = line.split()
    if len(words) > MAX_FURNITURE_WORDS:
        return False
    if FURNITURE_PHRASE.match(line):
        return True
    # a link, an address or a handle with at most a short label ("Twitter https://…")
    rest = LINK.sub("", line)
    return rest != line and len(rest.split()) <= 3


def strip_furniture(text: str) -> str:
    """The text without furniture lines; lines are paragraphs (normalised text)."""
    lines = [line for line in text.split("\n") if not is_furniture(line)]
    while lines and _is_tail_label(lines[-1]):
        lines.pop()
    while lines and (_is_byline_block(lines[0]) or _is_head_label(lines[0])):
        lines.pop(0)
    return "\n".join(lines)


def _is_tail_label(line: str) -> bool:
    short = len(line.split()) <= MAX_TAIL_WORDS and len(line) <= MAX_TAIL_CHARS
    return short and not SENTENCE_END.search(line)


def _is_head_label(line: str) -> bool:
    short = len(line.split()) <= MAX_HEAD_WORDS and len(line) <= MAX_TAIL_CHARS
    return short and not SENTENCE_END.search(line)


def _is_byline_block(line: str) -> bool:
    return line.count(" | ") >= 1 and len(line.split()) <= MAX_FURNITURE_WORDS

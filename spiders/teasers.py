"""Teaser cards for other stories, left at the start of the extracted text.

A "next article" or "related" card is another story's headline set as a link, with its first
sentence under it. trafilatura sometimes keeps such a card with the body, and its sentence then
reads as reporting (with its own figures). The rule is structural and general: a leading line
that is the whole text of one of the page's links, and not the page's headline, is a teaser
headline when the link's card (its nearest ancestor with more text) holds nothing but that
headline and the next line; both lines go. A linked line whose block holds more (a list of
links, a paragraph around the link) is left to the other rules.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import html as lxml_html

from newsmon.spiders.furniture import squash

MIN_TEASER_WORDS = 4  # shorter linked lines are labels and buttons, handled as furniture
MAX_CARD_CLIMB = 4  # how far up from the link its card may be


def drop_leading_teasers(
    text: str,
    tree: lxml_html.HtmlElement,
    links: frozenset[str],
    is_headline: Callable[[str], bool],
) -> str:
    """`text` without the teaser cards (a linked headline and its sentence) it opens with;
    `links`: the texts of the page's links (the cheap test before the page is searched)."""
    lines = text.split("\n")
    while len(lines) > 2 and lines[0] in links and _is_card(tree, lines[0], lines[1], is_headline):
        lines = lines[2:]
    return "\n".join(lines)


def _is_card(
    tree: lxml_html.HtmlElement, headline: str, teaser: str, is_headline: Callable[[str], bool]
) -> bool:
    if len(headline.split()) < MIN_TEASER_WORDS or is_headline(headline):
        return False
    for link in tree.iter("a"):
        if squash(link.text_content()) != headline:
            continue
        card = link
        for _ in range(MAX_CARD_CLIMB):
            parent = card.getparent()
            if parent is None:
                break
            card = parent
            whole = squash(card.text_content())
            if whole != headline:
                return whole == f"{headline} {teaser}"
    return False

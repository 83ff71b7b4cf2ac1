"""The article's lead paragraph, when trafilatura's precise reading dropped it.

trafilatura's `favor_precision` sometimes drops a body's first paragraph that the page sets in
its own wrapper (a "sourced paragraph" box with the dateline, a lead block with a drop cap)
while it keeps the paragraphs after it. The lead holds the who/what/where, often with the
article's key figure, so losing it costs more than its share of words. The rule is structural
and general: the element that holds the first line kept is found in the page (and, when it
opens its wrapper, the wrapper, up to two levels); the paragraphs just before it are put back
when they are styled as the body is (the same tag and classes, or a wrapper holding an element
with the same classes) and read as prose (a sentence of some length, few links, not
furniture, not the headline). Anything else before the body (a teaser, a
caption, a byline, a dateline alone) differs in style or is not a sentence, and stays out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lxml import html as lxml_html

from newsmon.spiders.furniture import SENTENCE_END, is_furniture, squash

MAX_LEAD_PARAGRAPHS = 2  # a lead, and a standfirst set in the same style; more is not a lead
MIN_LEAD_WORDS = 8  # shorter: a dateline, a label or a caption, not a lead
MIN_KEY_CHARS = 20  # the first line's opening that locates its element in the page
MAX_LINK_SHARE = 0.5  # a paragraph mostly of links is a teaser or a list of links
MAX_CLIMB = 2  # how far up from the first line's element its paragraph wrapper may be
NOT_SHOWN = frozenset({"script", "style", "noscript", "template", "textarea"})
Shape = tuple[str, set[str]]  # an element's tag and classes: how the page styles it


def restore_lead(text: str, tree: lxml_html.HtmlElement, is_headline: Callable[[str], bool]) -> str:
    """`text` with the lead paragraphs trafilatura dropped before its first line put back."""
    first = text.split("\n", 1)[0]
    if len(first) < MIN_KEY_CHARS:
        return text
    element = _element_of(tree, first)
    if element is None:
        return text
    found: list[str] = []
    shapes: list[Shape] = []
    for _ in range(MAX_CLIMB + 1):
        shapes.append((str(element.tag), _classes(element)))
        found = _leads_before(element, text, shapes, is_headline)
        parent = element.getparent()
        if found or next(_previous_texts(element), None) is not None or parent is None:
            break
        element = parent  # the first line's element opens its wrapper: look before the wrapper
    return "\n".join([*found, text]) if found else text


def _element_of(tree: lxml_html.HtmlElement, line: str) -> lxml_html.HtmlElement | None:
    """The element whose text is the line (its own text opens with the line's opening)."""
    key = line[:MIN_KEY_CHARS]
    for node in tree.iter():
        if not isinstance(node.tag, str) or node.tag in NOT_SHOWN:
            continue  # a script's JSON-LD body may open with the same words
        if node.text and squash(node.text).startswith(key):
            whole = squash(node.text_content())
            if whole == line or (whole.startswith(line[:60]) and len(whole) <= 1.2 * len(line)):
                return node
    return None


def _previous_texts(element: lxml_html.HtmlElement) -> Iterator[lxml_html.HtmlElement]:
    """The element's previous siblings that hold text, nearest first."""
    for sibling in element.itersiblings(preceding=True):
        is_element = isinstance(sibling.tag, str) and sibling.tag not in NOT_SHOWN
        if is_element and sibling.text_content().strip():
            yield sibling


def _leads_before(
    element: lxml_html.HtmlElement,
    text: str,
    shapes: list[Shape],
    is_headline: Callable[[str], bool],
) -> list[str]:
    leads: list[str] = []
    for sibling in _previous_texts(element):
        if len(leads) == MAX_LEAD_PARAGRAPHS or not _styled_alike(sibling, shapes):
            break
        lead = squash(sibling.text_content())
        if not _reads_as_lead(sibling, lead, is_headline) or lead in text:
            break
        leads.insert(0, lead)
    return leads


def _classes(element: lxml_html.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _styled_alike(sibling: lxml_html.HtmlElement, shapes: list[Shape]) -> bool:
    """The sibling is set as the body is (`shapes`: the tag and classes of the first line's
    element and of the wrappers climbed from it): it has one of those shapes (for a block
    without a class, only a paragraph: two bare <div>s say nothing of their content), or it is
    a wrapper holding an element with one of those class sets (the whole set: one shared
    utility class, "a-cf" or "clearfix", says nothing either)."""
    if any(
        sibling.tag == tag and _classes(sibling) == classes and (classes or tag == "p")
        for tag, classes in shapes
    ):
        return True
    class_sets = [classes for _, classes in shapes if classes]
    return any(_classes(node) in class_sets for node in sibling.iterdescendants())


def _reads_as_lead(
    node: lxml_html.HtmlElement, lead: str, is_headline: Callable[[str], bool]
) -> bool:
    if len(lead.split()) < MIN_LEAD_WORDS or not SENTENCE_END.search(lead):
        return False
    if is_furniture(lead) or is_headline(lead):
        return False
    linked = sum(len(squash(link.text_content())) for link in node.iter("a"))
    return linked <= MAX_LINK_SHARE * len(lead)

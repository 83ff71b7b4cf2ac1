"""Article text on real news pages (bench/textset, dev split): what a reader of the archive
notices. The benchmark's numbers are bench/text_quality.py's business, not these tests'."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import trafilatura
from lxml import html as lxml_html

from newsmon.spiders.article_page import TRAFILATURA_OPTIONS, extract_article
from newsmon.spiders.furniture import strip_furniture
from newsmon.spiders.lead import restore_lead

TEXTSET = Path(__file__).resolve().parent.parent / "bench" / "textset"
CASES = {c["file"]: c for c in json.loads((TEXTSET / "cases.json").read_text("utf-8"))["pages"]}


def page(name: str) -> bytes:
    assert CASES[name]["split"] == "dev", "tests use dev pages only; test pages stay unseen"
    return gzip.decompress((TEXTSET / name).read_bytes())


def url_of(name: str) -> str:
    return CASES[name].get("url") or f"https://example.org/{name}"


DEV_ARTICLES = sorted(
    name
    for name, case in CASES.items()
    if case["split"] == "dev" and case["article"] and name.endswith(".gz")
)


@pytest.mark.parametrize("name", DEV_ARTICLES)
def test_every_real_article_page_gives_its_text(name: str) -> None:
    text = extract_article(page(name), url_of(name)).text
    case = CASES[name]
    if "body" in case:  # most of the article's words, not some other block of the page
        words = set(re.findall(r"\w+", case["body"]))
        assert len(words & set(re.findall(r"\w+", text))) >= 0.8 * len(words)
    else:  # some text the page's labels say is its article
        flat = " ".join(text.split())
        assert any(" ".join(snippet.split()) in flat for snippet in case["with"])


@pytest.mark.parametrize(
    ("name", "furniture", "last_sentence"),
    [
        # a loading placeholder after the body
        (
            "newspaper4k-cnn_article.html.gz",
            "Loading weather data ...",
            "contributed to this report.",
        ),
        # the agency's end mark and the reporter's address
        ("newspaper4k-yna_co_kr.html.gz", "(END)", "exercise with Washington is over."),
        ("newspaper4k-yna_co_kr.html.gz", "kokobj@yna.co.kr", "exercise with Washington is over."),
        # social links under the body
        ("newspaper4k-thai_article.html.gz", "https://twitter.com/prachatai", "PayPal"),
    ],
)
def test_furniture_lines_trafilatura_keeps_are_left_out(
    name: str, furniture: str, last_sentence: str
) -> None:
    html = page(name)
    assert furniture in trafilatura.extract(html, url=url_of(name), **TRAFILATURA_OPTIONS)
    text = extract_article(html, url_of(name)).text
    assert furniture not in text
    assert last_sentence in text.split("\n")[-1]


def test_a_last_sentence_without_a_full_stop_is_kept() -> None:
    # scripts written without spaces: a long last line is a sentence, not a button label
    text = extract_article(page("newspaper4k-japanese_article2.html.gz"), None).text
    assert text.endswith("(c)AFP/Aminu ABUBAKAR")
    assert strip_furniture("Body sentence one.\nこのニュースをシェア") == "Body sentence one."


def test_a_real_page_rendered_by_script_is_read_from_its_json_ld_body() -> None:
    # the same real page, its visible markup gone as on a page a script fills in: the body the
    # page declares in JSON-LD is read instead of nothing
    html = page("newspaper4k-cnn_test_nlp.html.gz").decode("utf-8", "replace")
    head = html[: html.index("<body")]
    bare = head + '<body><div id="app"></div><nav><a href="/">Home</a></nav></body></html>'
    assert not trafilatura.extract(bare, **TRAFILATURA_OPTIONS)
    full = extract_article(page("newspaper4k-cnn_test_nlp.html.gz"), None).text
    text = extract_article(bare, None).text
    assert "Home" not in text
    words = set(re.findall(r"\w+", full))
    assert len(words & set(re.findall(r"\w+", text))) >= 0.9 * len(words)


@pytest.mark.parametrize(
    ("name", "sign_off"),
    [
        ("trafilatura-lady50plus.de.sekre.html.gz", "Herzlichst\nEure\nMARTINA BERG"),
        ("trafilatura-franziska-elea.de.vuitton.html.gz", "schönen Sonntag <3\nx Franzi"),
    ],
)
def test_a_sign_off_at_the_end_of_the_body_is_kept(name: str, sign_off: str) -> None:
    assert extract_article(page(name), url_of(name)).text.endswith(sign_off)


def test_a_sidebar_after_the_body_is_left_out() -> None:
    # box headers that trafilatura keeps after the author line; two of them are links
    name = "trafilatura-landwirt.com.sensortechnik.html.gz"
    assert "Diskussionsforum" in trafilatura.extract(page(name), **TRAFILATURA_OPTIONS)
    text = extract_article(page(name), url_of(name)).text
    assert text.split("\n")[-1].startswith("Autor: Steffen PACHE")


def test_the_headline_from_the_page_title_is_not_repeated_as_the_first_line() -> None:
    # og:title is shorter than the headline the page shows; <title> holds it with the site name
    name = "newspaper4k-burmese_article.html.gz"
    first = trafilatura.extract(page(name), **TRAFILATURA_OPTIONS).split("\n")[0]
    record = extract_article(page(name), url_of(name))
    assert first not in record.text
    assert record.text.startswith(CASES[name]["body"][:40])


def test_a_cut_standfirst_before_the_body_is_left_out() -> None:
    # the standfirst's first word is a label ("Photos"), the rest starts mid-sentence
    name = "newspaper4k-article_with_divs.html.gz"
    text = extract_article(page(name), url_of(name)).text
    assert "which were released online" not in text
    assert text.startswith("Kate Henshaw\nVeteran Nollywood actress")


def test_the_rules_of_a_comment_form_are_left_out() -> None:
    name = "newspaper4k-spanish_article.html.gz"
    rule = "El contenido de los comentarios es la opinión de los usuarios"
    assert rule in trafilatura.extract(page(name), **TRAFILATURA_OPTIONS)
    text = extract_article(page(name), url_of(name)).text
    assert rule not in text and "Comentar" not in text.split("\n")
    assert text.split("\n")[-1] == CASES[name]["body"].split("\n")[-1].strip()


def test_a_decorator_in_the_pages_code_is_not_taken_for_a_handle() -> None:
    code = frozenset({"@classmethod"})
    text = "Define the constructor as a class method.\n@classmethod\ndef of(cls): ..."
    assert strip_furniture(text, frozenset(), code) == text
    assert strip_furniture("A sentence.\n@newsdesk\nAnother sentence.") == (
        "A sentence.\nAnother sentence."
    )


def test_a_lead_paragraph_in_its_own_box_is_kept() -> None:
    # the dateline and first paragraph sit in a "sourced paragraph" box that trafilatura's
    # precise reading drops, while it keeps the paragraphs after it
    name = "webarticle2text-page1.html.gz"
    lead = "The train speeds out of the darkness of the channel tunnel"
    assert lead not in trafilatura.extract(page(name), **TRAFILATURA_OPTIONS)
    text = extract_article(page(name), url_of(name)).text
    assert text.startswith("Beziers, France (CNN)The train speeds out")
    assert text.split("\n")[1].startswith('"The migrants have come back, you know,"')


def test_only_a_paragraph_styled_as_the_body_is_taken_for_its_lead() -> None:
    body = "The council voted on Tuesday to close the old bridge to lorries from next month."
    later = "Repairs are expected to cost 4.2 million euros, the council said in a statement."

    def read(before: str) -> str:
        html = (
            f'<html><body><div>{before}<p class="body">{body}</p>'
            f'<p class="body">{later}</p></div></body></html>'
        )
        return restore_lead(f"{body}\n{later}", lxml_html.fromstring(html), lambda _: False)

    lead = "Lorries will have to make a detour of twelve kilometres, drivers were told."
    assert read(f'<p class="body">{lead}</p>') == f"{lead}\n{body}\n{later}"
    # a caption, a byline and a teaser before the body are set otherwise, or are not sentences
    assert read(f'<p class="caption">{lead}</p>') == f"{body}\n{later}"
    assert read('<p class="body">By Anna Berg, city reporter</p>') == f"{body}\n{later}"
    teaser = f'<p class="body"><a href="/other">{lead}</a></p>'
    assert read(teaser) == f"{body}\n{later}"
    # the first body paragraph opens its wrapper: the lead is looked for before the wrapper
    html = (
        f'<html><body><div class="top"><p class="body">{lead}</p></div><div class="main">'
        f'<p class="body">{body}</p><p class="body">{later}</p></div></body></html>'
    )
    tree = lxml_html.fromstring(html)
    assert restore_lead(f"{body}\n{later}", tree, lambda _: False) == f"{lead}\n{body}\n{later}"
    # two bare <div>s, or a shared utility class, say nothing of the content's style
    html = (
        f'<html><body><div><div class="cf tools">{lead}</div></div><div>'
        f"<p>{body}</p><p>{later}</p></div></body></html>"
    )
    tree = lxml_html.fromstring(html)
    assert restore_lead(f"{body}\n{later}", tree, lambda _: False) == f"{body}\n{later}"


def test_a_teaser_card_for_another_story_is_left_out() -> None:
    # a "next in this section" card (a linked headline and its first sentence) that
    # trafilatura keeps before the body
    name = "webarticle2text-page4.html.gz"
    headline = "Syrian Kurdish PYD denounces Syria deal for 'de-escalation zones'"
    assert trafilatura.extract(page(name), **TRAFILATURA_OPTIONS).startswith(headline)
    text = extract_article(page(name), url_of(name)).text
    assert headline not in text and "The Syrian Kurdish PYD party rejects" not in text
    assert text.startswith("WASHINGTON Washington is working to push through contracts")


def test_a_paywall_prompt_is_left_out() -> None:
    name = "newspaper4k-japanese_article.html.gz"
    prompt = "この記事は会員限定です。"
    assert prompt in trafilatura.extract(page(name), **TRAFILATURA_OPTIONS)
    text = extract_article(page(name), url_of(name)).text
    assert prompt not in text
    assert text.split("\n")[-1] == CASES[name]["body"].strip().split("\n")[-1].strip()
    assert strip_furniture("The bridge closes.\nAlready a subscriber? Log in") == (
        "The bridge closes."
    )


def test_a_list_of_other_stories_inside_the_text_is_left_out() -> None:
    # "related stories" (Thai): a label and two linked headlines that trafilatura keeps between
    # the body and the donation notice
    name = "newspaper4k-thai_article.html.gz"
    related = ("เรื่องที่เกี่ยวข้อง", "ลืออุ้ม อ.สุรชัย ผู้ลี้ภัยหายจากที่พัก 12 วันแล้ว")
    kept = trafilatura.extract(page(name), **TRAFILATURA_OPTIONS).split("\n")
    assert all(line in kept for line in related)
    lines = extract_article(page(name), url_of(name)).text.split("\n")
    assert not any(line in lines for line in related)
    assert CASES[name]["body"].strip().split("\n")[-1].strip() in lines
    # one linked line alone (a source, a document) stays
    one = "A sentence.\nThe full report on the bridge repairs\nAnother sentence."
    assert strip_furniture(one, frozenset({"The full report on the bridge repairs"})) == one

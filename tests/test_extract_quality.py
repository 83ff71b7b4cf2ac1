"""Article text on real news pages (bench/textset, dev split): what a reader of the archive
notices. The benchmark's numbers are bench/text_quality.py's business, not these tests'."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import trafilatura

from newsmon.spiders.extract import TRAFILATURA_OPTIONS, extract_article
from newsmon.spiders.furniture import strip_furniture

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

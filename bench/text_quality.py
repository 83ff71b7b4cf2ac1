"""Article text quality: newsmon's extraction against trafilatura configurations, in one run.

Two sets:
- real pages (bench/textset/, copied from openly licensed sdists; see cases.json for each page's
  origin and licence): text that must come out ("with"), furniture that must not ("without"), and
  pages that hold no article; scored like trafilatura's own evaluation (snippet precision/recall);
- the local news site's generated articles (tests/newsite), heavy with furniture (menus, tickers,
  "most read" boxes, comment counts), whose bodies are known exactly: token F1 per page.

For each extractor: F1, empty results on pages that have an article, and ms per page.

    .venv/bin/python bench/text_quality.py [--articles 200] [--furniture 300]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from newsmon.spiders.extract import TRAFILATURA_OPTIONS, ExtractionError, extract_article  # noqa: E402
from tests.newsite import NewsSite  # noqa: E402

TEXTSET = ROOT / "bench" / "textset"
Extractor = Callable[[bytes, str], str]


def _trafilatura(**options: Any) -> Extractor:
    def run(html: bytes, url: str) -> str:
        return trafilatura.extract(html, url=url, **options) or ""

    return run


def _newsmon(html: bytes, url: str) -> str:
    try:
        return extract_article(html, url).text
    except ExtractionError:
        return ""


EXTRACTORS: dict[str, Extractor] = {
    "trafilatura default": _trafilatura(),
    "newsmon before (fast, precision)": _trafilatura(**{**TRAFILATURA_OPTIONS, "fast": True}),
    "trafilatura precision + fallback": _trafilatura(
        **{**TRAFILATURA_OPTIONS, "fast": False, "favor_precision": True}
    ),
    "newsmon now (extract_article)": _newsmon,
}


def tokens(text: str) -> Counter[str]:
    return Counter(text.split())


def token_f1(found: str, truth: str) -> float:
    got, want = tokens(found), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _squash(text: str) -> str:
    return " ".join(text.split())


def real_pages() -> list[tuple[str, bytes, dict[str, Any]]]:
    cases = json.loads((TEXTSET / "cases.json").read_text(encoding="utf-8"))["pages"]
    pages = []
    for case in cases:
        raw = (TEXTSET / case["file"]).read_bytes()
        pages.append(
            (case["file"], gzip.decompress(raw) if case["file"].endswith(".gz") else raw, case)
        )
    return pages


def score_real(
    extract: Extractor, pages: list[tuple[str, bytes, dict[str, Any]]]
) -> dict[str, Any]:
    tp = fn = fp = tn = empty = 0
    started = time.perf_counter()
    for name, html, case in pages:
        text = _squash(extract(html, f"https://example.org/{name}"))
        if case["article"] and not text:
            empty += 1
        if not case["article"]:
            fp, tn = fp + bool(text), tn + (not text)
            continue
        for snippet in case["with"]:
            tp, fn = tp + (snippet in text), fn + (snippet not in text)
        for snippet in case["without"]:
            fp, tn = fp + (snippet in text), tn + (snippet not in text)
    seconds = time.perf_counter() - started
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "empty": empty,
        "ms": 1000 * seconds / len(pages),
    }


def score_generated(extract: Extractor, site: NewsSite, pages: dict[str, bytes]) -> dict[str, Any]:
    scores, empty = [], 0
    started = time.perf_counter()
    for story in site.stories():
        text = extract(pages[story.path], site.url(story.path))
        empty += not text
        scores.append(token_f1(text, "\n".join(site.body_paragraphs(story))))
    seconds = time.perf_counter() - started
    return {"f1": sum(scores) / len(scores), "empty": empty, "ms": 1000 * seconds / len(scores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--furniture", type=int, default=300)
    args = parser.parse_args()
    real = real_pages()
    site = NewsSite(articles=args.articles, furniture=args.furniture)
    with site.serve():
        generated = {story.path: site.page(story.path)[0].body for story in site.stories()}
        articles = sum(case["article"] for _, _, case in real)
        print(
            f"load average {os.getloadavg()[0]:.1f}; real pages: {len(real)} ({articles} with "
            f"an article); generated news pages: {len(generated)}"
        )
        print(
            f"{'extractor':36} {'real F1':>8} {'P':>5} {'R':>5} {'empty':>5} "
            f"{'generated F1':>12} {'empty':>5} {'ms/page':>8}"
        )
        for name, extract in EXTRACTORS.items():
            r = score_real(extract, real)
            g = score_generated(extract, site, generated)
            print(
                f"{name:36} {r['f1']:8.3f} {r['precision']:5.2f} {r['recall']:5.2f} "
                f"{r['empty']:5d} {g['f1']:12.3f} {g['empty']:5d} {g['ms']:8.1f}"
            )


if __name__ == "__main__":
    main()

"""Article text quality: newsmon's extraction against trafilatura's configurations, in one run.

Real pages (bench/textset/, from openly licensed sdists; cases.json records each page's origin,
licence and split, fixed by a hash of its file name before any result was seen; tune on `dev`,
report `test` too):
- pages with the expected body (newspaper4k's set): token precision/recall/F1 of the extracted
  text against it, averaged over pages;
- pages with expected snippets (trafilatura's set and a few others): snippet recall (text that
  must come out) and furniture leakage (snippets that must not), and their F1 as trafilatura's
  own evaluation counts it;
- empty results on pages that hold an article; text from pages that hold none.
Then the local news site's generated articles (tests/newsite), heavy with furniture (menus,
tickers, "most read" boxes, comment counts), whose bodies are known exactly: token F1 per page.

    .venv/bin/python bench/text_quality.py [--split dev|test|all] [--articles 200] [--furniture 300]
    .venv/bin/python bench/text_quality.py --errors [--worst 15]  # dev only
    .venv/bin/python bench/text_quality.py --timing [--split all] [--against main]

`--errors` lists the dev pages newsmon reads worst, with the lines it loses (marked with the
other readings that hold them: trafilatura's recall mode, the JSON-LD articleBody, the
<article> paragraphs) and the lines it adds. `--timing` runs main's `extract_article` (read
from git, `--against REF`) and this tree's on the same pages, interleaved, and prints CPU
ms/page of each and the load average.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from newsmon.spiders.article_page import TRAFILATURA_OPTIONS, ExtractionError, extract_article  # noqa: E402
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
    "trafilatura precision + fallback": _trafilatura(**TRAFILATURA_OPTIONS),
    "newsmon (extract_article)": _newsmon,
}

# words, and single characters of scripts written without spaces (CJK, Thai, ...)
TOKEN = re.compile(r"[\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\W_]+")


def tokens(text: str) -> Counter[str]:
    return Counter(token.lower() for token in TOKEN.findall(text))


def token_scores(found: str, truth: str) -> tuple[float, float, float]:
    got, want = tokens(found), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Page:
    name: str
    html: bytes
    case: dict[str, Any]


def real_pages(split: str) -> list[Page]:
    cases = json.loads((TEXTSET / "cases.json").read_text(encoding="utf-8"))["pages"]
    pages = []
    for case in cases:
        if split != "all" and case["split"] != split:
            continue
        raw = (TEXTSET / case["file"]).read_bytes()
        html = gzip.decompress(raw) if case["file"].endswith(".gz") else raw
        pages.append(Page(case["file"], html, case))
    return pages


@dataclass
class RealScore:
    body: list[tuple[float, float, float]] = field(default_factory=list)
    found: int = 0  # expected snippets that came out
    missed: int = 0
    leaked: int = 0  # furniture snippets that came out, and text from pages without an article
    kept_out: int = 0
    empty: int = 0  # pages with an article that gave no text
    seconds: float = 0.0
    pages: int = 0

    def mean(self, index: int) -> float:
        return sum(s[index] for s in self.body) / len(self.body) if self.body else 0.0

    @property
    def snippet_f1(self) -> float:
        precision = self.found / (self.found + self.leaked) if self.found + self.leaked else 0.0
        recall = self.found / (self.found + self.missed) if self.found + self.missed else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_real(extract: Extractor, pages: list[Page]) -> RealScore:
    score = RealScore(pages=len(pages))
    started = time.perf_counter()
    for page in pages:
        text = extract(page.html, page.case.get("url") or f"https://example.org/{page.name}")
        if not page.case["article"]:
            score.leaked += bool(text.strip())
            score.kept_out += not text.strip()
            continue
        score.empty += not text.strip()
        if "body" in page.case:
            score.body.append(token_scores(text, page.case["body"]))
        flat = _squash(text)
        for snippet in page.case.get("with", []):
            hit = _squash(snippet) in flat
            score.found, score.missed = score.found + hit, score.missed + (not hit)
        for snippet in page.case.get("without", []):
            hit = _squash(snippet) in flat
            score.leaked, score.kept_out = score.leaked + hit, score.kept_out + (not hit)
    score.seconds = time.perf_counter() - started
    return score


def score_generated(extract: Extractor, site: NewsSite, pages: dict[str, bytes]) -> float:
    scores = []
    for story in site.stories():
        text = extract(pages[story.path], site.url(story.path))
        scores.append(token_scores(text, "\n".join(site.body_paragraphs(story)))[2])
    return sum(scores) / len(scores)


def _lines(text: str) -> list[str]:
    return [_squash(line) for line in text.splitlines() if line.strip()]


MAX_EXPECTED_LINE = 400  # longer: a body labelled as one blob, checked sentence by sentence
SENTENCE = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z\"“])")


def _expected_lines(body: str) -> list[str]:
    """The expected body's lines, a long one (a body labelled without paragraph breaks) cut
    into sentences: a lost lead is then a lost line, not a few percent of one."""
    found = []
    for line in _lines(body):
        found += SENTENCE.split(line) if len(line) > MAX_EXPECTED_LINE else [line]
    return found


def _holds(text: str, line: str) -> bool:
    """Most of the line's words come out in `text` (a paragraph may be cut or joined)."""
    want = tokens(line)
    return sum((tokens(text) & want).values()) >= 0.8 * sum(want.values()) if want else True


def _other_readings(page: Page, url: str) -> dict[str, str]:
    """The readings a lost line may be found in, to say where a fix could take it from."""
    from lxml import html as lxml_html

    from newsmon.spiders.article_page import _json_ld_articles

    tree = lxml_html.fromstring(page.html)
    bodies = [n.get("articleBody") for n in _json_ld_articles(tree)]
    recall = {**TRAFILATURA_OPTIONS, "favor_precision": False, "favor_recall": True}
    return {
        "recall": trafilatura.extract(page.html, url=url, **recall) or "",
        "json-ld": "\n".join(b for b in bodies if isinstance(b, str)),
        "article": "\n".join(p.text_content() for p in tree.xpath("//article//p")),
    }


MAX_ADDED_SHOWN = 12


def print_errors(pages: list[Page], worst: int) -> None:
    """The dev pages newsmon reads worst: lines lost (and which other reading holds them),
    lines added (furniture, or text from a page without an article)."""
    rows = []
    for page in pages:
        url = page.case.get("url") or f"https://example.org/{page.name}"
        text = _newsmon(page.html, url)
        if not page.case["article"]:
            rows.append((1.0 if text.strip() else 0.0, page, url, [], _lines(text)))
            continue
        if "body" in page.case:
            loss = 1 - token_scores(text, page.case["body"])[2]
            lost = [line for line in _expected_lines(page.case["body"]) if not _holds(text, line)]
            truth = page.case["body"]
            added = [line for line in _lines(text) if not _holds(truth, line)]
        else:
            flat = _squash(text)
            lost = [_squash(s) for s in page.case.get("with", []) if _squash(s) not in flat]
            added = [_squash(s) for s in page.case.get("without", []) if _squash(s) in flat]
            checks = len(page.case.get("with", [])) + len(page.case.get("without", []))
            loss = (len(lost) + len(added)) / max(1, checks)
        rows.append((loss, page, url, lost, added))
    rows.sort(key=lambda row: -row[0])
    print(f"load average {os.getloadavg()[0]:.2f}; the {worst} dev pages newsmon reads worst")
    for loss, page, url, lost, added in rows[:worst]:
        if not loss:
            break
        kind = "1 - body F1" if "body" in page.case else "failed checks"
        print(f"\n== {page.name}  ({kind} {loss:.3f}; {len(lost)} lost, {len(added)} added)")
        others = _other_readings(page, url) if lost else {}
        for line in lost:
            where = [name for name, other in others.items() if _holds(other, line)]
            print(f"  - {line[:150]}  [{', '.join(where) or 'in no other reading'}]")
        for line in added[:MAX_ADDED_SHOWN]:
            print(f"  + {line[:150]}")
        if len(added) > MAX_ADDED_SHOWN:
            print(f"  + ... {len(added) - MAX_ADDED_SHOWN} more")


def _module_at(ref: str, path: str, name: str, replaces: dict[str, Any]) -> Any:
    """A module of this repository as it stands at git `ref`, loaded under another name, with
    its imports of `replaces`' keys bound to the given modules (main's own siblings)."""
    import subprocess
    import types

    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType(name)
    module.__file__ = f"{ref}:{path}"
    saved = {key: sys.modules.get(key) for key in replaces}
    sys.modules.update(replaces)
    sys.modules[name] = module
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    return module


def print_timing(pages: list[Page], against: str, rounds: int) -> None:
    """CPU ms/page of `against`'s extract_article and this tree's, interleaved page by page so
    that both see the same load."""
    furniture = _module_at(against, "spiders/furniture.py", "_ref_furniture", {})
    extract = _module_at(
        against, "spiders/article_page.py", "_ref_extract", {"newsmon.spiders.furniture": furniture}
    )
    runs: dict[str, Callable[[bytes, str], Any]] = {
        against: extract.extract_article,
        "this tree": extract_article,
    }
    errors = {
        name: (extract.ExtractionError if name == against else ExtractionError) for name in runs
    }
    cpu = dict.fromkeys(runs, 0.0)
    load = os.getloadavg()[0]
    for _ in range(rounds):
        for page in pages:
            url = page.case.get("url") or f"https://example.org/{page.name}"
            for name, run in runs.items():
                started = time.process_time()
                try:
                    run(page.html, url)
                except errors[name]:
                    pass  # a page without an article costs its time all the same
                cpu[name] += time.process_time() - started
    count = rounds * len(pages)
    print(
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after; {count} page reads each"
    )
    for name, seconds in cpu.items():
        print(f"{name:12} extract_article CPU {1000 * seconds / count:6.1f} ms/page")
    print(f"ratio this tree / {against}: {cpu['this tree'] / cpu[against]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--articles", type=int, default=200, help="generated pages (0: none)")
    parser.add_argument("--furniture", type=int, default=300)
    parser.add_argument("--errors", action="store_true", help="dev pages read worst, and why")
    parser.add_argument("--worst", type=int, default=15)
    parser.add_argument("--timing", action="store_true", help="CPU ms/page, main's and this")
    parser.add_argument("--against", default="main", help="git ref to time against")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.errors:
        print_errors(real_pages("dev"), args.worst)  # dev only: test pages stay unseen
        return
    if args.timing:
        print_timing(real_pages(args.split), args.against, args.rounds)
        return
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    sets = {split: real_pages(split) for split in splits}
    site = NewsSite(articles=args.articles, furniture=args.furniture)
    with site.serve():
        generated = {story.path: site.page(story.path)[0].body for story in site.stories()}
        print(f"load average {os.getloadavg()[0]:.2f}; generated news pages: {len(generated)}")
        for split, pages in sets.items():
            bodies = sum("body" in p.case for p in pages)
            snippets = sum(len(p.case.get("with", [])) for p in pages)
            furniture = sum(len(p.case.get("without", [])) for p in pages)
            articles = sum(p.case["article"] for p in pages)
            print(
                f"\n{split}: {len(pages)} real pages ({articles} with an article): "
                f"{bodies} with the expected body, {snippets} text snippets, "
                f"{furniture} furniture snippets"
            )
            print(
                f"{'extractor':34} {'body F1':>7} {'P':>5} {'R':>5} {'snip R':>6} {'leak':>5} "
                f"{'snip F1':>7} {'empty':>5} {'ms/page':>7}"
                + (f" {'generated F1':>12}" if generated and split == splits[0] else "")
            )
            for name, extract in EXTRACTORS.items():
                r = score_real(extract, pages)
                leak = r.leaked / (r.leaked + r.kept_out) if r.leaked + r.kept_out else 0.0
                line = (
                    f"{name:34} {r.mean(2):7.3f} {r.mean(0):5.3f} {r.mean(1):5.3f} "
                    f"{r.found / max(1, r.found + r.missed):6.3f} {leak:5.3f} {r.snippet_f1:7.3f} "
                    f"{r.empty:5d} {1000 * r.seconds / r.pages:7.1f}"
                )
                if generated and split == splits[0]:
                    line += f" {score_generated(extract, site, generated):12.3f}"
                print(line)


if __name__ == "__main__":
    main()

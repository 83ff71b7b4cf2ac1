"""Crawl throughput on the local news site (tests/newsite), in one run:

(a) articles/s of a first full crawl into SQLite (run_crawl, wall time, in a child process);
(b) the same pages' extraction rate with exactly the crawl's extraction (extract_article: its
    trafilatura settings, fallbacks and metadata), one process, and that times the cores as the
    ceiling; also the rate of a worker's whole job (extraction, figures, SimHash, topics and
    quantity assignment: spiders.reading.read_article with the source's rules);
(c) the ratio (a) / ceiling;
(d) requests and new versions of an immediate second crawl with nothing changed.

    .venv/bin/python bench/crawl.py [--articles 2000] [--furniture 300] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmon.config import load_config  # noqa: E402
from newsmon.ingest import TopicRules  # noqa: E402
from newsmon.spiders.article_page import extract_article  # noqa: E402
from newsmon.spiders.reading import read_article  # noqa: E402
from tests.newsite import NewsSite  # noqa: E402
from tests.newsite.config import site_config  # noqa: E402

CHILD = """
import json, resource, sys, time
from newsmon.config import load_config
from newsmon.spiders.crawl import run_crawl
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
imports = cpu()
config = load_config(sys.argv[1])
started = time.perf_counter()
reports = run_crawl(config)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "cpu": cpu(), "imports": imports, "sources": [
    {"source": r.source, "status": r.status, **{k: getattr(r.counts, k) for k in (
        "requests", "not_modified", "new_articles", "new_versions", "duplicates", "errors")},
     "error_counts": r.counts.error_counts} for r in reports]}))
"""


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process: the local site's server
    return usage.ru_utime + usage.ru_stime


def crawl(config: Path) -> dict:
    served_from = cpu_seconds()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"crawl failed:\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["server_cpu"] = cpu_seconds() - served_from
    return report


def extraction_rate(pages: dict[str, bytes], site: NewsSite, read: Callable[..., object]) -> float:
    """Pages per second of `read` (page, URL) in this process."""
    started = time.perf_counter()
    for path, body in pages.items():
        read(body, site.url(path))
    return len(pages) / (time.perf_counter() - started)


def total(report: dict, key: str) -> int:
    return sum(source[key] for source in report["sources"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--furniture", type=int, default=300, help="teasers/menu links per page")
    parser.add_argument("--workers", type=int, default=0, help="extract_workers (0: cores)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    site = NewsSite(articles=args.articles, furniture=args.furniture, max_feed_items=50)
    with site.serve(), tempfile.TemporaryDirectory() as folder:
        paths = [story.path for story in site.stories()]
        pages = {path: site.page(path)[0].body for path in paths}  # rendered once, served cached
        size = sum(len(body) for body in pages.values()) / len(pages)
        config = Path(folder) / "config.yaml"
        sources = {
            "news-sitemap": ("sitemap", site.url("/sitemap-news.xml")),
            "rss": ("feed", site.url("/feeds/rss.xml")),
        }
        crawl_keys = {
            "concurrency": 32,
            "concurrency_per_domain": 16,
            "autothrottle": False,  # 127.0.0.1 answers in microseconds; nothing to adapt to
            "extract_workers": args.workers,
        }
        config.write_text(site_config(f"sqlite:///{folder}/bench.db", sources, crawl_keys))
        print(
            f"site: {len(paths)} articles, {size / 1024:.0f} kB per page, "
            f"{len(sources)} sources (news sitemap, RSS of the latest 50); {cores} cores"
        )

        first = crawl(config)
        stored = total(first, "new_articles")
        crawl_rate = stored / first["seconds"]
        print(
            f"(a) first crawl: {stored} new articles in {first['seconds']:.1f} s = "
            f"{crawl_rate:.1f} articles/s ({total(first, 'requests')} requests, "
            f"{total(first, 'errors')} errors)"
        )
        for source in first["sources"]:
            print(
                f"    {source['source']}: {source['requests']} requests, "
                f"{source['new_articles']} new articles"
            )
        repeated = sum(n - 1 for path, n in site.hits.items() if n > 1 and path != "/robots.txt")
        print(f"    pages the site served more than once: {repeated} extra responses")
        print(
            f"    CPU per article: crawl process {1000 * first['cpu'] / stored:.1f} ms (reactor, "
            f"ingest, pool transport; workers not included), of which "
            f"{1000 * first['imports'] / stored:.1f} ms its imports; local site server "
            f"{1000 * first['server_cpu'] / stored:.1f} ms"
        )

        # the ceiling: exactly the extraction the crawl's workers run (newsmon's settings and
        # fallbacks, metadata included), one process, times the cores
        alone = extraction_rate(pages, site, extract_article)
        parsed = load_config(config)
        rules = TopicRules.of(parsed, parsed.sources[0])
        worker = extraction_rate(pages, site, lambda page, url: read_article(page, url, rules))
        ceiling = alone * cores
        print(
            f"(b) extraction alone (spiders.article_page.extract_article, the crawl's settings): "
            f"{alone:.1f} pages/s in one process ({1000 / alone:.1f} ms per page); ceiling "
            f"{alone:.1f} x {cores} cores = {ceiling:.1f} pages/s"
        )
        print(
            f"    a worker's whole job (extraction, figures, SimHash, topics, quantities: "
            f"spiders.reading.read_article): {worker:.1f} pages/s; x {cores} = "
            f"{worker * cores:.1f}"
        )
        print(
            f"(c) ratio (a)/ceiling: {crawl_rate / ceiling:.2f} (target >= 0.8); against the "
            f"worker's whole job: {crawl_rate / (worker * cores):.2f}; load average "
            f"{os.getloadavg()[0]:.1f}"
        )

        site.reset_counts()
        second = crawl(config)
        requests = total(second, "requests")
        robots = site.hits["/robots.txt"]
        print(
            f"(d) second crawl, nothing changed: {requests} requests for {len(sources)} sources "
            f"({total(second, 'not_modified')} answered 304), "
            f"{total(second, 'new_versions')} new versions, {total(second, 'new_articles')} "
            f"new articles, in {second['seconds']:.1f} s (+{robots} robots.txt)"
        )


if __name__ == "__main__":
    main()

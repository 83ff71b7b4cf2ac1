"""Hostile sources against a real `newsmon crawl` (issue 13, crawl side): decompression bombs,
runaway sitemap indexes and feeds, and links, redirects and feed items that point at addresses
the operator did not mean. Every site is a real HTTP server on 127.0.0.1 (tests/peers.py).
README "What newsmon guarantees" names these tests."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from cli_process import run_newsmon, start_newsmon
from peers import Raw, raw_server

from newsmon.storage import Database
from tests.newsite.config import site_config
from tests.test_spiders_crawl import runs

ROOT = Path(__file__).resolve().parent.parent
FAST = {"timeout": "5s", "retries": 0, "autothrottle": False, "obey_robots": False}
XML = {"Content-Type": "application/xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def crawl_measured(config: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """`newsmon crawl`: (result, peak RSS in MB of the crawl and the processes it waited for)."""
    process = start_newsmon(
        "--config", config, "crawl", cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = process.communicate(timeout=300)
    result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return result, (process.maxrss_kb or 0) // 1024


def crawl(config: Path) -> subprocess.CompletedProcess[str]:
    return run_newsmon("--config", config, "crawl", cwd=ROOT, timeout=300)


def write_config(tmp_path: Path, sources: dict[str, tuple[str, str]], **crawl: object) -> Path:
    path = tmp_path / "config.yaml"
    url = f"sqlite:///{tmp_path / 'news.db'}"
    path.write_text(site_config(url, sources, FAST | crawl))
    return path


def article(title: str) -> bytes:
    body = "".join(
        f"<p>North Korea has deployed about {4000 + i} troops to Russia's Kursk region, "
        f"Ukrainian intelligence said on Monday, in its report number {i} on {title}.</p>"
        for i in range(6)
    )
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}" \
        f"</article></body></html>".encode()  # fmt: skip


def bomb(prefix: bytes, gib: int = 4) -> bytes:
    """~1 MB of gzip per GiB inflated: gzip members of 1 MiB of zeros, one after another."""
    member = gzip.compress(b"\0" * (1 << 20), 9)
    return gzip.compress(prefix) + member * (1024 * gib)


# --- bounded memory ---------------------------------------------------------------------------


def test_decompression_bombs_stop_at_max_size_are_counted_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    xml_bomb = bomb(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/">')
    assert len(xml_bomb) < 5 * 1024 * 1024  # ~4 MB on the wire, 4 GiB inflated
    feed_bomb = bomb(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x')
    pages: dict[str, Raw] = {
        "/sitemap.xml.gz": (200, {"Content-Type": "application/gzip"}, xml_bomb),
        "/feed.xml.gz": (200, {"Content-Type": "application/gzip"}, feed_bomb),
        "/encoded.xml": (200, {**XML, "Content-Encoding": "gzip"}, feed_bomb),
    }
    with raw_server(pages.get, Counter()) as base:
        config = write_config(tmp_path, {
            "gz-sitemap": ("sitemap", f"{base}/sitemap.xml.gz"),
            "gz-feed": ("feed", f"{base}/feed.xml.gz"),
            "encoded-feed": ("feed", f"{base}/encoded.xml"),
        })  # fmt: skip
        result, rss_mb = crawl_measured(config)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    print(f"peak RSS of the crawl under three 4 GiB bombs: {rss_mb} MB")
    assert rss_mb <= 400
    last = runs(Database.open(f"sqlite:///{tmp_path / 'news.db'}"))
    for name in ("gz-sitemap", "gz-feed", "encoded-feed"):
        assert (last[name].status, last[name].error_counts) == ("failed", {"too_large": 1}), name


def sitemap_tree(path: str) -> Raw | None:
    """/tree/...: every index lists 3 child indexes (unbounded); /chain/N: one child each."""
    if path.startswith("/tree/") and path.endswith(".xml"):
        stem = path[: -len(".xml")]
        children = [f"{stem}-{i}.xml" for i in range(3)]
    elif path.startswith("/chain/") and path.endswith(".xml"):
        children = [f"/chain/{int(path[7:-4]) + 1}.xml"]
    else:
        return None
    locs = "".join(
        f"<sitemap><loc>{child}</loc><lastmod>2024-11-0{i + 1}T00:00:00Z</lastmod></sitemap>"
        for i, child in enumerate(children)
    )
    return 200, XML, f"<sitemapindex>{locs}</sitemapindex>".encode()


def test_sitemap_index_depth_and_children_per_crawl_are_bounded(tmp_path: Path) -> None:
    hits: Counter[str] = Counter()
    with raw_server(sitemap_tree, hits) as base:
        config = write_config(
            tmp_path,
            {
                "tree": ("sitemap", f"{base}/tree/0.xml"),
                "chain": ("sitemap", f"{base}/chain/0.xml"),
            },
            max_sitemap_children=10,
        )
        result = crawl(config)
    assert result.returncode == 0, result.stderr
    tree = [path for path in hits if path.startswith("/tree/")]
    chain = sorted(path for path in hits if path.startswith("/chain/"))
    assert len(tree) == 1 + 10  # the index and 10 children, not 3 + 9 + 27 + ...
    assert "/tree/0-2.xml" in tree  # newest <lastmod> first
    assert chain == ["/chain/0.xml", "/chain/1.xml", "/chain/2.xml", "/chain/3.xml"]  # depth 3
    last = runs(Database.open(f"sqlite:///{tmp_path / 'news.db'}"))
    # counted once per index that met the bound
    assert last["tree"].status == "limited" and set(last["tree"].error_counts) == {"over_limit"}
    assert last["chain"].status == "ok" and last["chain"].error_counts == {"over_limit": 1}


def test_articles_per_source_are_bounded_newest_first_and_the_rest_read_next_crawl(
    tmp_path: Path,
) -> None:
    days = [3, 1, 5, 2, 4]  # feed order is not date order

    def site(path: str) -> Raw | None:
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>t{d}</title><link>/story/{d}.html</link>"
                f"<pubDate>Mon, 0{d} Nov 2024 10:00:00 +0000</pubDate></item>"
                for d in days
            )
            rss = f'<rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
            return 200, {"Content-Type": "application/rss+xml"}, rss.encode()
        if path.startswith("/story/"):
            return 200, HTML, article(f"North Korean troops story {path}")
        return None

    hits: Counter[str] = Counter()
    with raw_server(site, hits) as base:
        config = write_config(tmp_path, {"feed": ("feed", f"{base}/feed.xml")},
                              max_articles_per_source=2)  # fmt: skip
        database_url = f"sqlite:///{tmp_path / 'news.db'}"
        statuses = []
        fetched = []
        for _ in range(3):
            before = set(hits)
            result = crawl(config)
            assert result.returncode == 0, result.stderr
            run = runs(Database.open(database_url))["feed"]
            statuses.append((run.status, run.error_counts, run.new_articles))
            fetched.append(sorted(p for p in set(hits) - before if p.startswith("/story/")))
    assert fetched == [["/story/4.html", "/story/5.html"], ["/story/2.html", "/story/3.html"],
                       ["/story/1.html"]]  # fmt: skip
    assert statuses == [("limited", {"over_limit": 1}, 2), ("limited", {"over_limit": 1}, 2),
                        ("ok", {}, 1)]  # fmt: skip


# --- no request the operator did not mean ---------------------------------------------------------


def two_sites(
    a: Callable[[str, str], Raw | None], b_hits: Counter[str], stack: ExitStack
) -> tuple[str, str, Counter[str]]:
    """Site B (internal: an admin page with a secret) and site A, whose pages may name B."""
    b = stack.enter_context(
        raw_server(lambda path: (200, HTML, article("North Korean troops SECRET-TOKEN")), b_hits)
    )
    a_hits: Counter[str] = Counter()
    a_url = stack.enter_context(raw_server(lambda path: a(path, b), a_hits))
    return a_url, b, a_hits


def test_a_page_source_follows_no_link_or_redirect_to_another_port(tmp_path: Path) -> None:
    def site_a(path: str, b: str) -> Raw | None:
        if path == "/world/":
            links = [
                "/2024/11/01/troops-story-on-this-site.html",
                f"{b}/admin/2024/11/01/secret-admin-page-here.html",  # same host, another port
                "/2024/11/02/story-that-moved-to-admin.html",  # redirects to the other port
            ]
            anchors = "".join(f'<a href="{link}">x</a>' for link in links)
            return 200, HTML, f"<html><body>{anchors}</body></html>".encode()
        if path == "/2024/11/02/story-that-moved-to-admin.html":
            return 302, {"Location": f"{b}/admin/2024/11/02/secret-two.html"}, b""
        if path.startswith("/2024/"):
            return 200, HTML, article("North Korean troops on the site")
        return None

    b_hits: Counter[str] = Counter()
    with ExitStack() as stack:
        a, _, a_hits = two_sites(site_a, b_hits, stack)
        result = crawl(write_config(tmp_path, {"page": ("page", f"{a}/world/")}))
    assert result.returncode == 0, result.stderr
    assert not b_hits, f"the other port was requested: {dict(b_hits)}"
    run = runs(Database.open(f"sqlite:///{tmp_path / 'news.db'}"))["page"]
    assert (run.new_articles, run.error_counts) == (1, {"off_site": 1})


def test_feed_items_on_internal_addresses_are_refused_after_resolution(tmp_path: Path) -> None:
    def site_a(path: str, b: str) -> Raw | None:
        port = b.rsplit(":", 1)[1]
        if path == "/feed.xml":
            links = [
                "/own/story.html",  # the source's own host: the operator named it
                f"http://localhost:{port}/admin/secret.html",  # a name that resolves to loopback
                "/own/go.html",  # redirects to the internal one
            ]
            items = "".join(f"<item><title>x</title><link>{link}</link></item>" for link in links)
            rss = f'<rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
            return 200, {"Content-Type": "application/rss+xml"}, rss.encode()
        if path == "/own/go.html":
            return 302, {"Location": f"http://localhost:{port}/admin/moved.html"}, b""
        if path == "/own/story.html":
            return 200, HTML, article("North Korean troops on the own site")
        return None

    b_hits: Counter[str] = Counter()
    with ExitStack() as stack:
        a, _, _ = two_sites(site_a, b_hits, stack)
        sources = {"feed": ("feed", f"{a}/feed.xml")}
        result = crawl(write_config(tmp_path, sources))
        assert result.returncode == 0, result.stderr
        assert not b_hits, f"an internal address was requested: {dict(b_hits)}"
        database = Database.open(f"sqlite:///{tmp_path / 'news.db'}")
        run = runs(database)["feed"]
        assert (run.new_articles, run.error_counts) == (1, {"internal_address": 2})
        # the operator's switch is what stopped it: with it on, the same items are read
        (tmp_path / "news.db").unlink()
        result = crawl(write_config(tmp_path, sources, allow_private_addresses=True))
        assert result.returncode == 0, result.stderr
    assert b_hits["/admin/secret.html"] == 1 and b_hits["/admin/moved.html"] == 1
    assert (
        json.dumps(runs(Database.open(f"sqlite:///{tmp_path / 'news.db'}"))["feed"].error_counts)
        == "{}"
    )

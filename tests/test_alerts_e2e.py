"""End to end, as a user runs it: `newsmon crawl` (a real subprocess, real Scrapy) over a local
two-outlet news site on 127.0.0.1, through figures and change detection, to every channel (real
Slack/webhook HTTP peers, a real SMTP server, a file and the console).

Stages: a figure appears in the first crawl (a quiet baseline: one summary); a second outlet
restates it (and a wire copy is syndicated); the figure changes; the changed article is revised
in place. Each channel must receive exactly the alerts of
each stage, and a replayed crawl must send nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_process import run_newsmon
from peers import HTTPPeer, Mailbox, free_port, page_server, smtp_server

REPO = Path(__file__).resolve().parent.parent
SEED_TOPICS = (
    "topics:" + (REPO / "config.yaml").read_text().split("\nsources:")[0].split("\ntopics:", 1)[1]
)

FURNITURE = """
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/markets">Markets</a></nav>
<div class="ticker">KOSPI 2,561.15 +0.4% | USD/KRW 1,389.50 | Brent 73.2</div></header>
"""
SIDEBAR = """
<aside class="most-read"><h2>Most read</h2><ol>
<li><a href="/x/1">Ten things to know about 2,000 drones</a></li>
<li><a href="/x/2">Markets fall 3% as 40,000 workers strike</a></li></ol></aside>
<div class="comments">1,204 comments</div>
"""


def article_html(title: str, published: str, paragraphs: list[str], outlet: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": published,
            "author": {"@type": "Person", "name": f"{outlet} reporter"},
        }
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{ld}</script></head><body>{FURNITURE}
<main><article><h1>{title}</h1><p class="byline">By {outlet} reporter</p>{body}</article></main>
{SIDEBAR}</body></html>"""


FILLER = [
    "The deployment has alarmed officials in Seoul and Kyiv, who have traded intelligence on "
    "the movements for weeks.",
    "Moscow has neither confirmed nor denied the presence of the units near the border, and "
    "the Kremlin declined to comment on Tuesday.",
    "Analysts said the move deepens military cooperation between the two governments, which "
    "signed a mutual defence treaty in June.",
]

YONHAP_1 = (
    "/yonhap/2024/10/18/nk-troops.html",
    "North Korea sends troops to Russia, Seoul says",
    "2024-10-18T15:00:00+09:00",
    "North Korea has sent at least 3,000 soldiers to Russia, South Korea's National "
    "Intelligence Service said on Friday.",
)
GUARDIAN_1 = (
    "/guardian/world/2024/oct/18/north-korea-russia.html",
    "Pyongyang deploys troops to Russia",
    "2024-10-18T12:00:00+00:00",
    "Pyongyang has deployed 3,000 troops to Russia, officials in Seoul said.",
)
GUARDIAN_2 = (
    "/guardian/world/2024/nov/01/north-korean-troops-kursk.html",
    "Thousands of North Korean troops reach Kursk",
    "2024-11-01T09:00:00+00:00",
    "About 12,000 North Korean troops are now deployed in Kursk, according to Ukraine's "
    "military intelligence.",
)
GUARDIAN_2_REVISED = (
    *GUARDIAN_2[:3],
    "About 15,000 North Korean troops are now deployed in Kursk, according to Ukraine's "
    "military intelligence.",
)
WIRE_COPY_OF_YONHAP = ("/guardian/wire/2024/10/18/nk-troops-yonhap.html", *YONHAP_1[1:])

# stage -> {outlet: [articles]}; each article is (path, title, published, lead)
STAGES: list[dict[str, list[tuple[str, str, str, str]]]] = [
    {"yonhap": [YONHAP_1], "guardian": []},
    {"yonhap": [YONHAP_1], "guardian": [GUARDIAN_1, WIRE_COPY_OF_YONHAP]},
    {"yonhap": [YONHAP_1], "guardian": [GUARDIAN_1, WIRE_COPY_OF_YONHAP, GUARDIAN_2]},
    {"yonhap": [YONHAP_1], "guardian": [GUARDIAN_1, WIRE_COPY_OF_YONHAP, GUARDIAN_2_REVISED]},
]
EXPECTED = [
    ["baseline at least 3,000"],  # the first crawl: one summary, no alert per figure
    [],  # a restatement and a syndicated copy: silence
    # from the current value: the latest-published report (the Guardian's 3,000)
    ["figure_changed 3,000 → about 12,000"],
    ["article_revised about 12,000 → about 15,000"],
]
LABEL = "North Korean troops in Russia"


class StorySite:
    """Two outlets' RSS feeds and article pages, switched between scripted stages."""

    def __init__(self) -> None:
        self.stage = 0
        self.base = ""

    def pages(self) -> dict[str, tuple[str, str]]:
        pages: dict[str, tuple[str, str]] = {}
        for outlet, articles in STAGES[self.stage].items():
            items = "".join(
                f"<item><title>{title}</title><link>{self.base}{path}</link>"
                f"<guid>{self.base}{path}</guid></item>"
                for path, title, _published, _lead in articles
            )
            pages[f"/{outlet}/rss.xml"] = (
                "application/rss+xml",
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>'
                f"<link>{self.base}/{outlet}/</link><description>news</description>"
                f"{items}</channel></rss>",
            )
            for path, title, published, lead in articles:
                html = article_html(title, published, [lead, *FILLER], outlet)
                pages[path] = ("text/html; charset=utf-8", html)
        return pages

    @contextmanager
    def serve(self) -> Iterator[StorySite]:
        with page_server(lambda path: self.pages().get(path)) as base:
            self.base = base
            yield self


def newsmon(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_newsmon(
        "--config", config, *args, timeout=180, cwd=REPO, env={**os.environ, "COLUMNS": "200"}
    )


def summary(record: dict) -> str:
    from newsmon.alerts.wording import change

    return f"{record['kind']} {change(record)}"


@pytest.mark.timeout(600)
def test_crawled_stages_reach_every_channel_exactly_once(database_url: str, tmp_path: Path) -> None:
    port, mailbox = free_port(), Mailbox()
    alerts_file = tmp_path / "alerts.jsonl"
    with (
        StorySite().serve() as site,
        HTTPPeer() as slack,
        HTTPPeer() as hook,
        smtp_server(port, mailbox),
    ):
        config = tmp_path / "config.yaml"
        config.write_text(
            f'storage: {{url: "{database_url}"}}\n'
            + SEED_TOPICS
            + textwrap.dedent(f"""
            sources:
              - {{name: Yonhap, url: "{site.base}/yonhap/rss.xml", type: feed}}
              - {{name: Guardian, url: "{site.base}/guardian/rss.xml", type: feed}}
            crawl: {{revisit_every: 0s, autothrottle: false}}
            alerts:
              channels:
                - {{name: chat, type: slack, webhook_url: "{slack.url}/T/B/x"}}
                - {{name: hook, type: webhook, url: "{hook.url}/in"}}
                - {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,
                    from: n@example.org, to: [desk@example.org]}}
                - {{name: log, type: file, path: "{alerts_file}"}}
                - {{name: screen, type: console}}
            """)
        )
        counts = {"chat": 0, "hook": 0, "mail": 0, "log": 0}
        for stage, expected in enumerate(EXPECTED):
            site.stage = stage
            result = newsmon(config, "crawl")
            assert result.returncode == 0, result.stderr
            hooked = [summary(body) for body in hook.bodies()[counts["hook"] :]]
            lines = alerts_file.read_text().splitlines() if alerts_file.exists() else []
            logged = [summary(json.loads(line)) for line in lines[counts["log"] :]]
            mailed = [str(m["Subject"]) for m in mailbox.messages[counts["mail"] :]]
            slacked = [body["text"] for body in slack.bodies()[counts["chat"] :]]
            printed = [line for line in result.stdout.splitlines() if line.startswith("[")]
            assert hooked == expected, f"stage {stage}: {result.stdout}\n{result.stderr}"
            assert logged == expected, f"stage {stage}"
            for alert, subject, text, line in zip(expected, mailed, slacked, printed, strict=True):
                kind, _, change = alert.partition(" ")
                if kind == "baseline":
                    assert subject.startswith(f"[newsmon] {LABEL}: currently {change} soldiers")
                    assert line.startswith(f"[baseline] {LABEL}: currently {change} soldiers")
                    continue
                assert subject == f"[newsmon] {LABEL}: {change}"
                assert text == f"{LABEL}: {change}"
                assert line.startswith(f"[{kind}] {LABEL}: {change}")
            counts = {
                "chat": len(slack.received),
                "hook": len(hook.received),
                "mail": len(mailbox.messages),
                "log": len(lines),
            }

        first = hook.bodies()[0]
        assert first["attribution"] == "South Korea's National Intelligence Service"
        assert first["article"]["url"] == f"{site.base}{YONHAP_1[0]}"
        changed = hook.bodies()[1]
        assert changed["previous"]["url"] == f"{site.base}{GUARDIAN_1[0]}"
        assert changed["attribution"] == "Ukraine's military intelligence"

        # the same crawl replayed: nothing new is stored as an alert, nothing is sent again
        replay = newsmon(config, "crawl")
        assert replay.returncode == 0, replay.stderr
        assert len(hook.received) == counts["hook"] == 3
        assert len(mailbox.messages) == counts["mail"] == 3
        assert len(slack.received) == counts["chat"] == 3

"""Acceptance: alerts that make sense over time, as a user runs newsmon: real `newsmon crawl`
processes over a local news site, on both backends, with every channel on real peers.

- a backlog served newest first is a quiet baseline: no figure alerts, one summary per topic;
- a later crawl finding an older report keeps it as history, never a change backwards;
- a revision of an old article is dated by its modified time; the current value stays;
- two outlets alternating between two values give one `figure_changed`, marked as a conflict;
- a return to an earlier level once the restatement window has passed is a change;
- every channel carries the same facts (golden files, with ports and ids normalised).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_process import run_newsmon
from peers import HTTPPeer, Mailbox, free_port, smtp_server
from timeline_site import Story, StorySite

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
SEED_TOPICS = (
    "topics:" + (REPO / "config.yaml").read_text().split("\nsources:")[0].split("\ntopics:", 1)[1]
)
OUTLETS = {"yonhap": "Yonhap", "guardian": "Guardian", "kyiv": "Kyiv Independent"}


def nis(amount: str) -> str:
    return (
        f"North Korea has sent {amount} soldiers to Russia, South Korea's National "
        "Intelligence Service said on Friday."
    )


def seoul(amount: str) -> str:
    return f"North Korea has sent {amount} troops to Russia, officials in Seoul said."


def kyiv(amount: str) -> str:
    return (
        f"About {amount} North Korean troops are now deployed in Kursk, according to Ukraine's "
        "military intelligence."
    )


BACKLOG = [
    Story("yonhap", "nk-1", "North Korea sends troops", "2024-11-01T06:00:00+00:00",
          nis("at least 3,000")),
    Story("guardian", "nk-2", "Pyongyang deploys troops", "2024-11-04T09:00:00+00:00",
          seoul("3,000")),
    Story("kyiv", "nk-3", "Troops reach Kursk", "2024-11-08T09:00:00+00:00", kyiv("10,000")),
    Story("yonhap", "nk-4", "More troops sent", "2024-11-12T06:00:00+00:00", seoul("11,000")),
    Story("guardian", "nk-5", "Troops in Kursk", "2024-11-16T09:00:00+00:00", seoul("11,000")),
    Story("kyiv", "nk-6", "12,000 in Kursk", "2024-11-20T09:00:00+00:00", kyiv("12,000")),
]  # fmt: skip


class Newsmon:
    """A config on the site's feeds with every channel, and `newsmon` run as a subprocess."""

    def __init__(self, tmp_path: Path, database_url: str, site: StorySite, peers: Any) -> None:
        slack, hook, port = peers
        self.alerts_file = tmp_path / "alerts.jsonl"
        self.config = tmp_path / "config.yaml"
        sources = "".join(
            f'  - {{name: "{name}", url: "{site.feed_url(outlet)}", type: feed}}\n'
            for outlet, name in OUTLETS.items()
        )
        self.config.write_text(
            f'storage: {{url: "{database_url}"}}\n'
            + SEED_TOPICS
            + "sources:\n"
            + sources
            + textwrap.dedent(f"""\
            crawl: {{revisit_every: 0s, autothrottle: false}}
            alerts:
              channels:
                - {{name: chat, type: slack, webhook_url: "{slack.url}/T/B/x"}}
                - {{name: hook, type: webhook, url: "{hook.url}/in"}}
                - {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,
                    from: n@example.org, to: [desk@example.org]}}
                - {{name: log, type: file, path: "{self.alerts_file}"}}
                - {{name: screen, type: console}}
            """)
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_newsmon("--config", self.config, *args, timeout=180, cwd=REPO)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--format", "json").stdout)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert written to the file channel so far, oldest first."""
        if not self.alerts_file.exists():
            return []
        return [json.loads(line) for line in self.alerts_file.read_text().splitlines()]


@pytest.fixture
def newsmon(tmp_path: Path, database_url: str):
    port, mailbox = free_port(), Mailbox()
    site = StorySite(list(OUTLETS))
    with site.serve(), HTTPPeer() as slack, HTTPPeer() as hook, smtp_server(port, mailbox):
        runner = Newsmon(tmp_path, database_url, site, (slack, hook, port))
        runner.site, runner.slack, runner.hook, runner.mailbox = site, slack, hook, mailbox
        yield runner


def kinds(alerts: list[dict[str, Any]]) -> list[str]:
    return [alert["kind"] for alert in alerts]


@pytest.mark.timeout(600)
def test_a_backlog_is_a_baseline_and_older_reports_are_history(newsmon) -> None:
    newsmon.site.stories = list(BACKLOG)
    first = newsmon.run("crawl")
    assert "baseline: Yonhap, Guardian, Kyiv Independent stored quietly" in first.stdout
    alerts = newsmon.alerts()
    assert kinds(alerts) == ["baseline"]  # no figure alerts, one summary for the one topic
    assert len(newsmon.hook.received) == len(newsmon.slack.received) == 1
    assert len(newsmon.mailbox.messages) == 1
    (track,) = alerts[0]["tracks"]
    assert (track["value"], track["source"], track["reports"], track["outlets"]) == (
        12000,
        "Kyiv Independent",
        6,
        3,
    )
    assert str(newsmon.mailbox.messages[0]["Subject"]) == (
        "[newsmon] North Korean troops in Russia: currently about 12,000 troops (Ukraine's "
        "military intelligence via Kyiv Independent, 2024-11-20), 6 reports from 3 outlets"
    )
    statuses = {r["url"].rsplit("/", 1)[1]: r["status"] for r in newsmon.json("figures")}
    assert set(statuses.values()) == {"baseline"}

    # a later crawl finds a report published before the current value: history, no alert
    older = Story(
        "guardian", "nk-7", "Seoul on troops", "2024-11-10T09:00:00+00:00", seoul("5,000")
    )
    newsmon.site.stories = [*BACKLOG, older]
    newsmon.run("crawl")
    assert kinds(newsmon.alerts()) == ["baseline"]
    timeline = newsmon.json("figures")
    assert [(r["date"][:10], r["value"], r["status"]) for r in timeline][3] == (
        "2024-11-10",
        5000,
        "history",
    )
    current = newsmon.json("current")
    assert (current[0]["value"], current[0]["source"]) == (12000, "Kyiv Independent")

    # the oldest article is revised: dated by its modified time, so it is history too
    revised = Story(
        "yonhap",
        "nk-1",
        "North Korea sends troops",
        "2024-11-01T06:00:00+00:00",
        nis("at least 3,500"),
        modified="2024-11-02T06:00:00+00:00",
    )
    newsmon.site.stories = [revised, *BACKLOG[1:], older]
    newsmon.run("crawl")
    assert kinds(newsmon.alerts()) == ["baseline"]
    revision = [r for r in newsmon.json("figures") if r["version"] == 2]
    assert [(r["date"], r["value"], r["status"]) for r in revision] == [
        ("2024-11-02T06:00:00+00:00", 3500, "history")
    ]
    current = newsmon.json("current")
    assert (current[0]["value"], current[0]["dated"]) == (12000, "2024-11-20T09:00:00+00:00")
    table = newsmon.run("current").stdout
    assert "nk-troops/troops-in-russia" in table and "about 12,000 troops" in table
    assert f"{newsmon.site.base}/kyiv/2024-11-20/nk-6.html" in table  # never cut


def normalised(text: str, base: str, alert_id: str) -> str:
    """Channel output without what changes from run to run: ports, ids, clocks."""
    text = text.replace(base, "http://news.test").replace(alert_id, "ALERT-ID")
    text = re.sub(r'"created_at": "[^"]+"', '"created_at": "CREATED"', text)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NEWSMON_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see tests/golden"


@pytest.mark.timeout(600)
def test_two_outlets_alternating_give_one_change_with_the_conflict_on_every_channel(
    newsmon,
) -> None:
    said = [("yonhap", seoul("3,000")), ("guardian", kyiv("12,000"))] * 2
    stories: list[Story] = []
    printed = []
    for hour, (outlet, lead) in enumerate(said):
        published = f"2024-11-01T{6 + 3 * hour:02d}:00:00+00:00"
        stories.append(Story(outlet, f"nk-{hour}", f"Troops, update {hour}", published, lead))
        newsmon.site.stories = list(stories)
        printed.append(newsmon.run("crawl").stdout)
    alerts = newsmon.alerts()
    assert kinds(alerts) == ["baseline", "figure_changed"]
    changed = alerts[1]
    assert changed["conflict"] is True
    assert (changed["previous"]["value"], changed["value"]) == (3000, 12000)
    # the same facts on every channel
    base, alert_id = newsmon.site.base, changed["id"]
    console = "\n".join(
        line for line in printed[1].splitlines() if line.startswith(("[figure_changed]", "    "))
    )
    outputs = {
        "console.txt": console + "\n",
        "file.jsonl": json.dumps(changed, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        "webhook.json": json.dumps(newsmon.hook.bodies()[1], indent=2, sort_keys=True) + "\n",
        "slack.json": json.dumps(newsmon.slack.bodies()[1], indent=2, ensure_ascii=False) + "\n",
        "email.txt": newsmon.mailbox.messages[1].get_body(("plain",)).get_content(),
    }
    for name, text in outputs.items():
        check_golden(
            f"crawl_conflict_{name}", normalised(text.replace("\r\n", "\n"), base, alert_id)
        )
    for name in ("console.txt", "slack.json", "email.txt"):
        text = outputs[name]
        for fact in (
            "Sources disagree: Guardian says about 12,000 troops; Yonhap said 3,000 troops",
            "Yonhap, published 2024-11-01 06:00 UTC",
            "Guardian, published 2024-11-01 09:00 UTC",
            "Ukraine's military intelligence",
        ):
            assert fact in text, (name, fact)
    assert len(newsmon.hook.received) == len(newsmon.mailbox.messages) == 2


@pytest.mark.timeout(600)
def test_a_return_to_an_earlier_level_after_the_window_is_a_change(newsmon) -> None:
    newsmon.site.stories = [
        Story("yonhap", "nk-1", "Troops", "2024-11-01T06:00:00+00:00", seoul("11,000")),
        Story("guardian", "nk-2", "Troops", "2024-11-03T06:00:00+00:00", seoul("13,000")),
    ]
    newsmon.run("crawl")
    assert kinds(newsmon.alerts()) == ["baseline"]
    back = Story("yonhap", "nk-3", "Troops", "2024-12-15T06:00:00+00:00", seoul("11,000"))
    newsmon.site.stories = [*newsmon.site.stories, back]
    newsmon.run("crawl")
    alerts = newsmon.alerts()
    assert kinds(alerts) == ["baseline", "figure_changed"]
    assert (alerts[1]["previous"]["value"], alerts[1]["value"]) == (13000, 11000)

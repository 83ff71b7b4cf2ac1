"""From article text to every channel: real extractor, both databases, real Slack/webhook HTTP
peers, a real SMTP server, a file and the console. Stages: a figure appears, a second outlet
restates it, it changes, and an article is revised in place; each channel must receive exactly
the alerts of each stage.

(The same stages driven through the spiders' local news site and `run_crawl` are not here yet:
they wait for the spiders' test site.)"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alert_rows import publish_text
from peers import HTTPPeer, Mailbox, free_port, smtp_server

from newsmon.alerts.dispatch import dispatch_pending
from newsmon.config import parse_config
from newsmon.storage import Database
from newsmon.storage.alerts import list_alerts

T0 = datetime(2024, 10, 18, 6, 0, tzinfo=UTC)
SEED = (Path(__file__).parent.parent / "config.yaml").read_text().split("\nsources:")[0]

STAGES = [
    (  # a figure appears
        "https://yonhap.test/1",
        "Yonhap",
        0,
        "North Korea has sent at least 3,000 soldiers to Russia, South Korea's spy agency said.",
        ["new_figure at least 3,000"],
    ),
    (  # restated by a second outlet: silence
        "https://guardian.test/1",
        "Guardian",
        5,
        "Pyongyang has deployed 3,000 troops to Russia, officials in Seoul said.",
        [],
    ),
    (  # changes from the current value: the latest report (the Guardian's 3,000)
        "https://kyiv.test/1",
        "Kyiv Independent",
        24 * 14,
        "About 12,000 North Korean troops are now deployed in Kursk, according to Ukrainian "
        "intelligence.",
        ["figure_changed 3,000 → about 12,000"],
    ),
    (  # revised in place, same URL
        "https://kyiv.test/1",
        "Kyiv Independent",
        24 * 14,
        "About 15,000 North Korean troops are now deployed in Kursk, according to Ukrainian "
        "intelligence.",
        ["article_revised about 12,000 → about 15,000"],
    ),
]


def summary(record: dict) -> str:
    from newsmon.alerts.wording import change

    return f"{record['kind']} {change(record)}"


def test_each_channel_receives_exactly_the_alerts_of_each_stage(
    database: Database, tmp_path: Path, capsys
):
    port, mailbox = free_port(), Mailbox()
    with HTTPPeer() as slack, HTTPPeer() as hook, smtp_server(port, mailbox):
        channels = textwrap.dedent(f"""\
            - {{name: chat, type: slack, webhook_url: '{slack.url}/T/B/x'}}
            - {{name: hook, type: webhook, url: '{hook.url}/in'}}
            - {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,
               from: n@example.org, to: [desk@example.org]}}
            - {{name: log, type: file, path: '{tmp_path / "alerts.jsonl"}'}}
            - {{name: screen, type: console}}
            """)
        config = parse_config(
            SEED + "\nalerts:\n  channels:\n" + textwrap.indent(channels, "    "),
            tmp_path / "config.yaml",
            {},
        )
        seen = {"chat": 0, "hook": 0, "mail": 0, "log": 0, "screen": 0}
        for url, outlet, hours, text, expected in STAGES:
            with database.session() as session:
                publish_text(
                    session,
                    config,
                    url=url,
                    outlet=outlet,
                    published=T0 + timedelta(hours=hours),
                    text=text,
                )
            dispatch_pending(database, config)
            hooked = [summary(body) for body in hook.bodies()[seen["hook"] :]]
            logged = (
                [
                    summary(json.loads(line))
                    for line in (tmp_path / "alerts.jsonl").read_text().splitlines()[seen["log"] :]
                ]
                if (tmp_path / "alerts.jsonl").exists()
                else []
            )
            mailed = [str(m["Subject"]) for m in mailbox.messages[seen["mail"] :]]
            slacked = [body["text"] for body in slack.bodies()[seen["chat"] :]]
            # the console's first line of each alert starts with its kind; facts follow indented
            printed = [line for line in capsys.readouterr().out.splitlines() if line[:1] == "["]
            assert hooked == expected, text
            assert logged == expected, text
            assert len(mailed) == len(slacked) == len(printed) == len(expected), text
            for line, subject, slack_text, alert in zip(
                printed, mailed, slacked, expected, strict=True
            ):
                kind, _, change = alert.partition(" ")
                assert line.startswith(f"[{kind}] North Korean troops in Russia: {change}")
                assert subject == f"[newsmon] North Korean troops in Russia: {change}"
                assert slack_text == f"North Korean troops in Russia: {change}"
            seen = {
                "chat": len(slack.received),
                "hook": len(hook.received),
                "mail": len(mailbox.messages),
                "log": seen["log"] + len(logged),
                "screen": 0,
            }
    # the restatement is counted in the alert history (`newsmon alerts`: "repeated")
    with database.session() as session:
        rows = list_alerts(session, config.min_change)
        history = {row.alert.kind: row.repeated_by for row in rows}
    assert history == {"new_figure": 1, "figure_changed": 0, "article_revised": 0}
    first = hook.bodies()[0]
    assert (first["attribution"], first["unit"]) == ("South Korea's spy agency", "soldier")

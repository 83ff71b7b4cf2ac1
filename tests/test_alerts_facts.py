"""The same facts on every channel: one conflicting `figure_changed` and one `baseline` sent
through each real channel (console, file, webhook, Slack and email to real peers); what each
receives is kept as a golden file (NEWSMON_UPDATE_GOLDEN=1 rewrites them: read the diff), and
each must carry every fact a reader needs."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from peers import HTTPPeer, Mailbox, free_port, smtp_server

from newsmon.alerts.channels import sender_for
from newsmon.alerts.channels.console import ConsoleSender
from newsmon.config import parse_config

GOLDEN = Path(__file__).parent / "golden"

CHANGED: dict[str, Any] = {
    "id": "6f1c2e1a-0000-4000-8000-000000000002",
    "kind": "figure_changed",
    "topic": "nk-troops",
    "quantity": "troops-in-russia",
    "label": "North Korean troops in Russia",
    "value": 12000.0,
    "low": None,
    "high": None,
    "qualifier": "approx",
    "unit": "troop",
    "projection": False,
    "previous": {
        "value": 3000.0,
        "low": None,
        "high": None,
        "qualifier": "at_least",
        "unit": "soldier",
        "attribution": "South Korea's NIS",
        "source": "Yonhap",
        "url": "https://example.org/yonhap/1",
        "published": "2024-11-01T06:00:00+00:00",
        "dated": "2024-11-01T06:00:00+00:00",
        "dated_by": "published",
        "revision": False,
    },
    "conflict": True,
    "attribution": "Ukraine's military intelligence",
    "sentence": "About 12,000 troops are in Kursk, Ukraine's military intelligence said.",
    "article": {
        "url": "https://example.org/guardian/1",
        "title": "Thousands of North Korean troops reach Kursk",
        "source": "Guardian",
        "published": "2024-10-30T09:00:00+00:00",
        "dated": "2024-11-01T09:30:00+00:00",
        "dated_by": "modified",
        "revision": True,
    },
    "created_at": "2024-11-01T09:31:00+00:00",
}
# what a reader must find in every channel's text
CHANGED_FACTS = [
    "North Korean troops in Russia",  # label
    "about 12,000 troops",  # value, qualifier, unit
    "at least 3,000 soldiers",  # the previous value
    "Yonhap, published 2024-11-01 06:00 UTC",  # its source and publication date
    "Guardian, published 2024-10-30 09:00 UTC, revised 2024-11-01 09:30 UTC",  # this report
    "Ukraine's military intelligence",  # attribution
    "About 12,000 troops are in Kursk",  # the sentence
    "Sources disagree",  # the conflict
]
BASELINE: dict[str, Any] = CHANGED | {
    "id": "6f1c2e1a-0000-4000-8000-000000000003",
    "kind": "baseline",
    "previous": None,
    "conflict": False,
    "attribution": "the NIS",
    "sentence": "About 12,000 troops are in Kursk, the NIS said.",
    "article": {
        "url": "https://example.org/yonhap/9",
        "title": "12,000 North Korean troops in Kursk, Seoul says",
        "source": "Yonhap",
        "published": "2024-11-20T06:00:00+00:00",
        "dated": "2024-11-20T06:00:00+00:00",
        "dated_by": "published",
        "revision": False,
    },
    "tracks": [
        {
            "topic": "nk-troops",
            "quantity": "troops-in-russia",
            "label": "North Korean troops in Russia",
            "projection": False,
            "value": 12000.0,
            "low": None,
            "high": None,
            "qualifier": "approx",
            "unit": "troop",
            "attribution": "the NIS",
            "source": "Yonhap",
            "url": "https://example.org/yonhap/9",
            "dated": "2024-11-20T06:00:00+00:00",
            "dated_by": "published",
            "reports": 7,
            "outlets": 3,
            "agreeing_outlets": 2,
            "disagreeing": [],
        }
    ],
}
BASELINE_FACTS = [
    "North Korean troops in Russia: currently about 12,000 troops (the NIS via Yonhap, "
    "2024-11-20), 7 reports from 3 outlets"
]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NEWSMON_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see tests/golden"


def every_channel(payload: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """What each channel delivers for one alert, as text."""
    port, mailbox = free_port(), Mailbox()
    alerts_file = tmp_path / "alerts.jsonl"
    with HTTPPeer() as slack, HTTPPeer() as hook, smtp_server(port, mailbox):
        config = parse_config(
            "alerts:\n  channels:\n"
            f"    - {{name: chat, type: slack, webhook_url: '{slack.url}/T/B/x'}}\n"
            f"    - {{name: hook, type: webhook, url: '{hook.url}/in'}}\n"
            f"    - {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,"
            " from: n@example.org, to: [desk@example.org]}\n"
            f"    - {{name: log, type: file, path: '{alerts_file}'}}\n",
            tmp_path / "config.yaml",
            {},
        )
        for channel in config.alerts.channels:
            sender_for(channel).send([payload])
        screen = io.StringIO()
        ConsoleSender(parse_config(
            "alerts: {channels: [{name: s, type: console}]}", tmp_path / "c.yaml", {}
        ).channel("s"), screen).send([payload])  # fmt: skip
    mail = mailbox.messages[0]
    return {
        "console.txt": screen.getvalue(),
        "file.jsonl": alerts_file.read_text(encoding="utf-8"),
        "webhook.json": json.dumps(hook.bodies()[0], indent=2, ensure_ascii=False) + "\n",
        "slack.json": json.dumps(slack.bodies()[0], indent=2, ensure_ascii=False) + "\n",
        "email.txt": mail.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        "email.html": mail.get_body(("html",)).get_content().replace("\r\n", "\n"),
    }


@pytest.mark.parametrize(
    ("payload", "expected"), [(CHANGED, CHANGED_FACTS), (BASELINE, BASELINE_FACTS)]
)
def test_every_channel_carries_the_same_facts(
    payload: dict[str, Any], expected: list[str], tmp_path: Path
) -> None:
    outputs = every_channel(payload, tmp_path)
    for name, text in outputs.items():
        check_golden(f"facts_{payload['kind']}_{name}", text)
        if name in ("file.jsonl", "webhook.json"):
            # the schema carries the facts as fields, the same for file and webhook
            assert json.loads(text.splitlines()[0] if name == "file.jsonl" else text) == payload
            continue
        if name == "slack.json":
            shown = " ".join(
                block["text"]["text"] if "text" in block else block["elements"][0]["text"]
                for block in json.loads(text)["blocks"]
            )
            for fact in expected:
                assert fact in shown, (name, fact)
            continue
        flat = " ".join(text.replace("&#x27;", "'").split())
        for fact in expected:
            assert fact in flat, (name, fact)

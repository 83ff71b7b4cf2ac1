"""What a user sees: Slack blocks and email text/HTML (golden files), and hostile titles arriving
escaped through real peers. Regenerate goldens with NEWSMON_UPDATE_GOLDEN=1 after a deliberate
change, and read the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from peers import HTTPPeer, Mailbox, free_port, smtp_server

from newsmon.alerts.channels import SENDERS, DeliveryError, sender_for
from newsmon.alerts.channels.slack import escape, message
from newsmon.alerts.channels.smtp import build_message
from newsmon.config import Config, parse_config

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = "<script>alert(1)</script> Troops & *tanks* _now_ ~gone~ `x` <!channel>"


def payload(**changes: Any) -> dict[str, Any]:
    record = {
        "id": "6f1c2e1a-0000-4000-8000-000000000001",
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
            "published": "2024-10-18T06:00:00+00:00",
            "dated": "2024-10-18T06:00:00+00:00",
            "dated_by": "published",
            "revision": False,
        },
        "conflict": False,
        "attribution": "Ukraine's military intelligence",
        "sentence": "Some 12,000 troops are now deployed in Kursk, Ukraine's military "
        "intelligence said.",
        "article": {
            "url": "https://example.org/guardian/1?a=1&b=2",
            "title": "North Korea sends more troops",
            "source": "Guardian",
            "published": "2024-11-01T09:30:00+00:00",
            "dated": "2024-11-01T09:30:00+00:00",
            "dated_by": "published",
            "revision": False,
        },
        "created_at": "2024-11-01T09:31:00+00:00",
    }
    return record | changes


def config_with(channels: str) -> Config:
    return parse_config(
        "topics:\n  nk-troops: {title: T}\nalerts:\n  channels:\n" + channels,
        Path("/tmp/newsmon-test/config.yaml"),
        {},
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NEWSMON_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see tests/golden"


def test_slack_blocks_golden():
    body = message([payload()], digest=False)
    check_golden("slack_figure_changed.json", json.dumps(body, indent=2, ensure_ascii=False) + "\n")


def test_email_text_and_html_golden():
    settings = config_with(
        "    - {name: m, type: email, host: 127.0.0.1, from: n@example.org, to: [a@example.org]}\n"
    ).channel("m")
    mail = build_message(settings, [payload()])
    assert (
        mail["Subject"] == "[newsmon] North Korean troops in Russia: at least 3,000 → about 12,000"
    )
    assert mail["Message-ID"] == "<6f1c2e1a-0000-4000-8000-000000000001@newsmon>"
    check_golden("email_figure_changed.txt", mail.get_body(("plain",)).get_content())
    check_golden("email_figure_changed.html", mail.get_body(("html",)).get_content())


def test_slack_escape_keeps_text_inert():
    escaped = escape(HOSTILE)
    assert "<script>" not in escaped and "&lt;script&gt;" in escaped
    assert "<!channel>" not in escaped and "&lt;!channel&gt;" in escaped
    assert " &amp; " in escaped
    for char in "*_~`":
        assert f"|{char}>" in escaped  # shown verbatim, never formatting
    assert "*tanks*" not in escaped


def test_hostile_titles_arrive_escaped_in_slack_and_email():
    hostile = payload(
        article=payload()["article"] | {"title": HOSTILE}, sentence=HOSTILE, attribution=HOSTILE
    )
    port, mailbox = free_port(), Mailbox()
    with HTTPPeer() as slack, smtp_server(port, mailbox):
        config = config_with(
            f"    - {{name: chat, type: slack, webhook_url: '{slack.url}/h'}}\n"
            f"    - {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,"
            " from: n@example.org, to: [a@example.org]}\n"
        )
        for channel in config.alerts.channels:
            sender_for(channel).send([hostile])
    sent = slack.received[0].body.decode()
    assert "<script>" not in sent and "<!channel>" not in sent and "*tanks*" not in sent
    assert "&lt;script&gt;" in sent and "&lt;!channel&gt;" in sent and "Troops &amp; " in sent
    html = mailbox.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Troops &amp; *tanks*" in html and "&lt;!channel&gt;" in html
    text = mailbox.messages[0].get_body(("plain",)).get_content()
    assert HOSTILE in text  # plain text is shown as is, nothing to interpret


def test_a_forecast_and_a_range_read_as_such():
    forecast = payload(
        kind="new_figure",
        previous=None,
        projection=True,
        qualifier="range",
        low=10000.0,
        high=15000.0,
    )
    body = message([forecast], digest=False)
    section = body["blocks"][0]["text"]["text"]
    assert "(forecast)" in section and "10,000–15,000" in section
    assert "First forecast figure reported, by Guardian: 10,000–15,000 troops." in section


def test_every_configured_type_has_a_sender():
    assert set(SENDERS) == {"slack", "email", "webhook", "file", "console"}


def test_unreachable_webhook_is_a_delivery_error_without_the_secret_url():
    port = free_port()  # nothing listens there
    config = config_with(
        f"    - {{name: h, type: webhook, url: 'http://127.0.0.1:{port}/in?token=s3cret'}}\n"
    )
    with pytest.raises(DeliveryError) as caught:
        sender_for(config.channel("h")).send([payload()])
    assert "cannot connect" in str(caught.value) and "s3cret" not in str(caught.value)
    assert not caught.value.permanent

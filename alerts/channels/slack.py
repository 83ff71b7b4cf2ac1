"""`slack`: a Block Kit message to an incoming webhook.

Every piece of text that comes from an article goes through `escape`: Slack wants &, < and >
as entities (so "<!channel>" cannot ping anyone and "<script>" stays text), and it has no escape
for the formatting characters * _ ~ `, so each is written as the fallback text of an invalid
date token, which Slack always shows verbatim (the jsx-slack technique).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from newsmon.alerts.channels.base import Sender, register_channel
from newsmon.alerts.channels.http_post import post_json
from newsmon.alerts.wording import (
    KIND_WORDS,
    change,
    digest_title,
    facts,
    headline,
    source_line,
    what_happened,
)
from newsmon.config import ChannelBase

FORMATTING_CHARACTERS = "*_~`"
MAX_DIGEST_ALERTS = 15  # 3 blocks each, within Slack's 50 blocks per message


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(
        f"<!date^00000000^{{_}}|{char}>" if char in FORMATTING_CHARACTERS else char for char in text
    )


def link(url: str, label: str) -> str:
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe_url}|{escape(label)}>"


def alert_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Section (what changed, the facts, quote) + context (link, source, dates) for one alert."""
    forecast = " (forecast)" if payload.get("projection") else ""
    kind = KIND_WORDS.get(payload["kind"], payload["kind"])
    summary = headline(payload) if payload["kind"] == "baseline" else change(payload)
    lines = [
        f"*{escape(payload['label'])}{forecast}*  ·  {kind}",
        f"*{escape(summary)}*",
        escape(what_happened(payload)),
    ]
    for name, text in facts(payload):
        if name == "Quote":
            lines.append("> " + escape(text))
        else:
            lines.append(f"*{escape(name)}:* {escape(text)}")
    article = payload["article"]
    context = [
        link(article["url"], article.get("title") or article["url"]),
        escape(source_line(payload)),
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "  ·  ".join(context)}]},
    ]


def message(payloads: list[dict[str, Any]], digest: bool) -> dict[str, Any]:
    """The webhook body: `text` is the notification fallback, `blocks` the message."""
    if not digest:
        payload = payloads[0]
        return {"text": escape(headline(payload)), "blocks": alert_blocks(payload)}
    shown = payloads[:MAX_DIGEST_ALERTS]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"newsmon: {digest_title(payloads)}"},
        }
    ]
    for payload in shown:
        blocks.extend(alert_blocks(payload))
        blocks.append({"type": "divider"})
    if len(payloads) > len(shown):
        more = len(payloads) - len(shown)
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"…and {more} more: see `newsmon alerts`"}],
            }
        )
    text = f"newsmon: {digest_title(payloads)}: " + "; ".join(escape(headline(p)) for p in shown)
    return {"text": text, "blocks": blocks}


class SlackChannel(ChannelBase):
    type: Literal["slack"]
    webhook_url: SecretStr
    per_second: float | None = Field(default=1.0, gt=0)  # Slack: one message per second


class SlackSender(Sender[SlackChannel]):
    def send(self, payloads: list[dict[str, Any]]) -> str:
        url = self.settings.webhook_url.get_secret_value()
        timeout = self.settings.timeout.total_seconds()
        if self.settings.mode == "digest":
            return post_json(url, message(payloads, digest=True), {}, timeout)
        answers = [post_json(url, message([p], digest=False), {}, timeout) for p in payloads]
        return answers[-1]


register_channel(SlackChannel, SlackSender)

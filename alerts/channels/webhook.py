"""`webhook`: a JSON POST per alert in the documented schema; a digest posts
{"digest": true, "alerts": [...]}."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import SecretStr

from newsmon.alerts.channels.base import Sender, register_channel
from newsmon.alerts.channels.http_post import post_json
from newsmon.config import ChannelBase


def digest_key(payloads: list[dict[str, Any]]) -> str:
    """A digest's Idempotency-Key: the same alerts give the same key."""
    ids = "\n".join(sorted(p["id"] for p in payloads))
    return "digest-" + hashlib.sha256(ids.encode()).hexdigest()[:32]


class WebhookChannel(ChannelBase):
    type: Literal["webhook"]
    url: SecretStr  # may carry a token in its query string
    headers: dict[str, SecretStr] = {}


class WebhookSender(Sender[WebhookChannel]):
    deduplicates = True  # every POST carries an Idempotency-Key

    def send(self, payloads: list[dict[str, Any]]) -> str:
        headers = {name: value.get_secret_value() for name, value in self.settings.headers.items()}
        url, timeout = self.settings.url.get_secret_value(), self.settings.timeout.total_seconds()
        if self.settings.mode == "digest":
            headers |= {"Idempotency-Key": digest_key(payloads)}
            return post_json(url, {"digest": True, "alerts": payloads}, headers, timeout)
        answers = [
            post_json(url, payload, headers | {"Idempotency-Key": payload["id"]}, timeout)
            for payload in payloads
        ]
        return answers[-1]


register_channel(WebhookChannel, WebhookSender)

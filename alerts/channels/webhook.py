"""`webhook`: a JSON POST per alert in the documented schema; a digest posts
{"digest": true, "alerts": [...]}."""

from __future__ import annotations

from typing import Any

from alerts.channels.base import Sender
from alerts.channels.http_post import post_json
from config import WebhookChannel


class WebhookSender(Sender[WebhookChannel]):
    def send(self, payloads: list[dict[str, Any]]) -> str:
        headers = {name: value.get_secret_value() for name, value in self.settings.headers.items()}
        url, timeout = self.settings.url.get_secret_value(), self.settings.timeout.total_seconds()
        if self.settings.mode == "digest":
            return post_json(url, {"digest": True, "alerts": payloads}, headers, timeout)
        answers = [
            post_json(url, payload, headers | {"Idempotency-Key": payload["id"]}, timeout)
            for payload in payloads
        ]
        return answers[-1]

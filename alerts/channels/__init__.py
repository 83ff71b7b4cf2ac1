"""Alert channels, registered by the config's `type` (urlwatch style): adding a channel is one
module with a Sender subclass and one line in SENDERS."""

from __future__ import annotations

from typing import Any

from newsmon.alerts.channels.base import DeliveryError, Sender
from newsmon.alerts.channels.console import ConsoleSender
from newsmon.alerts.channels.file import FileSender
from newsmon.alerts.channels.slack import SlackSender
from newsmon.alerts.channels.smtp import EmailSender
from newsmon.alerts.channels.webhook import WebhookSender

SENDERS: dict[str, type[Sender[Any]]] = {
    "slack": SlackSender,
    "email": EmailSender,
    "webhook": WebhookSender,
    "file": FileSender,
    "console": ConsoleSender,
}


def sender_for(settings: Any) -> Sender[Any]:
    """The sender for one configured channel (a config.*Channel)."""
    return SENDERS[settings.type](settings)


__all__ = ["SENDERS", "DeliveryError", "Sender", "sender_for"]

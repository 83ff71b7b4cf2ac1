"""Alert channels, registered by the config's `type` (urlwatch style).

A channel type is one module here: its settings class (a config.ChannelBase with
`type: Literal["name"]`), its Sender, and `register_channel(settings, sender)`; config.yaml's
schema, its error messages, SENDERS and the docs' list of types all derive from that. Recipe:
docs/development.md, "Add a channel".
"""

from __future__ import annotations

import importlib
from typing import Any

from newsmon.alerts.channels.base import SENDERS, DeliveryError, Sender, register_channel
from newsmon.config import ChannelBase

# the built-in channel modules, in the order error messages and docs list their types
BUILT_IN = ("slack", "smtp", "webhook", "file", "console")
for _module in BUILT_IN:
    importlib.import_module(f"{__name__}.{_module}")


def sender_for(settings: ChannelBase) -> Sender[Any]:
    """The sender for one configured channel (a registered settings class)."""
    return SENDERS[settings.type](settings)


__all__ = ["SENDERS", "DeliveryError", "Sender", "register_channel", "sender_for"]

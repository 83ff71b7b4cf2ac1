"""`console`: one readable message per alert on standard output (the daemon's log): a first
line starting with `[kind]`, then the facts, indented."""

from __future__ import annotations

import sys
from typing import Any, Literal, TextIO

from newsmon.alerts.channels.base import Sender, register_channel
from newsmon.alerts.wording import console_text
from newsmon.config import ChannelBase


class ConsoleChannel(ChannelBase):
    type: Literal["console"]


class ConsoleSender(Sender[ConsoleChannel]):
    def __init__(self, settings: ConsoleChannel, stream: TextIO | None = None) -> None:
        super().__init__(settings)
        self.stream = stream

    def send(self, payloads: list[dict[str, Any]]) -> str:
        stream = self.stream or sys.stdout
        for payload in payloads:
            stream.write(console_text(payload) + "\n")
        stream.flush()
        return f"printed {len(payloads)} line{'s' if len(payloads) != 1 else ''}"


register_channel(ConsoleChannel, ConsoleSender)

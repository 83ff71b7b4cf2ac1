"""`file`: one JSON line per alert (the webhook schema) appended to a file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from newsmon.alerts.channels.base import DeliveryError, Sender, register_channel
from newsmon.config import ChannelBase


class FileChannel(ChannelBase):
    type: Literal["file"]
    path: Path

    def resolve_paths(self, base: Path) -> None:
        if not self.path.is_absolute():
            self.path = base / self.path


class FileSender(Sender[FileChannel]):
    def send(self, payloads: list[dict[str, Any]]) -> str:
        lines = "".join(json.dumps(p, ensure_ascii=False, sort_keys=True) + "\n" for p in payloads)
        if all(p.get("kind") == "test" for p in payloads):
            # a test message never enters the alerts file, whose readers take every line as
            # an alert: it is shown instead
            sys.stdout.write(lines)
            sys.stdout.flush()
            return f"test message written to standard output, not to {self.settings.path}"
        try:
            self.settings.path.parent.mkdir(parents=True, exist_ok=True)
            with self.settings.path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())  # "sent" must mean on disk
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.settings.path}: {exc.strerror}") from None
        return f"appended {len(payloads)} line{'s' if len(payloads) != 1 else ''}"


register_channel(FileChannel, FileSender)

"""The one interface every alert channel implements, and the registry of channel types."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from newsmon.config import CHANNEL_TYPES, ChannelBase
from newsmon.errors import NewsmonError

Settings = TypeVar("Settings")


class DeliveryError(NewsmonError):
    """A send that did not go through. `retry_after` (seconds) is the receiver's own wish (Slack's
    429 Retry-After); `permanent` means retrying cannot help (e.g. 404: a wrong webhook URL);
    `uncertain` means the receiver may have accepted it (a timeout or a cut connection after the
    message went out), so a retry may deliver it twice."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        uncertain: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.uncertain = uncertain


class Sender(ABC, Generic[Settings]):
    """Formats alert records (the webhook schema) for one channel and sends them.

    `send` gets one record for an instant alert, or several for a digest (one message), and
    returns the receiver's answer in a few words; it raises DeliveryError when the send failed.
    """

    # the receiver drops a repeat of the same alert by itself (webhook: Idempotency-Key), so a
    # send with an uncertain outcome can be retried freely
    deduplicates = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def send(self, payloads: list[dict[str, Any]]) -> str:
        """Deliver the payloads (one alert, or a digest's alerts); return what the receiver
        answered, for the delivery record. Raise on failure: the dispatcher retries."""


SENDERS: dict[str, type[Sender[Any]]] = {}


def register_channel(settings: type[ChannelBase], sender: type[Sender[Any]]) -> None:
    """Make a channel type known: config.yaml accepts its `type:` (validated by `settings`) and
    the dispatcher delivers through `sender`. A channel module calls this once, at import."""
    SENDERS[CHANNEL_TYPES.register(settings)] = sender

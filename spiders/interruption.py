"""SIGINT/SIGTERM during a crawl: stop gracefully, remember which signal, never a traceback.

Scrapy's own handlers would stop the crawl too, but they do not say that it was stopped: the
crawl would then be recorded as `ok` and its sources' validators saved, so what the cut left
unread would never be fetched. Here the first signal starts Scrapy's graceful stop (requests in
flight are dropped, articles already read are stored) and is remembered; a second one stops the
reactor at once. Extraction workers ignore SIGINT (a Ctrl-C reaches the terminal's whole process
group): the crawl process decides when they stop.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Interruption:
    """The signal that interrupted the crawl (None: it was not)."""

    signum: int | None = None
    forced: bool = False

    @property
    def exit_status(self) -> int | None:
        """The shell's convention: 128 + signal number (130 for Ctrl-C, 143 for SIGTERM)."""
        return None if self.signum is None else 128 + self.signum


@contextmanager
def handle_stop_signals(
    interruption: Interruption, graceful_stop: Callable[[], Any], force_stop: Callable[[], Any]
) -> Iterator[Interruption]:
    """Within the block, the first SIGINT/SIGTERM calls `graceful_stop`, a second `force_stop`
    (both from the reactor thread); the previous handlers come back after."""
    from twisted.internet import reactor

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # nothing but bookkeeping here: the work is handed to the reactor's thread
        if interruption.signum is None:
            interruption.signum = signum
            reactor.callFromThread(graceful_stop)
        elif not interruption.forced:
            interruption.forced = True
            reactor.callFromThread(force_stop)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield interruption
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ignore_interrupts() -> None:
    """In a worker process: Ctrl-C is for the crawl process to act on, not for its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

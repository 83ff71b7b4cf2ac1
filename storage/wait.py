"""Waiting for a database that is not there yet (a server starting after the daemon, a network
not up yet): retried with backoff, each failure logged at most once a minute."""

from __future__ import annotations

import logging
import threading
import time

from newsmon.storage.db import Database, StorageError

log = logging.getLogger("newsmon.daemon")

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
LOG_EVERY = 60.0
# failures no wait can mend: the URL names something that is not there or not ours
PERMANENT = ("password authentication failed", "does not exist", "no password supplied",
             "role ", "is not a database URL")  # fmt: skip


def open_when_ready(url: str, stop: threading.Event) -> Database | None:
    """Open (and migrate) the database once it answers; None if `stop` is set first.
    Raises StorageError when the failure is one waiting cannot mend (a wrong password)."""
    delay, last_logged, failures = FIRST_DELAY, float("-inf"), 0
    while not stop.is_set():
        try:
            database = Database.open(url)
        except StorageError as exc:
            if any(marker in str(exc) for marker in PERMANENT):
                raise
            failures += 1
            if time.monotonic() - last_logged >= LOG_EVERY:
                log.warning(
                    "database not available (%d attempt(s) so far), waiting for it: %s",
                    failures,
                    str(exc).splitlines()[0],
                )
                last_logged = time.monotonic()
            stop.wait(delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        if failures:
            log.info("database available after %d failed attempt(s)", failures)
        return database
    return None

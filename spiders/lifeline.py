"""Extraction workers die with the crawl process that owns their pool, however it ends.

The workers are forked by the forkserver, not by the crawl process, so a parent-death signal
would only tie them to the forkserver; and the forkserver itself stays up as long as any worker
holds its "alive" pipe. Each worker therefore watches its owner (a pidfd, readable when the
owner is gone) and exits at once; the forkserver and the resource tracker then end on their
own. With the crawl process killed along with the daemon (spiders/isolation.py), a `kill -9` of
the daemon leaves no process behind.
"""

from __future__ import annotations

import os
import select
import threading
import time

from newsmon.spiders.reading import start_worker as start_reader

POLL_SECONDS = 1.0  # without pidfd (not Linux, or a kernel before 5.3): how often to look


def start_worker(owner: int) -> None:
    """The pool's initializer: watch the owner, then the readers' own start (spiders/reading)."""
    watch_owner(owner)
    start_reader()


def watch_owner(owner: int) -> None:
    """Exit this process as soon as process `owner` has ended (or now, if it already has)."""
    try:
        pidfd = os.pidfd_open(owner)
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is None and not _alive(owner):
        os._exit(1)
    threading.Thread(target=_watch, args=(owner, pidfd), name="newsmon-lifeline",
                     daemon=True).start()  # fmt: skip


def _watch(owner: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the owner has exited
    else:
        while _alive(owner):
            time.sleep(POLL_SECONDS)
    os._exit(1)  # no cleanup to do: results go to the owner, who is gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""The one base of newsmon's own exceptions.

Every error a user can act on is a NewsmonError: its str() is the whole message (what, and
where) and `exit_code` is the status the command line exits with. The CLI catches NewsmonError
once, in its command group, and prints one line; library callers catch it like any exception.
"""

from __future__ import annotations

EXIT_USAGE = 2  # a problem the user can fix: the config, an argument, a query
EXIT_RUNTIME = 1  # a fault of the database or the machine: systemd restarts it with backoff


class NewsmonError(Exception):
    """A problem with a message for the user and the exit status the CLI gives it."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)

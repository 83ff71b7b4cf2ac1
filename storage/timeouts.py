"""A time limit on the statements of a block, enforced where the query runs: PostgreSQL's own
`statement_timeout` for the transaction (SET LOCAL: the server cancels the query even if the
client is gone), SQLite's progress handler (the query is interrupted inside the library)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from newsmon.errors import EXIT_RUNTIME, NewsmonError

PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two clock checks (~1 ms)


class StatementTimeout(NewsmonError):
    """A statement ran past the limit and was stopped."""

    exit_code = EXIT_RUNTIME


def postgres_timeout(seconds: float) -> tuple[str, str]:
    """The PostgreSQL setting (name, value) that stops a statement after `seconds`."""
    return "statement_timeout", f"{int(seconds * 1000)}"


@contextmanager
def statement_timeout(
    session: Session, seconds: float, set_by_caller: bool = False
) -> Iterator[None]:
    """Stop any statement of the block that runs longer than `seconds`: StatementTimeout.
    `set_by_caller`: on PostgreSQL the block's first statement sets postgres_timeout(seconds)
    itself for the transaction (one round trip fewer), and only errors are translated here."""
    if session.get_bind().dialect.name == "postgresql":
        if not set_by_caller:
            session.execute(select(func.set_config(*postgres_timeout(seconds), True)))
        try:
            yield
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
                raise StatementTimeout(f"stopped after {seconds:g}s") from None
            raise
        return
    raw: Any = session.connection().connection.dbapi_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_STEPS)
    try:
        yield
    except OperationalError as exc:
        if "interrupted" in str(exc.orig):
            raise StatementTimeout(f"stopped after {seconds:g}s") from None
        raise
    finally:
        raw.set_progress_handler(None, 0)

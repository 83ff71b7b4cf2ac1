"""Log output of `newsmon run`: readable text or one JSON object per line (`--log-format json`).

Crawl lines carry `source` and `crawl_id` (and, when known, `run_id`, `status`, `counts`) as
record attributes, passed with `extra=`; in a crawl child a filter adds them to every record, so
lines from the spiders carry them too.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("source", "crawl_id", "run_id", "channel", "status", "counts", "seconds")
OWN_LOGGERS = ("newsmon",)


class CrawlContext(logging.Filter):
    """Adds fixed fields (the crawl child's source and crawl id) to every record."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__()
        self.fields = fields

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in self.fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {key: getattr(record, key) for key in CONTEXT_FIELDS if hasattr(record, key)}


class TextFormatter(logging.Formatter):
    """`2026-01-01T10:00:00Z INFO scheduler crawl finished: ok … [source=… crawl_id=…]`"""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{stamp} {record.levelname} {record.name} {record.getMessage()}"
        context = {k: v for k, v in _context(record).items() if k not in ("counts", "status")}
        if context:
            line += " [" + " ".join(f"{key}={value}" for key, value in context.items()) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update(_context(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class LibraryNoise(logging.Filter):
    """Library records (Scrapy, Twisted, APScheduler…) below WARNING are dropped (Scrapy resets its
    loggers' levels when a crawl starts, so a handler filter is the dependable place), and the rest
    reach the log as one line without a traceback: a failed download is an event, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(OWN_LOGGERS):
            return True
        if record.levelno < logging.WARNING:
            return False
        if record.exc_info:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure_logging(
    log_format: str, level: int = logging.INFO, context: dict[str, Any] | None = None
) -> None:
    """Send every log record of this process to stderr in `log_format` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    if context:
        handler.addFilter(CrawlContext(context))
    handler.addFilter(LibraryNoise())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # these log every job start, migration check and Scrapy start-up at INFO; the daemon logs
    # what matters itself (crawl errors are counted and logged once by newsmon)
    for noisy in ("apscheduler", "alembic", "scrapy"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))

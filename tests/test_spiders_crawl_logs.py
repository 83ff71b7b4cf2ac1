"""What the daemon's log shows of libraries: warnings and errors as one line, no banners, no
tracebacks; newsmon's own records untouched."""

from __future__ import annotations

import json
import logging

import pytest

from newsmon.spiders.crawl_logs import configure_logging


@pytest.fixture
def restore_root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _failure() -> BaseException:
    try:
        raise ConnectionError("DNS lookup failed: example.org")
    except ConnectionError as exc:
        return exc


@pytest.mark.usefixtures("restore_root_logging")
def test_library_records_are_one_line_and_info_is_dropped(capsys) -> None:
    configure_logging("text", logging.INFO, context={"source": "wire", "crawl_id": "abc"})
    scrapy = logging.getLogger("scrapy.utils.log")
    scrapy.setLevel(logging.DEBUG)  # what Scrapy's own set-up does when a crawl starts
    scrapy.info("Scrapy 2.19.0 started (bot: newsmon)")
    error = _failure()
    logging.getLogger("scrapy.core.scraper").error(
        "Error downloading %s", "https://example.org/rss", exc_info=(type(error), error, None)
    )
    logging.getLogger("newsmon.daemon").info("crawl started")
    lines = capsys.readouterr().err.splitlines()
    assert not any("Scrapy 2.19.0 started" in line for line in lines)
    assert not any("Traceback" in line for line in lines)
    downloads = [line for line in lines if "Error downloading https://example.org/rss" in line]
    assert len(downloads) == 1
    assert "ConnectionError: DNS lookup failed: example.org" in downloads[0]
    assert "source=wire" in downloads[0] and "crawl_id=abc" in downloads[0]
    assert any("crawl started" in line for line in lines)


@pytest.mark.usefixtures("restore_root_logging")
def test_own_errors_keep_their_traceback_in_json(capsys) -> None:
    configure_logging("json", logging.INFO)
    error = _failure()
    logging.getLogger("newsmon.daemon").error("crawl crashed", exc_info=(type(error), error, None))
    entry = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert entry["message"] == "crawl crashed"
    assert "ConnectionError" in entry["exception"]

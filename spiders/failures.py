"""Names for what went wrong with one request, as counted in the crawl run record."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.internet.defer import CancelledError
from twisted.internet.defer import TimeoutError as DeferTimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from newsmon.spiders.reach import RefusedRequest

TIMEOUTS = (
    DownloadTimeoutError,
    DeferTimeoutError,
    twisted_error.TimeoutError,
    twisted_error.TCPTimedOutError,
)
CONNECTION = (
    DownloadConnectionRefusedError,
    DownloadFailedError,
    ResponseDataLossError,
    twisted_error.ConnectError,
    twisted_error.ConnectionLost,
    ResponseFailed,
    ResponseNeverReceived,
)


def failure_kind(failure: Failure) -> tuple[str, str]:
    """(kind, description) of a failed request: `http_404`, `timeout`, `too_large`, …"""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status}"
    if isinstance(exc, TIMEOUTS):
        return "timeout", "timed out"
    if isinstance(exc, DownloadCancelledError | CancelledError):
        return "too_large", "response larger than crawl.max_size"
    if isinstance(exc, CannotResolveHostError | twisted_error.DNSLookupError):
        return "dns", "host name not found"
    if isinstance(exc, RefusedRequest):
        return exc.kind, exc.description
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "DOWNLOAD_MAXSIZE" in text:  # Scrapy's bound on Content-Encoding decompression
            return "too_large", "response larger than crawl.max_size once decompressed"
        if "robots" in text:
            return "robots", "forbidden by robots.txt"
        if "redirect" in text:
            return "redirects", "too many redirects (or a redirect loop)"
        return "ignored", text
    if isinstance(exc, CONNECTION):
        return "connection", f"connection failed ({type(exc).__name__})"
    return type(exc).__name__.lower(), str(exc) or type(exc).__name__

"""One JSON POST, with the answer turned into a result or a DeliveryError (for Slack, webhooks).

Error messages never contain the URL: webhook URLs carry tokens.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from typing import Any

from newsmon.alerts.channels.base import DeliveryError
from newsmon.clock import utcnow

USER_AGENT = "newsmon-alerts/0.1"


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds: either delay-seconds or an HTTP date."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        return max(0.0, (parsedate_to_datetime(header) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def post_json(url: str, body: Any, headers: dict[str, str], timeout: float) -> str:
    """POST `body` as JSON; returns 'HTTP 200: <start of the answer>'."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        | headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.read(500).decode("utf-8", "replace").strip()
            return f"HTTP {response.status}: {answer}" if answer else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        answer = exc.read(200).decode("utf-8", "replace").strip()
        message = f"HTTP {exc.code}" + (f": {answer}" if answer else "")
        retryable = exc.code in (408, 425, 429) or exc.code >= 500
        raise DeliveryError(
            message,
            retry_after=retry_after_seconds(exc.headers.get("Retry-After")),
            permanent=not retryable,
        ) from None
    except urllib.error.URLError as exc:
        # urllib wraps errors of connecting and sending the request: nothing was received
        raise DeliveryError(f"cannot connect: {exc.reason}") from None
    except TimeoutError:
        # the request went out and no answer came within the timeout: it may have been taken
        raise DeliveryError(f"no answer within {timeout:g}s", uncertain=True) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"connection lost before the answer: {exc}", uncertain=True) from None

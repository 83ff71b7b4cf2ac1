"""What `newsmon extract` is given: URLs, local HTML files (.html, .html.gz) or stdin, read
with the same extraction as the crawl. No config and no database needed."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, BinaryIO

from newsmon.config import Config
from newsmon.errors import NewsmonError
from newsmon.figures import assign_quantities, extract_figures
from newsmon.spiders.article_page import (
    ArticleRecord,
    ExtractionError,
    extract_article,
    text_record,
)
from newsmon.spiders.topics import match_topics

FETCH_TIMEOUT = 30.0
MAX_BYTES = 10 * 1024 * 1024


class InputError(NewsmonError):
    """A SOURCE that cannot be read; str() says which and why."""


def read_input(source: str, stdin: BinaryIO, user_agent: str) -> tuple[bytes, str | None]:
    """The bytes of one SOURCE and the URL they came from (None for files and stdin)."""
    if source == "-":
        return stdin.read(MAX_BYTES + 1)[:MAX_BYTES], None
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": user_agent})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
                return response.read(MAX_BYTES), response.geturl()
        except urllib.error.HTTPError as exc:
            raise InputError(f"{source}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(f"{source}: cannot fetch: {reason}") from None
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{source}: no such file (give a URL, an .html/.html.gz file or -)"
        ) from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror}") from None
    if source.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{source}: not valid gzip data ({exc})") from None
    return data, None


def extract_input(
    source: str, as_text: bool, stdin: BinaryIO, user_agent: str, config: Config | None = None
) -> dict[str, Any]:
    """The JSON object for one SOURCE. Raises InputError. With a `config`, the topics whose
    keywords match and each figure's tracked quantity, with the reason (`assigned_by`)."""
    data, url = read_input(source, stdin, user_agent)
    try:
        record: ArticleRecord
        if as_text:
            record = text_record(data.decode("utf-8", errors="replace"))
        else:
            record = extract_article(data, url)
    except ExtractionError as exc:
        raise InputError(f"{source}: {exc}") from None
    record.figures = extract_figures(record.text)
    if config is None:
        return record.to_json(source)
    topics = match_topics(config, None, record.title, record.text)
    record.figures = assign_quantities(record.figures, config.tracked_quantities(topics))
    return record.to_json(source) | {"topics": topics}

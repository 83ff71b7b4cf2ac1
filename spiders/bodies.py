"""Gzipped bodies (`.xml.gz` sitemaps and feeds), inflated in chunks under the crawl's
`max_size`: a few megabytes that inflate to gigabytes stop at the limit instead of filling
memory. (HTTP `Content-Encoding` is inflated by Scrapy's own middleware under the same limit.)
"""

from __future__ import annotations

import io
import struct
import zlib
from gzip import GzipFile

from newsmon.errors import NewsmonError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


class BodyTooLarge(NewsmonError):
    """The inflated body would exceed `crawl.max_size`."""


def is_gzip(body: bytes) -> bool:
    return body[:2] == GZIP_MAGIC


def gunzip_bounded(body: bytes, limit: int) -> bytes:
    """The inflated body (every gzip member); BodyTooLarge past `limit` bytes, OSError or
    EOFError for broken data. `limit` 0 means no limit, as Scrapy's DOWNLOAD_MAXSIZE."""
    out = io.BytesIO()
    with GzipFile(fileobj=io.BytesIO(body)) as stream:
        try:
            while chunk := stream.read1(_CHUNK):
                if limit and out.tell() + len(chunk) > limit:
                    raise BodyTooLarge(f"inflates to more than {limit} bytes")
                out.write(chunk)
        except (struct.error, zlib.error) as exc:
            raise OSError(str(exc)) from exc
    return out.getvalue()

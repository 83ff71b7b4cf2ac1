"""Near-duplicate detection: SimHash over word shingles, and an in-memory index of known texts.

A syndicated wire story reprinted by several sites differs by a byline, a dateline or a
"Reporting by" line; its 64-bit SimHash then differs in a few bits at most, while unrelated
stories differ in about half of them. Four 16-bit bands make lookup exact and fast: two hashes
within MAX_DISTANCE (< 4) bits agree on at least one whole band.
"""

from __future__ import annotations

import hashlib
import re

SHINGLE = 3  # words per shingle
MAX_DISTANCE = 7  # bits
MIN_RESEMBLANCE = 0.7  # shared shingles / shingles of the shorter text
MIN_WORDS = 40  # shorter texts (briefs) collide too easily to be called copies
BANDS = 8
BAND_BITS = 64 // BANDS
_WORD = re.compile(r"\w+")


def simhash(text: str) -> int | None:
    """The text's SimHash as a signed 64-bit integer (database BIGINT), or None if too short."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    # each shingle's 64-bit hash as a string of bits (most significant first); a bit of the
    # SimHash is set when more shingles have it set than not. Counting the columns with
    # str.count keeps the per-bit loop in C: this runs once per crawled article.
    rows = [
        format(int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest()), "064b")
        for shingle in shingles(text)
    ]
    bits = "".join(rows)  # bit i of every row: bits[i::64]
    majority = "".join("1" if 2 * bits[i::64].count("1") > len(rows) else "0" for i in range(64))
    unsigned = int(majority, 2)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def shingles(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def resemblance(text: str, other: str) -> float:
    """Shared shingles over the shingles of the shorter text (a copy may be cut or extended)."""
    mine, theirs = shingles(text), shingles(other)
    if not mine or not theirs:
        return 0.0
    return len(mine & theirs) / min(len(mine), len(theirs))


def distance(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


class SimhashIndex:
    """Known (article id, simhash) pairs, looked up by band."""

    def __init__(self, known: list[tuple[int, int]] | None = None) -> None:
        self._bands: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(BANDS)]
        for article_id, value in known or []:
            self.add(article_id, value)

    @staticmethod
    def _keys(value: int) -> list[int]:
        unsigned = value & 0xFFFFFFFFFFFFFFFF
        return [unsigned >> (BAND_BITS * band) & 0xFF for band in range(BANDS)]

    def add(self, article_id: int, value: int) -> None:
        for band, key in enumerate(self._keys(value)):
            self._bands[band].setdefault(key, []).append((article_id, value))

    def remove(self, article_id: int, value: int) -> None:
        """Forget an entry (its article was rolled back)."""
        for band, key in enumerate(self._keys(value)):
            bucket = self._bands[band].get(key, [])
            if (article_id, value) in bucket:
                bucket.remove((article_id, value))

    def candidates(self, value: int, exclude: int | None = None) -> list[int]:
        """Ids within MAX_DISTANCE bits, oldest (smallest id) first."""
        matches = {
            article_id
            for band, key in enumerate(self._keys(value))
            for article_id, other in self._bands[band].get(key, [])
            if article_id != exclude and distance(value, other) <= MAX_DISTANCE
        }
        return sorted(matches)

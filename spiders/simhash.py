"""Near-duplicate detection: SimHash over word shingles, and the index of known originals.

A syndicated wire story reprinted by several sites differs by a byline, a dateline or a
"Reporting by" line; its 64-bit SimHash then differs in a few bits at most, while unrelated
stories differ in about half of them. Originals are indexed in the database by blocks of their
hash (storage.near_duplicates), so that every hash within MAX_DISTANCE bits is found by one
indexed query; the shingle resemblance then confirms a candidate.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from newsmon.storage import near_duplicates

SHINGLE = 3  # words per shingle
MAX_DISTANCE = 7  # bits
MIN_RESEMBLANCE = 0.7  # shared shingles / shingles of the shorter text
MIN_WORDS = 40  # shorter texts (briefs) collide too easily to be called copies
_WORD = re.compile(r"\w+")


def simhash(text: str) -> int | None:
    """The text's SimHash as a signed 64-bit integer (database BIGINT), or None if too short."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    found = _shingles(words)
    # each shingle's 64-bit hash as 64 characters of bits (most significant first), all of them
    # in one string made from one integer (not one per shingle: a third of the time); a bit of
    # the SimHash is set when more shingles have it set than not. Counting the columns with
    # str.count keeps the per-bit loop in C: this runs once per crawled article.
    digests = b"".join([hashlib.blake2b(one.encode(), digest_size=8).digest() for one in found])
    bits = format(int.from_bytes(digests), f"0{64 * len(found)}b")  # bit i of each: bits[i::64]
    majority = "".join("1" if 2 * bits[i::64].count("1") > len(found) else "0" for i in range(64))
    unsigned = int(majority, 2)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def shingles(text: str) -> set[str]:
    return _shingles(_WORD.findall(text.lower()))


def _shingles(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def resemblance(text: str, other: str) -> float:
    """Shared shingles over the shingles of the shorter text (a copy may be cut or extended)."""
    mine, theirs = shingles(text), shingles(other)
    if not mine or not theirs:
        return 0.0
    return len(mine & theirs) / min(len(mine), len(theirs))


def distance(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


@dataclass(frozen=True)
class SimhashIndex:
    """The archive's originals, looked up by SimHash through the database's block index
    (storage.near_duplicates): one indexed query per new article, whatever the archive's size,
    instead of loading every recent hash into each crawl. Only originals first seen since
    `since` are candidates (a story reprinted a month later is news again)."""

    since: datetime

    def candidates(self, session: Session, value: int) -> list[int]:
        """Ids within MAX_DISTANCE bits, oldest (smallest id) first."""
        return near_duplicates.candidates(session, value, MAX_DISTANCE, self.since)

    def candidates_of(self, session: Session, values: list[int]) -> dict[int, list[int]]:
        """`candidates` of each of these hashes, with one query."""
        return near_duplicates.candidates_of(session, values, MAX_DISTANCE, self.since)

    def add(self, session: Session, article_id: int, value: int, first_seen_at: datetime) -> None:
        """Index an original in the session's transaction (a rollback takes it back)."""
        near_duplicates.add_original(session, article_id, value, first_seen_at)

    def add_many(self, session: Session, originals: list[tuple[int, int, datetime]]) -> None:
        """Index (article id, SimHash, first seen) originals with one statement."""
        near_duplicates.add_originals(session, originals)

"""The near-duplicate index: SimHash blocks of original articles in an indexed table.

A copy's 64-bit SimHash differs from its original's in at most `max_distance` bits (7). The hash
is cut into three blocks (22, 21, 21 bits) and each original stores one row per block, keyed by
(block number, block value) packed into `block_key`. A lookup probes every value within a
radius of the new hash's own block: radii (2, 2, 1) for 7 bits. Pigeonhole: if every block
differed by more than its radius, the hashes would differ in at least 3 + 3 + 2 = 8 bits.

Why not the usual eight exact 8-bit bands: a band value is shared by 1/256 of the archive, so a
lookup at 1M originals reads ~31,000 rows. Blocks of 21-22 bits are shared by ~1/2M-1/4M; the
508 probes cost the same at any size and read ~180 rows at 1M originals (multi-index hashing,
Norouzi et al.; Manku et al. for SimHash), in one query over the table's primary key.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from itertools import combinations

from sqlalchemy import (
    ColumnElement,
    Integer,
    any_,
    cast,
    column,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIT
from sqlalchemy.orm import Session

from newsmon.storage.models import SimhashBlock

# (shift, bits) of each block, most significant first; migration 0008 repeats these numbers
BLOCKS: tuple[tuple[int, int], ...] = ((42, 22), (21, 21), (0, 21))
KEY_BITS = 22  # block_key = block number << KEY_BITS | block value


def block_keys(value: int) -> list[int]:
    """The keys an original with this (signed 64-bit) SimHash is stored under, one per block."""
    unsigned = value & ((1 << 64) - 1)
    return [
        number << KEY_BITS | (unsigned >> shift) & ((1 << bits) - 1)
        for number, (shift, bits) in enumerate(BLOCKS)
    ]


def radii(max_distance: int) -> list[int]:
    """Per block, how many bits a probe may flip so that every hash within `max_distance` bits
    shares a probed key: the (radius + 1)s must add up to more than max_distance."""
    spread = max_distance + 1 - len(BLOCKS)
    base, extra = divmod(max(spread, 0), len(BLOCKS))
    return [base + (1 if number < extra else 0) for number in range(len(BLOCKS))]


def probe_keys(value: int, max_distance: int) -> list[int]:
    """Every key a hash within `max_distance` bits of `value` has at least one of."""
    keys = []
    for key, radius, (_shift, bits) in zip(
        block_keys(value), radii(max_distance), BLOCKS, strict=True
    ):
        keys += [key ^ mask for mask in _flips(bits, radius)]
    return keys


@cache
def _flips(bits: int, radius: int) -> tuple[int, ...]:
    """Masks flipping at most `radius` of `bits` low bits (0 first: the block itself)."""
    return tuple(
        sum(1 << position for position in positions)
        for flips in range(radius + 1)
        for positions in combinations(range(bits), flips)
    )


def add_original(session: Session, article_id: int, value: int, first_seen_at: datetime) -> None:
    """Index an original (an article that is no copy) in the caller's transaction, so a
    rollback takes its rows back with the article."""
    add_originals(session, [(article_id, value, first_seen_at)])


def add_originals(session: Session, originals: list[tuple[int, int, datetime]]) -> None:
    """Index (article id, SimHash, first seen) originals with one statement (a batch's)."""
    if not originals:
        return
    session.execute(
        insert(SimhashBlock),
        [
            {
                "block_key": key,
                "article_id": article_id,
                "simhash": value,
                "first_seen_at": first_seen_at,
            }
            for article_id, value, first_seen_at in originals
            for key in block_keys(value)
        ],
    )


def candidates(session: Session, value: int, max_distance: int, since: datetime) -> list[int]:
    """Originals first seen since `since` whose SimHash is within `max_distance` bits of
    `value`, oldest (smallest id) first: one query through the block index."""
    ids = session.scalars(
        select(SimhashBlock.article_id).where(
            _key_in(session, probe_keys(value, max_distance)),
            SimhashBlock.first_seen_at >= since,
            # checked in the database: the ~180 rows a lookup reads at 1M originals would
            # cost more than the query itself as Python rows
            _distance(session, value) <= max_distance,
        )
    )
    return sorted(set(ids))


def candidates_of(
    session: Session, values: list[int], max_distance: int, since: datetime
) -> dict[int, list[int]]:
    """`candidates` of several hashes (a batch's new articles) with one query: the union of
    their probes finds every hash within reach of any of them, and each row is then given to
    the hashes it is within `max_distance` bits of."""
    wanted = sorted(set(values))
    if not wanted:
        return {}
    keys = sorted({key for value in wanted for key in probe_keys(value, max_distance)})
    rows = session.execute(
        select(SimhashBlock.article_id, SimhashBlock.simhash).where(
            _key_in(session, keys),
            SimhashBlock.first_seen_at >= since,
            or_(*(_distance(session, value) <= max_distance for value in wanted)),
        )
    )
    found: dict[int, set[int]] = {value: set() for value in wanted}
    for article_id, other in rows:
        for value in wanted:
            if ((value ^ other) & ((1 << 64) - 1)).bit_count() <= max_distance:
                found[value].add(article_id)
    return {value: sorted(ids) for value, ids in found.items()}


def _key_in(session: Session, keys: list[int]) -> ColumnElement[bool]:
    """block_key among the 508 probed keys, passed as one parameter: binding (and, on
    PostgreSQL, parsing) 508 parameters cost 1.5x (SQLite) to 5x (PostgreSQL) the lookup."""
    if session.get_bind().dialect.name == "postgresql":
        return SimhashBlock.block_key == any_(literal(keys, ARRAY(Integer)))
    listed = select(column("value", Integer)).select_from(func.json_each(json.dumps(keys)))
    return SimhashBlock.block_key.in_(listed.scalar_subquery())


def _distance(session: Session, value: int) -> ColumnElement[int]:
    """Bits in which a row's hash differs from `value` (SQLite: storage.db registers it)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.bit_count(cast(SimhashBlock.simhash.op("#")(value), BIT(64)))
    return func.simhash_distance(SimhashBlock.simhash, value)

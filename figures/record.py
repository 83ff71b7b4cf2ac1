"""The figure record: one number found in a text, with what it counts and who says so."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """A numeric claim. `text == source[start:end]`; for a range `value` is the midpoint and
    `low`/`high` the bounds; vague amounts ("hundreds of") carry their order-of-magnitude span."""

    value: float
    low: float | None
    high: float | None
    qualifier: str
    unit: str | None
    text: str
    start: int
    end: int
    sentence: str
    attribution: str | None
    projection: bool
    quantity: str | None = None
    per: str | None = None  # a rate or per-unit value: "day", "year", "capita", "barrel", "hour"
    change: str | None = None  # "up" or "down" when stated as a movement ("rose 5%")
    role: str | None = None  # "previous" or "current" for the two ends of "from X to Y"
    assigned_by: str | None = None  # why `quantity` was chosen: the unit and context words

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready primitives, keys in field order."""
        return asdict(self)

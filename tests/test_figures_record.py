"""The figure record as other parts of newsmon receive it."""

from __future__ import annotations

import json

from newsmon.figures import Figure, extract_figures

FIELDS = [
    "value", "low", "high", "qualifier", "unit", "text", "start", "end", "sentence",
    "attribution", "projection", "quantity", "per", "change", "role", "assigned_by",
]  # fmt: skip


def test_to_dict_has_exactly_the_record_keys_in_order_and_is_json_ready() -> None:
    (fig,) = extract_figures("At least 3,000 soldiers arrived, Seoul said.")
    d = fig.to_dict()
    assert list(d) == FIELDS
    assert json.loads(json.dumps(d)) == {
        "value": 3000.0,
        "low": None,
        "high": None,
        "qualifier": "at_least",
        "unit": "soldier",
        "text": "At least 3,000 soldiers",
        "start": 0,
        "end": 23,
        "sentence": "At least 3,000 soldiers arrived, Seoul said.",
        "attribution": "Seoul",
        "projection": False,
        "quantity": None,
        "per": None,
        "change": None,
        "role": None,
        "assigned_by": None,
    }


def test_figure_fields_are_positional_in_the_documented_order() -> None:
    fig = Figure(1.0, None, None, "exact", "drone", "1 drone", 0, 7, "1 drone.", None, False)
    assert fig.quantity is None
    assert [f for f in fig.to_dict()] == FIELDS

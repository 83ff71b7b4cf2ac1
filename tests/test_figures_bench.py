"""bench/figures.py prints the scores and the speed per file, split and origin, and never shows
the test split's mistakes unless asked to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "figures.py"
LINE = (
    '{"text": "At least 3,000 soldiers arrived, Seoul said.", "figures": [{"value": 3000, '
    '"low": null, "high": null, "qualifier": "at_least", "unit": "soldier", '
    '"attribution": "Seoul", "projection": false}], "split": "dev"}'
)
# Each row expects a figure (value 7777) the text does not hold: one "missed" mistake per row.
MISSED = (
    '{{"text": "{text}", "figures": [{{"value": 7777, "low": null, "high": null, '
    '"qualifier": "exact", "unit": null, "attribution": null, "projection": false}}], '
    '"split": "{split}", "origin": "{origin}"}}'
)


def run(*args: str) -> str:
    return subprocess.run(
        [sys.executable, str(BENCH), *args, "--min-seconds", "0.05"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def test_bench_prints_scores_and_speed(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text('{"format": "test"}\n' + LINE + "\n", encoding="utf-8")
    out = run(str(labelled))
    assert "valP  valR valF1  vuF1   unit  qual  attr  proj" in out
    assert (
        "all                            1     1     1  1.000 1.000 1.000 1.000  1.000 1.000" in out
    )
    assert "split dev                      1" in out
    assert "sentences/s" in out


def test_errors_show_dev_mistakes_and_hide_test_ones_unless_asked(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        '{"format": "test"}\n'
        + MISSED.format(text="Dev row with 12 ships.", split="dev", origin="a")
        + "\n"
        + MISSED.format(text="Test row with 34 ships.", split="test", origin="b")
        + "\n",
        encoding="utf-8",
    )
    out = run(str(labelled), "--errors")
    assert "in: Dev row with 12 ships." in out
    assert "Test row" not in out
    assert "on test rows hidden" in out
    assert "a dev " in out and "b test " in out  # per origin and split
    shown = run(str(labelled), "--errors-on-test")
    assert "in: Test row with 34 ships." in shown


def test_quantity_sets_report_assignment_accuracy(tmp_path: Path) -> None:
    quantities = tmp_path / "q.jsonl"
    quantities.write_text(
        '{"format": "test"}\n'
        '{"text": "At least 40 soldiers were killed.", "split": "dev", "quantities": '
        '{"casualties": {"units": ["killed"], "context": {"any": ["killed"], "not": []}}}, '
        '"figures": [{"value": 40, "quantity": "casualties"}]}\n',
        encoding="utf-8",
    )
    out = run(str(quantities))
    assert "quantity accuracy" in out
    assert "split dev" in out


def test_default_run_covers_every_set() -> None:
    # every set; the hostile input small (tests/test_figures_extract.py times it at full size)
    out = run("--hostile-size", "40000")
    for name in (
        "figures-labelled.jsonl",
        "figures-quantulum3.jsonl",
        "figures-recognizers-text.jsonl",
        "figures-news-eval.jsonl",
        "quantity-assignment.jsonl",
        "external sets together",
    ):
        assert name in out
    assert "written-for-eval test" in out
    assert "random unicode     0.01 MB" in out and "0.04 MB" in out  # each hostile kind, sized
    assert "mistakes" not in out  # nothing listed without --errors

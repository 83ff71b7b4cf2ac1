"""bench/figures.py prints the scores and the speed for a labelled file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = (
    '{"text": "At least 3,000 soldiers arrived, Seoul said.", "figures": [{"value": 3000, '
    '"low": null, "high": null, "qualifier": "at_least", "unit": "soldier", '
    '"attribution": "Seoul", "projection": false}], "split": "dev"}'
)


def test_bench_prints_scores_and_speed(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text('{"format": "test"}\n' + LINE + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "figures.py"), str(labelled), "--repeat", "2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "P 1.000  R 1.000  F1 1.000  qualifier 1.000  attribution 1.000" in out
    assert "dev      sentences    1" in out
    assert "sentences/s" in out

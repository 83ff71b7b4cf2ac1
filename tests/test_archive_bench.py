"""bench/archive.py runs end to end on a small archive and reports every figure it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_small_run_reports_search_figures_and_export(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/archive.py", "--articles", "300", "--reps", "1", "--no-postgres",
         "--keep", str(tmp_path / "bench")],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"sqlite +fill +300 articles", out)
    assert re.search(
        r"sqlite +search +p50 +[\d.]+ ms +p95 +[\d.]+ ms .*\(12 queries: 12 kinds x 1; slowest '",
        out,
    )
    assert re.search(r"sqlite +figures +whole timeline +[\d.]+ ms \([\d,]+ reports\)", out)
    assert re.search(r"sqlite +export +all +300 articles .* peak RSS +\d+ MB", out)
    assert (tmp_path / "bench" / "bench.db").stat().st_size > 1_000_000  # ~1,000 words each

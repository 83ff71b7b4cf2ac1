"""bench/archive.py runs end to end on a small archive and reports every figure it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSMON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)  # as conftest.py and the bench read it


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
    assert re.search(r"^hospital outbreak \[source\] +[\d.]+ / +[\d.]+$", out, re.MULTILINE)


def test_bench_keeps_a_postgres_database_and_searches_it_again(
    tmp_path: Path, postgres_skip_reason: str | None
) -> None:
    """--keep-postgres NAME fills the database once; the next run searches it without refilling
    and prints each query kind on both backends with PostgreSQL's p95 over SQLite's."""
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    name = f"newsmon_bench_test_{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "bench/archive.py", "--articles", "100", "--reps", "1",
               "--search-only", "--keep", str(tmp_path), "--keep-postgres", name]  # fmt: skip
    try:
        first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert first.returncode == 0, first.stderr
        assert re.search(r"postgresql +fill +100 articles", first.stdout)
        again = subprocess.run(
            [*command, "--reuse"], cwd=ROOT, capture_output=True, text=True, timeout=240
        )
        assert again.returncode == 0, again.stderr
        assert re.search(rf"postgresql +fill +reused \S+/{name} \(100 articles\)", again.stdout)
        assert re.search(r"^troops +[\d.]+ / +[\d.]+ +[\d.]+ / +[\d.]+ +[\d.]+x$",
                         again.stdout, re.MULTILINE)  # fmt: skip
        assert "figures" not in again.stdout  # --search-only
    finally:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

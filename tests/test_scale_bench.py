"""bench/scale.py runs end to end on a few sources: the single `newsmon run` and the split setup
(a scheduler and a worker on the bench's own redis-server and PostgreSQL database) each poll them,
and bad arguments get one line, not a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def scale(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bench/scale.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_the_split_setup_polls_beside_newsmon_run(postgres_skip_reason: str | None) -> None:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    # each row ends once every source has been polled ok (a minute at most)
    result = scale(
        "--sources", "10", "--every", "2s", "--minutes", "1", "--workers", "1", "--until-polled"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        match = re.match(r" +10 (run|sched\+1w) +(\d+) +(\d+) +(\d+) +[\d.]+ms", line)
        if match:
            rows[match[1]] = [int(match[i]) for i in (2, 3, 4)]
    assert set(rows) == {"run", "sched+1w"}, result.stdout
    for due, polls, ok in rows.values():
        assert due >= 10 and ok >= 10 and polls >= ok  # every source polled at least once
    assert "load average" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "5x"], "scale: --every wants a duration such as 90s, 1m or 15m, got '5x'"),
        (["--workers", "0"], "scale: --workers wants counts of 1 or more, got [0]"),
    ],
)
def test_bad_arguments_get_one_line(args: list[str], message: str) -> None:
    result = scale(*args, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip() == message

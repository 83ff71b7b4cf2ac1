"""Run `newsmon ...` inside the test process with click's CliRunner.

A subprocess re-imports Scrapy, SQLAlchemy and trafilatura (1-2 s each time) and proves nothing
more for commands that only read or write the archive. The answer has the shape of
`subprocess.run`'s, so a test reads returncode, stdout and stderr either way. An uncaught
exception becomes exit status 1 with its traceback on stderr, as the console script would print
it, so "no traceback" assertions keep their meaning.

Commands that run Scrapy's reactor (`crawl`, `run`) cannot start twice in one process: tests of
those keep a real subprocess, as do the few tests of exit codes, signals and the console script.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import traceback
from pathlib import Path

from click.testing import CliRunner

from newsmon.cli import main

REACTOR_COMMANDS = {"crawl", "run"}


def newsmon_in_process(
    *args: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bytes | str | None = None,
) -> subprocess.CompletedProcess[str]:
    argv = [str(arg) for arg in args]
    reactor = REACTOR_COMMANDS.intersection(argv) if "--help" not in argv else set()
    assert not reactor, f"{sorted(reactor)} starts Scrapy's reactor: run it in a subprocess"
    runner = CliRunner()
    with contextlib.chdir(cwd or os.getcwd()):
        result = runner.invoke(main, argv, input=stdin, env=env, prog_name="newsmon")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["newsmon", *argv], result.exit_code, result.stdout, stderr)

"""The `newsmon` command as a user runs it: exit codes, messages, no tracebacks. Commands run
in-process (tests/cli_in_process.py); one test runs the real process for its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_in_process import newsmon_in_process

from newsmon.storage import Database

CONFIG = """\
storage:
  url: {url}
topics:
  nk:
    title: North Korean troops
    quantities:
      troops:
        label: troops
        units: [troops]
sources:
  - name: wire
    url: https://example.org/rss.xml
    type: feed
alerts:
  channels:
    - name: hook
      type: webhook
      url: ${{HOOK_URL}}
    - name: mail
      type: email
      host: smtp.example.org
      username: me
      password: ${{SMTP_PASSWORD}}
      from: a@example.org
      to: [b@example.org]
"""


def newsmon(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return newsmon_in_process(*args, env=env, cwd=cwd)


HEAD = Database("sqlite://").head_revision()  # the newest migration

SECRETS = {"HOOK_URL": "https://hooks.example.org/in/TOKEN123", "SMTP_PASSWORD": "hunter2pw"}


def test_check_reports_channels_with_secrets_masked(write_config, database_url: str) -> None:
    path = write_config(CONFIG.format(url=database_url))
    result = newsmon("--config", str(path), "check", env=SECRETS)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and f"revision {HEAD}" in result.stdout
    assert "hooks.example.org" in result.stdout and "********" in result.stdout
    assert "TOKEN123" not in result.stdout + result.stderr
    assert "hunter2pw" not in result.stdout + result.stderr


def test_config_from_environment_variable(write_config, tmp_path: Path) -> None:
    path = write_config(CONFIG.format(url="sqlite:///env.db"))
    result = newsmon("check", env={**SECRETS, "NEWSMON_CONFIG": str(path)}, cwd=tmp_path.parent)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "env.db").exists()  # relative to config.yaml, not the cwd


def test_bad_config_is_one_line_exit_2(write_config) -> None:
    path = write_config(CONFIG.format(url="sqlite:///x.db").replace("type: feed", "type: fed"))
    result = newsmon("--config", str(path), "check", env=SECRETS)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"newsmon: {path}:13: sources[0].type:")


def test_missing_secret_is_named(write_config) -> None:
    path = write_config(CONFIG.format(url="sqlite:///x.db"))
    result = newsmon("--config", str(path), "check", env={"HOOK_URL": "https://h.example.org/"})
    assert result.returncode == 2
    assert "SMTP_PASSWORD is not set" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_exit_2_and_password_masked(write_config) -> None:
    url = "postgresql+psycopg://newsmon:dbsecretpw@127.0.0.1:1/none"
    path = write_config(CONFIG.format(url=url))
    result = newsmon("--config", str(path), "check", env=SECRETS)
    assert result.returncode == 2 and "cannot open database" in result.stderr
    assert "dbsecretpw" not in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_twice_is_a_no_op(write_config, database_url: str) -> None:
    path = write_config(CONFIG.format(url=database_url))
    first = newsmon("--config", str(path), "db", "upgrade", env=SECRETS)
    assert first.returncode == 0 and f"upgraded from empty to {HEAD}" in first.stdout
    second = newsmon("--config", str(path), "db", "upgrade", env=SECRETS)
    assert second.returncode == 0 and "nothing to do" in second.stdout


def test_every_command_has_help() -> None:
    result = newsmon("--help")
    assert result.returncode == 0
    commands = [
        line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert "check" in commands and "db" in commands
    for command in commands:
        sub = newsmon(command, "--help")
        assert sub.returncode == 0 and "Usage:" in sub.stdout, command


def test_bad_argument_is_exit_2() -> None:
    # a real process: the exit status the shell sees
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "No such command 'no-such-command'" in result.stderr

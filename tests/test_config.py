"""config.yaml: the shipped file loads; each kind of mistake is one message with file and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newsmon.config import ConfigError, load_config
from newsmon.figures.quantities import QuantitySpec

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
storage:
  url: sqlite:///data/archive.db
topics:
  nk-troops:
    title: North Korean troops in Russia
    keywords:
      all: ["North Korea|North Korean|Pyongyang"]
      any: [troops, soldiers]
      not: [football]
    quantities:
      troops-in-russia:
        label: North Korean troops in Russia
        units: [troops, soldiers]
        min_change: 0.1
sources:
  - name: Example wire
    url: https://example.org/rss.xml
    type: feed
    every: 15m
  - name: Sitemap
    url: https://example.org/news-sitemap.xml
    type: sitemap
    cron: "*/10 * * * *"
    topics: [nk-troops]
alerts:
  channels:
    - name: team-slack
      type: slack
      webhook_url: ${SLACK_WEBHOOK_URL}
    - name: analyst-mail
      type: email
      host: ${SMTP_HOST}
      port: 587
      security: starttls
      username: ${SMTP_USER:-}
      password: ${SMTP_PASSWORD:-}
      from: newsmon@example.org
      to: [analyst@example.org]
"""

ENV = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/secret", "SMTP_HOST": "mail"}


def test_shipped_config_loads_without_any_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSMON_DB", raising=False)
    config = load_config(REPO / "config.yaml", env={})
    assert "nk-troops" in config.topics
    assert config.sources and all(s.url.startswith("https://") for s in config.sources)
    assert {c.type for c in config.alerts.channels} <= {"console", "file"}
    assert config.storage.url == f"sqlite:///{REPO / 'newsmon.db'}"


def test_good_config_values(write_config) -> None:
    path = write_config(GOOD)
    config = load_config(path, env=ENV)
    assert config.storage.url == f"sqlite:///{path.parent / 'data' / 'archive.db'}"
    assert config.sources[0].every == timedelta(minutes=15)
    assert config.sources[1].cron == "*/10 * * * *" and config.sources[1].every is None
    assert config.source_topics(config.sources[0]) == ["nk-troops"]
    slack, email = config.alerts.channels
    assert slack.webhook_url.get_secret_value() == ENV["SLACK_WEBHOOK_URL"]
    assert "secret" not in repr(slack)  # secrets never show in logs or reprs
    assert email.from_ == "newsmon@example.org" and email.username == ""
    assert config.topics["nk-troops"].keywords.not_ == ["football"]
    assert config.tracked_quantities(["nk-troops"]) == {
        "nk-troops/troops-in-russia": QuantitySpec(units=("troops", "soldiers"))
    }


def test_env_default_is_used_when_variable_is_unset(write_config) -> None:
    config = load_config(write_config("storage:\n  url: ${DB:-sqlite:///x.db}\n"), env={})
    assert config.storage.url.endswith("/x.db")


def _error(write_config, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text), env=env or {})
    message = str(caught.value)
    assert "\n" not in message.strip() or message.count("\n") <= 1  # one or two lines
    return message


def test_typo_key_names_file_line_path_and_suggestion(write_config) -> None:
    bad = GOOD.replace("    every: 15m", "    evry: 15m")
    message = _error(write_config, bad, ENV)
    assert "config.yaml:19:" in message
    assert "sources[0].evry" in message and "did you mean 'every'" in message


def test_wrong_type_says_expected_and_found(write_config) -> None:
    bad = GOOD.replace("port: 587", "port: lots")
    message = _error(write_config, bad, ENV)
    assert "config.yaml:33:" in message and "alerts.channels[1].port" in message
    assert "integer" in message and "'lots'" in message


def test_bad_duration_says_what_is_expected(write_config) -> None:
    message = _error(write_config, GOOD.replace("every: 15m", "every: soon"), ENV)
    assert "config.yaml:19:" in message and "duration like" in message and "'soon'" in message


def test_missing_env_var_names_variable_and_line(write_config) -> None:
    message = _error(write_config, GOOD, {"SMTP_HOST": "mail"})
    assert "config.yaml:29:" in message
    assert "SLACK_WEBHOOK_URL is not set" in message


def test_invalid_yaml_names_line(write_config) -> None:
    message = _error(write_config, "topics:\n  a: [1, 2\nsources: []\n")
    assert "config.yaml:3:" in message and "invalid YAML" in message


def test_unknown_topic_reference(write_config) -> None:
    bad = GOOD.replace("topics: [nk-troops]", "topics: [nk-trops]")
    message = _error(write_config, bad, ENV)
    assert "sources[1].topics" in message and "did you mean 'nk-troops'" in message


def test_unknown_channel_type(write_config) -> None:
    message = _error(write_config, "alerts:\n  channels:\n    - name: x\n      type: pager\n")
    assert "config.yaml:4:" in message and "slack, email, webhook, file, console" in message


def test_bad_cron_and_bad_url(write_config) -> None:
    assert "cron" in _error(write_config, GOOD.replace("*/10 * * * *", "every tuesday"), ENV)
    message = _error(write_config, GOOD.replace("https://example.org/rss.xml", "ftp://x"), ENV)
    assert "config.yaml:17:" in message and "http" in message


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config("/nonexistent/config.yaml")


def test_alerts_over_time_settings_and_their_defaults(write_config) -> None:
    config = load_config(write_config(GOOD), env=ENV)
    quantity = config.quantity("nk-troops/troops-in-russia")
    assert quantity is not None
    assert config.alerts.first_crawl == "baseline" and config.alerts.late_report is False
    assert quantity.restatement_window == timedelta(days=14)
    assert config.late_report(quantity) is False
    tuned = GOOD.replace(
        "        min_change: 0.1\n",
        "        min_change: 0.1\n        restatement_window: 3d\n        late_report: true\n",
    ).replace("alerts:\n", "alerts:\n  first_crawl: alert\n")
    config = load_config(write_config(tuned), env=ENV)
    quantity = config.quantity("nk-troops/troops-in-russia")
    assert quantity is not None and quantity.restatement_window == timedelta(days=3)
    assert config.late_report(quantity) is True and config.alerts.first_crawl == "alert"


def test_bad_first_crawl_and_window_are_one_line_errors(write_config) -> None:
    bad = GOOD.replace("alerts:\n", "alerts:\n  first_crawl: quiet\n")
    message = _error(write_config, bad, ENV)
    assert "alerts.first_crawl" in message and "'baseline' or 'alert'" in message
    assert "'quiet'" in message
    bad = GOOD.replace(
        "        min_change: 0.1\n", "        min_change: 0.1\n        restatement_window: often\n"
    )
    message = _error(write_config, bad, ENV)
    assert "restatement_window" in message and "duration like" in message


QUANTITY = """topics:
  nk:
    title: NK
    quantities:
      dead:
        label: Dead
        units: [killed]
{extra}
"""


def test_quantity_context_min_value_and_per_reach_the_assigner(write_config) -> None:
    extra = (
        "        context:\n          any: [killed|dead]\n          not: [a day]\n"
        "        min_value: 5\n        per: Day\n"
    )
    config = load_config(write_config(QUANTITY.format(extra=extra)), env={})
    assert config.tracked_quantities(["nk"]) == {
        "nk/dead": QuantitySpec(
            units=("killed",),
            context_any=("killed|dead",),
            context_not=("a day",),
            min_value=5,
            per="day",
        )
    }


@pytest.mark.parametrize(
    ("extra", "where", "what"),
    [
        ("        per: fortnightly\n", "topics.nk.quantities.dead.per", "day"),
        ("        min_value: -1\n", "topics.nk.quantities.dead.min_value", "greater than"),
        ("        context:\n          some: [x]\n", "context.some", "unknown key"),
        ("        context: [killed]\n", "topics.nk.quantities.dead.context", "dictionary"),
    ],
)
def test_bad_quantity_settings_name_line_and_key(write_config, extra, where, what) -> None:
    message = _error(write_config, QUANTITY.format(extra=extra))
    assert "config.yaml:8:" in message or "config.yaml:9:" in message
    assert where in message and what in message


def test_shipped_config_tracks_troops_and_casualties_by_context() -> None:
    config = load_config(REPO / "config.yaml", env={})
    specs = config.tracked_quantities(["nk-troops"])
    assert "killed" in specs["nk-troops/troops-in-russia"].context_not
    assert "killed" in specs["nk-troops/casualties"].context_any

"""`newsmon alerts`: listing, retrying and testing channels, through the real command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alert_rows import Said, publish
from click.testing import CliRunner
from peers import Answer, HTTPPeer, Mailbox, free_port, smtp_server

from newsmon.alerts.dispatch import dispatch_pending
from newsmon.alerts.listing import alert_records
from newsmon.cli import main
from newsmon.config import load_config
from newsmon.storage import Database

TOPICS = (Path(__file__).parent.parent / "config.yaml").read_text().split("\nsources:")[0]
T0 = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)


def write(write_config, database_url: str, channels: str) -> Path:
    text = TOPICS.replace("${NEWSMON_DB:-sqlite:///newsmon.db}", database_url)
    return write_config(text + "\nalerts:\n  max_attempts: 1\n  channels:\n" + channels)


def newsmon(path: Path, *args: str):
    # a wide terminal, so table cells are not wrapped
    return CliRunner(env={"COLUMNS": "250"}).invoke(
        main, ["--config", str(path), *args], catch_exceptions=False
    )


def test_list_shows_alerts_with_deliveries_and_filters_by_status(write_config, database_url):
    with HTTPPeer([Answer(500, "boom")]) as hook:
        path = write(
            write_config,
            database_url,
            f"    - {{name: hook, type: webhook, url: '{hook.url}/in'}}\n"
            "    - {name: screen, type: console}\n",
        )
        config = load_config(path)
        database = Database.open(config.storage.url)
        with database.session() as session:
            publish(
                session,
                config,
                url="http://127.0.0.1/a",
                outlet="Yonhap",
                published=T0,
                said=[Said(3000, qualifier="at_least")],
            )
            publish(
                session,
                config,
                url="http://127.0.0.1/b",
                outlet="Guardian",
                published=T0,
                said=[Said(3100)],
            )
        dispatch_pending(database, config)
        database.dispose()
    table = newsmon(path, "alerts")
    assert table.exit_code == 0
    assert "North Korean troops in Russia: at least 3,000" in table.output
    assert "hook: failed (1 attempts: HTTP 500: boom)" in table.output
    assert "screen: sent" in table.output
    listed = json.loads(newsmon(path, "alerts", "--format", "json", "--status", "failed").output)
    assert [(a["kind"], a["value"], a["repeated_by"]) for a in listed] == [("new_figure", 3000, 1)]
    assert {d["channel"]: d["status"] for d in listed[0]["deliveries"]} == {
        "hook": "failed",
        "screen": "sent",
    }
    assert (
        json.loads(newsmon(path, "alerts", "--format", "json", "--status", "pending").output) == []
    )
    assert (
        json.loads(newsmon(path, "alerts", "--format", "json", "--since", "2999-01-01").output)
        == []
    )
    assert len(json.loads(newsmon(path, "alerts", "--format", "json", "--since", "1h").output)) == 1

    retried = newsmon(path, "alerts", "retry")
    assert retried.exit_code == 0 and "requeued 1 failed delivery" in retried.output
    pending = json.loads(newsmon(path, "alerts", "--format", "json", "--status", "pending").output)
    assert [d["status"] for d in pending[0]["deliveries"]] == ["pending", "sent"]


def test_alerts_test_reports_the_channel_answer(write_config, database_url):
    port, mailbox = free_port(), Mailbox()
    with (
        HTTPPeer([Answer(200, "ok"), Answer(403, "invalid_token")]) as slack,
        smtp_server(port, mailbox),
    ):
        path = write(
            write_config,
            database_url,
            f"    - {{name: chat, type: slack, webhook_url: '{slack.url}/T/secret'}}\n"
            f"    - {{name: mail, type: email, host: 127.0.0.1, port: {port},"
            " security: none, from: n@example.org, to: [a@example.org]}\n",
        )
        ok = newsmon(path, "alerts", "test", "--channel", "chat")
        refused = CliRunner().invoke(
            main, ["--config", str(path), "alerts", "test", "--channel", "chat"]
        )
        mailed = newsmon(path, "alerts", "test", "--channel", "mail")
    assert ok.exit_code == 0 and "channel 'chat' (slack): HTTP 200: ok" in ok.output
    assert refused.exit_code == 2
    assert "test message not delivered: HTTP 403: invalid_token" in refused.output
    assert "secret" not in refused.output
    assert mailed.exit_code == 0 and "accepted 1 recipient(s)" in mailed.output
    assert mailbox.messages[0]["Subject"] == "[newsmon] newsmon test message: 1"


def test_bad_arguments_are_one_line_errors(write_config, database_url):
    path = write(write_config, database_url, "    - {name: screen, type: console}\n")
    runner = CliRunner()
    unknown = runner.invoke(main, ["--config", str(path), "alerts", "test", "--channel", "scren"])
    assert unknown.exit_code == 2
    assert "unknown channel 'scren'; did you mean 'screen'?" in unknown.output
    since = runner.invoke(main, ["--config", str(path), "alerts", "--since", "yesterday"])
    assert since.exit_code == 2
    assert "--since 'yesterday': give a duration like 24h" in since.output
    assert "Traceback" not in since.output + unknown.output


def test_alerts_test_is_a_test_message_and_never_enters_the_alerts_file(
    write_config, database_url, tmp_path
):
    alerts_file = tmp_path / "alerts.jsonl"
    path = write(
        write_config,
        database_url,
        f"    - {{name: log, type: file, path: '{alerts_file}'}}\n"
        "    - {name: screen, type: console}\n",
    )
    logged = newsmon(path, "alerts", "test", "--channel", "log")
    assert logged.exit_code == 0 and not alerts_file.exists()
    record = json.loads(logged.output.splitlines()[0])
    assert record["kind"] == "test"
    assert "test message written to standard output, not to" in logged.output
    printed = newsmon(path, "alerts", "test", "--channel", "screen")
    assert printed.output.startswith("[test] newsmon test message")
    assert "not an alert" in printed.output


def test_current_lists_each_quantity_in_every_format(write_config, database_url):
    path = write(write_config, database_url, "    - {name: screen, type: console}\n")
    config = load_config(path)
    database = Database.open(config.storage.url)
    with database.session() as session:
        for hours, (outlet, value) in enumerate([("Yonhap", 3000), ("Guardian", 12000)]):
            publish(
                session,
                config,
                url=f"http://127.0.0.1/{outlet}/a-very-long-path-that-a-terminal-would-cut/{hours}",
                outlet=outlet,
                published=T0 + timedelta(hours=hours),
                said=[Said(value, qualifier="approx", attribution="the NIS")],
                baseline=True,
            )
    database.dispose()
    records = json.loads(newsmon(path, "current", "--format", "json").output)
    assert [(r["quantity"], r["value"], r["source"], r["reports"]) for r in records] == [
        ("troops-in-russia", 12000, "Guardian", 2),
        ("casualties", None, None, 0),
    ]
    assert records[0]["disagreeing"] == [
        {"source": "Yonhap", "value": 3000, "url": "http://127.0.0.1/Yonhap/"
         "a-very-long-path-that-a-terminal-would-cut/0"}
    ]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(newsmon(path, "current", "--format", "csv").output)))
    assert rows[0]["value"] == "12000.0" and rows[1]["value"] == ""
    # piped (not a terminal): one line per quantity, the URL whole, even with 80 columns
    table = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["--config", str(path), "current"])
    assert table.exit_code == 0
    line = next(line for line in table.output.splitlines() if "troops-in-russia" in line)
    assert "about 12,000 troops" in line and "Guardian (the NIS)" in line
    assert "/Guardian/a-very-long-path-that-a-terminal-would-cut/1" in line
    assert "sources disagree: Yonhap 3,000" in line
    unknown = CliRunner().invoke(main, ["--config", str(path), "current", "--topic", "nk"])
    assert unknown.exit_code == 2 and "--topic 'nk': no such topic" in unknown.output


def test_repeated_counts_restatements_by_the_rule_the_assessment_uses(write_config, database_url):
    # 3140 and 3150 are each within min_change (5%) of the value current when they came, so both
    # are corroborations; but 3150 is 5% off the alert's 3000, which `differs` calls a change:
    # only 3140 restates the alert, in the library and in the command alike
    path = write(write_config, database_url, "    - {name: screen, type: console}\n")
    config = load_config(path)
    assert config.min_change("nk-troops/troops-in-russia") == 0.05
    database = Database.open(config.storage.url)
    for index, (outlet, value) in enumerate((("A", 3000), ("B", 3140), ("C", 3150))):
        with database.session() as session:
            publish(
                session,
                config,
                url=f"http://127.0.0.1/{index}",
                outlet=outlet,
                published=T0 + timedelta(hours=index),
                said=[Said(value)],
            )
    with database.session() as session:
        library = alert_records(session, config)
    database.dispose()
    listed = json.loads(newsmon(path, "alerts", "--format", "json").output)
    assert [(a["kind"], a["value"], a["repeated_by"]) for a in listed] == [("new_figure", 3000, 1)]
    assert [(a["id"], a["repeated_by"], a["deliveries"]) for a in library] == [
        (a["id"], a["repeated_by"], a["deliveries"]) for a in listed
    ]

"""`newsmon export`: articles, figures and alerts as JSON lines or CSV, to stdout or a file,
filtered by date and topic, streamed as rows are read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from archive_data import fill_archive, newsmon, write_archive_config
from click.testing import CliRunner

from newsmon.cli import main
from newsmon.storage import Database
from newsmon.storage.export import EXPORT_FIELDS, export_records


@pytest.fixture
def archive(database: Database) -> dict[str, int]:
    return fill_archive(database)


def test_records_of_each_kind(database, archive) -> None:
    with database.session() as session:
        articles = list(export_records(session, "articles"))
        figures = list(export_records(session, "figures"))
        alerts = list(export_records(session, "alerts"))
    assert [a["url"].rsplit("/", 1)[1] for a in articles] == [
        "kursk",
        "pentagon-troops",
        "seoul-rain",
        "front",
    ]
    kursk = articles[0]
    assert kursk["source"] == "yonhap" and kursk["topics"] == "nk"
    assert kursk["authors"] == ["Kim Min-ji"] and kursk["version_count"] == 2
    assert kursk["published_at"] == "2024-10-18T09:00:00+00:00"
    assert "The Kremlin declined to comment." in kursk["text"]  # the latest text
    assert [f["value"] for f in figures] == [3000.0, 12000.0, 10000.0, 15000.0]
    assert figures[1]["version"] == 2 and figures[1]["date"] == "2024-10-19T08:00:00+00:00"
    assert figures[3]["projection"] is True and figures[3]["status"] is None
    [alert] = alerts
    assert alert["kind"] == "figure_changed" and alert["payload"]["previous"] == 3000.0
    assert alert["deliveries"] == "mail: failed (8), slack: sent (1)"
    for kind, records in (("articles", articles), ("figures", figures), ("alerts", alerts)):
        assert all(tuple(record) == EXPORT_FIELDS[kind] for record in records)


def test_filters(database, archive) -> None:
    from datetime import UTC, datetime

    oct_21 = datetime(2024, 10, 21, tzinfo=UTC)
    with database.session() as session:
        recent = [a["title"] for a in export_records(session, "articles", since=oct_21)]
        nk = [a["id"] for a in export_records(session, "articles", topic="nk")]
        quake = list(export_records(session, "figures", topic="quake"))
        late_alerts = list(
            export_records(session, "alerts", since=datetime(2025, 1, 1, tzinfo=UTC))
        )
    assert recent == ["Pentagon: 10,000 North Korean troops in Russia", "Kursk front quiet"]
    assert nk == [archive["kursk"], archive["pentagon"], archive["front"]]
    assert quake == [] and late_alerts == []


def test_unknown_kind_is_refused(database) -> None:
    with database.session() as session, pytest.raises(ValueError, match="cannot export 'users'"):
        list(export_records(session, "users"))


@pytest.fixture
def config_path(tmp_path: Path, database_url: str, archive) -> Path:
    return write_archive_config(tmp_path, database_url)


def run(config_path: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config_path), "export", *args])


def test_export_jsonl_to_stdout_as_a_user_runs_it(config_path: Path) -> None:
    result = newsmon("--config", config_path, "export", "--what", "figures", "--topic", "nk")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert records[0]["text"] == "about 3,000 North Korean soldiers"
    assert records[0]["source"] == "yonhap" and records[2]["attribution"] == "The Pentagon"


def test_export_csv_to_a_file(config_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "articles.csv"
    target.parent.mkdir()
    result = run(config_path, "--format", "csv", "--since", "2024-10-19", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == f"exported 3 articles to {target}\n"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row["source"] for row in rows] == ["wire", "wire", "yonhap"]
    assert rows[0]["authors"] == "[]" and rows[0]["published_at"] == ""
    assert rows[0]["text"].startswith("The Pentagon said about 10,000")


def test_export_alerts_csv_keeps_the_payload_as_json(config_path: Path) -> None:
    result = run(config_path, "--what", "alerts", "--format", "csv")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.output)))
    assert json.loads(row["payload"]) == {
        "kind": "figure_changed",
        "value": 10000.0,
        "previous": 3000.0,
    }


@pytest.mark.parametrize(("output", "expected"), [("jsonl", ""), ("csv", None)])
def test_export_of_nothing(config_path: Path, output: str, expected: str | None) -> None:
    result = run(config_path, "--what", "figures", "--topic", "quake", "--format", output)
    assert result.exit_code == 0
    assert result.output == (expected if expected is not None else
                             ",".join(EXPORT_FIELDS["figures"]) + "\n")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--what", "users"], "Invalid value for '--what'"),
        (["--format", "xlsx"], "Invalid value for '--format'"),
        (["--topic", "sports"], "--topic 'sports': no such topic"),
        (["--since", "the dawn of time"], "--since 'the dawn of time': give a duration"),
    ],
)
def test_bad_arguments_exit_2(config_path: Path, args: list[str], message: str) -> None:
    result = run(config_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_export_into_a_missing_folder_is_one_line(config_path: Path, tmp_path: Path) -> None:
    result = newsmon("--config", config_path, "export", "-o", tmp_path / "no" / "such" / "f.jsonl")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot write" in result.stderr

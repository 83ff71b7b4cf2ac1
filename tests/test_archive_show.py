"""`newsmon show`: one article by id or URL with its metadata, figures, versions and a readable
diff between any two versions; unknown articles and versions are one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from archive_data import fill_archive, newsmon, write_archive_config
from click.testing import CliRunner

from newsmon.cli import main
from newsmon.storage import Database
from newsmon.storage.archive import ArticleNotFound, find_article, version_diff


@pytest.fixture
def archive(database: Database) -> dict[str, int]:
    return fill_archive(database)


def test_find_article_by_id_and_url(database, archive) -> None:
    with database.session() as session:
        by_id = find_article(session, str(archive["kursk"]))
        by_url = find_article(session, "https://yonhap.example.org/kursk")
        by_slash = find_article(session, "https://yonhap.example.org/kursk/")
        assert by_id.id == by_url.id == by_slash.id == archive["kursk"]
        assert [version.number for version in by_id.versions] == [1, 2]
        with pytest.raises(ArticleNotFound, match="no stored article has the id '999'"):
            find_article(session, "999")


def test_version_diff_is_sentence_by_sentence(database, archive) -> None:
    with database.session() as session:
        article = find_article(session, str(archive["kursk"]))
        lines = list(version_diff(*article.versions))
    assert lines[0].startswith("--- version 1 (2024-10-18 10:00)")
    assert lines[1].startswith("+++ version 2 (2024-10-19 08:00)")
    assert "-South Korea's spy agency said about 3,000 North Korean soldiers had arrived in " \
        "Russia." in lines  # fmt: skip
    assert "+South Korea's spy agency said 12,000 North Korean soldiers had arrived in Russia." in (
        lines
    )
    assert "+The Kremlin declined to comment." in lines
    assert " Seoul summoned the Russian ambassador." in lines  # context, unchanged


@pytest.fixture
def config_path(tmp_path: Path, database_url: str, archive) -> Path:
    return write_archive_config(tmp_path, database_url)


def run(config_path: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config_path), "show", *args])


def test_show_as_a_user_runs_it(config_path: Path) -> None:
    result = newsmon("--config", config_path, "show", "https://yonhap.example.org/kursk")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("North Korean troops arrive in Russia's Kursk region\n")
    assert "source yonhap" in out and "topics nk" in out and "authors Kim Min-ji" in out
    assert "published 2024-10-18T09:00:00+00:00" in out
    assert "figures of version 2" in out and "revised" in out
    assert "diff of versions 1 → 2" in out
    assert "+The Kremlin declined to comment." in out


def test_show_json_with_chosen_versions(config_path: Path, archive) -> None:
    result = run(config_path, str(archive["kursk"]), "--diff", "2", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["url"] == "https://yonhap.example.org/kursk" and record["source"] == "yonhap"
    assert [v["number"] for v in record["versions"]] == [1, 2]
    assert [v["figures"] for v in record["versions"]] == [1, 1]
    assert record["figures"][0] | {"value": 12000.0, "status": "revised"} == record["figures"][0]
    assert record["diff"]["old"] == 2 and record["diff"]["new"] == 1
    assert "-The Kremlin declined to comment." in record["diff"]["lines"]  # reversed diff


def test_show_single_version_article(config_path: Path, archive) -> None:
    result = run(config_path, str(archive["pentagon"]))
    assert result.exit_code == 0, result.output
    assert "one version: nothing to diff" in result.output
    assert "about 10,000" in result.output and "— (forecast)" in result.output
    assert "published" not in result.output  # the page had no date; nothing invented


def test_show_article_without_figures(config_path: Path, archive) -> None:
    result = run(config_path, str(archive["weather"]))
    assert result.exit_code == 0 and "no figures" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["https://nowhere.example.org/x"], "no stored article has the URL"),
        (["424242"], "no stored article has the id '424242'"),
        (["1", "--diff", "1", "7"], "--diff: article 1 has no version 7; versions: 1, 2"),
        (["1", "--diff", "one", "two"], "Invalid value for '--diff'"),
    ],
)
def test_bad_input_exit_2(config_path: Path, args: list[str], message: str) -> None:
    result = run(config_path, *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_unknown_article_as_a_user_runs_it(config_path: Path) -> None:
    result = newsmon("--config", config_path, "show", "https://nowhere.example.org/x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr == "newsmon: no stored article has the URL 'https://nowhere.example.org/x'\n"
    )

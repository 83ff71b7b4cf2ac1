"""`newsmon figures` and storage.archive.figure_timeline: the timeline of a quantity in every
format, and `--plot` drawing it into a real PNG/SVG file."""

from __future__ import annotations

import csv
import io
import json
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from archive_data import fill_archive, newsmon, write_archive_config
from click.testing import CliRunner

from newsmon.cli import main
from newsmon.storage import Database
from newsmon.storage.archive import figure_timeline, tracked_quantities
from newsmon.storage.timeline_plot import PlotError, current_value_steps, render_timeline


@pytest.fixture
def archive(database: Database) -> dict[str, int]:
    return fill_archive(database)


def test_timeline_is_oldest_first_with_article_and_outlet(database, archive) -> None:
    with database.session() as session:
        rows = figure_timeline(session, quantity="nk/troops")
    assert [(row.value, row.status, row.outlet) for row in rows] == [
        (3000.0, "new", "yonhap"),
        (12000.0, "revised", "yonhap"),
        (10000.0, "changed", "wire"),
        (15000.0, None, "wire"),
    ]
    first, revision, pentagon, forecast = rows
    assert first.date == datetime(2024, 10, 18, 9, tzinfo=UTC)  # the article's published date
    assert revision.date == datetime(2024, 10, 19, 8, tzinfo=UTC) and revision.version == 2
    assert pentagon.date == datetime(2024, 10, 28, 15, tzinfo=UTC)  # no published: first seen
    assert forecast.projection and pentagon.url == "https://wire.example.org/pentagon-troops"
    assert first.attribution == "South Korea's spy agency" and first.qualifier == "approx"


def test_timeline_filters(database, archive) -> None:
    with database.session() as session:
        assert figure_timeline(session, quantity="nk/casualties") == []
        assert len(figure_timeline(session, topic="nk")) == 4
        assert figure_timeline(session, topic="quake") == []
        since = figure_timeline(session, since=datetime(2024, 10, 19, tzinfo=UTC))
        assert [row.value for row in since] == [12000.0, 10000.0, 15000.0]
        assert [row.value for row in figure_timeline(session, limit=2)] == [10000.0, 15000.0]
        assert tracked_quantities(session) == ["nk/troops"]


def test_current_value_steps_follow_the_alerts_decisions(database, archive) -> None:
    with database.session() as session:
        rows = figure_timeline(session, quantity="nk/troops")
    assert [row.value for row in current_value_steps(rows)] == [3000.0, 12000.0, 10000.0]


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def config_path(tmp_path: Path, database_url: str, archive) -> Path:
    return write_archive_config(tmp_path, database_url)


def run(config_path: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config_path), "figures", *args])


def test_figures_table_as_a_user_runs_it(config_path: Path) -> None:
    result = newsmon("--config", config_path, "figures", "--topic", "nk")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    about = next(line for line in lines if "about 3,000" in line)
    assert "2024-10-18 09:00" in about and "soldier" in about and "yonhap" in about
    assert "new" in about and "https://yonhap.example.org/kursk" in about
    assert any("12,000" in line and "revised" in line for line in lines)
    assert any("15,000" in line and "— (forecast)" in line for line in lines)


def test_figures_json(config_path: Path) -> None:
    result = run(config_path, "--quantity", "nk/troops", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [r["value"] for r in records] == [3000.0, 12000.0, 10000.0, 15000.0]
    assert records[0] == records[0] | {
        "date": "2024-10-18T09:00:00+00:00",
        "qualifier": "approx",
        "unit": "soldier",
        "attribution": "South Korea's spy agency",
        "outlet": "yonhap",
        "status": "new",
        "forecast": False,
        "url": "https://yonhap.example.org/kursk",
    }
    assert records[3]["forecast"] is True and records[3]["status"] is None


def test_figures_csv_with_since(config_path: Path) -> None:
    result = run(config_path, "--quantity", "nk/troops", "--since", "2024-10-20", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(row["value"], row["outlet"], row["status"]) for row in rows] == [
        ("10000.0", "wire", "changed"),
        ("15000.0", "wire", ""),
    ]


@pytest.mark.parametrize(
    ("output", "expected"),
    [("table", "no reports of tracked quantities match\n"), ("json", "[]\n")],
)
def test_figures_with_no_reports(config_path: Path, output: str, expected: str) -> None:
    result = run(config_path, "--quantity", "nk/casualties", "--format", output)
    assert result.exit_code == 0 and result.output == expected


def test_figures_csv_with_no_reports_is_just_the_header(config_path: Path) -> None:
    result = run(config_path, "--topic", "quake", "--format", "csv")
    assert result.exit_code == 0
    assert result.output.startswith("date,quantity,value,") and result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quantity", "troops"], "--quantity 'troops' is in several topics; give topic/quantity"),
        (["--quantity", "nk/dead"], "--quantity 'nk/dead': no such quantity"),
        (["--quantity", "dead"], "--quantity 'dead' is not a configured quantity"),
        (["--topic", "sports"], "--topic 'sports': no such topic"),
        (["--since", "yesterdayish"], "--since 'yesterdayish': give a duration"),
        (["--plot", "timeline.pdf"], "the file name must end in .png or .svg"),
        (["--topic", "nk", "--plot", "empty.png", "--since", "2030-01-01"], "nothing to plot"),
    ],
)
def test_bad_arguments_exit_2(config_path: Path, args: list[str], message: str) -> None:
    result = run(config_path, *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_quantity_by_name_with_its_topic(config_path: Path) -> None:
    result = run(config_path, "--topic", "nk", "--quantity", "troops", "--format", "json")
    assert result.exit_code == 0 and len(json.loads(result.output)) == 4


# --- the plot --------------------------------------------------------------------------------


def test_plot_png_as_a_user_runs_it(config_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "plots" / "troops.png"
    result = newsmon(
        "--config", config_path, "figures", "--quantity", "nk/troops", "--plot", target
    )
    assert result.returncode == 0, result.stderr
    assert f"plot of 4 reports written to {target}" in result.stdout
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1000, 550)
    assert len(data) > 20_000  # markers, lines, labels: not a blank canvas


def test_plot_svg_has_labelled_axes_legend_and_hollow_forecast(
    config_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "troops.svg"
    result = run(config_path, "--quantity", "nk/troops", "--plot", str(target))
    assert result.exit_code == 0, result.output
    svg = target.read_text(encoding="utf-8")
    ET.fromstring(svg)  # well-formed XML
    assert len(svg) > 20_000
    for label in (
        "North Korean troops in Russia",  # the quantity's label as the title
        "date reported (UTC)",
        "value (soldier, troop)",
        "South Korea's spy agency",
        "The Pentagon (forecast)",
        "current value",
    ):
        assert label in svg or label.replace("'", "&#39;") in svg, label


def test_plot_refuses_several_quantities(tmp_path: Path, database, archive) -> None:
    with database.session() as session:
        rows = figure_timeline(session, quantity="nk/troops")
    mixed = [*rows, rows[0].__class__(**{**rows[0].__dict__, "quantity": "nk/casualties"})]
    with pytest.raises(PlotError, match="one quantity"):
        render_timeline(mixed, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()

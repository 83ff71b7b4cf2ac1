"""A small archive for the archive tests: articles, versions, figures and alerts stored through
the ORM, as the crawler and alerts/ would store them, and the config that describes them."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from cli_in_process import newsmon_in_process

from newsmon.storage import Database
from newsmon.storage.models import (
    Alert,
    Article,
    ArticleTopic,
    ArticleVersion,
    Delivery,
    Figure,
    Source,
)

CONFIG = """\
storage:
  url: {url}
topics:
  nk:
    title: North Korean troops in Russia
    quantities:
      troops:
        label: North Korean troops in Russia
        units: [soldier, troop]
      casualties:
        label: North Korean casualties
        units: [casualty]
  quake:
    title: Earthquakes
    quantities:
      troops:
        label: rescue troops
        units: [rescuer]
sources:
  - name: yonhap
    url: https://example.org/yonhap.xml
    type: feed
  - name: wire
    url: https://example.org/wire.xml
    type: feed
"""

KURSK_V1 = (
    "South Korea's spy agency said about 3,000 North Korean soldiers had arrived in Russia. "
    "They are training in the far east before moving to the Kursk region. "
    "Seoul summoned the Russian ambassador."
)
KURSK_V2 = (
    "South Korea's spy agency said 12,000 North Korean soldiers had arrived in Russia. "
    "They are training in the far east before moving to the Kursk region. "
    "Seoul summoned the Russian ambassador. The Kremlin declined to comment."
)
PENTAGON = (
    "The Pentagon said about 10,000 North Korean troops were in Russia, and the number could "
    "rise to 15,000 by December. Officials spoke of a dangerous escalation in Kursk."
)
WEATHER = "Heavy rain is expected in Seoul on Friday, the weather agency said. Umbrellas advised."
TITLE_ONLY = "A quiet week on the eastern front as both sides regroup and dig in for winter."


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 10, day, hour, 0, tzinfo=UTC)


def figure(version: ArticleVersion, article: Article, **fields: object) -> Figure:
    text = str(fields.pop("text"))
    source_text = version.text
    start = source_text.index(text)
    quantity = fields.get("quantity")
    return Figure(
        version=version,
        article=article,
        topic=str(quantity).split("/")[0] if quantity else None,
        text=text,
        start_offset=start,
        end_offset=start + len(text),
        sentence=source_text,
        **fields,
    )


def fill_archive(database: Database) -> dict[str, int]:
    """Store the sample archive; returns article ids by name."""
    with database.session() as session:
        yonhap = Source(name="yonhap", url="https://example.org/yonhap.xml", type="feed")
        wire = Source(name="wire", url="https://example.org/wire.xml", type="feed")
        session.add_all([yonhap, wire])
        session.flush()

        kursk = Article(
            url="https://yonhap.example.org/kursk",
            source_id=yonhap.id,
            title="North Korean troops arrive in Russia's Kursk region",
            text=KURSK_V2,
            authors=["Kim Min-ji"],
            published_at=at(18),
            first_seen_at=at(18, 10),
            language="en",
            version_count=2,
        )
        kursk.topics = [ArticleTopic(topic="nk")]
        v1 = ArticleVersion(
            article=kursk,
            number=1,
            title=kursk.title,
            text=KURSK_V1,
            text_hash="a" * 64,
            fetched_at=at(18, 10),
        )
        v2 = ArticleVersion(
            article=kursk,
            number=2,
            title=kursk.title,
            text=KURSK_V2,
            text_hash="b" * 64,
            fetched_at=at(19, 8),
        )
        kursk.versions = [v1, v2]
        f1 = figure(
            v1,
            kursk,
            text="about 3,000 North Korean soldiers",
            value=3000.0,
            qualifier="approx",
            unit="soldier",
            quantity="nk/troops",
            attribution="South Korea's spy agency",
            projection=False,
            status="new",
        )
        f2 = figure(
            v2,
            kursk,
            text="12,000 North Korean soldiers",
            value=12000.0,
            qualifier="exact",
            unit="soldier",
            quantity="nk/troops",
            attribution="South Korea's spy agency",
            projection=False,
            status="revised",
        )

        pentagon = Article(
            url="https://wire.example.org/pentagon-troops",
            source_id=wire.id,
            title="Pentagon: 10,000 North Korean troops in Russia",
            text=PENTAGON,
            authors=[],
            published_at=None,  # no date in the page: the report date is first_seen_at
            first_seen_at=at(28, 15),
            language="en",
            version_count=1,
        )
        pentagon.topics = [ArticleTopic(topic="nk")]
        p1 = ArticleVersion(
            article=pentagon,
            number=1,
            title=pentagon.title,
            text=PENTAGON,
            text_hash="c" * 64,
            fetched_at=at(28, 15),
        )
        pentagon.versions = [p1]
        f3 = figure(
            p1,
            pentagon,
            text="about 10,000 North Korean troops",
            value=10000.0,
            qualifier="approx",
            unit="troop",
            quantity="nk/troops",
            attribution="The Pentagon",
            projection=False,
            status="changed",
        )
        f4 = figure(
            p1,
            pentagon,
            text="15,000",
            value=15000.0,
            qualifier="exact",
            unit="troop",
            quantity="nk/troops",
            attribution="The Pentagon",
            projection=True,
            status=None,  # not assessed: shown as "—"
        )

        weather = Article(
            url="https://wire.example.org/seoul-rain",
            source_id=wire.id,
            title="Rain in Seoul",
            text=WEATHER,
            authors=[],
            published_at=at(20),
            first_seen_at=at(20),
            version_count=1,
        )
        weather.versions = [
            ArticleVersion(
                article=weather, number=1, title=weather.title, text=WEATHER, text_hash="d" * 64
            )
        ]
        front = Article(
            url="https://yonhap.example.org/front",
            source_id=yonhap.id,
            title="Kursk front quiet",
            text=TITLE_ONLY,
            authors=[],
            published_at=at(25),
            first_seen_at=at(25),
            version_count=1,
        )
        front.topics = [ArticleTopic(topic="nk")]
        session.add_all([kursk, pentagon, weather, front, f1, f2, f3, f4])
        session.flush()
        alert = Alert(
            id="6f1c2e1a-0000-4000-8000-0000000000a1",
            dedupe_key=f"figure_changed:{f3.id}",
            kind="figure_changed",
            topic="nk",
            quantity="nk/troops",
            figure_id=f3.id,
            previous_figure_id=f1.id,
            article_id=pentagon.id,
            payload={"kind": "figure_changed", "value": 10000.0, "previous": 3000.0},
            created_at=at(28, 16),
            deliveries=[
                Delivery(channel="slack", status="sent", attempts=1, sent_at=at(28, 16)),
                Delivery(channel="mail", status="failed", attempts=8, last_error="refused"),
            ],
        )
        session.add(alert)
        session.flush()
        return {
            "kursk": kursk.id,
            "pentagon": pentagon.id,
            "weather": weather.id,
            "front": front.id,
        }


def write_archive_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(url=database_url), encoding="utf-8")
    return path


def newsmon(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command as a user types it, run in this process (tests/cli_in_process.py)."""
    return newsmon_in_process(*args, env={"COLUMNS": "200"}, cwd=Path(__file__).parent.parent)

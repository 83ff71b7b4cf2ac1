"""End to end, as a user runs it: troops and casualties of one story, reported in the same
articles, each land in their own quantity. A real `newsmon crawl` subprocess reads a local
two-outlet site on 127.0.0.1 into a real database (both backends); `newsmon figures` then shows
each quantity's timeline, and the alerts written carry only values of their own quantity.

The articles hold the sentences that made alerts wrong before quantities were read by context:
"killed or wounded" soldiers, a rate ("1,500 soldiers a day"), narrative ("one soldier tried
to ..."), another army's losses and a forecast's relative clause."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from story_site import StorySite
from test_alerts_e2e import FILLER, article_html, newsmon

ARTICLES = [
    (
        "/yonhap/2024/11/20/nk-kursk.html",
        "North Korean troops join fighting in Kursk",
        "2024-11-20T09:00:00+09:00",
        [
            "North Korea has deployed about 11,000 soldiers to Russia's Kursk region, South "
            "Korea's National Intelligence Service said on Wednesday.",
            "At least 40 soldiers from the North were killed or wounded in their first clashes "
            "with Ukrainian forces, the agency said.",
            "One soldier tried to blow himself up to avoid capture, according to Ukraine's "
            "special forces.",
        ],
    ),
    (
        "/guardian/2024/11/25/nk-losses.html",
        "North Korea's losses mount in Kursk",
        "2024-11-25T12:00:00+00:00",
        [
            "Roughly 1,200 of its soldiers have been killed or injured since they reached the "
            "front, Ukrainian officials said.",
            "Moscow was losing around 1,500 of its own soldiers a day in November, according to "
            "British intelligence.",
            "Pyongyang has deployed about 12,000 soldiers, who are likely to join further "
            "assaults, the Pentagon said.",
        ],
    ),
]
CONFIG_TOPICS = """
topics:
  nk:
    title: North Korean troops in Russia
    keywords:
      all: ["North Korea|North Korean|Pyongyang"]
    quantities:
      troops:
        label: North Korean troops in Russia
        units: [troops, soldiers]
        context:
          not: [killed, wounded, captured, "a day", "per day"]
      casualties:
        label: North Korean casualties
        units: [casualties, killed, dead, wounded, injured]
        context:
          any: [killed, wounded, dead, injured, casualties, died]
          not: ["its own"]
"""


def _figures(config: Path, quantity: str) -> list[float]:
    result = newsmon(config, "figures", "--quantity", quantity, "--format", "json")
    assert result.returncode == 0, result.stderr
    return sorted(row["value"] for row in json.loads(result.stdout))


@pytest.mark.timeout(300)
def test_troops_and_casualties_of_one_story_land_in_their_own_quantity(
    database_url: str, tmp_path: Path
) -> None:
    pages = {
        path: article_html(title, published, [*lead, *FILLER], path.split("/")[1])
        for path, title, published, lead in ARTICLES
    }
    alerts_file = tmp_path / "alerts.jsonl"
    with StorySite(pages).serve() as site:
        config = tmp_path / "config.yaml"
        config.write_text(
            f'storage: {{url: "{database_url}"}}\n'
            + CONFIG_TOPICS
            + textwrap.dedent(f"""
            sources:
              - {{name: Yonhap, url: "{site.feed("yonhap")}", type: feed}}
              - {{name: Guardian, url: "{site.feed("guardian")}", type: feed}}
            crawl: {{revisit_every: 0s, autothrottle: false}}
            alerts:
              first_crawl: alert  # an alert per figure, to check each carries its own quantity
              channels:
                - {{name: log, type: file, path: "{alerts_file}"}}
            """)
        )
        result = newsmon(config, "crawl")
        assert result.returncode == 0, result.stderr

    assert _figures(config, "nk/troops") == [11_000, 12_000]
    assert _figures(config, "nk/casualties") == [40, 1_200]
    alerts = [json.loads(line) for line in alerts_file.read_text().splitlines()]
    troops = {a["value"] for a in alerts if a["quantity"] == "nk/troops"}
    casualties = {a["value"] for a in alerts if a["quantity"] == "nk/casualties"}
    assert troops <= {11_000, 12_000} and casualties <= {40, 1_200}

    shown = newsmon(config, "show", f"{site.base}{ARTICLES[0][0]}", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    why = {
        f["value"]: (f["quantity"], f["assigned_by"]) for f in json.loads(shown.stdout)["figures"]
    }
    assert why[40] == ("nk/casualties", "event death/injury; context killed")
    assert why[11_000] == ("nk/troops", "unit soldier")
    assert why[1] == (None, None)

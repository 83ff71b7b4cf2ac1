"""Change detection: which figures raise which alerts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_rows import Said, publish
from sqlalchemy import select

from newsmon.alerts.wording import headline, what_happened
from newsmon.config import Config, parse_config
from newsmon.storage import Database
from newsmon.storage.alerts import list_alerts
from newsmon.storage.models import Alert, Figure
from newsmon.storage.tracks import current_figure

T0 = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)
SEED_TOPIC = Path(__file__).parent.parent / "config.yaml"


def seed_config(channels: str = "", extra: str = "") -> Config:
    """The seed topic from the repository's config.yaml, with these channels."""
    text = SEED_TOPIC.read_text(encoding="utf-8").split("\nsources:")[0]
    text += "\nalerts:\n  channels:\n" + (
        channels
        or "    - {name: chat, type: slack, webhook_url: 'http://127.0.0.1:9/x'}\n"
        "    - {name: hook, type: webhook, url: 'http://127.0.0.1:9/y'}\n"
    )
    return parse_config(text + extra, Path("/tmp/newsmon-test/config.yaml"), {})


def kinds(alerts: list[Alert]) -> list[str]:
    return [alert.kind for alert in alerts]


def test_the_seed_stage_yields_one_new_and_one_changed_alert_per_channel(database: Database):
    config = seed_config()
    with database.session() as session:
        first = publish(
            session,
            config,
            url="http://127.0.0.1/yonhap/1",
            outlet="Yonhap",
            published=T0,
            said=[
                Said(
                    3000,
                    qualifier="at_least",
                    unit="soldiers",
                    sentence="At least 3,000 soldiers have been sent, the NIS said.",
                    attribution="the NIS",
                )
            ],
        )
        second = publish(
            session,
            config,
            url="http://127.0.0.1/guardian/1",
            outlet="Guardian",
            published=T0 + timedelta(days=20),
            said=[Said(12000, unit="troops", sentence="Some 12,000 troops are now in Kursk.")],
        )
    assert kinds(first) == ["new_figure"] and kinds(second) == ["figure_changed"]
    with database.session() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.created_at)).all()
        assert [(a.kind, sorted(d.channel for d in a.deliveries)) for a in alerts] == [
            ("new_figure", ["chat", "hook"]),
            ("figure_changed", ["chat", "hook"]),
        ]
        assert all(d.status == "pending" for a in alerts for d in a.deliveries)
        changed = alerts[1].payload
    assert changed["previous"] == {
        "value": 3000,
        "low": None,
        "high": None,
        "qualifier": "at_least",
        "unit": "soldiers",
        "attribution": "the NIS",
        "source": "Yonhap",
        "url": "http://127.0.0.1/yonhap/1",
        "published": T0.isoformat(),
        "dated": T0.isoformat(),
        "dated_by": "published",
        "revision": False,
    }
    assert (changed["value"], changed["qualifier"], changed["unit"]) == (12000, "exact", "troops")
    assert changed["article"]["source"] == "Guardian"
    assert changed["sentence"] == "Some 12,000 troops are now in Kursk."
    assert changed["conflict"] is False  # 20 days apart: a change, not a disagreement
    assert changed["topic"] == "nk-troops" and changed["quantity"] == "troops-in-russia"


def test_a_repeated_value_is_a_corroboration_counted_in_the_history(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
        # 3,100 is within min_change (5 %) of 3,000: the same figure, restated
        assert (
            publish(
                session,
                config,
                url="http://127.0.0.1/b",
                outlet="B",
                published=T0 + timedelta(hours=1),
                said=[Said(3100)],
            )
            == []
        )
        assert (
            publish(
                session,
                config,
                url="http://127.0.0.1/c",
                outlet="C",
                published=T0 + timedelta(hours=2),
                said=[Said(2950)],
            )
            == []
        )
    with database.session() as session:
        statuses = session.scalars(select(Figure.status).order_by(Figure.id)).all()
        rows = list_alerts(session, config.min_change)
    assert statuses == ["new", "corroboration", "corroboration"]
    assert [(row.alert.kind, row.repeated_by) for row in rows] == [("new_figure", 2)]


def test_a_value_is_compared_with_the_current_value(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
        publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="B",
            published=T0 + timedelta(days=1),
            said=[Said(12000)],
        )
        new = publish(
            session,
            config,
            url="http://127.0.0.1/d",
            outlet="D",
            published=T0 + timedelta(days=2),
            said=[Said(11000)],
        )
    # 11,000 differs from the current value (B's 12,000), though not from every value
    assert kinds(new) == ["figure_changed"]
    assert new[0].payload["previous"]["value"] == 12000
    assert new[0].payload["previous"]["source"] == "B"


def test_two_outlets_alternating_raise_one_change_marked_as_a_conflict(database: Database):
    config = seed_config()
    raised = []
    with database.session() as session:
        for hours, (outlet, value) in enumerate(
            [("A", 3000), ("B", 12000), ("A", 3000), ("B", 12000), ("A", 3000), ("B", 12000)]
        ):
            raised += publish(
                session,
                config,
                url=f"http://127.0.0.1/{outlet}/{hours}",
                outlet=outlet,
                published=T0 + timedelta(hours=3 * hours),
                said=[Said(value)],
            )
        statuses = session.scalars(select(Figure.status).order_by(Figure.id)).all()
    assert kinds(raised) == ["new_figure", "figure_changed"]
    assert raised[1].payload["conflict"] is True
    assert what_happened(raised[1].payload).startswith("Sources disagree: B says 12,000 troops")
    assert statuses == ["new", "changed", "conflict", "conflict", "conflict", "conflict"]
    # a third value is a change again
    with database.session() as session:
        third = publish(
            session,
            config,
            url="http://127.0.0.1/C/1",
            outlet="C",
            published=T0 + timedelta(hours=20),
            said=[Said(20000)],
        )
    assert kinds(third) == ["figure_changed"]


@pytest.mark.parametrize(("days", "expected"), [(10, []), (40, ["figure_changed"])])
def test_a_return_to_an_earlier_level_alerts_once_the_window_has_passed(
    database: Database, days: int, expected: list[str]
):
    config = seed_config()  # restatement_window: 14 days by default
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(11000)]
        )
        changed = publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="B",
            published=T0 + timedelta(days=2),
            said=[Said(13000)],
        )
        back = publish(
            session,
            config,
            url="http://127.0.0.1/c",
            outlet="A",
            published=T0 + timedelta(days=days),
            said=[Said(11000)],
        )
    assert kinds(changed) == ["figure_changed"]
    assert kinds(back) == expected
    if expected:
        assert back[0].payload["previous"]["value"] == 13000


def test_the_restatement_window_is_set_per_quantity(database: Database):
    config = seed_config()
    quantity = config.quantity("nk-troops/troops-in-russia")
    assert quantity is not None
    quantity.restatement_window = timedelta(days=3)
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(11000)]
        )
        publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="B",
            published=T0 + timedelta(days=2),
            said=[Said(13000)],
        )
        back = publish(
            session,
            config,
            url="http://127.0.0.1/c",
            outlet="A",
            published=T0 + timedelta(days=10),
            said=[Said(11000)],
        )
    assert kinds(back) == ["figure_changed"]


def test_an_article_revised_in_place_says_so_with_both_values(database: Database):
    config = seed_config()
    url = "http://127.0.0.1/yonhap/1"
    with database.session() as session:
        publish(session, config, url=url, outlet="Yonhap", published=T0, said=[Said(3000)])
        revised = publish(
            session,
            config,
            url=url,
            outlet="Yonhap",
            published=T0,
            said=[Said(3500, sentence="3,500 troops, updated.")],
        )
        # a third version restating its own figure is nothing new
        restated = publish(
            session,
            config,
            url=url,
            outlet="Yonhap",
            published=T0,
            said=[Said(3500), Said(40, quantity="nk-troops/casualties", unit="casualties")],
        )
    assert kinds(revised) == ["article_revised"]
    payload = revised[0].payload
    assert (payload["previous"]["value"], payload["value"]) == (3000, 3500)
    assert payload["previous"]["url"] == payload["article"]["url"] == url
    assert "revised its article" in what_happened(payload)
    assert "it said 3,000, it now says 3,500" in what_happened(payload)
    # only the casualties figure is new in version 3
    assert kinds(restated) == ["new_figure"]
    assert restated[0].quantity == "nk-troops/casualties"


def test_forecasts_are_compared_only_with_forecasts(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
        forecast = publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="B",
            published=T0 + timedelta(hours=1),
            said=[Said(100000, projection=True)],
        )
        count = publish(
            session,
            config,
            url="http://127.0.0.1/c",
            outlet="C",
            published=T0 + timedelta(hours=2),
            said=[Said(100000)],
        )
        forecast_again = publish(
            session,
            config,
            url="http://127.0.0.1/d",
            outlet="D",
            published=T0 + timedelta(days=20),
            said=[Said(102000, projection=True)],
        )
        forecast_changed = publish(
            session,
            config,
            url="http://127.0.0.1/e",
            outlet="E",
            published=T0 + timedelta(days=21),
            said=[Said(50000, projection=True)],
        )
    # the first forecast is new among forecasts, whatever the counts said
    assert kinds(forecast) == ["new_figure"] and forecast[0].payload["projection"] is True
    assert "First forecast figure" in what_happened(forecast[0].payload)
    # a count equal to the forecast is still a change among counts
    assert kinds(count) == ["figure_changed"]
    assert count[0].payload["previous"]["value"] == 3000
    assert forecast_again == []
    assert kinds(forecast_changed) == ["figure_changed"]
    assert forecast_changed[0].payload["previous"]["value"] == 102000  # the current forecast
    assert forecast_changed[0].payload["projection"] is True


def test_syndicated_copies_never_raise_alerts(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session,
            config,
            url="http://127.0.0.1/ap/1",
            outlet="AP",
            published=T0,
            said=[Said(3000)],
        )
        copy = publish(
            session,
            config,
            url="http://127.0.0.1/copy/1",
            outlet="Copy",
            published=T0,
            said=[Said(12000)],
            duplicate_of="http://127.0.0.1/ap/1",
        )
        statuses = session.scalars(select(Figure.status).where(Figure.value == 12000)).all()
    assert copy == [] and statuses == ["duplicate"]


def test_two_sources_disagreeing_within_the_window_are_both_named(database: Database):
    config = seed_config(extra="  conflict_window: 6h\n")
    with database.session() as session:
        publish(
            session,
            config,
            url="http://127.0.0.1/a",
            outlet="Yonhap",
            published=T0,
            said=[Said(3000)],
        )
        close = publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="Reuters",
            published=T0 + timedelta(hours=2),
            said=[Said(10000)],
        )
        later = publish(
            session,
            config,
            url="http://127.0.0.1/c",
            outlet="AP",
            published=T0 + timedelta(days=3),
            said=[Said(12000)],
        )
    assert close[0].payload["conflict"] is True
    message = what_happened(close[0].payload)
    assert message.startswith("Sources disagree: Reuters says 10,000 troops; Yonhap said 3,000")
    assert later[0].payload["conflict"] is False
    assert what_happened(later[0].payload).startswith("The figure changed: AP says 12,000 troops")


def test_one_alert_per_quantity_per_article_the_first_figure_leads(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
        alerts = publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="B",
            published=T0,
            said=[Said(12000), Said(3000), Said(1500)],
        )
        statuses = session.scalars(
            select(Figure.status)
            .where(Figure.article.has(url="http://127.0.0.1/b"))
            .order_by(Figure.start_offset)
        ).all()
    assert kinds(alerts) == ["figure_changed"] and alerts[0].payload["value"] == 12000
    assert statuses == ["changed", "untracked", "untracked"]


def test_assessing_the_same_version_again_creates_nothing(database: Database):
    from newsmon.alerts.detect import assess_version
    from newsmon.storage.models import ArticleVersion

    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
    with database.session() as session:
        version = session.scalars(select(ArticleVersion)).one()
        assert assess_version(session, config, version) == []
    with database.session() as session:
        assert len(session.scalars(select(Alert)).all()) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ("", {"new_figure": ["all"], "figure_changed": ["all"]}),
        ("kinds: [figure_changed]", {"new_figure": [], "figure_changed": ["all"]}),
        ("topics: [other]", {"new_figure": [], "figure_changed": []}),
    ],
)
def test_channels_filter_by_topic_and_kind(database: Database, filters: str, expected: dict):
    topics = SEED_TOPIC.read_text(encoding="utf-8").split("\nsources:")[0]
    config = parse_config(
        topics + "\n  other: {title: Other}\nalerts:\n  channels:\n"
        f"    - {{name: all, type: console{', ' + filters if filters else ''}}}\n",
        Path("/tmp/newsmon-test/config.yaml"),
        {},
    )
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/a", outlet="A", published=T0, said=[Said(3000)]
        )
        publish(
            session, config, url="http://127.0.0.1/b", outlet="B", published=T0, said=[Said(9000)]
        )
        alerts = session.scalars(select(Alert)).all()
        got = {a.kind: [d.channel for d in a.deliveries] for a in alerts}
    assert got == expected


def test_figures_of_no_configured_quantity_are_untracked(database: Database):
    config = seed_config()
    with database.session() as session:
        alerts = publish(
            session,
            config,
            url="http://127.0.0.1/a",
            outlet="A",
            published=T0,
            said=[
                Said(7, quantity=None, unit="tanks"),
                Said(5, quantity="gone-topic/tanks", unit="tanks"),
            ],
        )
        statuses = session.scalars(select(Figure.status)).all()
    assert alerts == [] and statuses == ["untracked", "untracked"]


@pytest.mark.parametrize("late_report", [False, True])
def test_a_report_older_than_the_current_value_is_history(database: Database, late_report: bool):
    config = seed_config(extra=f"  late_report: {str(late_report).lower()}\n")
    with database.session() as session:
        publish(
            session,
            config,
            url="http://127.0.0.1/new",
            outlet="A",
            published=T0 + timedelta(days=10),
            said=[Said(12000)],
        )
        late = publish(
            session, config, url="http://127.0.0.1/old", outlet="B", published=T0, said=[Said(3000)]
        )
        restated_late = publish(
            session,
            config,
            url="http://127.0.0.1/older",
            outlet="C",
            published=T0 - timedelta(days=1),
            said=[Said(3000)],
        )
        statuses = session.scalars(select(Figure.status).order_by(Figure.id)).all()
        current = current_figure(session, "nk-troops/troops-in-russia", False)
        assert current is not None and current.value == 12000
    # never a change backwards; a value new to us is a late report only when asked for
    assert restated_late == []
    if not late_report:
        assert late == [] and statuses == ["new", "history", "history"]
        return
    assert kinds(late) == ["late_report"] and statuses == ["new", "late", "history"]
    payload = late[0].payload
    assert payload["previous"]["dated"] == (T0 + timedelta(days=10)).isoformat()
    assert payload["article"]["published"] == T0.isoformat()
    assert what_happened(payload).startswith("A late report: B said 3,000 troops on 2024-11-01")


def test_a_revision_dated_before_the_current_value_is_history(database: Database):
    config = seed_config()
    with database.session() as session:
        publish(
            session, config, url="http://127.0.0.1/old", outlet="A", published=T0, said=[Said(3000)]
        )
        publish(
            session,
            config,
            url="http://127.0.0.1/new",
            outlet="B",
            published=T0 + timedelta(days=10),
            said=[Said(12000)],
        )
        revised = publish(
            session,
            config,
            url="http://127.0.0.1/old",
            outlet="A",
            published=T0,
            modified=T0 + timedelta(days=2),
            said=[Said(3500)],
        )
        fresh = publish(
            session,
            config,
            url="http://127.0.0.1/old",
            outlet="A",
            published=T0,
            modified=T0 + timedelta(days=11),
            said=[Said(15000)],
        )
        statuses = session.scalars(select(Figure.status).order_by(Figure.id)).all()
    assert revised == [] and statuses[:3] == ["new", "changed", "history"]
    # revised again after the current value: the article's own change is news
    assert kinds(fresh) == ["article_revised"]
    assert fresh[0].payload["article"]["dated"] == (T0 + timedelta(days=11)).isoformat()
    assert fresh[0].payload["article"]["dated_by"] == "modified"


def test_a_baseline_is_quiet_and_summarised_once_per_topic(database: Database):
    from newsmon.alerts.baseline import baseline_alert

    config = seed_config()
    with database.session() as session:
        for day, (outlet, value) in enumerate(
            [("A", 3000), ("B", 3100), ("A", 12000), ("C", 12000)]
        ):
            assert (
                publish(
                    session,
                    config,
                    url=f"http://127.0.0.1/{day}",
                    outlet=outlet,
                    published=T0 + timedelta(days=day),
                    said=[Said(value, qualifier="approx", attribution="the NIS")],
                    baseline=True,
                )
                == []
            )
        summary = baseline_alert(session, config, "nk-troops", T0 + timedelta(days=5))
        replay = baseline_alert(session, config, "nk-troops", T0 + timedelta(days=5))
        statuses = session.scalars(select(Figure.status)).all()
    assert statuses == ["baseline"] * 4 and replay is None
    assert summary is not None and summary.kind == "baseline"
    assert [d.channel for d in summary.deliveries] == ["chat", "hook"]
    payload = summary.payload
    assert payload["label"] == "North Korean troops in Russia"
    assert headline(payload) == (
        "North Korean troops in Russia: currently about 12,000 troops "
        "(the NIS via C, 2024-11-04), 4 reports from 3 outlets"
    )
    (track,) = payload["tracks"]
    assert (track["reports"], track["outlets"], track["agreeing_outlets"]) == (4, 3, 2)
    # the next report is judged against the baseline's current value
    with database.session() as session:
        again = publish(
            session,
            config,
            url="http://127.0.0.1/9",
            outlet="D",
            published=T0 + timedelta(days=6),
            said=[Said(12100)],
        )
    assert again == []

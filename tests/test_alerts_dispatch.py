"""The outbox and the dispatcher against real peers: an HTTP server on 127.0.0.1 standing in for
Slack and webhooks, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alert_rows import Said, publish
from peers import Answer, HTTPPeer, Mailbox, free_port, smtp_server
from sqlalchemy import select

from newsmon.alerts.dispatch import CLAIM_LEASE, backoff, dispatch_pending, send_digests
from newsmon.clock import utcnow
from newsmon.config import Config, parse_config
from newsmon.storage import Database
from newsmon.storage import alerts as alert_rows
from newsmon.storage.models import Alert, Delivery

T0 = datetime(2024, 11, 1, 8, 0, tzinfo=UTC)
TOPICS = (Path(__file__).parent.parent / "config.yaml").read_text().split("\nsources:")[0]


def make_config(channels: str, settings: str = "  retry_backoff: 0s\n") -> Config:
    text = TOPICS + "\nalerts:\n" + settings + "  channels:\n" + textwrap.indent(channels, "    ")
    return parse_config(text, Path("/tmp/newsmon-test/config.yaml"), {})


def store_two_alerts(database: Database, config: Config) -> list[str]:
    """A first figure and a change: two alerts; returns their ids."""
    with database.session() as session:
        alerts = publish(
            session,
            config,
            url="http://127.0.0.1/a",
            outlet="Yonhap",
            published=T0,
            said=[Said(3000, qualifier="at_least")],
        )
        alerts += publish(
            session,
            config,
            url="http://127.0.0.1/b",
            outlet="Guardian",
            published=T0 + timedelta(days=9),
            said=[Said(12000)],
        )
        return [alert.id for alert in alerts]


def deliveries(database: Database) -> list[tuple[str, str, int]]:
    with database.session() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
        return [(row.channel, row.status, row.attempts) for row in rows]


def dispatch_until_settled(database: Database, config: Config, seconds: float = 15) -> None:
    """Run the dispatcher in a loop, as the daemon does, until nothing is pending."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dispatch_pending(database, config)
        with database.session() as session:
            if alert_rows.delivery_counts(session).get("pending", 0) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"still pending after {seconds}s: {deliveries(database)}")


def test_slack_500_then_429_then_200_is_delivered_once_after_the_wait(database: Database):
    script = [Answer(500, "server error"), Answer(429, "rate limited", {"Retry-After": "1"})]
    with HTTPPeer(script) as slack:
        config = make_config(f"- {{name: chat, type: slack, webhook_url: '{slack.url}/hook'}}\n")
        with database.session() as session:
            publish(
                session,
                config,
                url="http://127.0.0.1/a",
                outlet="Yonhap",
                published=T0,
                said=[Said(3000)],
            )
        dispatch_until_settled(database, config)
    assert len(slack.received) == 3  # 500, 429, then the one that got through
    assert slack.received[2].at - slack.received[1].at >= 0.95  # honoured Retry-After: 1
    assert slack.received[0].body == slack.received[2].body
    assert deliveries(database) == [("chat", "sent", 3)]
    with database.session() as session:
        assert session.scalars(select(Delivery.last_error)).one() is None


def test_smtp_down_then_back_delivers_each_alert_exactly_once(database: Database):
    port = free_port()
    mailbox = Mailbox()
    config = make_config(
        f"- {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,\n"
        "   from: newsmon@example.org, to: [desk@example.org], timeout: 5s}\n"
    )
    ids = store_two_alerts(database, config)
    report = dispatch_pending(database, config)  # nobody listens
    assert (report.sent, report.retried) == (0, 2)
    assert "cannot send mail via 127.0.0.1" in report.errors[0]
    assert deliveries(database) == [("mail", "pending", 1), ("mail", "pending", 1)]
    with smtp_server(port, mailbox):
        report = dispatch_pending(database, config)
        again = dispatch_pending(database, config)
    assert (report.sent, again.sent) == (2, 0)
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(
        f"<{i}@newsmon>" for i in ids
    )
    assert deliveries(database) == [("mail", "sent", 2), ("mail", "sent", 2)]
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages)
    assert subjects == [
        "[newsmon] North Korean troops in Russia: at least 3,000",
        "[newsmon] North Korean troops in Russia: at least 3,000 → 12,000",
    ]


def test_a_failing_channel_backs_off_gives_up_and_can_be_requeued(database: Database):
    always_500 = [Answer(500, "down")] * 3
    with HTTPPeer(always_500) as hook:
        config = make_config(
            f"- {{name: hook, type: webhook, url: '{hook.url}/in?token=s3cret'}}\n",
            "  max_attempts: 3\n  retry_backoff: 30s\n  max_backoff: 45s\n",
        )
        with database.session() as session:
            publish(
                session,
                config,
                url="http://127.0.0.1/a",
                outlet="A",
                published=T0,
                said=[Said(3000)],
            )
        now = utcnow()
        first = dispatch_pending(database, config, now=now)
        assert dispatch_pending(database, config, now=now + timedelta(seconds=29)).retried == 0
        second = dispatch_pending(database, config, now=now + timedelta(seconds=31))
        with database.session() as session:
            retry_at = session.scalars(select(Delivery.next_attempt_at)).one()
        # 30 s doubled is 60 s, capped by max_backoff at 45 s
        assert timedelta(seconds=44) < retry_at - utcnow() <= timedelta(seconds=45)
        third = dispatch_pending(database, config, now=now + timedelta(minutes=5))
        assert (first.retried, second.retried, third.failed) == (1, 1, 1)
        assert all("s3cret" not in error for error in first.errors + third.errors)
        with database.session() as session:
            delivery = session.scalars(select(Delivery)).one()
            assert (delivery.status, delivery.attempts) == ("failed", 3)
            assert delivery.last_error == "HTTP 500: down"
            assert alert_rows.requeue_failed(session) == 1
        assert dispatch_pending(database, config).sent == 1
    assert len(hook.received) == 4
    assert hook.received[-1].path == "/in?token=s3cret"


def test_a_permanent_refusal_fails_at_once(database: Database):
    with HTTPPeer([Answer(404, "no_service")]) as slack:
        config = make_config(f"- {{name: chat, type: slack, webhook_url: '{slack.url}/x'}}\n")
        with database.session() as session:
            publish(
                session,
                config,
                url="http://127.0.0.1/a",
                outlet="A",
                published=T0,
                said=[Said(3000)],
            )
        report = dispatch_pending(database, config)
    assert (report.failed, report.errors) == (1, ["chat: HTTP 404: no_service"])
    assert deliveries(database) == [("chat", "failed", 1)]


def test_backoff_doubles_and_is_capped():
    config = make_config(
        "- {name: c, type: console}\n", "  retry_backoff: 10s\n  max_backoff: 1m\n"
    )
    delays = [backoff(config.alerts, attempt, None).total_seconds() for attempt in (1, 2, 3, 4)]
    assert delays == [10, 20, 40, 60]
    assert backoff(config.alerts, 1, 7).total_seconds() == 7


def test_the_webhook_receives_the_documented_schema_with_a_stable_id(database: Database):
    with HTTPPeer() as hook:
        config = make_config(
            f"- {{name: hook, type: webhook, url: '{hook.url}/in',"
            " headers: {Authorization: 'Bearer t0ken'}}\n"
        )
        ids = store_two_alerts(database, config)
        assert dispatch_pending(database, config).sent == 2
    first, second = hook.bodies()
    assert set(second) == {
        "id",
        "kind",
        "topic",
        "quantity",
        "label",
        "value",
        "low",
        "high",
        "qualifier",
        "unit",
        "projection",
        "previous",
        "conflict",
        "attribution",
        "sentence",
        "article",
        "created_at",
    }
    assert [first["id"], second["id"]] == ids
    assert [first["kind"], second["kind"]] == ["new_figure", "figure_changed"]
    assert first["previous"] is None
    assert second["previous"]["value"] == 3000 and second["previous"]["source"] == "Yonhap"
    assert set(second["article"]) == {
        "url",
        "title",
        "source",
        "published",
        "dated",
        "dated_by",
        "revision",
    }
    assert hook.received[1].headers["Idempotency-Key"] == ids[1]
    assert hook.received[1].headers["Authorization"] == "Bearer t0ken"


def test_file_and_console_channels(database: Database, tmp_path: Path, capsys):
    config = make_config(
        f"- {{name: log, type: file, path: '{tmp_path / 'alerts.jsonl'}'}}\n"
        "- {name: screen, type: console}\n"
    )
    ids = store_two_alerts(database, config)
    assert dispatch_pending(database, config).sent == 4
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ids
    printed = capsys.readouterr().out.splitlines()
    # each alert: a first line starting with its kind, then its facts, indented
    assert [line for line in printed if not line.startswith("    ")] == [
        "[new_figure] North Korean troops in Russia: at least 3,000 — Yonhap <http://127.0.0.1/a>",
        "[figure_changed] North Korean troops in Russia: at least 3,000 → 12,000 — Guardian"
        " <http://127.0.0.1/b>",
    ]
    assert "    Before: at least 3,000 troops — Yonhap, published 2024-11-01 08:00 UTC" in printed


def test_two_dispatchers_at_once_never_send_a_delivery_twice(database: Database):
    with HTTPPeer() as hook:
        config = make_config(f"- {{name: hook, type: webhook, url: '{hook.url}/in'}}\n")
        with database.session() as session:
            for index in range(12):
                publish(
                    session,
                    config,
                    url=f"http://127.0.0.1/{index}",
                    outlet=f"O{index}",
                    published=T0,
                    said=[Said(1000 * 2**index)],
                )
        threads = [
            threading.Thread(target=dispatch_pending, args=(database, config)) for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    ids = [body["id"] for body in hook.bodies()]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert {status for _, status, _ in deliveries(database)} == {"sent"}


def test_a_send_whose_process_died_is_retried_after_the_lease(database: Database):
    with HTTPPeer() as hook:
        config = make_config(f"- {{name: hook, type: webhook, url: '{hook.url}/in'}}\n")
        [alert_id, _] = store_two_alerts(database, config)[:1] + [None]
        now = utcnow()
        with database.session() as session:  # a dispatcher claims a delivery, then dies
            delivery = session.scalars(select(Delivery).order_by(Delivery.id)).first()
            assert alert_rows.claim_delivery(session, delivery.id, 0, now + CLAIM_LEASE)
        assert dispatch_pending(database, config, now=now).sent == 1  # only the other one
        later = dispatch_pending(database, config, now=now + CLAIM_LEASE + timedelta(seconds=1))
    assert later.sent == 1
    assert [body["id"] for body in hook.bodies()].count(alert_id) == 1


STORE_THEN_DIE = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {tests!r})
from alert_rows import Said, publish
from newsmon.config import parse_config
from newsmon.storage import Database
config = parse_config(Path({config!r}).read_text(), Path({config!r}), {{}})
database = Database.open({url!r})
with database.session() as session:
    publish(session, config, url="http://127.0.0.1/a", outlet="Yonhap",
            published=datetime(2024, 11, 1, tzinfo=UTC), said=[Said(3000)])
    publish(session, config, url="http://127.0.0.1/b", outlet="Guardian",
            published=datetime(2024, 11, 9, tzinfo=UTC), said=[Said(12000)])
print("stored", flush=True)
signal.pause()  # the dispatcher would run now; the parent kills us first
"""


def test_alerts_stored_by_a_killed_process_are_delivered_after_restart(
    database: Database, database_url: str, tmp_path: Path
):
    with HTTPPeer() as hook:
        channels = f"- {{name: hook, type: webhook, url: '{hook.url}/in'}}\n"
        config_path = tmp_path / "config.yaml"
        config_path.write_text(
            TOPICS + "\nalerts:\n  channels:\n" + textwrap.indent(channels, "    ")
        )
        script = STORE_THEN_DIE.format(
            tests=str(Path(__file__).parent), config=str(config_path), url=database_url
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
            env=os.environ | {"PYTHONPATH": "."},
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "stored"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert hook.received == []
        config = make_config(channels)  # a fresh dispatcher, as after a restart
        dispatch_pending(database, config)
        dispatch_pending(database, config)
    with database.session() as session:
        ids = sorted(session.scalars(select(Alert.id)))
    assert sorted(body["id"] for body in hook.bodies()) == ids and len(ids) == 2


def test_replaying_the_same_crawl_sends_nothing_new(database: Database):
    with HTTPPeer() as hook:
        config = make_config(f"- {{name: hook, type: webhook, url: '{hook.url}/in'}}\n")
        store_two_alerts(database, config)
        assert dispatch_pending(database, config).sent == 2
        store_two_alerts(database, config)  # the same articles, stored again
        assert dispatch_pending(database, config).sent == 0
    assert len(hook.received) == 2


def test_a_digest_channel_groups_pending_alerts_into_one_message(database: Database):
    with HTTPPeer() as slack:
        config = make_config(
            f"- {{name: daily, type: slack, webhook_url: '{slack.url}/d', mode: digest,"
            " every: 1d}\n"
        )
        store_two_alerts(database, config)
        assert dispatch_pending(database, config).sent == 0  # digests wait for their schedule
        report = send_digests(database, config, "daily")
        assert send_digests(database, config, "daily").sent == 0
    assert report.sent == 2 and len(slack.received) == 1
    body = slack.bodies()[0]
    assert body["blocks"][0]["text"]["text"] == "newsmon: 2 alerts"
    assert "at least 3,000 → 12,000" in body["text"]
    assert deliveries(database) == [("daily", "sent", 1), ("daily", "sent", 1)]


@pytest.mark.parametrize("mode", ["instant", "digest"])
def test_email_digest_is_one_mail_and_instant_is_one_per_alert(database: Database, mode: str):
    port, mailbox = free_port(), Mailbox()
    schedule = ", mode: digest, cron: '0 8 * * *'" if mode == "digest" else ""
    config = make_config(
        f"- {{name: mail, type: email, host: 127.0.0.1, port: {port}, security: none,"
        f" from: n@example.org, to: [a@example.org, b@example.org]{schedule}}}\n"
    )
    store_two_alerts(database, config)
    with smtp_server(port, mailbox):
        if mode == "digest":
            send_digests(database, config, "mail")
        else:
            dispatch_pending(database, config)
    subjects = [str(message["Subject"]) for message in mailbox.messages]
    if mode == "digest":
        assert subjects == ["[newsmon] 2 alerts"]
        assert mailbox.messages[0]["Message-ID"].startswith("<digest-")
        assert mailbox.messages[0]["To"] == "a@example.org, b@example.org"
    else:
        assert len(subjects) == 2 and "[newsmon] 2 alerts" not in subjects
    assert deliveries(database) == [("mail", "sent", 1), ("mail", "sent", 1)]

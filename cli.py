"""The `newsmon` command line: parse arguments, call the part that does the work, print.

Every user error (bad config, unreachable database, bad argument) is one line on stderr and exit
status 2; no traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import DatabaseError

from newsmon.config import Config, default_config_path, load_config
from newsmon.errors import EXIT_RUNTIME, EXIT_USAGE, NewsmonError
from newsmon.storage import Database
from newsmon.storage.status import DaemonInfo

MAX_LIMIT = 1_000_000  # --limit: more rows than any table a person reads
MAX_LOOKBACK_DAYS = 100 * 365
PIPED_WIDTH = 10_000  # columns of table output that is not shown on a terminal


class _Reported(click.ClickException):
    """A NewsmonError as click shows it: one line on stderr, the error's exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # click declares exit_code a ClassVar; here each error carries its own status
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"newsmon: {self.format_message()}", file=file, err=True)


class App:
    """What every command needs, loaded lazily so `--help` works without a config."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._database: Database | None = None
        self.console = Console(soft_wrap=True)  # piped output: one line per message
        if not self.console.is_terminal:
            # piped or redirected: tables at their full width, never cut to 80 columns
            self.console.width = PIPED_WIDTH
        self.err_console = Console(stderr=True, soft_wrap=True)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def database(self, upgrade: bool = True) -> Database:
        if self._database is None:
            self._database = Database.open(self.config.storage.url, upgrade=upgrade)
        return self._database

    def adopt_database(self, database: Database) -> None:
        """Use a database opened elsewhere (the daemon waits for its own)."""
        self._database = database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


class NewsmonGroup(click.Group):
    """The one place the CLI catches errors: a NewsmonError raised anywhere under a command is
    one line on stderr and its exit status; no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsmonError as exc:
            raise _Reported(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            if exc.ctx is None or exc.ctx.parent is None:
                raise  # the group's own usage (an unknown command): click's message
            # a command's bad argument: one line that names the way to help
            message = f"{exc.format_message()} ({exc.ctx.command_path} --help)"
            raise _Reported(message, EXIT_USAGE) from None
        except DatabaseError as exc:
            # read-only, corrupt or lost mid-command: a runtime fault, not the user's (exit 1)
            raise _Reported(f"database error: {database_fault(exc)}", EXIT_RUNTIME) from None


def database_fault(exc: DatabaseError) -> str:
    """The driver's own first line (no SQL, no parameters: they may hold article text)."""
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return (text.strip().splitlines() or [type(exc).__name__])[0]


pass_app = click.make_pass_decorator(App)


@click.group(cls=NewsmonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="config file (default: $NEWSMON_CONFIG or ./config.yaml)",
)
@click.version_option(package_name="newsmon")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """newsmon: watch the news for numbers that change."""
    app = App(config_path or default_config_path())
    ctx.obj = app
    ctx.call_on_close(app.close)


@main.command()
@pass_app
def check(app: App) -> None:
    """Validate the config, open the database and show each channel's settings (secrets masked)."""
    config = app.config
    database = app.database()
    console = app.console
    console.print(f"[bold]config[/] {config.path}: valid")
    console.print(
        f"[bold]database[/] {database.safe_url}: schema at revision {database.current_revision()}"
    )
    console.print(f"[bold]topics[/] {len(config.topics)}")
    for topic_id, topic in config.topics.items():
        quantities = ", ".join(config.topics[topic_id].quantities) or "no quantities"
        console.print(f"  {escape(topic_id)}: {escape(topic.title)} ({escape(quantities)})")
    table = Table("source", "type", "schedule", "topics", title="sources", title_justify="left")
    table.add_column("url", overflow="fold")  # folded on a narrow terminal, never cut
    for source in config.sources:
        schedule = f"cron {source.cron}" if source.cron else f"every {source.every}"
        table.add_row(
            escape(source.name),
            source.type,
            escape(schedule),
            escape(", ".join(config.source_topics(source))),
            escape(source.url),
        )
    console.print(table)
    channels = Table("channel", "type", "mode", "settings", title="channels", title_justify="left")
    for channel in config.alerts.channels:
        settings = "; ".join(f"{key}={value}" for key, value in channel_settings(channel).items())
        channels.add_row(escape(channel.name), channel.type, channel.mode, escape(settings))
    console.print(channels)
    if not config.alerts.channels:
        console.print("[yellow]no alert channels: alerts are stored but not delivered[/]")


def channel_settings(channel: Any) -> dict[str, str]:
    """A channel's settings for display, with secrets masked (they never reach output or logs)."""
    from pydantic import SecretStr

    shown: dict[str, str] = {}
    skip = {"name", "type", "mode"}
    for name, field in type(channel).model_fields.items():
        value = getattr(channel, name)
        if name in skip or value is None or value == [] or value == {}:
            continue
        key = field.alias or name
        if isinstance(value, SecretStr):
            shown[key] = mask_secret(value.get_secret_value())
        elif isinstance(value, dict):
            shown[key] = ", ".join(f"{k}: {mask_secret(str(v))}" for k, v in value.items())
        elif isinstance(value, list):
            shown[key] = ", ".join(str(item) for item in value)
        else:
            shown[key] = str(value)
    return shown


def mask_secret(value: str) -> str:
    """Keep just enough to recognise a secret: a URL's scheme and host, nothing of a password."""
    if not value:
        return "(empty)"
    if "://" in value:
        scheme, _, rest = value.partition("://")
        host = rest.split("/", 1)[0].rpartition("@")[2]
        return f"{scheme}://{host}/***"
    return "********"


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply pending migrations (newsmon also does this at every start)."""
    database = app.database(upgrade=False)
    before, after = database.upgrade()
    if before == after:
        app.console.print(f"{database.safe_url}: already at revision {after}; nothing to do")
    else:
        app.console.print(f"{database.safe_url}: upgraded from {before or 'empty'} to {after}")


ALERT_STATUSES = ("pending", "sent", "failed")


@main.group("alerts", invoke_without_command=True)
@click.option("--since", help="only alerts newer than this: 24h, 7d, or a date (2024-11-01)")
@click.option("--status", type=click.Choice(ALERT_STATUSES), help="alerts with a delivery in it")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIMIT), default=100, show_default=True)
@click.pass_context
def alerts_group(
    ctx: click.Context, since: str | None, status: str | None, output: str, limit: int
) -> None:
    """List alerts with their deliveries (newest first); see the subcommands to act on them."""
    if ctx.invoked_subcommand is not None:
        return
    from newsmon.alerts.listing import alert_records
    from newsmon.alerts.wording import facts, headline, what_happened

    app = ctx.find_object(App)
    assert app is not None  # main() puts it in the context before any command runs
    since_at = parse_time("--since", since) if since else None
    with app.database().session() as session:
        records = alert_records(session, app.config, since_at, status, limit)
    if output == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = Table("created", "kind", "alert", "source", "repeated", "deliveries")
    table.columns[2].overflow = "fold"
    for record in records:
        deliveries = "\n".join(
            f"{d['channel']}: {d['status']}"
            + (f" ({d['attempts']} attempts: {d['last_error']})" if d["last_error"] else "")
            for d in record["deliveries"]
        )
        details = [what_happened(record)] + [f"{name}: {text}" for name, text in facts(record)]
        table.add_row(
            record["created_at"][:16].replace("T", " "),
            record["kind"],
            escape("\n".join([headline(record), *details])),
            escape(record["article"].get("source") or ""),
            str(record["repeated_by"]),
            escape(deliveries or "no channel"),
        )
    app.console.print(table)
    if not records:
        app.console.print("no alerts" + (" with that status" if status else ""))


@alerts_group.command("retry")
@click.option("--channel", help="only this channel's failed deliveries")
@pass_app
def alerts_retry(app: App, channel: str | None) -> None:
    """Requeue failed deliveries; the dispatcher (daemon) sends them on its next round."""
    from newsmon.storage.alerts import requeue_failed

    if channel is not None:
        app.config.channel(channel)  # an unknown name is a one-line error
    with app.database().session() as session:
        count = requeue_failed(session, channel=channel)
    app.console.print(f"requeued {count} failed deliver{'y' if count == 1 else 'ies'}")


@alerts_group.command("test")
@click.option("--channel", "channel_name", required=True, help="the channel's name in config.yaml")
@pass_app
def alerts_test(app: App, channel_name: str) -> None:
    """Send a test message through one channel and report the channel's answer."""
    from newsmon.alerts.sample import send_test_message

    channel = app.config.channel(channel_name)
    answer = send_test_message(channel)
    app.console.print(f"channel {channel_name!r} ({channel.type}): {escape(answer)}")


@main.command("run")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="log lines as text or as one JSON object per line",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--role",
    type=click.Choice(["both", "scheduler", "worker"]),
    default="both",
    show_default=True,
    help="scheduler: enqueue due polls (one active, others stand by); worker: run polls from "
    "the queue (daemon.broker_url); both: one process tree, no broker",
)
@click.option("--crawl-target", default=None, hidden=True, help="module:function (for tests)")
@pass_app
def run_command(
    app: App, log_format: str, log_level: str, role: str, crawl_target: str | None
) -> None:
    """Run the daemon: crawl each source on its schedule, deliver alerts, until SIGTERM or Ctrl-C.

    SIGHUP reloads the config. Only one daemon (or active scheduler) may run per database."""
    import logging

    from newsmon.scheduler import run_daemon, run_queue_scheduler, run_queue_worker
    from newsmon.spiders.crawl_engine import DEFAULT_CRAWL_TARGET
    from newsmon.spiders.crawl_logs import configure_logging
    from newsmon.spiders.daemon_process import DaemonOptions
    from newsmon.storage.lock import DaemonLock
    from newsmon.storage.wait import open_when_ready

    config = app.config  # a config error: exit 2, before anything else
    if role != "both":
        from newsmon.spiders.poll_queue import broker_url

        broker_url(config)  # no broker for a role: one line, exit 2 (a NewsmonError)
    level = getattr(logging, log_level.upper())
    configure_logging(log_format, level)
    options = DaemonOptions(
        app.config_path, crawl_target or DEFAULT_CRAWL_TARGET, log_format, level
    )
    # a database that is not up yet only delays the start (a reboot where it comes up late)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    database = open_when_ready(config.storage.url, stop)
    if database is None:
        return  # stopped while waiting
    app.adopt_database(database)
    lock = DaemonLock(database)
    if role == "worker":  # any number of workers: no lock
        status = run_queue_worker(config, database, options)
    elif role == "scheduler":  # one active, the others stand by
        status = run_queue_scheduler(config, database, options, lock, stop)
    else:
        lock.acquire()
        try:
            status = run_daemon(config, database, options, lock)
        finally:
            lock.release()
    if status:
        sys.exit(status)


@main.command("status")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@pass_app
def status_command(app: App, output_format: str) -> None:
    """Is the daemon alive; each source's last run (result, counts, error) and next run; the
    alert outbox (pending, failed)."""
    import json

    from newsmon.scheduler import collect_status

    report = collect_status(app.config, app.database())
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    now, console = report.now, app.console
    console.print(f"[bold]daemon[/] {escape(describe_daemon(report.daemon, now))}")
    console.print(f"[bold]database[/] {escape(report.database)}")
    table = Table("source", "last run", "result", "counts", "next run", "lag", title="sources")
    table.title_justify = "left"
    table.columns[3].no_wrap = True
    problems = []
    for source in report.sources:
        run = source.last_run
        if source.next_run is None:
            next_run = "-"  # the daemon line above says why
        elif source.next_run <= now:
            next_run = "now"
        else:
            next_run = "in " + describe_delta((source.next_run - now).total_seconds())
        lag = "-" if source.lag is None else describe_delta(source.lag)
        if run is None:
            table.add_row(escape(source.name), "never", "", "", next_run, lag)
            continue
        when = describe_delta((now - run.started_at).total_seconds()) + " ago"
        if run.finished_at:
            when += f" ({describe_delta((run.finished_at - run.started_at).total_seconds())})"
        counts = (
            f"{run.requests} req, {run.new_articles} new, {run.new_versions} rev, {run.errors} err"
        )
        table.add_row(escape(source.name), when, escape(run.status), counts, next_run, lag)
        if run.message:
            problems.append(f"  {source.name}: {run.message}")
    console.print(table)
    if problems:
        console.print("[bold]last run messages[/]")
        for line in problems:
            console.print(line, markup=False, highlight=False)
    outbox = report.outbox
    console.print(
        f"[bold]outbox[/] {outbox.pending} pending ({outbox.due} due now), {outbox.failed} failed"
    )
    for name, channel in sorted(outbox.channels.items()):
        console.print(
            f"  {escape(name)}: {channel.pending} pending ({channel.due} due now), "
            f"{channel.failed} failed"
        )


def describe_daemon(daemon: DaemonInfo, now: datetime) -> str:
    if daemon.heartbeat_at is None:
        return "not running (no heartbeat in the database)"
    age = describe_delta((now - daemon.heartbeat_at).total_seconds()) + " ago"
    if daemon.alive:
        started = daemon.started_at
        since = started.strftime("%Y-%m-%d %H:%M:%S UTC") if started is not None else "?"
        return f"running (pid {daemon.pid} on {daemon.host}, up since {since}, heartbeat {age})"
    return f"not running (last heartbeat {age} from pid {daemon.pid} on {daemon.host}; it died)"


def describe_delta(seconds: float) -> str:
    """3s, 4m, 2h05m, 3d: short, for a table."""
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


# --- the archive: search, figures, show, export ---------------------------------------------

OUTPUT_FORMATS = ("table", "json", "csv")
QUALIFIER_WORDS = {
    "approx": "about ",
    "at_least": "at least ",
    "more_than": "more than ",
    "up_to": "up to ",
    "less_than": "fewer than ",
}


def parse_time(option: str, value: str) -> datetime:
    """'24h', '7d' (that long ago) or an ISO date/time (UTC unless it says otherwise)."""
    from newsmon.clock import parse_iso, utcnow
    from newsmon.config import parse_duration

    with contextlib.suppress(ValueError):  # not a duration: try a date
        try:
            return utcnow() - parse_duration(value)
        except OverflowError:
            fail(f"{option} {value!r}: too far back; give at most {MAX_LOOKBACK_DAYS} days")
    try:
        return parse_iso(value)
    except ValueError:
        fail(f"{option} {value!r}: give a duration like 24h or 7d, or a date like 2024-11-01")


def known_topic(config: Config, topic: str | None) -> str | None:
    if topic is not None and topic not in config.topics:
        fail(f"--topic {topic!r}: no such topic; topics: {', '.join(config.topics) or 'none'}")
    return topic


def write_records(records: list[dict[str, Any]], output: str, fields: Sequence[str]) -> None:
    """Records as a JSON array, or CSV with a header (the header even when there are none)."""
    if output == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)


@main.command("search")
@click.argument("query")
@click.option("--topic", help="only articles of this topic")
@click.option("--source", help="only articles of this source (its name in config.yaml)")
@click.option("--since", help="only articles dated from then: 24h, 7d, or a date (2024-11-01)")
@click.option("--until", help="only articles dated before then: 24h, 7d, or a date")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=20, show_default=True)
@click.option("--format", "output", type=click.Choice(OUTPUT_FORMATS), default="table")
@pass_app
def search_command(
    app: App,
    query: str,
    topic: str | None,
    source: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    output: str,
) -> None:
    """Full-text search of article titles and texts, best match first.

    QUERY is web-search style: words must all occur, "an exact phrase", word OR word, -excluded.
    In json/csv output, matches in the snippet are marked **like this**."""
    from newsmon.storage.search import SearchFilters, search_articles

    filters = SearchFilters(
        topic=known_topic(app.config, topic),
        source=source,
        since=parse_time("--since", since) if since else None,
        until=parse_time("--until", until) if until else None,
    )
    with app.database().session() as session:
        hits = search_articles(session, query, filters, limit)
    if output != "table":
        headers = ("id", "date", "source", "title", "url", "score", "snippet")
        write_records(
            [
                dict(zip(headers, (
                    hit.article_id, hit.date.isoformat(), hit.source, hit.title, hit.url,
                    float(f"{hit.score:.4g}"), hit.highlighted("**", "**"),
                ), strict=True))
                for hit in hits
            ],
            output,
            headers,
        )  # fmt: skip
        return
    if not hits:
        app.console.print(f"no articles match {escape(query)!r}")
        return
    table = Table()
    table.add_column("date", no_wrap=True)
    table.add_column("source")
    table.add_column("article", overflow="fold")
    table.add_column("snippet", ratio=2)
    for hit in hits:
        table.add_row(
            f"{hit.date:%Y-%m-%d}",
            escape(hit.source or "—"),
            f"[bold]{escape(hit.title or '(no title)')}[/]\n{escape(hit.url)}\nid {hit.article_id}",
            escape(hit.highlighted("\x00", "\x01"))  # markup after escaping the text
            .replace("\x00", "[bold yellow]")
            .replace("\x01", "[/]"),
        )
    app.console.print(table)


def figure_value(value: float, low: float | None, high: float | None, qualifier: str) -> str:
    """'about 3,000', 'at least 12,000', '10,000–12,000' as people write them."""
    if qualifier == "range" and low is not None and high is not None:
        return f"{low:,.10g}–{high:,.10g}"
    return f"{QUALIFIER_WORDS.get(qualifier, '')}{value:,.10g}"


def resolve_quantity(config: Config, topic: str | None, quantity: str | None) -> str | None:
    """A --quantity as 'topic/quantity': given whole, or completed from --topic or config."""
    if quantity is None:
        return None
    if "/" not in quantity:
        owners = [t for t, spec in config.topics.items() if quantity in spec.quantities]
        if topic is not None:
            owners = [topic] if topic in owners else []
        if len(owners) != 1:
            known = [f"{t}/{q}" for t, spec in config.topics.items() for q in spec.quantities]
            reason = "is in several topics" if owners else "is not a configured quantity"
            fail(
                f"--quantity {quantity!r} {reason}; give topic/quantity, one of: "
                f"{', '.join(known) or 'none configured'}"
            )
        quantity = f"{owners[0]}/{quantity}"
    if config.quantity(quantity) is None:
        known = [f"{t}/{q}" for t, spec in config.topics.items() for q in spec.quantities]
        fail(f"--quantity {quantity!r}: no such quantity; quantities: {', '.join(known) or 'none'}")
    return quantity


@main.command("figures")
@click.option("--topic", help="only this topic's quantities")
@click.option("--quantity", help="one quantity: topic/quantity, or just quantity if unambiguous")
@click.option("--since", help="only reports dated from then: 24h, 7d, or a date (2024-11-01)")
@click.option(
    "--limit", type=click.IntRange(min=1, max=MAX_LIMIT), help="only the newest N reports"
)
@click.option("--format", "output", type=click.Choice(OUTPUT_FORMATS), default="table")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="draw the timeline into FILE.png or FILE.svg instead of printing it",
)
@pass_app
def figures_command(
    app: App,
    topic: str | None,
    quantity: str | None,
    since: str | None,
    limit: int | None,
    output: str,
    plot: Path | None,
) -> None:
    """The timeline of tracked quantities: every report's value, who said it, where, and whether
    it was new, a change, a corroboration or a forecast (oldest first)."""
    from newsmon.storage.archive import TIMELINE_FIELDS, figure_timeline
    from newsmon.storage.timeline_plot import render_timeline

    topic = known_topic(app.config, topic)
    key = resolve_quantity(app.config, topic, quantity)
    since_at = parse_time("--since", since) if since else None
    with app.database().session() as session:
        rows = figure_timeline(session, quantity=key, topic=topic, since=since_at, limit=limit)
    if plot is not None:
        settings = app.config.quantity(rows[0].quantity) if rows else None
        render_timeline(rows, plot, label=settings.label if settings else None)
        app.console.print(f"plot of {len(rows)} reports written to {escape(str(plot))}")
        return
    if output != "table":
        write_records([row.as_record() for row in rows], output, TIMELINE_FIELDS)
        return
    if not rows:
        app.console.print("no reports of tracked quantities" + (" match" if key or topic else ""))
        return
    several = len({row.quantity for row in rows}) > 1
    table = Table()
    table.add_column("date", no_wrap=True)
    if several:
        table.add_column("quantity")
    for name in ("value", "unit", "attribution", "outlet"):
        table.add_column(name)
    table.add_column("status", no_wrap=True)
    table.add_column("article", overflow="fold")
    for row in rows:
        status = row.status or "—"
        if row.projection and row.status != "forecast":
            status += " (forecast)"
        table.add_row(
            f"{row.date:%Y-%m-%d %H:%M}",
            *([escape(row.quantity)] if several else []),
            figure_value(row.value, row.low, row.high, row.qualifier),
            escape(row.unit or "—"),
            escape(row.attribution or "—"),
            escape(row.outlet or "—"),
            status,
            escape(row.url) + (f" (v{row.version})" if row.version > 1 else ""),
        )
    app.console.print(table)


@main.command("current")
@click.option("--topic", help="only this topic's quantities")
@click.option("--format", "output", type=click.Choice(OUTPUT_FORMATS), default="table")
@pass_app
def current_command(app: App, topic: str | None, output: str) -> None:
    """Each tracked quantity's current value: the latest report (by publication, or a
    revision's modified time), its source and date, and how many outlets reported it."""
    from newsmon.alerts.current import CURRENT_FIELDS, current_records
    from newsmon.alerts.wording import said, short_day

    topic = known_topic(app.config, topic)
    with app.database().session() as session:
        records = current_records(session, app.config, topic)
    if output == "json":
        write_records(records, output, CURRENT_FIELDS)
        return
    if output == "csv":
        flat = [
            record | {"disagreeing": json.dumps(record["disagreeing"], ensure_ascii=False)}
            for record in records
        ]
        write_records(flat, output, CURRENT_FIELDS)
        return
    if not records:
        app.console.print("no tracked quantities: add `quantities` to a topic in config.yaml")
        return
    table = Table("quantity", "value", "source", "date", "reports", "outlets")
    table.add_column("article", overflow="fold")
    for record in records:
        name = f"{record['topic']}/{record['quantity']}" + (
            " (forecast)" if record["projection"] else ""
        )
        if record["value"] is None:
            table.add_row(escape(name), "no reports yet", "—", "—", "0", "0", "—")
            continue
        source = record["source"] or "—"
        if record["attribution"]:
            source = f"{source} ({record['attribution']})"
        dated = short_day(record["dated"]) or "—"
        if record["dated_by"] == "fetched":
            dated += " (first seen)"
        elif record["dated_by"] in ("modified", "lastmod", "last-modified"):
            dated += " (revised)"
        outlets = f"{record['agreeing_outlets']} of {record['outlets']}"
        if record["disagreeing"]:
            outlets += "; sources disagree: " + ", ".join(
                f"{other['source']} {other['value']:,.10g}" for other in record["disagreeing"]
            )
        table.add_row(
            escape(name),
            escape(said(record)),
            escape(source),
            dated,
            str(record["reports"]),
            escape(outlets),
            escape(record["url"]),
        )
    app.console.print(table)


@main.command("show")
@click.argument("article")
@click.option(
    "--diff",
    "diff_versions",
    type=(int, int),
    default=None,
    metavar="OLD NEW",
    help="diff these two version numbers (default: the last two)",
)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
@pass_app
def show_command(
    app: App, article: str, diff_versions: tuple[int, int] | None, output: str
) -> None:
    """One stored article (by URL or id): metadata, figures, versions and a diff of two."""
    from newsmon.storage.archive import article_record

    with app.database().session() as session:
        record = article_record(session, article, diff_versions)
    if output == "json":
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    console = app.console
    console.print(f"[bold]{escape(record['title'] or '(no title)')}[/]")
    console.print(escape(record["url"]))
    for label, value in (
        ("id", record["id"]),
        ("source", record["source"]),
        ("topics", ", ".join(record["topics"])),
        ("authors", ", ".join(record["authors"])),
        ("published", record["published_at"]),
        ("modified", record["modified_at"]),
        ("first seen", record["first_seen_at"]),
        ("language", record["language"]),
        ("duplicate of", record["duplicate_of_id"]),
    ):
        if value not in (None, ""):
            console.print(f"[bold]{label}[/] {escape(str(value))}")
    versions_table = Table("version", "fetched", "words", "figures", "title", title="versions",
                           title_justify="left")  # fmt: skip
    for version in record["versions"]:
        versions_table.add_row(
            str(version["number"]), version["fetched_at"][:16].replace("T", " "),
            str(version["words"]), str(version["figures"]), escape(version["title"] or ""),
        )  # fmt: skip
    console.print(versions_table)
    latest = record["versions"][-1]["number"] if record["versions"] else None
    figures_table = Table(title=f"figures of version {latest}" if latest else "figures",
                          title_justify="left")  # fmt: skip
    for name in ("figure", "value", "unit", "quantity", "why", "attribution", "status"):
        figures_table.add_column(name, no_wrap=name in ("value", "status"))
    for f in record["figures"]:
        unit = (f["unit"] or "—") + (f" per {f['per']}" if f["per"] else "")
        status = f["status"] or "—"
        if f["forecast"] and f["status"] != "forecast":
            status += " (forecast)"
        figures_table.add_row(
            escape(f["text"]), figure_value(f["value"], f["low"], f["high"], f["qualifier"]),
            escape(unit), escape(f["quantity"] or "—"), escape(f["assigned_by"] or "—"),
            escape(f["attribution"] or "—"), status,
        )  # fmt: skip
    console.print(figures_table if record["figures"] else "no figures")
    diff = record["diff"]
    if diff is None:
        console.print("one version: nothing to diff")
        return
    console.print(f"[bold]diff of versions {diff['old']} → {diff['new']}[/]")
    if not diff["lines"]:
        console.print("no difference in title or text")
    colours = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff["lines"]:
        colour = colours.get(line[:1]) if not line.startswith(("+++", "---")) else "bold"
        console.print(f"[{colour}]{escape(line)}[/]" if colour else escape(line))


@main.command("export")
@click.option("--format", "output", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)  # fmt: skip
@click.option("--what", type=click.Choice(["articles", "figures", "alerts"]), default="articles",
              show_default=True)  # fmt: skip
@click.option("--since", help="only records dated from then: 24h, 7d, or a date (2024-11-01)")
@click.option("--topic", help="only this topic's records")
@click.option(
    "--output",
    "-o",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write to this file (default: standard output)",
)
@pass_app
def export_command(
    app: App,
    output: str,
    what: str,
    since: str | None,
    topic: str | None,
    output_path: Path | None,
) -> None:
    """Stream articles, figures or alerts as JSON lines or CSV, oldest first, in constant memory.

    In CSV, list and object values (authors, payload) are JSON text."""
    import csv

    from newsmon.storage.export import EXPORT_FIELDS, export_records

    topic = known_topic(app.config, topic)
    since_at = parse_time("--since", since) if since else None
    database = app.database()
    count = 0
    try:
        stream = (
            output_path.open("w", encoding="utf-8", newline="")
            if output_path is not None
            else sys.stdout
        )
    except OSError as exc:
        fail(f"--output {output_path}: cannot write: {exc.strerror}")
    try:
        writer = csv.writer(stream, lineterminator="\n") if output == "csv" else None
        if writer is not None:
            writer.writerow(EXPORT_FIELDS[what])
        with database.session() as session:
            for record in export_records(session, what, since=since_at, topic=topic):
                if writer is not None:
                    writer.writerow(
                        json.dumps(value, ensure_ascii=False)
                        if isinstance(value, list | dict)
                        else value
                        for value in record.values()
                    )
                else:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        stream.flush()
    except BrokenPipeError:  # `newsmon export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return
    finally:
        if output_path is not None:
            stream.close()
    if output_path is not None:
        app.console.print(f"exported {count} {what} to {escape(str(output_path))}")


@main.command()
@pass_app
def rematch(app: App) -> None:
    """Match stored and skipped articles against the topics again, re-assign their figures to
    quantities, and decide alerts for what was never reported; downloads nothing."""
    from newsmon.spiders.rematch import rematch as run_rematch
    from newsmon.spiders.rematch import topic_fingerprint
    from newsmon.storage.rematch import TOPIC_FINGERPRINT, set_setting

    database = app.database()
    report = run_rematch(app.config, database)
    with database.session() as session:
        set_setting(session, TOPIC_FINGERPRINT, topic_fingerprint(app.config))
    app.console.print(report.describe())


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@main.command()
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="only this source (repeatable)"
)
@click.option(
    "--baseline",
    is_flag=True,
    help="store everything quietly: no alert per figure, one summary per topic",
)
@click.option(
    "--refetch", is_flag=True, help="ignore stored validators once: download everything listed"
)
@click.option(
    "--explain", is_flag=True, help="per article: its topic (or why none), figures, alerts"
)
@click.option("--dry-run", is_flag=True, help="decide everything, write nothing (with --explain)")
@pass_app
def crawl(
    app: App,
    sources: tuple[str, ...],
    baseline: bool,
    refetch: bool,
    explain: bool,
    dry_run: bool,
) -> None:
    """Run the sources once, now: fetch, extract, match topics, store, figures, alerts.

    A source's first crawl is a quiet baseline (alerts.first_crawl), as is every crawl
    with --baseline."""
    import logging

    from newsmon.spiders.crawl import select_sources
    from newsmon.spiders.poll import crawl_and_dispatch

    config = app.config
    select_sources(config, sources)  # an unknown name is a one-line error before any work
    app.database()  # migrate first, with the CLI's error handling
    log = logging.getLogger("newsmon")
    if not log.handlers:  # each failed URL is logged once, on stderr
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("newsmon: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
    from newsmon.spiders.rematch import rematch_if_changed

    # topics changed: re-read what we have (a dry run leaves the archive as it is)
    rematched = None if dry_run else rematch_if_changed(config, app.database())
    if rematched is not None and (rematched.skipped_checked or rematched.articles_checked):
        app.console.print(f"topic config changed: {rematched.describe()}")
    # outside the reactor (start-up, the summary) SIGTERM ends the command like Ctrl-C does
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        result = crawl_and_dispatch(
            config,
            list(sources) or None,
            show_progress=app.console.is_terminal,
            refetch=refetch,
            explain=explain or dry_run,
            dry_run=dry_run,
            baseline=baseline,
        )
    except KeyboardInterrupt:  # Ctrl-C before the crawl could take it over: its runs say so
        app.err_console.print("newsmon: crawl interrupted")
        sys.exit(130)
    reports = result.reports
    table = Table(
        "source",
        "status",
        "requests",
        "not modified",
        "new articles",
        "new versions",
        "duplicates",
        "errors",
    )
    for report in reports:
        counts = report.counts
        table.add_row(
            escape(report.source),
            report.status,
            str(counts.requests),
            str(counts.not_modified),
            str(counts.new_articles),
            str(counts.new_versions),
            str(counts.duplicates),
            str(counts.errors),
        )
    if not app.console.is_terminal:  # piped: one line per source, not cut to 80 columns
        app.console.width = max(app.console.width, 120)
    app.console.print(table)
    for report in reports:
        if report.counts.skipped:
            app.console.print(f"{escape(report.source)} skipped: no topic {report.counts.skipped}")
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(report.counts.error_counts.items()))
        if kinds:
            app.console.print(f"{escape(report.source)} errors: {kinds}")
        if report.status != "ok":
            app.err_console.print(f"{escape(report.source)}: {escape(report.message or '')}")
    for report in reports:
        for lines in report.explanations:
            app.console.print(escape("\n".join(lines)), highlight=False)
    if dry_run:
        app.console.print("dry run: nothing was written; alerts above would be raised")
        return
    quiet = [report.source for report in reports if report.baseline]
    if quiet:
        app.console.print(
            f"baseline: {escape(', '.join(quiet))} stored quietly (no alert per figure); "
            "`newsmon current` shows the current values"
        )
    signum = next((report.signum for report in reports if report.signum), None)
    if signum is not None:  # what was stored is kept; the next crawl reads what the cut left
        app.err_console.print("newsmon: crawl interrupted; the next crawl reads what it missed")
        sys.exit(128 + signum)
    sent = result.dispatch
    if sent is None:
        return
    if sent.sent or sent.retried or sent.failed:
        app.console.print(
            f"alerts: {sent.sent} sent, {sent.retried} to retry, {sent.failed} failed"
        )
    for error in sent.errors:
        app.err_console.print(f"alert delivery: {escape(error)}")


@main.command()
@click.option("--text", "as_text", is_flag=True, help="the input is plain text, not HTML")
@click.option(
    "--format", "output", type=click.Choice(["json", "jsonl"]), default="json", show_default=True
)
@click.option(
    "--topics",
    "with_topics",
    is_flag=True,
    help="match the config's topics and assign figures to their quantities, saying why",
)
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@pass_app
def extract(
    app: App, as_text: bool, output: str, with_topics: bool, sources: tuple[str, ...]
) -> None:
    """Show what newsmon reads from pages: SOURCE is a URL, an .html/.html.gz file or - (stdin).

    Needs no config and no database, unless --topics asks which tracked quantity each figure
    counts (then each figure has "quantity" and "assigned_by"). Sources that cannot be read are
    reported on stderr (and given as {"source", "error"} in the output); the exit status is then
    2.
    """
    from newsmon.config import Crawl
    from newsmon.spiders.inputs import InputError, extract_input

    user_agent = Crawl().user_agent
    stdin = sys.stdin.buffer  # click.get_binary_stream is deprecated (click 8.2)
    failed = 0
    if output == "json":
        click.echo("[")
    for index, source in enumerate(sources):
        try:
            record = extract_input(
                source, as_text, stdin, user_agent, app.config if with_topics else None
            )
        except InputError as exc:
            failed += 1
            click.echo(f"newsmon: {exc}", err=True)
            record = {"source": source, "error": str(exc)}
        if output == "jsonl":
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            text = json.dumps(record, ensure_ascii=False, indent=2)
            click.echo(
                "  " + text.replace("\n", "\n  ") + ("," if index < len(sources) - 1 else "")
            )
    if output == "json":
        click.echo("]")
    if failed:
        fail(
            f"{failed} of {len(sources)} source{'s' if len(sources) > 1 else ''} could not be read"
        )


def fail(message: str) -> NoReturn:
    """Stop a command with one clear line and exit status 2."""
    raise NewsmonError(message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="newsmon"))

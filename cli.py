"""The `newsmon` command line: parse arguments, call the part that does the work, print.

Every user error (bad config, unreachable database, bad argument) is one line on stderr and exit
status 2; no traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import Config, ConfigError, default_config_path, load_config
from storage import Database, StorageError

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A problem the user can fix; printed as one line, exit status 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"newsmon: {self.format_message()}", err=True)


class App:
    """What every command needs, loaded lazily so `--help` works without a config."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._database: Database | None = None
        self.console = Console(soft_wrap=True)  # piped output: one line per message
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

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


class NewsmonGroup(click.Group):
    """Turns the project's own exceptions into UserError, wherever a command raises them."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, StorageError) as exc:
            raise UserError(str(exc)) from None


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
        console.print(f"  {topic_id}: {topic.title} ({quantities})")
    table = Table(
        "source", "type", "schedule", "topics", "url", title="sources", title_justify="left"
    )
    for source in config.sources:
        schedule = f"cron {source.cron}" if source.cron else f"every {source.every}"
        table.add_row(
            source.name, source.type, schedule, ", ".join(config.source_topics(source)), source.url
        )
    console.print(table)
    channels = Table("channel", "type", "mode", "settings", title="channels", title_justify="left")
    for channel in config.alerts.channels:
        settings = "; ".join(f"{key}={value}" for key, value in channel_settings(channel).items())
        channels.add_row(channel.name, channel.type, channel.mode, settings)
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


def parse_since(value: str) -> datetime:
    """'24h', '7d' (ago) or an ISO date/time (UTC unless it says otherwise)."""
    from config import parse_duration
    from storage.models import utcnow

    try:
        return utcnow() - parse_duration(value)
    except ValueError:
        pass  # not a duration: try a date
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r}: give a duration like 24h or 7d, or a date like 2024-11-01")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.group("alerts", invoke_without_command=True)
@click.option("--since", help="only alerts newer than this: 24h, 7d, or a date (2024-11-01)")
@click.option("--status", type=click.Choice(ALERT_STATUSES), help="alerts with a delivery in it")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.pass_context
def alerts_group(
    ctx: click.Context, since: str | None, status: str | None, output: str, limit: int
) -> None:
    """List alerts with their deliveries (newest first); see the subcommands to act on them."""
    if ctx.invoked_subcommand is not None:
        return
    from alerts.wording import headline
    from storage.alerts import list_alerts

    app: App = ctx.find_object(App)
    since_at = parse_since(since) if since else None
    tolerances = {
        f"{topic_id}/{quantity_id}": quantity.min_change
        for topic_id, topic in app.config.topics.items()
        for quantity_id, quantity in topic.quantities.items()
    }
    with app.database().session() as session:
        rows = list_alerts(session, since_at, status, tolerances, limit)
        records = [
            row.alert.payload
            | {
                "repeated_by": row.repeated_by,
                "deliveries": [
                    {
                        "channel": d.channel,
                        "status": d.status,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                        "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                        "next_attempt_at": d.next_attempt_at.isoformat(),
                    }
                    for d in row.alert.deliveries
                ],
            }
            for row in rows
        ]
    if output == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    table = Table("created", "kind", "alert", "source", "repeated", "deliveries")
    for record in records:
        deliveries = "\n".join(
            f"{d['channel']}: {d['status']}"
            + (f" ({d['attempts']} attempts: {d['last_error']})" if d["last_error"] else "")
            for d in record["deliveries"]
        )
        table.add_row(
            record["created_at"][:16].replace("T", " "),
            record["kind"],
            escape(headline(record)),
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
    from storage.alerts import requeue_failed

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
    from alerts.channels import DeliveryError, sender_for
    from alerts.sample import sample_payload

    channel = app.config.channel(channel_name)
    try:
        answer = sender_for(channel).send([sample_payload()])
    except DeliveryError as exc:
        fail(f"channel {channel_name!r} ({channel.type}): test message not delivered: {exc}")
    app.console.print(f"channel {channel_name!r} ({channel.type}): {escape(answer)}")


def fail(message: str) -> NoReturn:
    """Stop a command with one clear line and exit status 2."""
    raise UserError(message)


def run() -> None:  # pragma: no cover - the console script entry point
    main(prog_name="newsmon")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="newsmon"))

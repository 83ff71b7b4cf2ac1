"""The `newsmon` command line: parse arguments, call the part that does the work, print.

Every user error (bad config, unreachable database, bad argument) is one line on stderr and exit
status 2; no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
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


def fail(message: str) -> NoReturn:
    """Stop a command with one clear line and exit status 2."""
    raise UserError(message)


def run() -> None:  # pragma: no cover - the console script entry point
    main(prog_name="newsmon")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(prog_name="newsmon"))

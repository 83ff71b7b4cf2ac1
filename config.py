"""The schema of config.yaml and its loader.

Loading turns every problem (bad YAML, unknown key, wrong type, missing environment variable)
into one ConfigError that names the file, the line and the key path, so the CLI can print one
clear message and exit 2.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import typing
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    field_validator,
    model_validator,
)

from newsmon.errors import NewsmonError
from newsmon.figures.quantities import PER_UNITS, QuantitySpec

DEFAULT_CONFIG = "config.yaml"
DEFAULT_MIN_CHANGE = 0.05  # a quantity's `min_change`: smaller moves restate the value
AlertKind = Literal["new_figure", "figure_changed", "article_revised", "late_report", "baseline"]


class ConfigError(NewsmonError):
    """A problem in config.yaml a user can fix; str() is the whole message."""


# --- value types -------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '1h', '2d', '1w' (or a number of seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ValueError("expected a duration like 30s, 15m, 1h or 2d")
    try:
        return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])
    except OverflowError:
        raise ValueError(f"duration {value!r} is too long") from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def parse_size(value: Any) -> int:
    """'10MB', '512kB', or a byte count -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*$", str(value))
    if not match:
        raise ValueError("expected a size like 10MB or 512kB")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


ByteSize = Annotated[int, BeforeValidator(parse_size)]


def _check_cron(expression: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    return expression


Cron = Annotated[str, BeforeValidator(_check_cron)]


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors (they are usually typos)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- topics --------------------------------------------------------------------------------------


class Keywords(Strict):
    """Case-insensitive keyword rules; an entry "a|b" matches either alternative."""

    all: list[str] = []
    any: list[str] = []
    not_: list[str] = Field(default=[], alias="not")


class QuantityContext(Strict):
    """Words or phrases ("a|b" for either) that must (`any`) or must not (`not`) occur in a
    figure's clause for it to count towards the quantity."""

    any: list[str] = []
    not_: list[str] = Field(default=[], alias="not")


class Quantity(Strict):
    label: str
    units: list[str] = Field(min_length=1)
    min_change: float = Field(default=DEFAULT_MIN_CHANGE, ge=0, le=10)
    context: QuantityContext = QuantityContext()
    # smaller values are stored but never tracked: "one soldier" in narrative is not a count
    min_value: float = Field(default=2, ge=0)
    per: str | None = None  # a rate quantity ("day" for "shells fired a day"); None: levels only
    # a value another outlet gave this recently is a restatement or a conflict, not a change
    restatement_window: Duration = timedelta(days=14)
    # a report older than the current value whose value is new raises `late_report`;
    # None: as `alerts.late_report`
    late_report: bool | None = None

    @field_validator("per")
    @classmethod
    def _known_per(cls, per: str | None) -> str | None:
        if per is not None and per.strip().lower() not in PER_UNITS:
            raise ValueError(f"expected one of {', '.join(sorted(PER_UNITS))}")
        return per.strip().lower() if per is not None else None

    def spec(self) -> QuantitySpec:
        """What figures/ needs to assign figures to this quantity."""
        return QuantitySpec(
            units=tuple(self.units),
            context_any=tuple(self.context.any),
            context_not=tuple(self.context.not_),
            min_value=self.min_value,
            per=self.per,
        )


class Topic(Strict):
    title: str
    keywords: Keywords = Keywords()
    quantities: dict[str, Quantity] = {}


# --- sources -------------------------------------------------------------------------------------


class Source(Strict):
    """What every source type has; a type's own class adds `type: Literal["its name"]` (and its
    own keys) and is registered in SOURCE_TYPES."""

    name: str
    url: str
    type: str
    every: Duration | None = None
    cron: Cron | None = None
    topics: list[str] | None = None  # None: every topic
    follow: str | None = None  # regex for article links on a `page` source
    # further hosts (`host` or `host:port`) a `page` source's articles may be on
    allowed_hosts: list[str] = []
    store_all: bool = False  # keep articles that match no topic

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError("expected an http:// or https:// URL")
        return url

    @field_validator("follow")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return pattern

    @model_validator(mode="after")
    def _one_schedule(self) -> Source:
        if self.every is not None and self.cron is not None:
            raise ValueError("give either `every` or `cron`, not both")
        if self.every is None and self.cron is None:
            self.every = timedelta(minutes=30)
        return self


class FeedSource(Source):
    """An RSS/Atom/RDF feed."""

    type: Literal["feed"]


class SitemapSource(Source):
    """A sitemap or a sitemap index (news sitemaps included)."""

    type: Literal["sitemap"]


class PageSource(Source):
    """An HTML listing page; `follow` picks its article links."""

    type: Literal["page"]


# --- alert channels ------------------------------------------------------------------------------

# what a poll's message is out beyond daemon.crawl_timeout: a worker's crawl engine starting
# (first poll, or after a crash) before the poll's clock starts; 6.5 s was seen at load 7
ENGINE_START_MARGIN = timedelta(seconds=10)
MAX_SEND_TIMEOUT = timedelta(minutes=5)  # half the dispatcher's claim lease (alerts/dispatch.py)


class ChannelBase(Strict):
    """What every channel type has; a type's module (alerts/channels/) subclasses it with
    `type: Literal["its name"]` and its own keys, and registers it in CHANNEL_TYPES."""

    name: str
    type: str
    topics: list[str] | None = None  # None: every topic
    kinds: list[AlertKind] | None = None
    mode: Literal["instant", "digest"] = "instant"
    every: Duration | None = None  # digest schedule
    cron: Cron | None = None
    # one send's limit; well inside the dispatcher's 10-minute lease, so a hung send is over
    # before anyone could take the delivery again
    timeout: Duration = timedelta(seconds=30)
    per_second: float | None = Field(default=None, gt=0)  # the receiver's rate limit, if any

    @field_validator("timeout")
    @classmethod
    def _timeout_within_lease(cls, timeout: timedelta) -> timedelta:
        if not timedelta(0) < timeout <= MAX_SEND_TIMEOUT:
            raise ValueError("a send timeout is more than 0s and at most 5m")
        return timeout

    @model_validator(mode="after")
    def _digest_schedule(self) -> ChannelBase:
        if self.mode == "digest" and self.every is None and self.cron is None:
            raise ValueError("a digest channel needs `every` or `cron`")
        if self.every is not None and self.cron is not None:
            raise ValueError("give either `every` or `cron`, not both")
        return self

    def resolve_paths(self, base: Path) -> None:
        """Make relative paths in the settings relative to config.yaml's folder, not the cwd."""


# --- extension registries ------------------------------------------------------------------------


def _rebuild_models() -> None:
    """Rebuild the schemas holding a registry's union, so a newly registered type is valid."""
    if "Config" in globals():  # the built-in source types register before Config exists
        Alerts.model_rebuild(force=True)
        Config.model_rebuild(force=True)


class TypeRegistry:
    """The settings classes of one extension kind (source types, channel types) by their `type:`.

    The config's list of that kind is a discriminated union built from the registry when the
    schema is built, so registering a class is all it takes for config.yaml to accept its type;
    error messages and docs list `names()`."""

    def __init__(self, kind: str, base: type[Strict]) -> None:
        self.kind = kind
        self.base = base
        self.types: dict[str, type[Strict]] = {}

    def register(self, settings: type[Strict]) -> str:
        """Add a settings class; returns its type name."""
        field = settings.model_fields.get("type")
        names = typing.get_args(field.annotation) if field is not None else ()
        if not (issubclass(settings, self.base) and len(names) == 1 and isinstance(names[0], str)):
            raise TypeError(
                f"{settings.__name__}: a {self.kind} type subclasses {self.base.__name__} "
                'and declares `type: Literal["name"]`'
            )
        if self.types.get(names[0]) is not settings:
            self.types[names[0]] = settings
            _rebuild_models()
        return names[0]

    def names(self) -> list[str]:
        return list(self.types)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        if not self.types:  # before any type is registered: only the common keys
            return handler.generate_schema(self.base)
        members = tuple(self.types.values())
        # A Union built from a tuple at run time, which mypy cannot follow.
        union = Union[members]  # type: ignore[valid-type]  # noqa: UP007
        return handler.generate_schema(Annotated[union, Field(discriminator="type")])


SOURCE_TYPES = TypeRegistry("source", Source)
for _source_type in (FeedSource, SitemapSource, PageSource):  # their spiders: spiders/sources.py
    SOURCE_TYPES.register(_source_type)
CHANNEL_TYPES = TypeRegistry("channel", ChannelBase)
# the built-in channel types register themselves when this package is imported; config loading
# imports it by name because config.py sits below alerts/ in the layering
BUILTIN_CHANNELS = "newsmon.alerts.channels"

AnySource = Annotated[Source, SOURCE_TYPES]
AnyChannel = Annotated[ChannelBase, CHANNEL_TYPES]


class Alerts(Strict):
    channels: list[AnyChannel] = []
    max_attempts: int = Field(default=8, ge=1)  # then a delivery is marked failed
    retry_backoff: Duration = timedelta(seconds=30)  # first retry delay, doubled each attempt
    max_backoff: Duration = timedelta(hours=1)
    conflict_window: Duration = timedelta(hours=24)  # "two sources disagree" look-back
    # a source's first crawl: a quiet `baseline` (one summary per topic) or per-figure alerts
    first_crawl: Literal["baseline", "alert"] = "baseline"
    late_report: bool = False  # default of every quantity's `late_report`


# --- crawling, daemon, storage -------------------------------------------------------------------


class Crawl(Strict):
    user_agent: str = "newsmon/0.1 (+https://example.org/newsmon; contact: newsmon@example.org)"
    obey_robots: bool = True
    concurrency_per_domain: int = Field(default=4, ge=1)
    concurrency: int = Field(default=16, ge=1)
    download_delay: Duration = timedelta(0)
    autothrottle: bool = True
    timeout: Duration = timedelta(seconds=30)  # per request
    retries: int = Field(default=2, ge=0)
    max_size: ByteSize = 10 * 1024 * 1024
    max_redirects: int = Field(default=5, ge=0)
    revisit_window: Duration = timedelta(hours=48)
    revisit_every: Duration = timedelta(hours=1)
    extract_workers: int = Field(default=0, ge=0)  # 0: one per core
    # bounds on what one source can make one crawl do (the rest waits for the next crawl)
    max_articles_per_source: int = Field(default=1000, ge=1)
    max_sitemap_depth: int = Field(default=3, ge=0)  # index -> index -> ... levels followed
    max_sitemap_children: int = Field(default=200, ge=1)  # child sitemaps per source per crawl
    # requests to loopback/private/link-local/metadata addresses (off: only a source's own host)
    allow_private_addresses: bool = False


class Daemon(Strict):
    crawl_timeout: Duration = timedelta(minutes=15)  # a crawl running longer is killed
    crawl_memory_limit: ByteSize = 2 * 1024**3  # address-space cap of the crawl engine
    jitter: Duration = timedelta(seconds=30)
    misfire_grace: Duration = timedelta(minutes=5)
    dispatch_every: Duration = timedelta(seconds=30)
    heartbeat_every: Duration = timedelta(seconds=15)
    # the long-lived crawl engine is replaced after this many polls, or above this memory
    engine_max_polls: int = Field(default=1000, ge=1)
    engine_max_rss: ByteSize = 1024**3
    polls_at_once: int = Field(default=16, ge=1)  # polls the engine runs side by side
    lag_warning: Duration = timedelta(seconds=60)  # warn when p95 poll lag exceeds this
    # the poll queue of `newsmon run --role scheduler|worker` (Redis); unused by `newsmon run`
    broker_url: str | None = None
    # a poll's message not acknowledged this long (its worker died) is handed to another worker
    broker_visibility_timeout: Duration = timedelta(minutes=20)

    @field_validator("broker_url")
    @classmethod
    def _redis_broker(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the poll queue needs a Redis broker: redis://host:6379/0")
        return url


class Storage(Strict):
    url: str = "sqlite:///newsmon.db"


class Config(Strict):
    storage: Storage = Storage()
    topics: dict[str, Topic] = {}
    sources: list[AnySource] = []
    alerts: Alerts = Alerts()
    crawl: Crawl = Crawl()
    daemon: Daemon = Daemon()
    # where the file was read from; not a key of the file
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _visibility_over_crawl(self) -> Config:
        # a poll still running when its message becomes visible again would be run twice; the
        # message is out from its delivery, and a worker whose crawl engine is (re)starting
        # starts the crawl_timeout clock only once the engine is ready
        needed = self.daemon.crawl_timeout + ENGINE_START_MARGIN
        if self.daemon.broker_visibility_timeout <= needed:
            margin = int(ENGINE_START_MARGIN.total_seconds())
            raise _RefError(
                ("daemon", "broker_visibility_timeout"),
                f"must be longer than daemon.crawl_timeout + {margin}s, the crawl engine's "
                "start-up (a running poll would be handed out again)",
            )
        return self

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [source.name for source in self.sources]
        for index, source in enumerate(self.sources):
            if names.index(source.name) != index:
                raise _RefError(
                    ("sources", index, "name"), f"duplicate source name {source.name!r}"
                )
            for topic in source.topics or []:
                if topic not in self.topics:
                    raise _RefError(
                        ("sources", index, "topics"), _unknown("topic", topic, self.topics)
                    )
        channel_names = [channel.name for channel in self.alerts.channels]
        for index, channel in enumerate(self.alerts.channels):
            if channel_names.index(channel.name) != index:
                raise _RefError(
                    ("alerts", "channels", index, "name"),
                    f"duplicate channel name {channel.name!r}",
                )
            for topic in channel.topics or []:
                if topic not in self.topics:
                    raise _RefError(
                        ("alerts", "channels", index, "topics"),
                        _unknown("topic", topic, self.topics),
                    )
        return self

    def source_topics(self, source: Source) -> list[str]:
        return list(source.topics) if source.topics is not None else list(self.topics)

    def tracked_quantities(self, topic_ids: list[str]) -> dict[str, QuantitySpec]:
        """'topic/quantity' -> what assigns figures to it, for the given topics, in config order."""
        return {
            f"{topic_id}/{quantity_id}": quantity.spec()
            for topic_id in topic_ids
            for quantity_id, quantity in self.topics[topic_id].quantities.items()
        }

    def late_report(self, quantity: Quantity) -> bool:
        return self.alerts.late_report if quantity.late_report is None else quantity.late_report

    def min_change(self, key: str) -> float:
        """A quantity's `min_change`; the default for one no longer in the config."""
        quantity = self.quantity(key)
        return quantity.min_change if quantity is not None else DEFAULT_MIN_CHANGE

    def quantity(self, key: str) -> Quantity | None:
        topic_id, _, quantity_id = key.partition("/")
        topic = self.topics.get(topic_id)
        return topic.quantities.get(quantity_id) if topic else None

    def channel(self, name: str) -> ChannelBase:
        for channel in self.alerts.channels:
            if channel.name == name:
                return channel
        raise ConfigError(_unknown("channel", name, [c.name for c in self.alerts.channels]))


class _RefError(ValueError):
    """A cross-reference error that knows which key it is about."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _unknown(what: str, name: str, known: Any) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known) or 'none'}"
    return f"unknown {what} {name!r}{hint}"


# --- loading -------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]


def default_config_path() -> Path:
    return Path(os.environ.get("NEWSMON_CONFIG", DEFAULT_CONFIG))


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, substitute ${VAR} and validate config.yaml. Raises ConfigError."""
    path = Path(path) if path is not None else default_config_path()
    env = dict(os.environ) if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (give one with --config PATH or $NEWSMON_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_config(text, path, env)


def parse_config(text: str, path: Path, env: dict[str, str]) -> Config:
    data, lines = _read_yaml(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping of sections (storage, topics, sources, …)")
    data = _substitute_env(data, (), env, path, lines)
    importlib.import_module(BUILTIN_CHANNELS)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data, path, lines)) from None
    config.path = path.resolve()
    config.storage.url = resolve_storage_url(config.storage.url, path.resolve().parent)
    for channel in config.alerts.channels:
        channel.resolve_paths(path.resolve().parent)
    return config


def resolve_storage_url(url: str, base: Path) -> str:
    """Relative SQLite paths are taken relative to config.yaml's folder, not the cwd."""
    match = re.match(r"^(sqlite(?:\+\w+)?):///(?!/)(.+)$", url)
    if not match or match.group(2).startswith(":memory:"):
        return url
    return f"{match.group(1)}:///{(base / match.group(2)).resolve()}"


def _read_yaml(text: str, path: Path) -> tuple[Any, dict[Loc, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        for loc, number in _node_lines(node, ()):
            lines[loc] = number
    return data, lines


def _node_lines(node: yaml.Node, loc: Loc) -> Iterator[tuple[Loc, int]]:
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            yield (*loc, key), key_node.start_mark.line + 1
            for sub_loc, line in _node_lines(value_node, (*loc, key)):
                if sub_loc != (*loc, key):
                    yield sub_loc, line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*loc, index))


def _substitute_env(
    value: Any, loc: Loc, env: dict[str, str], path: Path, lines: dict[Loc, int]
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute_env(v, (*loc, k), env, path, lines) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, (*loc, i), env, path, lines) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    try:
        return expand_env(value, env)
    except EnvReferenceError as exc:
        raise ConfigError(f"{path}:{_line(loc, lines)}: {_dotted(loc)}: {exc}") from None


class EnvReferenceError(ValueError):
    """A ${...} reference that is malformed or names an unset variable."""


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace ${VAR} and ${VAR:-default} (the default may hold references itself); `$${`
    is a literal `${`. Raises EnvReferenceError on a malformed or unset reference."""
    out, end = _expand(text, 0, env, nested=False)
    assert end == len(text)
    return out


def _expand(text: str, start: int, env: Mapping[str, str], nested: bool) -> tuple[str, int]:
    """Expand from `start` up to the end (or, `nested`, up to the `}` closing a default);
    returns the text and the index where it stopped."""
    out: list[str] = []
    index = start
    while index < len(text):
        if text.startswith("$${", index):
            out.append("${")
            index += 3
        elif text.startswith("${", index):
            value, index = _reference(text, index, env)
            out.append(value)
        elif nested and text[index] == "}":
            return "".join(out), index
        else:
            out.append(text[index])
            index += 1
    return "".join(out), index


def _reference(text: str, start: int, env: Mapping[str, str]) -> tuple[str, int]:
    """One reference starting at text[start] == '$'; returns its value and the index after it."""
    name_match = _ENV_NAME.match(text, start + 2)
    shown = text[start : start + 40]
    if name_match is None:
        raise EnvReferenceError(
            f"malformed reference {shown!r}: write ${{NAME}} with no spaces (a literal ${{ is $${{)"
        )
    name, index = name_match.group(), name_match.end()
    default: str | None = None
    if text.startswith(":-", index):
        default, index = _expand(text, index + 2, env, nested=True)
    if index >= len(text) or text[index] != "}":
        raise EnvReferenceError(
            f"malformed reference {shown!r}: expected }} after {name}"
            + (" or its default" if default is not None else " (or :-default})")
        )
    if name in env and (env[name] or default is None):
        return env[name], index + 1
    if default is not None:
        return default, index + 1
    raise EnvReferenceError(
        f"environment variable {name} is not set "
        f"(export it, or write ${{{name}:-default}} in the file)"
    )


def _line(loc: Loc, lines: dict[Loc, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _data_loc(loc: Loc, data: Any) -> Loc:
    """Drop pydantic's union tags ('slack', 'function-after[…]') so loc matches the YAML keys."""
    out: list[str | int] = []
    node = data
    for part in loc:
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if present:
            node = node[part]
            out.append(part)
        elif isinstance(node, dict) and part not in _type_tags() and "[" not in str(part):
            out.append(part)  # a key that is missing or unknown: the last part of the path
            node = None
    return tuple(out)


def _found(loc: Loc, data: Any) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _describe(exc: ValidationError, data: Any, path: Path, lines: dict[Loc, int]) -> str:
    # a typo'd key also makes the real key "missing": name the typo, the cause, first
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = _data_loc(tuple(error["loc"]), data)
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _RefError):
        loc = ctx_error.loc
        return f"{path}:{_line(loc, lines)}: {_dotted(loc)}: {ctx_error}"
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1], data)
        message = _unknown("key", str(loc[-1]), known)
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
        registry = SOURCE_TYPES if loc[:1] == ("sources",) else CHANNEL_TYPES
        message = f"expected `type:` to be one of {', '.join(registry.names())}"
        found = _found((*loc, "type"), data)
        if found is not None:
            message += f"; found {found!r}"
            loc = (*loc, "type")
        else:
            message = f"`type:` is missing; give one of {', '.join(registry.names())}"
    else:
        message = (
            str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "expected")
        )
        found = _found(loc, data)
        if found is not None and not isinstance(found, dict | list):
            message += f"; found {found!r}"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{path}:{_line(loc, lines)}: {_dotted(loc)}: {message}{tail}"


def _type_tags() -> set[str]:
    """The names pydantic puts into an error's location for a registered type."""
    return set(SOURCE_TYPES.types) | set(CHANNEL_TYPES.types)


def _known_keys(loc: Loc, data: Any) -> list[str]:
    """The keys allowed at `loc`, for a "did you mean" hint."""
    annotation: Any = Config
    for depth, part in enumerate(loc):
        annotation = _step(annotation, part, _found(loc[: depth + 1], data))
    model = _step(annotation, None, _found(loc, data))
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [field.alias or name for name, field in model.model_fields.items() if name != "path"]


def _step(annotation: Any, part: str | int | None, node: Any) -> Any:
    """Follow one key (or list index / dict key) through a type annotation."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        registry = next((m for m in annotation.__metadata__ if isinstance(m, TypeRegistry)), None)
        if registry is not None:  # a source or channel: the class its `type` names
            kind = node.get("type") if isinstance(node, dict) else None
            settings = registry.types.get(kind) if isinstance(kind, str) else None
            return _step(settings or registry.base, part, node)
        return _step(args[0], part, node)
    if part is None:
        return annotation
    if origin is list:
        return args[0]
    if origin is dict:
        return args[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
    return None

"""The documentation a newcomer reads: a short README whose links work, every command in
docs/commands.md and every config key in docs/configuration.md."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import click
from pydantic import BaseModel

import newsmon.alerts.channels  # noqa: F401 - registers the built-in channel types
from newsmon import config
from newsmon.cli import main

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _commands(group: click.Group, prefix: str = "newsmon") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
    return names


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in _type_args(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


def _type_args(annotation: object) -> list[object]:
    found = [annotation]
    for arg in typing.get_args(annotation):
        found += _type_args(arg)
    for registry in getattr(annotation, "__metadata__", ()):
        if isinstance(registry, config.TypeRegistry):  # every registered source/channel type
            found += list(registry.types.values())
    return found


def test_readme_is_short_and_every_link_resolves() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) <= 12 * 1024
    pages = [REPO / "README.md", *DOCS.glob("*.md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_every_command_is_documented() -> None:
    commands = (DOCS / "commands.md").read_text()
    missing = [name for name in _commands(main) if f"`{name}" not in commands]
    assert missing == []


def test_every_source_and_channel_type_is_documented() -> None:
    reference = (DOCS / "configuration.md").read_text()
    alerts = (DOCS / "alerts.md").read_text()
    for registry in (config.SOURCE_TYPES, config.CHANNEL_TYPES):
        assert registry.names(), registry.kind
        missing = [name for name in registry.names() if f"`{name}`" not in reference]
        assert missing == [], f"{registry.kind} types missing in configuration.md"
    missing = [name for name in config.CHANNEL_TYPES.names() if f"`{name}`" not in alerts]
    assert missing == [], "channel types missing in alerts.md"


def test_every_config_key_is_documented() -> None:
    reference = (DOCS / "configuration.md").read_text()
    models: set[type[BaseModel]] = set()
    _models(config.Config, models)
    missing = sorted(
        f"{model.__name__}.{field.alias or name}"
        for model in models
        for name, field in model.model_fields.items()
        if not re.search(rf"`[^`]*\b{re.escape(field.alias or name)}\b[^`]*`", reference)
    )
    assert missing == []

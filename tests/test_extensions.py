"""The extension recipes (docs/development.md): a source type and a channel type registered by
a module outside newsmon (tests/extension_types.py) are accepted by config.yaml, listed in its
error messages, crawled from a real local HTTP server and delivered to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from peers import page_server
from test_alerts_e2e import FILLER, SEED_TOPICS, YONHAP_1, article_html

TESTS = Path(__file__).resolve().parent
# the CLI, with the extension module imported first (a reactor runs once per process)
WITH_EXTENSIONS = (
    "import sys, extension_types; from newsmon.cli import main; "
    "main(sys.argv[1:], prog_name='newsmon')"
)


def newsmon(config: Path, *args: str, extensions: bool = True) -> subprocess.CompletedProcess[str]:
    program = WITH_EXTENSIONS if extensions else "from newsmon.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", program, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(TESTS), "COLUMNS": "200"},
        check=False,
    )


@pytest.mark.timeout(600)
def test_a_registered_source_type_is_crawled_and_a_registered_channel_delivers(
    tmp_path: Path,
) -> None:
    path, title, published, lead = YONHAP_1
    pages = {
        "/list.json": ("application/json", json.dumps({"stories": [path]})),
        path: ("text/html; charset=utf-8", article_html(title, published, [lead, *FILLER], "Y")),
    }
    notebook = tmp_path / "notebook.txt"
    with page_server(pages.get) as base:
        config = tmp_path / "config.yaml"
        config.write_text(
            f'storage: {{url: "sqlite:///{tmp_path}/newsmon.db"}}\n'
            + SEED_TOPICS
            + textwrap.dedent(f"""
            sources:
              - {{name: Wire, url: "{base}/list.json", type: jsonlist, key: stories}}
            crawl: {{autothrottle: false}}
            alerts:
              first_crawl: alert
              channels:
                - {{name: desk, type: notebook, path: "{notebook}"}}
            """)
        )
        checked = newsmon(config, "check")
        assert checked.returncode == 0, checked.stderr
        assert "jsonlist" in checked.stdout and "notebook" in checked.stdout
        crawled = newsmon(config, "crawl")
    assert crawled.returncode == 0, crawled.stderr
    assert notebook.read_text() == "new_figure 3000 North Korean troops in Russia\n"

    # without the module, config.yaml names the types newsmon knows, one clear line
    unknown = newsmon(config, "check", extensions=False)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert "sources[0].type: expected `type:` to be one of feed, sitemap, page;" in unknown.stderr


def test_registered_types_are_listed_in_config_errors(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("alerts:\n  channels:\n    - {name: x, type: pager}\n")
    result = newsmon(config, "check")
    assert result.returncode == 2
    assert result.stderr == (
        f"newsmon: {config}:3: alerts.channels[0].type: expected `type:` to be one of "
        "slack, email, webhook, file, console, notebook; found 'pager'\n"
    )
    config.write_text("sources:\n  - {name: x, url: 'https://example.org/', type: jsonlist}\n")
    config.write_text(config.read_text().replace("type: jsonlist", "type: jsonlist, kee: a"))
    result = newsmon(config, "check")
    assert result.returncode == 2
    assert "sources[0].kee: unknown key 'kee'; did you mean 'key'?" in result.stderr

"""config.yaml text for crawling the local news site (tests and bench share it)."""

from __future__ import annotations

import json

TOPICS = """
topics:
  nk-troops:
    title: North Korean troops in Russia
    keywords:
      all: ["North Korea|North Korean|Pyongyang"]
      any: [troops, soldiers]
    quantities:
      troops-in-russia:
        label: North Korean troops in Russia
        units: [troops, soldiers]
"""


def site_config(
    database_url: str,
    sources: dict[str, tuple[str, str]],
    crawl: dict[str, object] | None = None,
    extra_source_keys: dict[str, dict[str, object]] | None = None,
) -> str:
    """sources: name -> (type, absolute URL). crawl: keys of the `crawl` section."""
    lines = [f"storage: {{url: {json.dumps(database_url)}}}", TOPICS, "sources:"]
    for name, (kind, url) in sources.items():
        keys = {"name": name, "url": url, "type": kind, **(extra_source_keys or {}).get(name, {})}
        lines.append(f"  - {json.dumps(keys)}")
    lines.append(f"crawl: {json.dumps(crawl or {})}")
    return "\n".join(lines) + "\n"

"""Topic matching: which configured stories an article is about, by the topics' keywords."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from newsmon.config import Config, Keywords, Source


@lru_cache(maxsize=1024)
def _pattern(entry: str) -> re.Pattern[str]:
    """An entry "a|b" matches either alternative, as whole words, case-insensitively."""
    alternatives = [re.escape(part.strip()) for part in entry.split("|") if part.strip()]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def keywords_match(keywords: Keywords, text: str) -> bool:
    def found(entry: str) -> bool:
        return bool(_pattern(entry).search(text))

    if not all(found(entry) for entry in keywords.all):
        return False
    if keywords.any and not any(found(entry) for entry in keywords.any):
        return False
    return not any(found(entry) for entry in keywords.not_)


def match_topics(config: Config, source: Source | None, title: str | None, text: str) -> list[str]:
    """The topics whose keywords match the title and text: the source's, or with no source
    (`newsmon extract --topics`) every configured topic."""
    candidates = config.source_topics(source) if source is not None else list(config.topics)
    return topics_matching({t: config.topics[t].keywords for t in candidates}, title, text)


def topics_matching(keywords: Mapping[str, Keywords], title: str | None, text: str) -> list[str]:
    """The topics (of `keywords`, in its order) whose keywords match the title and text."""
    haystack = f"{title or ''}\n{text}"
    return [topic_id for topic_id, rules in keywords.items() if keywords_match(rules, haystack)]


def why_no_match(config: Config, source: Source, title: str | None, text: str) -> str:
    """Why the article matches none of the source's topics, one reason per topic."""
    haystack = f"{title or ''}\n{text}"
    reasons = []
    for topic_id in config.source_topics(source):
        keywords = config.topics[topic_id].keywords
        missing = [entry for entry in keywords.all if not _pattern(entry).search(haystack)]
        excluded = [entry for entry in keywords.not_ if _pattern(entry).search(haystack)]
        if missing:
            reasons.append(f"{topic_id}: no {' / '.join(map(repr, missing))}")
        elif keywords.any and not any(_pattern(e).search(haystack) for e in keywords.any):
            reasons.append(f"{topic_id}: none of {', '.join(map(repr, keywords.any))}")
        elif excluded:
            reasons.append(f"{topic_id}: excluded by {', '.join(map(repr, excluded))}")
    return "; ".join(reasons) or "the source has no topics"

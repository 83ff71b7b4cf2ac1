"""The PostgreSQL phrase index: adjacent word pairs of each article, so a phrase is found from
an index instead of by reading every article that holds all of its words.

A GIN index on `articles.search` has no word positions: for `"front line"` it lists every
article holding both words (half the archive for two common words) and each one's tsvector is
read to check their order. Migration 0009 adds a GIN index on PAIRS_FUNCTION(search): one
lexeme `'front line'` per two lexemes at adjacent positions, taken from the same tsvector that
`@@` checks, so an article matching `'front' <-> 'line'` always holds that pair. A search adds
`pairs @@ (pairs the query needs)` to its `search @@ query`: the index narrows the candidates to
articles holding the pairs, and `@@` still decides, so results are the same as without it.

rank_query reads the same tsquery text for ranking: its words that are not excluded, as
alternatives; query_lexemes gives those words for the snippets (storage.snippets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAIRS_FUNCTION = "newsmon_phrase_pairs"  # migration 0009 creates it and its index
# what PAIRS_FUNCTION gives an article whose pairs would not fit in a tsvector (1 MB): a pair
# query accepts it, so such an article stays a candidate and `@@` decides
ALL_PAIRS = "'*'"
MAX_PAIR_BYTES = 2046  # a lexeme holds at most 2,047 bytes; longer pairs are not indexed

# tsquery text as PostgreSQL prints it: quoted lexemes (optionally :* or :AB), operators, groups
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'(:[*A-D]+)?|(<->|<\d+>|[&|!()]))")


@dataclass(frozen=True)
class _Node:
    """A parsed tsquery: a lexeme (`text`), or an operator over `children`."""

    op: str  # "lexeme", "!", "&", "|", "<->" or "<N>"
    text: str | None = None
    exact: bool = True  # a lexeme without a prefix or weight mark
    children: tuple[_Node, ...] = ()


def pairs_query(tsquery_text: str) -> str | None:
    """The tsquery over adjacent pairs that every article matching `tsquery_text` satisfies,
    or None when the query needs no pair (no phrase, or one the pairs cannot answer)."""
    try:
        node = _Parser(tsquery_text).parse()
    except ValueError:
        return None  # a form this parser does not know: search without the pair index
    needed = _needed(node)
    return None if needed is None else f"{needed} | {ALL_PAIRS}"


def rank_query(tsquery_text: str) -> str | None:
    """The query's words that are not excluded, as alternatives (`'a' | 'b'`): ts_rank over it
    weighs how often and where each word occurs, not how close the words stand (comparing the
    positions of two common words costs ~30 µs per article). None for a form the parser does
    not know, or no word."""
    try:
        node = _Parser(tsquery_text).parse()
    except ValueError:
        return None
    words: list[_Node] = []
    _collect(node, words)
    if not words or not all(word.exact for word in words):
        return None  # a prefix or weight mark (websearch_to_tsquery writes none): rank as asked
    return " | ".join(dict.fromkeys(_quoted(word.text or "") for word in words))


def query_lexemes(tsquery_text: str) -> list[str]:
    """The lexemes of the query's words that are not excluded (the words a snippet marks);
    none for a form the parser does not know."""
    try:
        node = _Parser(tsquery_text).parse()
    except ValueError:
        return []
    words: list[_Node] = []
    _collect(node, words)
    return list(dict.fromkeys(word.text or "" for word in words))


def _collect(node: _Node, words: list[_Node]) -> None:
    if node.op == "lexeme":
        words.append(node)
    elif node.op != "!":  # an excluded word is in no match: it adds nothing to a rank
        for child in node.children:
            _collect(child, words)


def _needed(node: _Node) -> str | None:
    """A pair condition implied by the node; None when it implies none."""
    if node.op in ("lexeme", "!"):
        return None
    parts = [_needed(child) for child in node.children]
    if node.op == "|":
        either = [part for part in parts if part is not None]
        if len(either) < len(parts):
            return None  # one side needs no pair: neither does the OR
        return "(" + " | ".join(either) + ")"
    if node.op == "<->":
        left, right = node.children
        last, first = _edge(left, last=True), _edge(right, last=False)
        pair = f"{last} {first}"
        if last is not None and first is not None and len(pair.encode()) <= MAX_PAIR_BYTES:
            parts.append(_quoted(pair))
    # & and phrases: every side holds
    needed = [part for part in parts if part is not None]
    if len(needed) <= 1:
        return needed[0] if needed else None
    return "(" + " & ".join(needed) + ")"


def _edge(node: _Node, last: bool) -> str | None:
    """The lexeme at the end (`last`) or start of a phrase operand, when it is one plain word."""
    if node.op == "lexeme":
        return node.text if node.exact else None
    if node.op == "<->":
        return _edge(node.children[1 if last else 0], last)
    return None  # <N>, &, |, ! inside a phrase: no single adjacent word to pair with


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class _Parser:
    """tsquery text into _Node; precedence as PostgreSQL's: ! then <-> then & then |."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str | None, bool]] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise ValueError(f"unexpected tsquery text at {position}: {text!r}")
            lexeme, mark, operator = match.groups()
            if operator is None:
                self.tokens.append(("lexeme", lexeme.replace("''", "'"), mark is None))
            else:
                self.tokens.append((operator, None, True))
            position = match.end()
        self.at = 0

    def parse(self) -> _Node:
        node = self._or()
        if self.at != len(self.tokens):
            raise ValueError("trailing tsquery text")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def _or(self) -> _Node:
        node = self._and()
        while self._peek() == "|":
            self.at += 1
            node = _Node("|", children=(node, self._and()))
        return node

    def _and(self) -> _Node:
        node = self._phrase()
        while self._peek() == "&":
            self.at += 1
            node = _Node("&", children=(node, self._phrase()))
        return node

    def _phrase(self) -> _Node:
        node = self._unary()
        while (operator := self._peek()) is not None and operator.startswith("<"):
            self.at += 1
            name = "<->" if operator in ("<->", "<1>") else "<N>"
            node = _Node(name, children=(node, self._unary()))
        return node

    def _unary(self) -> _Node:
        kind = self._peek()
        if kind is None:
            raise ValueError("tsquery ends early")
        token = self.tokens[self.at]
        self.at += 1
        if kind == "!":
            return _Node("!", children=(self._unary(),))
        if kind == "(":
            node = self._or()
            if self._peek() != ")":
                raise ValueError("unbalanced parenthesis")
            self.at += 1
            return node
        if kind == "lexeme":
            return _Node("lexeme", text=token[1], exact=token[2])
        raise ValueError(f"unexpected {kind!r}")

"""Build the external evaluation files in tests/data/ from their compact sources in
tests/data/eval-src/ (one labelled passage a line; grammar below).

    .venv/bin/python bench/build_eval_sets.py

Each source starts with a JSON header line (format, sources with licences, origin); then
lines `text || figure ; figure ... [|| attribution for every figure]`, blank lines and
`#` comments ignored. A figure is whitespace-separated tokens:

    VALUE UNIT [FLAGS] [@attribution to the end of the figure]

VALUE: 1500 | 2.4bn | 41.25m | 3k | 1e-3 | LOW..HIGH (a range: value its midpoint) |
~LOW..HIGH (a vague amount: qualifier approx, value the midpoint, span low/high).
UNIT: a lemma, "_" for a space, "-" for none. FLAGS: ~ (approx), >= (at_least), > (more_than),
<= (up_to), < (less_than), P (projection), up / down (change), prev / cur (role),
per=WORD (a rate).

Quantity-assignment sources (*.qa) are described in `build_quantities`.

`split` is fixed by the text alone (sha1 of the UTF-8 text, first byte < 102 -> "test", else
"dev"), so rebuilding never moves a row between splits.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "tests" / "data" / "eval-src"
OUT = ROOT / "tests" / "data"
FLAGS = {"~": "approx", ">=": "at_least", ">": "more_than", "<=": "up_to", "<": "less_than"}
SUFFIX = {"k": 1e3, "m": 1e6, "bn": 1e9, "tn": 1e12}


def split_of(text: str) -> str:
    return "test" if hashlib.sha1(text.encode("utf-8")).digest()[0] < 102 else "dev"


def _number(token: str) -> float:
    for suffix, factor in SUFFIX.items():
        if token.endswith(suffix) and token[: -len(suffix)].replace(".", "").isdigit():
            return float(token[: -len(suffix)]) * factor
    return float(token)


def parse_figure(spec: str, default_attribution: str | None) -> dict:
    body, at, attribution = spec.partition("@")
    tokens = body.split()
    value_token, unit = tokens[0], tokens[1]
    low = high = None
    qualifier = "exact"
    if ".." in value_token:
        vague = value_token.startswith("~")
        lo, hi = value_token.lstrip("~").split("..")
        low, high = _number(lo), _number(hi)
        value = (low + high) / 2
        qualifier = "approx" if vague else "range"
    else:
        value = _number(value_token)
    figure: dict = {
        "value": round(value, 6),
        "low": low,
        "high": high,
        "qualifier": qualifier,
        "unit": None if unit == "-" else unit.replace("_", " "),
        "attribution": attribution.strip() if at else default_attribution,
        "projection": False,
        "per": None,
        "change": None,
        "role": None,
    }
    for flag in tokens[2:]:
        if flag in FLAGS:
            figure["qualifier"] = FLAGS[flag]
        elif flag == "P":
            figure["projection"] = True
        elif flag in ("up", "down"):
            figure["change"] = flag
        elif flag in ("prev", "cur"):
            figure["role"] = "previous" if flag == "prev" else "current"
        elif flag.startswith("per="):
            figure["per"] = flag[4:]
        else:
            raise ValueError(f"unknown flag {flag!r} in {spec!r}")
    return figure


def parse_line(line: str, origin: str) -> dict:
    parts = [p.strip() for p in line.split("||")]
    text = parts[0]
    default = parts[2] if len(parts) > 2 and parts[2] else None
    specs = [s for s in parts[1].split(" ; ")] if len(parts) > 1 and parts[1].strip() else []
    figures = [parse_figure(s, default) for s in specs if s.strip()]
    return {"text": text, "figures": figures, "origin": origin, "split": split_of(text)}


def build(source: Path) -> Path:
    lines = source.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    origin = header.pop("origin")
    rows, seen = [], set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            row = parse_line(line, origin)
        except (ValueError, IndexError) as exc:
            raise SystemExit(f"{source.name}:{number}: {exc}") from exc
        if row["text"] in seen:
            raise SystemExit(f"{source.name}:{number}: duplicate text")
        seen.add(row["text"])
        rows.append(row)
    out = OUT / (source.stem + ".jsonl")
    with out.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out


def _gold_value(token: str) -> dict:
    if ".." in token:
        lo, hi = (_number(t) for t in token.lstrip("~").split(".."))
        qualifier = "approx" if token.startswith("~") else "range"
        return {"value": (lo + hi) / 2, "low": lo, "high": hi, "qualifier": qualifier}
    return {"value": _number(token), "low": None, "high": None}


def build_quantities(source: Path) -> Path:
    """A quantity-assignment source: `CONFIG || text || VALUE=QUANTITY ; ...` (QUANTITY "-" for
    none); CONFIG names one of the header's "configs", written out in full on every row."""
    lines = source.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    origin = header.pop("origin")
    configs = header.pop("configs")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        config, text, golds = (p.strip() for p in line.split("||"))
        if config not in configs:
            raise SystemExit(f"{source.name}:{number}: unknown config {config!r}")
        figures = []
        for spec in filter(None, (g.strip() for g in golds.split(";"))):
            value, _, quantity = spec.partition("=")
            figures.append(
                {**_gold_value(value), "quantity": None if quantity == "-" else quantity}
            )
        rows.append(
            {
                "text": text,
                "quantities": configs[config],
                "figures": figures,
                "origin": origin,
                "split": split_of(text),
            }
        )
    out = OUT / (source.stem + ".jsonl")
    with out.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out


def main() -> int:
    sources = [(s, build) for s in sorted(SRC.glob("*.txt"))]
    sources += [(s, build_quantities) for s in sorted(SRC.glob("*.qa"))]
    for source, builder in sources:
        out = builder(source)
        print(f"{out.name}: {len(out.read_text(encoding='utf-8').splitlines()) - 1} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

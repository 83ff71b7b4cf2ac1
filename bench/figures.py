"""Benchmark the figure extractor on a labelled set.

    .venv/bin/python bench/figures.py [PATH] [--errors] [--repeat N]

PATH defaults to tests/data/figures-labelled.jsonl (format: its first line). Prints precision,
recall and F1 on (value, unit) pairs, qualifier/attribution/projection accuracy on matched
pairs (rules: figures/evaluation.py), the same per `split` when the file has splits, and
sentences per second, measured in this one process over N passes of the whole set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import extract_figures  # noqa: E402
from figures.evaluation import LabelledSentence, Scores, parse_labelled, score  # noqa: E402

DEFAULT = Path(__file__).resolve().parent.parent / "tests" / "data" / "figures-labelled.jsonl"


def _line(name: str, s: Scores) -> str:
    return (
        f"{name:<8} sentences {s.sentences:>4}  gold {s.gold:>4}  predicted {s.predicted:>4}  "
        f"P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
        f"qualifier {s.qualifier_accuracy:.3f}  attribution {s.attribution_accuracy:.3f}  "
        f"projection {s.projection_accuracy:.3f}"
    )


def _speed(labelled: list[LabelledSentence], repeat: int) -> float:
    texts = [item.text for item in labelled]
    extract_figures(texts[0])  # warm up
    began = time.perf_counter()
    for _ in range(repeat):
        for t in texts:
            extract_figures(t)
    return len(texts) * repeat / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--errors", action="store_true", help="list every disagreement")
    parser.add_argument("--repeat", type=int, default=50, help="passes for the speed test")
    args = parser.parse_args(argv)
    labelled = parse_labelled(args.path.read_text(encoding="utf-8"))
    total = score(labelled, extract_figures)
    print(f"labelled set: {args.path} ({len(labelled)} sentences)")
    print(_line("all", total))
    splits = sorted({item.split for item in labelled if item.split})
    for split in splits:
        print(_line(split, score([i for i in labelled if i.split == split], extract_figures)))
    print(
        f"speed    {_speed(labelled, args.repeat):,.0f} sentences/s (one process, "
        f"{args.repeat} passes)"
    )
    if args.errors:
        for m in total.mistakes:
            print(f"{m.kind:<11} {m.detail}\n            in: {m.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the figure extractor on the labelled sets, per file, split and origin.

    .venv/bin/python bench/figures.py [PATH ...] [--errors] [--errors-on-test] [--min-seconds S]
                                      [--hostile-size CHARS]

With no PATH: the in-house set (tests/data/figures-labelled.jsonl), every external set
(tests/data/figures-*.jsonl: text written by others, see each file's header for sources and
licences) and the quantity-assignment set (tests/data/quantity-assignment.jsonl). For each file,
and for the external sets together, one line per split and per origin: sentences, gold and
predicted figures, value precision/recall/F1, (value, unit) F1, and on value-matched pairs unit,
qualifier, attribution, projection, per, change and role accuracy ("-" where nothing is
labelled); for the quantity set, quantity-assignment accuracy. Speed is sentences per second of
`extract_figures` in this one process, timed over repeated passes of each file for at least
--min-seconds (the external sets together: at least 4 times that). With no PATH, the extractor
also gets hostile input of a quarter, half and all of --hostile-size characters (default 1,000,000).
Rules: figures/evaluation.py.

--errors lists the disagreements of *dev* rows (and of rows without a split) only: the test
split is for measuring, not for reading. --errors-on-test lists test rows' mistakes too; use it
only when the test split is to be retired.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from newsmon.figures import assign_quantities, extract_figures  # noqa: E402
from newsmon.figures.evaluation import (  # noqa: E402
    LabelledSentence,
    Mistake,
    QuantityPassage,
    QuantityScores,
    Scores,
    is_quantity_set,
    parse_labelled,
    parse_quantity_set,
    score,
    score_quantities,
)

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
IN_HOUSE = DATA / "figures-labelled.jsonl"
QUANTITY_SET = DATA / "quantity-assignment.jsonl"
SHOWN_SPLITS = (None, "dev", "shared")  # splits whose mistakes --errors may print

HEADER = (
    f"{'part':<26} {'sent':>5} {'gold':>5} {'pred':>5}  {'valP':>5} {'valR':>5} {'valF1':>5} "
    f"{'vuF1':>5}  {'unit':>5} {'qual':>5} {'attr':>5} {'proj':>5} {'per':>5} {'chg':>5} "
    f"{'role':>5}"
)


def default_paths() -> list[Path]:
    external = sorted(p for p in DATA.glob("figures-*.jsonl") if p != IN_HOUSE)
    return [IN_HOUSE, *external, QUANTITY_SET]


def _acc(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def figure_line(name: str, s: Scores) -> str:
    return (
        f"{name:<26} {s.sentences:>5} {s.gold:>5} {s.predicted:>5}  {s.precision:5.3f} "
        f"{s.recall:5.3f} {s.f1:5.3f} {s.unit_f1:5.3f}  {s.unit_accuracy:5.3f} "
        f"{s.qualifier_accuracy:5.3f} {s.attribution_accuracy:5.3f} "
        f"{s.projection_accuracy:5.3f} {_acc(s.per_accuracy)} {_acc(s.change_accuracy)} "
        f"{_acc(s.role_accuracy)}"
    )


def quantity_line(name: str, s: QuantityScores) -> str:
    return (
        f"{name:<26} {s.sentences:>5} {s.gold:>5}  quantity accuracy {s.accuracy:5.3f} "
        f"({s.correct}/{s.gold})"
    )


def _parts(items: list, origins: bool = True) -> Iterable[tuple[str, list]]:
    yield "all", items
    for split in sorted({i.split for i in items if i.split}):
        yield f"split {split}", [i for i in items if i.split == split]
    found = sorted({i.origin for i in items if i.origin})
    if origins and len(found) > 1:
        for origin in found:
            for split in sorted({i.split for i in items if i.origin == origin and i.split}):
                part = [i for i in items if i.origin == origin and i.split == split]
                yield f"{origin} {split}", part


def speed(texts: list[str], min_seconds: float) -> float:
    """Sentences per second of extract_figures over whole passes of `texts`."""
    extract_figures(texts[0])  # warm up
    done, began = 0, time.perf_counter()
    while True:
        for t in texts:
            extract_figures(t)
        done += len(texts)
        elapsed = time.perf_counter() - began
        if elapsed >= min_seconds:
            return done / elapsed


def _shown(mistakes: Iterable[Mistake], on_test: bool) -> list[Mistake]:
    return [m for m in mistakes if on_test or m.split in SHOWN_SPLITS]


def report_figures(
    path: Path, labelled: list[LabelledSentence], min_seconds: float, out: Callable[[str], None]
) -> Scores:
    out(f"\n{path.name} ({len(labelled)} sentences)")
    out(HEADER)
    total = Scores()
    for name, part in _parts(labelled):
        s = score(part, extract_figures)
        out(figure_line(name, s))
        if name == "all":
            total = s
    if labelled:
        out(
            f"speed {speed([i.text for i in labelled], min_seconds):,.0f} sentences/s "
            "(extract_figures, one process)"
        )
    return total


def report_quantities(
    path: Path, passages: list[QuantityPassage], min_seconds: float, out: Callable[[str], None]
) -> QuantityScores:
    out(f"\n{path.name} ({len(passages)} passages)")
    total = QuantityScores()
    for name, part in _parts(passages):
        began = time.perf_counter()
        s = score_quantities(part, extract_figures, assign_quantities)
        s.seconds = time.perf_counter() - began
        out(quantity_line(name, s))
        if name == "all":
            total = s
    if passages:
        out(
            f"speed {speed([p.text for p in passages], min_seconds):,.0f} sentences/s "
            "(extract_figures, one process)"
        )
    return total


def hostile_input(out: Callable[[str], None], largest: int = 1_000_000) -> None:
    """Time run-on text, a table of numbers and random Unicode at 1x, 2x and 4x size (`largest`
    characters at 4x): linear time shows as a time ratio close to the size ratio."""
    rng = random.Random(7)
    words = ["the", "troops", "said", "about", "killed", "3,000", "from", "to", "a", "day"]
    kinds = {
        "run-on sentence": lambda n: " ".join(rng.choice(words) for _ in range(n // 6)),
        "table of numbers": lambda n: " | ".join(f"{rng.randint(1, 99_999):,}" for _ in range(n // 9)),  # noqa: E501
        "random unicode": lambda n: "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(n)),
    }  # fmt: skip
    out("\nhostile input (size, seconds; linear time keeps seconds/size flat)")
    for name, make in kinds.items():
        cells = []
        for size in (largest // 4, largest // 2, largest):
            text = make(size)
            began = time.perf_counter()
            extract_figures(text)
            cells.append(f"{len(text) / 1e6:.2f} MB {time.perf_counter() - began:6.2f} s")
        out(f"{name:<18} " + "   ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="labelled files (default: all)")
    parser.add_argument("--errors", action="store_true", help="list dev rows' disagreements")
    parser.add_argument(
        "--errors-on-test", action="store_true", help="list test rows' disagreements too"
    )
    parser.add_argument("--min-seconds", type=float, default=0.5, help="timing per file")
    parser.add_argument(
        "--hostile-size", type=int, default=1_000_000, help="largest hostile input, characters"
    )
    args = parser.parse_args(argv)
    paths = args.paths or default_paths()
    mistakes: list[Mistake] = []
    external: list[LabelledSentence] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if is_quantity_set(text):
            passages = parse_quantity_set(text)
            mistakes += report_quantities(path, passages, args.min_seconds, print).mistakes
        else:
            labelled = parse_labelled(text)
            mistakes += report_figures(path, labelled, args.min_seconds, print).mistakes
            if path != IN_HOUSE:
                external += labelled
    if not args.paths and external:
        print(f"\nexternal sets together ({len(external)} sentences written by others)")
        print(HEADER)
        for name, part in _parts(external):
            print(figure_line(name, score(part, extract_figures)))
        texts = [item.text for item in external]
        rate = speed(texts, 4 * args.min_seconds)  # the set timed for longer than one file
        cpu_began = time.process_time()
        for text in texts * 5:
            extract_figures(text)
        cpu_rate = len(texts) * 5 / (time.process_time() - cpu_began)
        load = os.getloadavg()[0]
        print(
            f"speed {rate:,.0f} sentences/s over all external sentences (one process, wall "
            f"clock); {cpu_rate:,.0f} per CPU-second; load average {load:.1f} on "
            f"{os.cpu_count()} cores"
        )
    if not args.paths:
        hostile_input(print, args.hostile_size)
    if args.errors or args.errors_on_test:
        shown = _shown(mistakes, args.errors_on_test)
        hidden = len(mistakes) - len(shown)
        print(f"\nmistakes ({len(shown)} shown; {hidden} on test rows hidden)")
        for m in shown:
            print(f"{m.kind:<11} {m.detail}\n            in: {m.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build bench/textset/ (the real-page set of bench/text_quality.py) from unpacked sdists.

Three labelled sources, all real pages shipped in openly licensed source distributions on PyPI:
- trafilatura 0.5.1 (GPL-3.0-or-later): tests/cache/*.html with its hand-written checks in
  tests/unit_tests.py (`'x' in result` must come out, `'x' not in result` must not);
- newspaper4k 0.9.6 (MIT): tests/data/html/*.html with the expected article text in
  tests/data/txt/*.txt;
- webarticle2text 3.0.2 (LGPL-3.0): five news pages, webarticle2text/fixtures/compare/pageN.html,
  with the whole expected article text in pageN.expected.txt.
(The sdists of goose3, readabilipy, readability-lxml, boilerpy3, news-please, jusText, dragnet
and extractnet ship no labelled pages; trafilatura's later ones ship the same tests/cache.)

trafilatura's checks that expect reader comments in the output are kept apart (`in_comments`,
found by trafilatura's own split of text and comments): newsmon leaves comments out on purpose.
Each page is stored gzipped; cases.json records its origin, licence, labels and split. The split
is fixed before any result is seen: `test` when the first byte of sha256(file name) is < 77
(about 30%), else `dev`.

    pip download --no-deps --no-binary :all: trafilatura==0.5.1 newspaper4k==0.9.6 \
        webarticle2text==3.0.2
    for f in *.tar.gz; do tar xzf "$f"; done
    .venv/bin/python bench/build_textset.py trafilatura-0.5.1 newspaper4k-0.9.6 \
        webarticle2text-3.0.2
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import trafilatura

TEXTSET = Path(__file__).resolve().parent / "textset"
TEST_SHARE = 77  # of 256: about 30% of pages are held out for the test split


def split_of(name: str) -> str:
    return "test" if hashlib.sha256(name.encode()).digest()[0] < TEST_SHARE else "dev"


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _in_order(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements in source order, those inside `if` blocks included (ast.walk is breadth-first)."""
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, ast.If):
            found.extend(_in_order(stmt.body) + _in_order(stmt.orelse))
    return found


def trafilatura_checks(tests_py: Path) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Cached file name -> (URL, {"with": [...], "without": [...]}) from test_extract's asserts."""
    module = ast.parse(tests_py.read_text(encoding="utf-8"))
    mock_pages: dict[str, str] = {}
    checks: dict[str, dict[str, list[str]]] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MOCK_PAGES":
            mock_pages = _literal(node.value)
        if isinstance(node, ast.FunctionDef) and node.name == "test_extract":
            url = None
            for stmt in _in_order(node.body):
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                    if getattr(stmt.value.func, "id", "") == "load_mock_page":
                        url = _literal(stmt.value.args[0])
                elif isinstance(stmt, ast.Assert) and url is not None:
                    for compare in ast.walk(stmt.test):
                        if not isinstance(compare, ast.Compare):
                            continue
                        snippet = _literal(compare.left)
                        right = compare.comparators[0]
                        if isinstance(snippet, str) and getattr(right, "id", "") == "result":
                            key = "with" if isinstance(compare.ops[0], ast.In) else "without"
                            entry = checks.setdefault(url, {"with": [], "without": []})
                            if snippet not in entry[key]:
                                entry[key].append(snippet)
    return {mock_pages[url]: (url, entry) for url, entry in checks.items() if url in mock_pages}


def _comment_snippets(page: bytes, url: str, snippets: list[str]) -> list[str]:
    """The expected snippets that are in the page's reader comments (trafilatura's own split of
    the page into text and comments): newsmon leaves comments out on purpose, so these are not
    scored either way."""
    document = trafilatura.bare_extraction(page, url=url, include_comments=True)
    if document is None:
        return []
    text = " ".join((document.text or "").split())
    comments = " ".join((document.comments or "").split())
    return [s for s in snippets if s in comments and s not in text]


def build(
    trafilatura_dir: Path, newspaper_dir: Path, webarticle2text_dir: Path
) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    checks = trafilatura_checks(trafilatura_dir / "tests" / "unit_tests.py")
    for file_name, (url, entry) in sorted(checks.items()):
        if not entry["with"]:
            continue  # only furniture checks: no article text to score
        name = "trafilatura-" + file_name.replace(" ", "_") + ".gz"
        raw = (trafilatura_dir / "tests" / "cache" / file_name).read_bytes()
        (TEXTSET / name).write_bytes(gzip.compress(raw, mtime=0))
        in_comments = _comment_snippets(raw, url, entry["with"])
        cases.append(
            {
                "file": name,
                "url": url,
                "from": f"trafilatura 0.5.1 sdist, tests/cache/{file_name}",
                "licence": "GPL-3.0-or-later (LICENSE.trafilatura-0.5.1)",
                "article": True,
                "with": [s for s in entry["with"] if s not in in_comments],
                "without": entry["without"],
                "in_comments": in_comments,
            }
        )
    for txt in sorted((newspaper_dir / "tests" / "data" / "txt").glob("*.txt")):
        page = newspaper_dir / "tests" / "data" / "html" / (txt.stem + ".html")
        if not page.exists():
            continue
        name = f"newspaper4k-{txt.stem}.html.gz"
        (TEXTSET / name).write_bytes(gzip.compress(page.read_bytes(), mtime=0))
        cases.append(
            {
                "file": name,
                "from": f"newspaper4k 0.9.6 sdist, tests/data/html/{page.name}",
                "licence": "MIT (LICENSE.newspaper4k)",
                "article": True,
                "body": txt.read_text(encoding="utf-8"),
            }
        )
    compare = webarticle2text_dir / "webarticle2text" / "fixtures" / "compare"
    for expected in sorted(compare.glob("page*.expected.txt")):
        page = compare / expected.name.replace(".expected.txt", ".html")
        name = f"webarticle2text-{page.name}.gz"
        (TEXTSET / name).write_bytes(gzip.compress(page.read_bytes(), mtime=0))
        cases.append(
            {
                "file": name,
                "from": "webarticle2text 3.0.2 sdist, webarticle2text/fixtures/compare/"
                + page.name,
                "licence": "LGPL-3.0 (LICENSE.webarticle2text)",
                "article": True,
                "body": expected.read_text(encoding="utf-8"),
            }
        )
    for case in cases:
        case["split"] = split_of(case["file"])
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trafilatura_dir", type=Path, help="unpacked trafilatura-0.5.1 sdist")
    parser.add_argument("newspaper_dir", type=Path, help="unpacked newspaper4k-0.9.6 sdist")
    parser.add_argument("webarticle2text_dir", type=Path, help="unpacked webarticle2text-3.0.2")
    args = parser.parse_args()
    expected = (
        (args.trafilatura_dir, "tests/cache"),
        (args.newspaper_dir, "tests/data/txt"),
        (args.webarticle2text_dir, "webarticle2text/fixtures/compare"),
    )
    for directory, marker in expected:
        if not (directory / marker).is_dir():
            sys.exit(f"error: {directory} holds no {marker}: pass the unpacked sdist's directory")
    manifest_path = TEXTSET / "cases.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    built = ("trafilatura-", "newspaper4k-", "webarticle2text-")
    kept = [c for c in manifest["pages"] if not c["file"].startswith(built)]
    for case in kept:
        case["split"] = split_of(case["file"])
    manifest["pages"] = kept + build(
        args.trafilatura_dir, args.newspaper_dir, args.webarticle2text_dir
    )
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    manifest_path.write_text(text, encoding="utf-8")
    for licence, source in (
        ("LICENSE.trafilatura-0.5.1", args.trafilatura_dir / "LICENSE"),
        ("LICENSE.newspaper4k", args.newspaper_dir / "LICENSE"),
        ("LICENSE.webarticle2text", args.webarticle2text_dir / "LICENSE"),
    ):
        (TEXTSET / licence).write_bytes(source.read_bytes())
    splits = [c["split"] for c in manifest["pages"]]
    print(f"{len(splits)} pages: {splits.count('dev')} dev, {splits.count('test')} test")


if __name__ == "__main__":
    main()

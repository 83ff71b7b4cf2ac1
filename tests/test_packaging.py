"""Packaging (issue 14): the wheel installs one top-level import name, `newsmon`, built from the
repository root (pyproject.toml maps `newsmon` to "."); the sdist builds the same wheel; nothing in
the repository imports the old top-level names (`config`, `spiders`, ...) any more."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tokenize
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OLD = ("alerts", "cli", "config", "figures", "scheduler", "spiders", "storage")
PRODUCT = ("alerts", "figures", "spiders", "storage")
NOT_SOURCES = (
    ".venv",
    "venv",
    ".git",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "newsmon-data",
    "*.egg-info",
    "*.db",
    "*.db-*",
    "*.pyc",
    "*.lock",
)
OLD_ALT = "|".join(OLD)
OLD_IMPORT = re.compile(rf"^\s*(from\s+({OLD_ALT})[.\s]|import\s+({OLD_ALT})\b)", re.MULTILINE)
OLD_DASH_M = re.compile(
    rf"(?<![\w-])-m\s+({OLD_ALT})\b(?!\.)|[\"']-m[\"'],\s*[\"']({OLD_ALT})[\"']"
)


BUILD_SDIST = (
    "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
)


def _checkout_copy(tmp_path: Path) -> Path:
    """The checkout without virtualenvs, caches and build output (a build writes build/ and an
    egg-info next to pyproject.toml, and stale build/lib files would end up in later wheels)."""
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    return copy


def _pip_wheel(source: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = out.glob("newsmon-*.whl")
    return wheel


def _product_modules() -> set[str]:
    names = {f"newsmon/{p.name}" for p in ROOT.glob("*.py")}
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                names.add(f"newsmon/{path.relative_to(ROOT).as_posix()}")
    return names


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel built from the checkout, the wheel built from the sdist)."""
    tmp = tmp_path_factory.mktemp("packaging")
    checkout = _checkout_copy(tmp)
    wheel = _pip_wheel(checkout, tmp / "wheel")
    sdist_dir = tmp / "sdist"
    result = subprocess.run(
        [sys.executable, "-c", BUILD_SDIST, str(sdist_dir)],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sdist = sdist_dir / result.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp / "unpacked", filter="data")
    [unpacked] = (tmp / "unpacked").iterdir()
    return wheel, _pip_wheel(unpacked, tmp / "from-sdist")


def test_the_wheel_installs_one_top_level_name(wheels: tuple[Path, Path]) -> None:
    wheel, _ = wheels
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        tops = {name.split("/")[0] for name in names}
        dist_info = {top for top in tops if top.endswith(".dist-info")}
        assert tops - dist_info == {"newsmon"} and len(dist_info) == 1, sorted(tops)
        [info] = dist_info
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        top_level = f"{info}/top_level.txt"
        if top_level in names:
            assert archive.read(top_level).decode().split() == ["newsmon"]
    assert re.search(r"^newsmon = newsmon\.cli:main$", entry_points, re.MULTILINE), entry_points
    assert "newsmon/__init__.py" in names
    missing = _product_modules() - set(names)
    assert not missing, f"not in the wheel (list the package in pyproject.toml): {missing}"
    for data in ("newsmon/storage/migrations/env.py", "newsmon/storage/migrations/script.py.mako"):
        assert data in names
    assert any(n.startswith("newsmon/storage/migrations/versions/") for n in names)
    stray = [
        n
        for n in names
        if n.startswith(("newsmon/tests/", "newsmon/bench/", "newsmon/docs/"))
        or n in ("newsmon/pyproject.toml", "newsmon/README.md", "newsmon/config.yaml")
    ]
    assert stray == []


def test_the_sdist_builds_the_same_wheel(wheels: tuple[Path, Path]) -> None:
    from_checkout, from_sdist = wheels
    with zipfile.ZipFile(from_checkout) as a, zipfile.ZipFile(from_sdist) as b:

        def files(archive: zipfile.ZipFile) -> set[str]:
            return {n for n in archive.namelist() if not n.endswith("RECORD")}

        assert files(a) == files(b)


IMPORT_ALL = """
import importlib, pkgutil, sys, newsmon
for module in pkgutil.walk_packages(newsmon.__path__, "newsmon."):
    if module.name.split(".")[1] in {product!r}:  # not tests/, bench/ (editable: on __path__)
        importlib.import_module(module.name)
print(newsmon.__file__)
print(sorted(set(sys.modules) & set({old!r})))
"""


def test_the_installed_package_imports_without_the_old_names(tmp_path: Path) -> None:
    """Every module of the installed package imports from an unrelated folder, and none of the
    old top-level names ends up in sys.modules (a module loaded twice under two names would
    have two copies of its state, and pickles would name the wrong module)."""
    code = IMPORT_ALL.format(product=OLD, old=OLD)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    where, old_names = result.stdout.strip().splitlines()[-2:]
    assert old_names == "[]"
    assert Path(where).resolve() == ROOT / "__init__.py", (
        f"newsmon is imported from {where}, not this checkout: reinstall (make install)"
    )


def test_the_console_script_runs() -> None:
    script = Path(sys.executable).with_name("newsmon")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Usage" in result.stdout, result.stderr


def _python_files() -> list[Path]:
    skip = {".venv", "venv", ".git", "build", "dist", "__pycache__", "node_modules"}
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.endswith(".egg-info"))
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".py")]
    return found


def test_nothing_uses_the_old_top_level_names() -> None:
    """`import config`, `from spiders.x import y`, `-m` with an old name, "spiders.pipeline.X":
    each still works from the repository root (it is on sys.path there), so only this test
    notices."""
    found = []
    for path in _python_files():
        text = path.read_text()
        rel = path.relative_to(ROOT)
        for pattern in (OLD_IMPORT, OLD_DASH_M):
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{rel}:{line}: {m[0].strip()}")
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.STRING:
                continue
            body = re.sub(r"^[rRuU]*(\"{3}|'{3}|'|\")(.*)\1$", r"\2", token.string, flags=re.S)
            m = re.fullmatch(rf"({OLD_ALT})\.(\w+)[\w.]*(:\w+)?", body)
            if (
                m
                and m[1] in PRODUCT
                and ((ROOT / m[1] / f"{m[2]}.py").exists() or (ROOT / m[1] / m[2]).is_dir())
            ):
                found.append(f"{rel}:{token.start[0]}: {token.string}")
    assert found == [], "use newsmon.*:\n" + "\n".join(found)

"""Every SQL and shell example in docs/*.md runs, against an archive the test fills.

A ```console block is a shell session: `$ ` lines are commands (continued on indented lines while
a quote is open), the lines after them their output. `newsmon ...` runs in this process
(tests/cli_in_process.py) in a folder holding the shipped config.yaml and its newsmon.db, filled
with the sample archive under the shipped topic's ids; `sqlite3` runs for real on that file;
`echo $?` checks the status of the command before. A command exits 0 unless its documented
output is a `newsmon: ...` error, which must then be what it prints.

A ```sql block's statements must each return rows, on SQLite and PostgreSQL; one whose comment
names a backend ("SQLite", "PostgreSQL") runs on that backend only.

A block that cannot run here (a daemon, docker, a benchmark of minutes) carries the marker
`<!-- docs-test: skip REASON -->` on the line before its fence; the test reports it as skipped
with that reason. A console block with no marker and no command fails.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_data import fill_archive
from cli_in_process import newsmon_in_process

from newsmon.alerts.payload import build_payload
from newsmon.storage import Database
from newsmon.storage.models import Alert, Figure

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SKIP = re.compile(r"<!-- docs-test: skip (?P<reason>[^>]+?) -->\s*$")
FENCE = re.compile(r"^```(?P<lang>console|shell|sql)\n(?P<body>.*?)^```", re.M | re.S)
# the sample archive (tests/archive_data.py) speaks of topic `nk`; the docs of the shipped one
SHIPPED_TOPIC, SHIPPED_QUANTITY = "nk-troops", "nk-troops/troops-in-russia"


@dataclass
class Example:
    page: str
    line: int
    lang: str
    body: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def examples(lang: set[str]) -> list[Example]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match["lang"] not in lang:
                continue
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = SKIP.search(before)
            found.append(
                Example(page.name, line, match["lang"], match["body"], marker and marker["reason"])
            )
    return found


@dataclass
class Command:
    text: str
    output: list[str]


def commands(body: str) -> list[Command]:
    """The `$ ` lines of a session (with their continuation lines) and the output after each."""
    found: list[Command] = []
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if found:
                found[-1].output.append(line)
            continue
        text = line[2:]
        while not _complete(text) and index < len(lines):
            text += "\n" + lines[index]
            index += 1
        found.append(Command(text, []))
    return found


def _complete(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # a quote still open: the command goes on
        return False
    return True


def shipped_archive(database: Database) -> None:
    """The sample archive under the shipped config.yaml's topic and quantity, its alert with the
    payload alerts/detect.py writes (the sample's is a stub)."""
    fill_archive(database)
    with database.engine.begin() as connection:
        for table in ("figures", "alerts"):
            connection.execute(
                sa.text(f"UPDATE {table} SET topic = :topic, quantity = :quantity"),
                {"topic": SHIPPED_TOPIC, "quantity": SHIPPED_QUANTITY},
            )
        connection.execute(sa.text("UPDATE article_topics SET topic = :t"), {"t": SHIPPED_TOPIC})
    with database.session() as session:
        for alert in session.scalars(sa.select(Alert)):
            alert.payload = build_payload(
                alert_id=alert.id,
                kind=alert.kind,
                label="North Korean troops in Russia",
                figure=session.get_one(Figure, alert.figure_id),
                previous=alert.previous_figure_id
                and session.get_one(Figure, alert.previous_figure_id),
                conflict=False,
                created_at=alert.created_at,
            )


STORY = """<!doctype html><html lang="en"><head><title>North Korean troops reach Kursk</title>
<meta property="article:published_time" content="2024-11-01T00:44:00Z"></head><body><article>
<h1>North Korean troops reach Kursk</h1><p>By Choi Min</p>
<p>North Korea has deployed about 4,000 troops to Russia's Kursk region, Ukrainian intelligence
said on Monday. The soldiers arrived by train and were moved to the front within days.</p>
<p>Officials in Seoul said the deployment could grow over the winter months.</p>
</article></body></html>
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A user's folder: the shipped config.yaml, its filled newsmon.db, files the docs name."""
    shutil.copyfile(REPO / "config.yaml", tmp_path / "config.yaml")
    database = Database.open(f"sqlite:///{tmp_path / 'newsmon.db'}")
    try:
        shipped_archive(database)
    finally:
        database.dispose()
    broken = (REPO / "config.yaml").read_text(encoding="utf-8").replace("every:", "evry:", 1)
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "story.html").write_text(STORY, encoding="utf-8")
    return tmp_path


def run(command: Command, cwd: Path) -> subprocess.CompletedProcess[str]:
    pipeline = [part.strip() for part in command.text.split(" | ")]
    argv = shlex.split(pipeline[0], comments=True)
    if argv[0] == "newsmon":
        result = newsmon_in_process(*argv[1:], cwd=cwd, env={"COLUMNS": "200"})
    elif argv[0] == "sqlite3":
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)
    else:
        pytest.fail(f"no way to run {argv[0]!r}: mark the block <!-- docs-test: skip REASON -->")
    for stage in pipeline[1:]:
        head = re.fullmatch(r"head -(\d+)", stage)
        assert head, f"no way to run the pipe stage {stage!r}"
        lines = result.stdout.splitlines(keepends=True)[: int(head[1])]
        result = subprocess.CompletedProcess(result.args, result.returncode, "".join(lines), "")
    return result


def _errors(text: str) -> list[str]:
    return [re.sub(r":\d+:", ":N:", line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("example", examples({"console", "shell"}), ids=lambda example: example.id)
def test_shell_example_runs(example: Example, workdir: Path) -> None:
    if example.skip:
        pytest.skip(f"{example.id}: {example.skip}")
    session = commands(example.body)
    assert session, "a console block without `$ ` commands: mark it, or make it ```text"
    status = None
    for command in session:
        if command.text.strip() == "echo $?":
            assert status == int(command.output[0]), command.text
            continue
        result = run(command, workdir)
        status = result.returncode
        if command.output and command.output[0].startswith("newsmon: "):  # a documented error
            assert status != 0, f"{command.text}: documented as an error, exit 0"
            assert _errors(result.stderr) == _errors("\n".join(command.output)), command.text
        else:
            assert status == 0, f"{command.text}: exit {status}\n{result.stderr}"
            assert result.stdout.strip(), f"{command.text}: printed nothing"
        if argv0(command) == "sqlite3":
            assert len(result.stdout.splitlines()) > 2, "the query returned no rows"


def argv0(command: Command) -> str:
    return shlex.split(command.text, comments=True)[0]


def statements(example: Example) -> list[tuple[str, str]]:
    """(comment, statement) pairs of a ```sql block."""
    found, comment, lines = [], "", []
    for line in example.body.splitlines():
        if line.startswith("--") and not lines:
            comment = line
        elif line.strip():
            lines.append(line)
            if line.rstrip().endswith(";"):
                found.append((comment, "\n".join(lines)))
                comment, lines = "", []
    assert not lines, f"{example.id}: a statement without its ';'"
    return found


SQL = [
    pytest.param(example, comment, statement, id=f"{example.id}#{number}")
    for example in examples({"sql"})
    for number, (comment, statement) in enumerate(statements(example), 1)
]


@pytest.mark.parametrize(("example", "comment", "statement"), SQL)
def test_sql_example_returns_rows(
    example: Example, comment: str, statement: str, database: Database
) -> None:
    if example.skip:
        pytest.skip(f"{example.id}: {example.skip}")
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database.dialect]
    other = {"SQLite": "PostgreSQL", "PostgreSQL": "SQLite"}[backend]
    if other in comment and backend not in comment:
        pytest.skip(f"the example says it is for {other}: {comment}")
    shipped_archive(database)
    with database.engine.connect() as connection:
        rows = connection.execute(sa.text(statement.rstrip(";"))).all()
    assert rows, f"{example.id}: {comment}: no rows"

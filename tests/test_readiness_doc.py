"""docs/enterprise-readiness.md stays honest: one row per dimension an evaluating organisation
looks at, a rating from the four words, and every file it cites as proof exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "enterprise-readiness.md"

DIMENSIONS = [
    "code quality", "architecture", "documentation", "supported platforms", "installation paths",
    "CI integrations", "signing and key management", "evidence format stability", "fleet scale",
    "agent mode", "air-gapped use", "upgrade and rollback", "release pipeline", "security response",
    "test depth",
]
RATINGS = {"Available", "Partial", "Stub", "Missing"}
SECTIONS = ["What is production-ready today", "What needs investment", "What is out of scope"]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the maturity table: the first Markdown table after its heading."""
    section = text.split("## Maturity table", 1)[1]
    rows: list[list[str]] = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    header, rule, *body = rows
    assert header == ["dimension", "rating", "detail", "proof"]
    assert set("".join(rule)) <= {"-", ":"}
    return body


def cited_paths(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return table_rows(DOC.read_text(encoding="utf-8"))


def test_every_dimension_has_exactly_one_row(rows: list[list[str]]) -> None:
    assert sorted(row[0] for row in rows) == sorted(DIMENSIONS)


def test_ratings_are_the_four_words(rows: list[list[str]]) -> None:
    bad = {row[0]: row[1] for row in rows if row[1] not in RATINGS}
    assert bad == {}


def test_every_row_says_something_and_cites_a_file(rows: list[list[str]]) -> None:
    for dimension, _, detail, proof in rows:
        assert detail, dimension
        assert cited_paths(proof), f"{dimension}: no file cited"


def test_every_cited_file_exists(rows: list[list[str]]) -> None:
    missing = [(row[0], path) for row in rows for path in cited_paths(row[3]) if not (ROOT / path).exists()]
    assert missing == []


def test_the_three_sections_follow_the_table() -> None:
    headings = re.findall(r"^## (.+)$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[-3:] == SECTIONS


def test_relative_links_resolve() -> None:
    links = re.findall(r"\]\(([^)#]+)\)", DOC.read_text(encoding="utf-8"))
    assert [link for link in links if not (DOC.parent / link).exists()] == []


def test_the_table_parser_notices_a_bad_row() -> None:
    text = "## Maturity table\n\n| dimension | rating | detail | proof |\n|---|---|---|---|\n| x | Ready | d | `no/such` |\n"
    (row,) = table_rows(text)
    assert row[1] not in RATINGS
    assert not (ROOT / cited_paths(row[3])[0]).exists()

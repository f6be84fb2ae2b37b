"""Reading a rendered PDF the way an auditor's tools do: poppler's pdftotext and pdfinfo.

``words`` gives every word with its box in points, so that tests can check layout facts
(nothing outside the page margins, no two words drawn over each other) on the real PDF.
"""

from __future__ import annotations

import html
import itertools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _run(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def text(pdf: Path, first: int | None = None, last: int | None = None, *, raw: bool = False) -> str:
    """The text of the PDF (or of pages ``first`` to ``last``). ``raw`` keeps the content
    stream order and a hyphen that ends a line, which the default mode joins away."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return _run("pdftotext", "-enc", "UTF-8", *(["-raw"] if raw else []), *pages, str(pdf), "-")


def info(pdf: Path) -> dict[str, str]:
    lines = _run("pdfinfo", "-isodates", str(pdf)).splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def page_count(pdf: Path) -> int:
    return int(info(pdf)["Pages"])


@dataclass(frozen=True)
class Word:
    page: int
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    text: str


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]


def pages(pdf: Path) -> list[Page]:
    out = []
    for number, (width, height, body) in enumerate(_PAGE.findall(_run("pdftotext", "-bbox", str(pdf), "-")), start=1):
        words = tuple(
            Word(number, float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(body)
        )
        out.append(Page(number, float(width), float(height), words))
    return out


def overlapping_words(page: Page, tolerance: float = 0.5) -> list[tuple[Word, Word]]:
    """Pairs of words on the same line whose boxes overlap: text drawn over other text."""
    lines: dict[float, list[Word]] = {}
    for word in page.words:
        lines.setdefault(round(word.y_min, 0), []).append(word)
    clashes = []
    for words in lines.values():
        ordered = sorted(words, key=lambda w: w.x_min)
        for left, right in itertools.pairwise(ordered):
            if right.x_min < left.x_max - tolerance and (left.text, left.x_min) != (right.text, right.x_min):
                clashes.append((left, right))
    return clashes

"""The trend chart of an evidence log: an SVG written by hand, byte for byte reproducible.

Two panels share one time axis, one column per release (oldest left):

* the verdict strip: a green ``PASS`` or red ``FAIL`` cell per release (hatched when the
  packet was not verified);
* counts: failing controls, waived controls and blocking vulnerabilities, as lines with
  their values printed at each point;
* clause standing: per framework, the share of its clauses that stand ``pass``.

No plotting library: the chart is a few dozen elements, so it is written directly, with
every number formatted at a fixed precision and every element in a fixed order. The same
log gives the same bytes, and the SVG embeds nothing external (fonts are generic families).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from compliance.models.evidence_history import EvidenceLog

WIDTH = 760
LEFT, RIGHT = 64, 170
INSET = 44  # the first and last release sit this far inside the panels
STRIP_TOP, STRIP_HEIGHT = 40, 22
COUNTS_TOP, COUNTS_HEIGHT = 92, 150
SHARE_TOP, SHARE_HEIGHT = 290, 120
LABELS_TOP = SHARE_TOP + SHARE_HEIGHT + 18
HEIGHT = LABELS_TOP + 40

SERIES = (  # name, colour, value of a release
    ("failing controls", "#c0392b"),
    ("waived controls", "#d68910"),
    ("blocking vulnerabilities", "#6c3483"),
)
FRAMEWORK_COLOURS = {"nis2": "#1f618d", "dora": "#117864", "iso27001": "#7d6608", "anssi": "#943126"}
PASS_STATES = ("pass",)


def _n(value: float) -> str:
    """A coordinate at a fixed precision (no '-0', no exponent)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT - 2 * INSET
    return LEFT + INSET + (span / 2 if count == 1 else span * index / (count - 1))


def _text(x: float, y: float, body: str, *, anchor: str = "start", size: int = 11, weight: str = "normal", fill: str = "#222") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(body)}</text>"
    )


def _polyline(points: list[tuple[float, float]], colour: str) -> list[str]:
    out = []
    if len(points) > 1:
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
    out += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{colour}"/>' for x, y in points]
    return out


def trend_svg(log: EvidenceLog) -> str:
    """The chart of ``log`` (one release or more)."""
    releases = log.releases
    count = len(releases)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" role="img" aria-labelledby="title">',
        f'<title id="title">Evidence trend: {count} release(s), oldest first</title>',
        '<defs><pattern id="unverified" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="3" height="6" fill="#ffffff" fill-opacity="0.55"/></pattern></defs>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(LEFT, 22, "Evidence trend, release by release", size=14, weight="bold"),
    ]
    # Verdict strip.
    out.append(_text(LEFT - 8, STRIP_TOP + 15, "verdict", anchor="end", size=10))
    cell = max(20.0, min(70.0, (WIDTH - LEFT - RIGHT - 2 * INSET) / max(count - 1, 1) - 6))
    for i, entry in enumerate(releases):
        x = _x(i, count)
        passed = entry.verdict == "pass"
        colour = "#1e8449" if passed else "#c0392b"
        out.append(f'<rect x="{_n(x - cell / 2)}" y="{STRIP_TOP}" width="{_n(cell)}" height="{STRIP_HEIGHT}" rx="3" fill="{colour}"/>')
        if not entry.verified:
            out.append(f'<rect x="{_n(x - cell / 2)}" y="{STRIP_TOP}" width="{_n(cell)}" height="{STRIP_HEIGHT}" rx="3" fill="url(#unverified)"/>')
        out.append(_text(x, STRIP_TOP + 15, entry.verdict.upper(), anchor="middle", size=10, weight="bold", fill="#ffffff"))
    # Counts panel.
    values = [[len(e.failing), len(e.waived), len(e.blocking_vulnerabilities)] for e in releases]
    top = max([1, *(v for row in values for v in row)])
    out.append(f'<rect x="{LEFT}" y="{COUNTS_TOP}" width="{WIDTH - LEFT - RIGHT}" height="{COUNTS_HEIGHT}" fill="none" stroke="#bbb"/>')
    out.append(_text(LEFT - 8, COUNTS_TOP + 4, str(top), anchor="end", size=10))
    out.append(_text(LEFT - 8, COUNTS_TOP + COUNTS_HEIGHT, "0", anchor="end", size=10))
    out.append(_text(LEFT, COUNTS_TOP - 6, "Failing, waived, blocking (count)", size=11, weight="bold"))
    for s, (name, colour) in enumerate(SERIES):
        points = [(_x(i, count), COUNTS_TOP + COUNTS_HEIGHT * (1 - row[s] / top)) for i, row in enumerate(values)]
        out += _polyline(points, colour)
        out += [_text(x + 5, y - 5, str(values[i][s]), size=9, fill=colour) for i, (x, y) in enumerate(points)]
        legend_y = COUNTS_TOP + 14 + 18 * s
        out.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(WIDTH - RIGHT + 26, legend_y, name, size=10))
    # Clause standing panel.
    frameworks = sorted({fw.framework for e in releases for fw in e.clauses})
    out.append(f'<rect x="{LEFT}" y="{SHARE_TOP}" width="{WIDTH - LEFT - RIGHT}" height="{SHARE_HEIGHT}" fill="none" stroke="#bbb"/>')
    out.append(_text(LEFT - 8, SHARE_TOP + 4, "100%", anchor="end", size=10))
    out.append(_text(LEFT - 8, SHARE_TOP + SHARE_HEIGHT, "0%", anchor="end", size=10))
    out.append(_text(LEFT, SHARE_TOP - 6, "Clauses standing pass (share of the framework's clauses)", size=11, weight="bold"))
    for f, framework in enumerate(frameworks):
        colour = FRAMEWORK_COLOURS.get(framework, "#555555")
        points = []
        for i, entry in enumerate(releases):
            standing = next((fw for fw in entry.clauses if fw.framework == framework), None)
            if standing is None:
                continue
            total = sum(standing.counts.values())
            share = sum(n for state, n in standing.counts.items() if state in PASS_STATES) / total if total else 0.0
            points.append((_x(i, count), SHARE_TOP + SHARE_HEIGHT * (1 - share)))
        out += _polyline(points, colour)
        legend_y = SHARE_TOP + 14 + 18 * f
        out.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(WIDTH - RIGHT + 26, legend_y, framework, size=10))
    # Release labels.
    for i, entry in enumerate(releases):
        x = _x(i, count)
        out.append(_text(x, LABELS_TOP, entry.created.strftime("%Y-%m-%d"), anchor="middle", size=10))
        out.append(_text(x, LABELS_TOP + 14, entry.packet_id[:8], anchor="middle", size=9, fill="#666"))
    out.append(f"<desc>{escape(_description(log))}</desc>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _description(log: EvidenceLog) -> str:
    parts = [
        f"{e.created.isoformat()} {e.packet_id}: {e.verdict}, {len(e.failing)} failing, {len(e.waived)} waived, "
        f"{len(e.blocking_vulnerabilities)} blocking" + ("" if e.verified else " (not verified)")
        for e in log.releases
    ]
    return "; ".join(parts)


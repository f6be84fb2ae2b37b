"""The HTML report in a real browser (Debian's headless Chromium): a coverage chip never
breaks inside a control id ("SC-" / "13 PASS") nor between the id and its status, at the
width of a phone and wider. The layout is measured in the page (a script added by the
test reads where each chip's "ID STATUS" run lies) and read back with --dump-dom."""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from compliance.report import ReportContext, render_html
from compliance.runs.gate_run import GateOptions, run_gate
from tests.support.cli import ROOT

EX = ROOT / "examples" / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

# For each chip: the range over its leading "ID<no-break space>STATUS"; its line boxes must
# all lie on one line.
MEASURE = """<script>
(function () {
  var wrapped = [], chips = document.querySelectorAll('.chip');
  chips.forEach(function (chip) {
    var m = chip.textContent.match(/^\\S+\\u00a0\\S+/);
    if (!m) { wrapped.push('unreadable chip: ' + chip.textContent); return; }
    var walker = document.createTreeWalker(chip, NodeFilter.SHOW_TEXT), need = m[0].length, first = null, node;
    var range = document.createRange();
    while ((node = walker.nextNode())) {
      if (first === null) { first = node; range.setStart(node, 0); }
      if (need <= node.length) { range.setEnd(node, need); break; }
      need -= node.length;
    }
    var tops = {};
    Array.prototype.forEach.call(range.getClientRects(), function (r) { if (r.width > 0) tops[Math.round(r.top)] = true; });
    if (Object.keys(tops).length > 1) wrapped.push(m[0].replace('\\u00a0', ' '));
  });
  document.body.setAttribute('data-chips', String(chips.length));
  document.body.setAttribute('data-wrapped', wrapped.join('|'));
})();
</script>"""


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1729814400")
    try:
        run = run_gate(GateOptions(
            profiles=["nis2-important", "anssi-intermediary"], closure=str(EX / "closure.json"), sbom=str(EX / "sbom.cdx.json"),
            facts=str(EX / "facts.json"), flake_lock=str(EX / "flake.lock"), kernel_config=str(EX / "kernel.config"),
            vulns=[str(EX / "grype.json"), str(EX / "vex.openvex.json")], policy=str(EX / "policy.toml"), waivers=str(EX / "waivers.toml"),
        ))
    finally:
        mp.undo()
    html = render_html(run.report, ReportContext(packet_id="00000000-0000-5000-8000-000000000000", catalog=run.catalog)).decode()
    assert "</body>" in html
    page = tmp_path_factory.mktemp("browser") / "report.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"))
    return page


def _dump_dom(page: Path, width: int, profile: Path) -> str:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},2000",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("width", [320, 480, 1024])
def test_no_coverage_chip_wraps_inside_its_id_or_before_its_status(report_html: Path, tmp_path: Path, width: int) -> None:
    dom = _dump_dom(report_html, width, tmp_path / "profile")
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None, dom[:500]
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', body.group(1)))
    assert int(attrs["data-chips"]) > 50  # the example's coverage matrix was laid out and measured
    assert unescape(attrs["data-wrapped"]) == "", f"chips broken at {width}px: {unescape(attrs['data-wrapped'])}"

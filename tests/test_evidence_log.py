"""``compliance evidence log`` (the table and the SVG trend chart), and the report's
"Changes since the previous release" section (``evidence report --previous``, ``gate
--previous``), on releases of the example (examples/web)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema_rs
import pytest

from compliance.models.evidence_history import ControlChangeKind, EvidenceDiff, EvidenceLog
from tests.support import history
from tests.support.cli import one_line_error, run
from tests.support.evidence import PASSWORD, KeyPair, make_key_pair

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
LATER = 1_744_675_200  # 2025-04-15: the example's waiver (until 2025-03-28) has expired


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory, keys: KeyPair) -> dict[str, Path]:
    """A folder of three packets, given out of order: A (the example), B (three changes, same
    day), C (B assessed again months later, when the waiver has expired). ``release`` is the
    folder of B's inputs."""
    base = tmp_path_factory.mktemp("history")
    release = history.copy_example(base / "release")
    folder = base / "packets"
    folder.mkdir()
    a = history.build(release, keys, folder / "3-a")
    history.set_option(release, history.PORT_OPTION, [22, 443, 8080])
    history.upgrade_package(release, *history.UPGRADED)
    history.fix_vulnerability(release, history.FIXED_CVE)
    b = history.build(release, keys, folder / "1-b", include_pdf=True)
    c = history.build(release, keys, folder / "2-c", at=LATER)
    return {"A": a, "B": b, "C": c, "folder": folder, "release": release, "base": base}


def _log(*args: str, keys: KeyPair) -> tuple[int, str, str]:
    result = run("evidence", "log", *args, "--key", str(keys.public))
    return result.code, result.stdout, result.stderr


def test_log_of_a_folder_is_oldest_first_with_verdicts_failing_and_waived(releases: dict[str, Path], keys: KeyPair) -> None:
    code, out, err = _log(str(releases["folder"]), "--format", "json", keys=keys)
    assert code == 0, err
    log = EvidenceLog.model_validate_json(out)
    assert [Path(e.source).name for e in log.releases] in (["3-a", "1-b", "2-c"], ["1-b", "3-a", "2-c"])  # A and B: same day
    last = log.releases[-1]
    assert [e.verdict for e in log.releases[:2]] == ["pass", "pass"] and last.verdict == "fail"
    assert all(e.verified for e in log.releases)
    assert log.releases[0].waived == ["IA-08"] and "IA-08" in last.failing and last.waived == []
    assert {fw.framework for fw in last.clauses} == {"nis2", "anssi"}
    assert all(sum(fw.counts.values()) > 0 for e in log.releases for fw in e.clauses)
    schema = json.loads((ROOT / "evidence" / "evidence-log.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    assert [e.message for e in validator.iter_errors(json.loads(out))] == []


def test_log_table_in_text_and_markdown(releases: dict[str, Path], keys: KeyPair) -> None:
    code, text, _ = _log(str(releases["A"]), str(releases["C"]), keys=keys)
    lines = text.splitlines()
    assert code == 0 and lines[0].split()[:6] == ["created", "packet", "verdict", "failing", "waived", "blocking"]
    assert len(lines) == 3 and " pass " in lines[1] and " fail " in lines[2] and "IA-08" in lines[2]
    code, markdown, _ = _log(str(releases["A"]), str(releases["C"]), "--format", "markdown", keys=keys)
    rows = markdown.splitlines()
    assert code == 0 and rows[0].startswith("| created | packet | verdict |") and rows[1].startswith("|---|") and len(rows) == 4


def test_trend_chart_is_valid_svg_and_reproducible(releases: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    first, second = tmp_path / "trend.svg", tmp_path / "again.svg"
    for path in (first, second):
        code, _, err = _log(str(releases["folder"]), "--svg", str(path), keys=keys)
        assert code == 0, err
    assert first.read_bytes() == second.read_bytes()
    tree = ET.parse(first).getroot()
    assert tree.tag == f"{SVG}svg" and tree.get("viewBox") == "0 0 760 468"
    texts = [t.text for t in tree.iter(f"{SVG}text")]
    assert texts.count("PASS") == 2 and texts.count("FAIL") == 1
    assert {"failing controls", "waived controls", "blocking vulnerabilities", "nis2", "anssi"} <= set(texts)
    assert len(list(tree.iter(f"{SVG}polyline"))) == 3 + 2  # three counts, two frameworks
    assert "2025-04-15T00:00:00+00:00" in (tree.findtext(f"{SVG}desc") or "")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return
    png = tmp_path / "trend.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}", "--window-size=760,468", first.as_uri()],
        capture_output=True, timeout=120, check=False,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_waiver_expired_is_named_and_a_regression(releases: dict[str, Path], keys: KeyPair) -> None:
    result = run("evidence", "diff", str(releases["B"]), str(releases["C"]), "--key", str(keys.public), "--format", "json")
    assert result.code == 1
    diff = EvidenceDiff.model_validate_json(result.stdout)
    ia08 = next(c for c in diff.controls if c.control_id == "IA-08")
    assert (ia08.kind, ia08.old_status, ia08.new_status, ia08.waiver) == (ControlChangeKind.WAIVER_EXPIRED, "waived", "fail", "W-2026-014")
    assert any(line.startswith("control IA-08 (high) waiver expired: waived → fail") for line in diff.regressions)
    assert diff.closure is not None and diff.closure.added == [] and diff.options == []  # the same release, judged later


def test_log_refuses_a_packet_that_does_not_verify(releases: dict[str, Path], tmp_path: Path) -> None:
    other = make_key_pair(tmp_path / "other")
    result = run("evidence", "log", str(releases["A"]), "--key", str(other.public))
    assert result.code == 2 and "does not verify" in one_line_error(result) and result.stdout == ""
    result = run("evidence", "log", str(tmp_path), "--key", str(other.public))
    assert result.code == 2 and "holds no evidence packet" in one_line_error(result)


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_report_with_previous_shows_the_changes_and_is_reproducible(releases: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": str(history.EXAMPLE_TIME)}
    pdfs = [tmp_path / "one.pdf", tmp_path / "two.pdf"]
    for pdf in pdfs:
        result = run("evidence", "report", str(releases["B"]), "--pdf", str(pdf), "--previous", str(releases["A"]),
                     "--key", str(keys.public), env=env)
        assert result.code == 0, result.stderr
    assert pdfs[0].read_bytes() == pdfs[1].read_bytes()
    text = " ".join(_pdf_text(pdfs[0]).split())
    manifest = json.loads((releases["A"] / "manifest.json").read_text())
    assert "Changes since the previous release" in text
    assert f"Compared with packet {manifest['packet_id']}" in text and "Its signature was verified" in text
    assert "No regression" in text and "upgraded curl: 0.5.4 → 0.5.5" in text
    assert "networking.firewall.allowedTCPPorts: [22,443] → [22,443,8080]" in text
    assert f"fixed: {history.FIXED_CVE}" in text
    plain = tmp_path / "plain.pdf"
    assert run("evidence", "report", str(releases["B"]), "--pdf", str(plain), env=env).code == 0
    assert "Changes since the previous release" not in _pdf_text(plain)
    assert plain.read_bytes() == (releases["B"] / "report.pdf").read_bytes()  # without --previous: the packet's own


def test_report_previous_needs_a_key_or_no_verify(releases: dict[str, Path], tmp_path: Path) -> None:
    result = run("evidence", "report", str(releases["B"]), "--pdf", str(tmp_path / "r.pdf"), "--previous", str(releases["A"]))
    assert result.code == 2 and "--key PUB is required" in one_line_error(result) and not (tmp_path / "r.pdf").exists()
    result = run("evidence", "report", str(releases["B"]), "--pdf", str(tmp_path / "r.pdf"), "--key", "x.pub")
    assert result.code == 2 and "give --previous OLD" in one_line_error(result)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_gate_with_previous_puts_the_section_in_the_packet(releases: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    release = releases["release"]
    out = tmp_path / "packet"
    args = ["gate", *(f"--profile={p}" for p in history.PROFILES),
            "--closure", str(release / "closure.json"), "--sbom", str(release / "sbom.cdx.json"),
            "--facts", str(release / "facts.json"), "--flake-lock", str(release / "flake.lock"),
            "--kernel-config", str(release / "kernel.config"), "--vulns", str(release / "grype.json"),
            "--vulns", str(release / "vex.openvex.json"), "--policy", str(release / "policy.toml"),
            "--waivers", str(release / "waivers.toml"), "--key", str(keys.private), "--previous", str(releases["A"])]
    env = {"SOURCE_DATE_EPOCH": str(history.EXAMPLE_TIME), "COSIGN_PASSWORD": PASSWORD}
    result = run(*args, "--evidence", str(out), env=env)
    assert result.code == 0, result.stderr
    text = " ".join(_pdf_text(out / "report.pdf").split())
    assert "Changes since the previous release" in text and "upgraded curl: 0.5.4 → 0.5.5" in text
    again = tmp_path / "again.pdf"
    result = run("evidence", "report", str(out), "--pdf", str(again), "--previous", str(releases["A"]), "--key", str(keys.public), env=env)
    assert result.code == 0, result.stderr
    assert again.read_bytes() == (out / "report.pdf").read_bytes()
    other = make_key_pair(tmp_path / "other")
    refused = run(*args, "--evidence", str(tmp_path / "refused"), "--previous-key", str(other.public), env=env)
    assert refused.code == 2 and "does not verify" in one_line_error(refused) and not (tmp_path / "refused").exists()

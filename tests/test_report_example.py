"""The packet of the bundled example release (examples/web), built as scripts/demo builds it:
its PDF report keeps its layout (nothing off the page or drawn over other text), its
remediation hints set what failed, and the verification commands it prints leave the
packet as it was."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from compliance.evidence.archive import read_archive
from compliance.evidence.commands import verify_commands
from tests.support import pdf as poppler
from tests.support.cli import ROOT, run
from tests.support.evidence import PASSWORD, KeyPair, make_key_pair
from tests.test_report_pdf import _layout_problems

EXAMPLE = "examples/web"
DEMO_EPOCH = "1729814400"  # scripts/demo: the example release was assessed on 2024-10-25


def gate_args(packet: Path, key: Path) -> list[str]:
    """The gate command of scripts/demo, with the packet and key of the test."""
    e = EXAMPLE
    return [
        "gate", "--profile", "nis2-important", "--profile", "anssi-intermediary",
        "--closure", f"{e}/closure.json", "--sbom", f"{e}/sbom.cdx.json", "--facts", f"{e}/facts.json",
        "--flake-lock", f"{e}/flake.lock", "--kernel-config", f"{e}/kernel.config",
        "--vulns", f"{e}/grype.json", "--vulns", f"{e}/vex.openvex.json",
        "--policy", f"{e}/policy.toml", "--waivers", f"{e}/waivers.toml",
        "--format", "text", "--evidence", str(packet), "--key", str(key),
    ]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KeyPair]:
    if not (ROOT / EXAMPLE).is_dir():
        pytest.skip("examples/web is not present")
    directory = tmp_path_factory.mktemp("example")
    keys = make_key_pair(directory / "keys")
    packet = directory / "packet.tar.gz"
    result = run(*gate_args(packet, keys.private), cwd=ROOT, env={"SOURCE_DATE_EPOCH": DEMO_EPOCH, "COSIGN_PASSWORD": PASSWORD})
    assert result.code in (0, 1) and packet.is_file(), result.stderr
    return packet, keys


@pytest.fixture(scope="module")
def example_pdf(example: tuple[Path, KeyPair]) -> Path:
    packet, _ = example
    pdf = packet.parent / "report.pdf"
    pdf.write_bytes(read_archive(packet)["report.pdf"])
    return pdf


def test_the_example_report_stays_inside_its_margins_and_nothing_overlaps(example_pdf: Path) -> None:
    assert _layout_problems(example_pdf) == []


def test_identifiers_are_not_broken_across_lines(example_pdf: Path) -> None:
    text = poppler.text(example_pdf)
    lines = text.splitlines()
    assert any("W-2026-014" in line for line in lines), "the waiver id is split"
    for kind in ("vulnerabilities", "kernel-config", "flake-lock"):
        assert any(re.search(rf"(^|\s){kind}(\s|$)", line) for line in lines), kind


def test_the_example_hints_set_the_sysctls_that_failed(example_pdf: Path) -> None:
    text = poppler.text(example_pdf)
    hinted = set(re.findall(r'boot\.kernel\.sysctl\."([^"]+)" = ', text))
    # HK-01 fails on these three, and the catalog's block names five others that comply
    for key in ("kernel.panic_on_oops", "kernel.perf_cpu_time_max_percent", "kernel.perf_event_max_sample_rate"):
        assert key in hinted
    for compliant in ("kernel.kptr_restrict", "kernel.dmesg_restrict", "fs.suid_dumpable", "kernel.yama.ptrace_scope"):
        assert compliant not in hinted
    # HK-02: its catalog block names rp_filter, which complies; what fails is named instead
    assert "net.ipv4.conf.all.rp_filter" not in hinted
    assert {"net.ipv4.conf.all.arp_ignore", "net.ipv6.conf.default.autoconf"} <= hinted


def printed_commands(packet: Path) -> list[str]:
    """The verification commands as the packet's report.html prints them."""
    html = read_archive(packet)["report.html"].decode()
    listed = re.search(r'<ol class="commands">(.*?)</ol>', html, re.S)
    assert listed is not None
    return [unescape(c) for c in re.findall(r'<pre class="code">(.*?)</pre>', listed.group(1), re.S)]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_following_the_printed_commands_leaves_the_packet_verifiable(example: tuple[Path, KeyPair], tmp_path: Path) -> None:
    """The report's commands in turn, in one shell (cosign and the release's NAR left out:
    neither the tool nor the store path is here): the openssl check passes, and the
    unpacked packet then still verifies, with no extra file."""
    packet, keys = example
    commands = printed_commands(packet)
    assert commands[1:] == verify_commands(commands[-1].split()[2])[1:]  # the last names the store path
    work, scratch_root = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    scratch_root.mkdir()
    shutil.copy(keys.public, work / "cosign.pub")
    shutil.copy(packet, work / "packet.tar.gz")
    runnable = [
        c.replace("PACKET", "packet.tar.gz") for c in commands
        if not c.startswith(("compliance ", "cosign ", "nix-store ")) and (shutil.which("jq") or not c.startswith("jq "))
    ]
    assert any("openssl dgst" in c for c in runnable) and any("tar -xzf" in c for c in runnable)
    script = "set -euo pipefail\n" + "\n".join(runnable) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=work, env={**os.environ, "TMPDIR": str(scratch_root)},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Verified OK" in done.stdout, done.stdout + done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["cosign.pub", "packet", "packet.tar.gz"]
    assert [p.name for p in scratch_root.glob("*/*")] == ["manifest.sig.der"]  # the scratch file went there
    result = run("evidence", "verify", str(work / "packet"), "--key", str(keys.public))
    assert result.code == 0, result.stdout + result.stderr


STATUS_WORDS = {"PASS", "FAIL", "ERROR", "WAIVED", "MANUAL", "NOT"}


def test_a_coverage_chip_keeps_its_control_and_status_on_one_line(example_pdf: Path) -> None:
    """A chip may wrap after its status, never between "HK-04" and "PASS"."""
    chips = split = 0
    for page in poppler.pages(example_pdf):
        for word, following in itertools.pairwise(page.words):
            if re.fullmatch(r"[A-Z]{2}-\d{2}", word.text) and following.text in STATUS_WORDS:
                chips += 1
                split += abs(word.y_min - following.y_min) > 1.0
    assert chips > 50 and split == 0, (chips, split)

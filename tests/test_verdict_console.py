"""Every run says its verdict on standard error, whatever ``-o`` and ``--format`` say: the
README's CI command (every format to a file) prints the verdict, the counts, what blocks,
why and where the outputs went; stdout keeps only the selected format; ``--quiet`` says
nothing, ``--verbose`` says more; colours only on a terminal, ``NO_COLOR`` respected."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.support.cli import ROOT, one_line_error, run
from tests.support.promote import ENV as PROMOTE_ENV
from tests.support.promote import NONCE, Fleet, Spec, fleet, good, lab_policy, place  # noqa: F401

EX = ROOT / "examples" / "web"
ENV = {"SOURCE_DATE_EPOCH": "1729814400", "COLUMNS": "200"}
ANSI = "\x1b["


def _example(*extra: str) -> list[str]:
    return [
        "gate", "--profile", "nis2-important", "--profile", "anssi-intermediary",
        "--closure", str(EX / "closure.json"), "--sbom", str(EX / "sbom.cdx.json"), "--facts", str(EX / "facts.json"),
        "--flake-lock", str(EX / "flake.lock"), "--kernel-config", str(EX / "kernel.config"),
        "--vulns", str(EX / "grype.json"), "--vulns", str(EX / "vex.openvex.json"),
        "--policy", str(EX / "policy.toml"), "--waivers", str(EX / "waivers.toml"), *extra,
    ]


def test_the_readme_ci_command_prints_the_verdict_and_where_the_outputs_went(tmp_path: Path) -> None:
    junit, sarif = tmp_path / "gate.xml", tmp_path / "gate.sarif"
    result = run(*_example("-o", f"junit={junit}", "-o", f"sarif={sarif}"), env=ENV)
    assert result.code == 0, result.stderr
    assert result.stdout == ""  # every format went to a file: stdout holds none
    lines = result.stderr.splitlines()
    assert lines[0] == "compliance gate: PASS · 34 controls: 25 pass, 3 fail, 1 waived, 5 manual"
    assert "PASS: 3 failures and 5 manual reviews below the blocking threshold, 1 result waived; the policy blocks critical and high failures and errors" in lines
    assert f"written: junit → {junit}, sarif → {sarif}" in lines
    assert ANSI not in result.stderr  # not a terminal: no colour codes in a CI log
    assert junit.is_file() and sarif.is_file()


def test_a_failing_gate_lists_what_blocks_it(tmp_path: Path) -> None:
    # Without vulnerability reports, the vulnerability controls cannot decide: errors block.
    result = run("gate", "--profile", "nis2-important", "--closure", str(EX / "closure.json"), "--facts", str(EX / "facts.json"),
                 "--flake-lock", str(EX / "flake.lock"), "-o", f"sarif={tmp_path / 'g.sarif'}", env=ENV)
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("compliance gate: FAIL · 34 controls:")
    assert "FAIL: 4 blocking results; the policy blocks critical and high failures and errors" in result.stderr
    assert "  - IA-08 (high fail): trusted users beyond the allowlist: deploy" in result.stderr.splitlines()
    assert "  - SC-02 (critical error): needs vulnerability reports (--vulns)" in result.stderr.splitlines()


def test_stdout_keeps_only_the_selected_format(tmp_path: Path) -> None:
    result = run(*_example("--format", "json"), env=ENV)
    assert result.code == 0
    assert result.stdout.startswith("{") and "compliance gate:" not in result.stdout
    assert result.stderr.startswith("compliance gate: PASS")


def test_quiet_prints_nothing_and_verbose_more(tmp_path: Path) -> None:
    quiet = run(*_example("-o", f"junit={tmp_path / 'a.xml'}", "--quiet"), env=ENV)
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == ""
    verbose = run(*_example("-o", f"junit={tmp_path / 'b.xml'}", "--verbose"), env=ENV)
    assert verbose.code == 0
    lines = verbose.stderr.splitlines()
    assert "not blocking:" in lines
    assert any(line.startswith("  HK-01 (medium fail): 3 of 16 sysctls off baseline") for line in lines)
    assert "  IA-08 (high waived): waived by W-2026-014 (approver ciso@example.org, expires 2025-03-28T23:59:59Z)" in lines
    assert "inputs:" in lines and f"  policy: {EX / 'policy.toml'}" in lines


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run with standard error on a pseudo-terminal; what it printed there."""
    main, secondary = pty.openpty()
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    full.update({"TERM": "xterm-256color", **ENV, **env})
    proc = subprocess.Popen([sys.executable, "-m", "compliance", *args], stdout=subprocess.DEVNULL, stderr=secondary, env=full)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colours_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    coloured = _on_a_terminal(_example("-o", f"junit={tmp_path / 'a.xml'}"), {})
    assert "compliance gate: " in coloured and ANSI in coloured
    plain = _on_a_terminal(_example("-o", f"junit={tmp_path / 'b.xml'}"), {"NO_COLOR": "1"})
    assert "compliance gate: " in plain and "PASS" in plain
    assert "\x1b[1;32m" not in plain and "\x1b[32m" not in plain  # no colour (a spinner may still move the cursor)


def test_promote_prints_its_verdict_when_the_decision_goes_to_a_file(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    reports = tmp_path / "reports"
    specs = [good("web-1"), Spec("web-2", setuid=True), good("web-3")]
    place(reports, *fleet.reports(*specs), names=[f"{s.host}.dsse.json" for s in specs])
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy(None)))
    decision = tmp_path / "decision.json"
    result = run("promote", "--wave", str(fleet.wave(tmp_path / "wave.json")), "--reports", str(reports), "--nonce", NONCE,
                 "--policy", str(tmp_path / "policy.json"), "-o", f"json={decision}", env={**PROMOTE_ENV, "COLUMNS": "200"})
    assert result.code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("compliance promote: ROLL BACK · wave web@3f2a1c0/1: 3 hosts")
    assert "reasons:" in lines
    assert any(line.startswith("  - rollback web-2 HK-07") for line in lines), lines
    assert f"written: json → {decision}" in lines


def test_probe_prints_what_its_report_holds_on_stderr(tmp_path: Path) -> None:
    made = run("keys", "generate", "--output-key-prefix", str(tmp_path / "host"), env={"COSIGN_PASSWORD": "p"})
    assert made.code == 0, made.stderr
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("image-builder\n")
    out = tmp_path / "offline.json"
    result = run("probe", "--key", str(tmp_path / "host.key"), "--nonce", "wave-nonce-0000001", "--root", str(root), "-o", str(out),
                 env={"COSIGN_PASSWORD": "p", "COLUMNS": "200"})
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("compliance probe: REPORT WRITTEN · image-builder: ")
    assert "failures and errors:" in lines
    items = [line for line in lines if line.startswith("  - ")]
    assert len(items) == 10 and "  … and 12 more (--verbose lists them all)" in lines  # 11 fail + 11 error
    assert all(" fail): " in line for line in items[:1]) or all(" error): " in line for line in items[:1])
    assert f"written: signed report → {out}" in lines
    quiet = run("probe", "--key", str(tmp_path / "host.key"), "--nonce", "wave-nonce-0000001", "--root", str(root), "-o", str(out), "-q",
                env={"COSIGN_PASSWORD": "p"})
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_text_wraps_long_messages_to_the_width_instead_of_cutting_them(tmp_path: Path) -> None:
    result = run(*_example("--format", "text", "-q"), env={**ENV, "COLUMNS": "80"})
    assert result.code == 0
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("STATUS")) : next(i for i, line in enumerate(lines) if line.startswith("34 controls"))]
    assert all(len(line) <= 80 for line in table), [line for line in table if len(line) > 80]
    start = next(i for i, line in enumerate(lines) if line.startswith("FAIL") and "HK-02" in line)
    message = " ".join(line.strip() for line in lines[start + 1 : start + 40] if line.startswith(" " * 32) and not line.startswith(" " * 33))
    # The whole message: every sysctl off baseline is named, the last one too.
    assert message.startswith("24 of 38 sysctls off baseline: net.ipv4.conf.all.accept_local is not set")
    assert message.count(" is not set") + message.count(" is ") >= 24


def test_a_repeated_host_is_a_usage_error_not_a_silent_drop(tmp_path: Path) -> None:
    result = run("probe", "--key", str(tmp_path / "k.key"), "--nonce", "n", "-o", str(tmp_path / "r.json"),
                 "--host", "ssh://root@a.example", "--host", "ssh://root@b.example")
    assert result.code == 2
    assert one_line_error(result) == ("compliance: --host given 2 times (ssh://root@a.example, ssh://root@b.example): "
                                      "a probe run probes one host; "
                                      "give an --inventory to probe many")
    assert not (tmp_path / "r.json").exists()


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    on_tty = _on_a_terminal(_example("-o", f"junit={tmp_path / 'a.xml'}"), {})
    assert f"reading the SBOM {EX / 'sbom.cdx.json'}" in on_tty
    logged = run(*_example("-o", f"junit={tmp_path / 'b.xml'}"), env=ENV)
    assert "reading the SBOM" not in logged.stderr and "\r" not in logged.stderr

"""``compliance probe diff A B``: the drift of one host between two signed probe reports
(real ``compliance probe`` runs over an offline root), with the evidence diff's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.models.evidence_history import ControlChangeKind, EvidenceDiff
from tests.support.cli import one_line_error, run

ENV = {"COSIGN_PASSWORD": "drift-test"}
T1, T2 = 1_793_491_200, 1_793_494_800  # an hour apart


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    result = run("keys", "generate", "--output-key-prefix", str(folder / "host"), env=ENV)
    assert result.code == 0, result.stderr
    return folder / "host.key", folder / "host.pub"


def _root(path: Path, host: str, machine_id: str) -> Path:
    etc = path / "etc"
    etc.mkdir(parents=True)
    (etc / "hostname").write_text(host + "\n")
    (etc / "machine-id").write_text(machine_id + "\n")
    (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/var/empty:/sbin/nologin\n")
    (etc / "passwd").chmod(0o644)
    return path


def _probe(keys: tuple[Path, Path], root: Path, out: Path, at: int) -> Path:
    result = run("probe", "--root", str(root), "--key", str(keys[0]), "--nonce", f"wave-nonce-{at}", "-o", str(out),
                 env={**ENV, "SOURCE_DATE_EPOCH": str(at)})
    assert result.code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, keys: tuple[Path, Path]) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("drift")
    root = _root(base / "root", "web-1", "0123456789abcdef0123456789abcdef")
    out = {"first": _probe(keys, root, base / "first.json", T1), "same": _probe(keys, root, base / "same.json", T2)}
    tool = root / "usr" / "local" / "bin" / "rootme"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o4755)
    out["setuid"] = _probe(keys, root, base / "setuid.json", T2)
    other = _root(base / "other", "web-2", "fedcba9876543210fedcba9876543210")
    out["other"] = _probe(keys, other, base / "other.json", T2)
    return out


def _diff(reports: dict[str, Path], a: str, b: str, *extra: str) -> tuple[int, str, str]:
    result = run("probe", "diff", str(reports[a]), str(reports[b]), *extra)
    return result.code, result.stdout, result.stderr


def test_two_waves_of_an_unchanged_host_give_no_drift(reports: dict[str, Path], keys: tuple[Path, Path]) -> None:
    code, out, err = _diff(reports, "first", "same", "--key", str(keys[1]), "--format", "json")
    assert code == 0, err
    diff = EvidenceDiff.model_validate_json(out)
    assert diff.kind.value == "probe-report" and diff.empty and diff.closure is None
    assert diff.old.verified and diff.new.verified and diff.old.id != diff.new.id


def test_a_setuid_file_appearing_is_drift_and_a_regression(reports: dict[str, Path], keys: tuple[Path, Path]) -> None:
    code, out, _ = _diff(reports, "first", "setuid", "--key", str(keys[1]), "--format", "json")
    assert code == 1
    diff = EvidenceDiff.model_validate_json(out)
    hk07 = [c for c in diff.controls if c.control_id == "HK-07"]
    assert [(c.kind, c.old_status, c.new_status) for c in hk07] == [(ControlChangeKind.NEWLY_FAILING, "pass", "fail")]
    assert "/usr/local/bin/rootme" in hk07[0].message
    assert diff.regressions and diff.regressions[0].startswith("control HK-07")
    assert any(o.kind == "find-special" and o.old_sha256 != o.new_sha256 for o in diff.observations)
    assert any(c.control_id == "HK-07" and "/usr/local/bin/rootme" in str(c.new) for c in diff.observed)
    code, text, _ = _diff(reports, "first", "setuid", "--key", str(keys[1]))
    assert code == 1 and "newly failing: HK-07" in text and "Host observations:" in text


def test_reports_of_two_hosts_are_refused(reports: dict[str, Path], keys: tuple[Path, Path]) -> None:
    result = run("probe", "diff", str(reports["first"]), str(reports["other"]), "--key", str(keys[1]))
    assert result.code == 2 and "another host" in one_line_error(result) and str(reports["other"]) in result.stderr


def test_a_report_that_does_not_verify_is_refused(reports: dict[str, Path], tmp_path: Path) -> None:
    result = run("keys", "generate", "--output-key-prefix", str(tmp_path / "stranger"), env=ENV)
    assert result.code == 0
    result = run("probe", "diff", str(reports["first"]), str(reports["same"]), "--key", str(tmp_path / "stranger.pub"))
    assert result.code == 2 and "refused" in one_line_error(result) and str(reports["first"]) in result.stderr


def test_no_verify_is_loud(reports: dict[str, Path]) -> None:
    code, out, err = _diff(reports, "first", "setuid", "--no-verify")
    assert code == 1 and "WARNING: --no-verify" in err and "NOT VERIFIED" in out

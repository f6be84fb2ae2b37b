"""``compliance evidence diff``: two packets of the example release (examples/web), the second
with one NixOS option changed, one package upgraded and one vulnerability fixed.

The diff names exactly those three changes (and what follows from them: the observed
values of the controls that read them, the store paths of the upgraded package), exits 0
when none is a regression and 1 when one is; a packet that does not verify is refused."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import jsonschema_rs
import pytest

from compliance.evidence.packet import open_packet
from compliance.evidence.packet_diff import diff_snapshots, packet_snapshot
from compliance.models.evidence_history import (
    ControlChangeKind,
    EvidenceDiff,
    PackageChangeKind,
    VulnChangeKind,
)
from tests.support import history
from tests.support.cli import one_line_error, run
from tests.support.evidence import KeyPair, make_key_pair

ROOT = Path(__file__).resolve().parents[1]
OPEN_PORTS = [22, 443, 8080]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def packets(tmp_path_factory: pytest.TempPathFactory, keys: KeyPair) -> dict[str, Path]:
    """A: the example; B: A with a port opened, curl upgraded, a zlib finding fixed;
    R: the same three changes, but the option permits root login over SSH (a regression).
    All are built from the same folder, so the file names they record are the same."""
    base = tmp_path_factory.mktemp("packets")
    release = history.copy_example(base / "release")
    pristine = history.copy_example(base / "pristine")
    out = {"A": history.build(release, keys, base / "A")}

    def three_changes(option: list[str], value: object) -> None:
        history.set_option(release, option, value)
        history.upgrade_package(release, *history.UPGRADED)
        history.fix_vulnerability(release, history.FIXED_CVE)

    three_changes(history.PORT_OPTION, OPEN_PORTS)
    out["B"] = history.build(release, keys, base / "B")
    for name in history.FILES:
        shutil.copyfile(pristine / name, release / name)
    three_changes(["services", "openssh", "settings", "PermitRootLogin"], "yes")
    out["R"] = history.build(release, keys, base / "R")
    return out


def _diff(old: Path, new: Path, *extra: str, key: KeyPair | None = None) -> tuple[int, str, str]:
    args = ["evidence", "diff", str(old), str(new), *extra]
    if key is not None:
        args += ["--key", str(key.public)]
    result = run(*args)
    return result.code, result.stdout, result.stderr


def _json_diff(old: Path, new: Path, keys: KeyPair) -> tuple[int, EvidenceDiff]:
    code, out, err = _diff(old, new, "--format", "json", key=keys)
    assert code in (0, 1), err
    return code, EvidenceDiff.model_validate_json(out)


def _assert_the_three_changes(diff: EvidenceDiff, option: str, old: object, new: object) -> None:
    # 1. the option
    assert [(c.option, c.old, c.new) for c in diff.options] == [(option, old, new)]
    # 2. the package: curl 0.5.4 → 0.5.5, its one store path replaced, nothing else in the closure
    closure = diff.closure
    assert closure is not None and closure.compared
    name, before, after = history.UPGRADED
    assert [(p.name, p.kind, p.old_versions, p.new_versions) for p in closure.packages] == [
        (name, PackageChangeKind.UPGRADED, [before], [after])
    ]
    assert [Path(p).name.split("-", 1)[1] for p in closure.added] == [f"{name}-{after}"]
    assert [Path(p).name.split("-", 1)[1] for p in closure.removed] == [f"{name}-{before}"]
    assert closure.kernel is None and closure.old_paths == closure.new_paths
    # 3. the vulnerability: the zlib finding is fixed, no other finding changed
    assert [(v.id, v.kind, v.old_verdict, v.new_verdict, v.blocking) for v in diff.vulnerabilities] == [
        (history.FIXED_CVE, VulnChangeKind.FIXED, "below_threshold", None, False)
    ]
    assert "zlib" in diff.vulnerabilities[0].component
    assert diff.params == []


def test_three_changes_none_a_regression(packets: dict[str, Path], keys: KeyPair) -> None:
    code, diff = _json_diff(packets["A"], packets["B"], keys)
    assert code == 0 and not diff.regression and diff.regressions == []
    _assert_the_three_changes(diff, "networking.firewall.allowedTCPPorts", [22, 443], OPEN_PORTS)
    assert diff.controls == [] and diff.clauses == [] and diff.identity == []  # same verdict, profiles, policy, catalog
    # The observed values that changed are those of the checks reading the option and the scan.
    assert {(c.control_id, c.check) for c in diff.observed} == {("NW-01", "firewall_enabled"), ("SC-02", "known_vulnerabilities")}
    ports = next(c for c in diff.observed if c.control_id == "NW-01")
    assert (ports.path, ports.old, ports.new) == (["tcp_ports"], [22, 443], OPEN_PORTS)
    assert diff.old.verified and diff.new.verified


def test_three_changes_with_a_regression_exit_1_and_name_it(packets: dict[str, Path], keys: KeyPair) -> None:
    code, diff = _json_diff(packets["A"], packets["R"], keys)
    assert code == 1 and diff.regression
    assert [(c.name, c.old, c.new) for c in diff.identity] == [("verdict", "pass", "fail")]
    _assert_the_three_changes(diff, "services.openssh.settings.PermitRootLogin", "no", "yes")
    assert [(c.control_id, c.kind, c.old_status, c.new_status) for c in diff.controls] == [
        ("IA-10", ControlChangeKind.NEWLY_FAILING, "pass", "fail")
    ]
    assert len(diff.regressions) == 1 and diff.regressions[0].startswith("control IA-10 (high) newly failing: pass → fail")
    # The clauses IA-10 supports now stand failed (a supporting control failed); before, a
    # static gate could not satisfy them (their full evidence is a runtime probe) or a waiver held.
    assert [(c.framework, c.clause, c.old, c.new) for c in diff.clauses] == [
        ("anssi", "R33", "needs-runtime-evidence", "failed"),
        ("nis2", "Art.21(2)(i)", "needs-runtime-evidence", "failed"),
        ("nis2", "CIR 11.3", "waived", "failed"),
    ]


def test_text_and_markdown_name_the_changes(packets: dict[str, Path], keys: KeyPair) -> None:
    code, text, _ = _diff(packets["A"], packets["R"], key=keys)
    assert code == 1
    assert "newly failing: IA-10 (high) pass → fail" in text
    assert 'services.openssh.settings.PermitRootLogin: "no" → "yes"' in text
    assert "upgraded curl: 0.5.4 → 0.5.5" in text
    assert f"fixed: {history.FIXED_CVE}" in text
    assert text.rstrip().splitlines()[-2] == "REGRESSION: 1"
    code, markdown, _ = _diff(packets["A"], packets["B"], "--format", "markdown", key=keys)
    assert code == 0
    assert markdown.startswith("### Evidence diff: changed, no regression\n")
    assert "- upgraded curl: 0.5.4 → 0.5.5" in markdown and "<details><summary>Closure" in markdown


def test_identical_packets_give_an_empty_diff(packets: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    tarball = tmp_path / "A.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for path in sorted(packets["A"].rglob("*")):
            tar.add(path, arcname=str(path.relative_to(packets["A"])), recursive=False)
    code, diff = _json_diff(packets["A"], tarball, keys)
    assert code == 0 and diff.empty and diff.notes == []
    code, text, _ = _diff(packets["A"], packets["A"], key=keys)
    assert code == 0 and text.rstrip().endswith("NO CHANGE")


def test_json_validates_against_the_published_schema(packets: dict[str, Path], keys: KeyPair) -> None:
    schema = json.loads((ROOT / "evidence" / "evidence-diff.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    code, out, _ = _diff(packets["A"], packets["R"], "--format", "json", key=keys)
    assert code == 1
    document = json.loads(out)
    assert [e.message for e in validator.iter_errors(document)] == []
    assert not validator.is_valid({**document, "unexpected": True})


def test_a_packet_that_does_not_verify_is_refused(packets: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(packets["B"], tampered)
    results = tampered / "results.json"
    results.write_bytes(results.read_bytes().replace(b'"pass"', b'"PASS"', 1))
    result = run("evidence", "diff", str(packets["A"]), str(tampered), "--key", str(keys.public))
    assert result.code == 2 and result.stdout == ""
    line = one_line_error(result)
    assert str(tampered) in line and "does not verify" in line and "refused" in line
    assert "files, agreement failed (results.json: sha256" in line
    other = make_key_pair(tmp_path / "other")
    result = run("evidence", "diff", str(packets["A"]), str(packets["B"]), "--key", str(other.public))
    assert result.code == 2 and str(packets["A"]) in one_line_error(result) and "manifest-signature" in result.stderr


def test_no_verify_compares_and_says_so_loudly(packets: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = _diff(packets["A"], packets["R"], "--no-verify")
    assert code == 1
    assert "WARNING: --no-verify" in err and "NOT checked" in err
    assert "signatures: NOT VERIFIED (old and new: --no-verify)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--key PUB is required"),
        (["--key", "{pub}", "--no-verify"], "either --key or --no-verify"),
        (["--key", "{tmp}/absent.pub"], "absent.pub"),
    ],
)
def test_usage_errors_are_one_line_exit_2(packets: dict[str, Path], keys: KeyPair, tmp_path: Path, args: list[str], message: str) -> None:
    filled = [a.format(pub=keys.public, tmp=tmp_path) for a in args]
    result = run("evidence", "diff", str(packets["A"]), str(packets["B"]), *filled)
    assert result.code == 2 and message in one_line_error(result)


def test_damaged_or_absent_packets_are_exit_2(packets: dict[str, Path], keys: KeyPair, tmp_path: Path) -> None:
    result = run("evidence", "diff", str(packets["A"]), str(tmp_path / "absent"), "--key", str(keys.public))
    assert result.code == 2 and "no such packet" in one_line_error(result)
    damaged = tmp_path / "damaged"
    shutil.copytree(packets["A"], damaged)
    closure = next((damaged / "inputs").glob("closure-*"))
    closure.write_bytes(closure.read_bytes() + b" ")
    result = run("evidence", "diff", str(packets["A"]), str(damaged), "--no-verify")  # unverified, still checked against its manifest
    warning, error = result.stderr.splitlines()
    assert result.code == 2 and result.stdout == "" and "WARNING: --no-verify" in warning
    assert error.startswith(f"compliance: {damaged}: inputs/closure-") and "does not match its digest" in error


def test_library_diff_of_a_packet_with_itself_is_empty(packets: dict[str, Path]) -> None:
    packet = open_packet(packets["R"])
    snap = packet_snapshot(packet, verified=False, catalog=None)
    assert diff_snapshots(snap, snap).empty

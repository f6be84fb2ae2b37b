"""The evidence diff, case by case on hand-made snapshots: each kind of change alone, and
what the diff says when a side cannot tell (truncated lists, a closure kept by digest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from compliance.errors import InputError
from compliance.evidence.packet_diff import (
    Package,
    Snapshot,
    VulnState,
    diff_snapshots,
    release_snapshot,
    same_host,
)
from compliance.models.common import Severity, Status
from compliance.models.control import CheckKind
from compliance.models.evidence_history import (
    ControlChangeKind,
    DiffKind,
    EvidenceRef,
    PackageChangeKind,
    VulnChangeKind,
)
from compliance.models.results import (
    Assessment,
    CheckResult,
    ControlResult,
    Counts,
    Decision,
    GateReport,
    SubjectRef,
    WaiverApplied,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
REF = EvidenceRef(source="s", id="i", created=NOW, verified=True)


def control(cid: str = "C-01", status: Status = Status.PASS, *, observed: dict[str, Any] | None = None,
            waiver: str | None = None, notes: list[str] | None = None, function: str = "check") -> ControlResult:
    applied = None
    if waiver is not None:
        applied = WaiverApplied(id=waiver, reason="r", approver="a", risk="low", expires=NOW, covered_status=Status.FAIL)
    return ControlResult(
        control_id=cid, title="t", severity=Severity.HIGH, status=status, message=f"{cid} {status.value}",
        checks=[CheckResult(kind=CheckKind.STATIC, function=function, status=status, message="", observed=observed or {})],
        waiver=applied, notes=notes or [],
    )


def snapshot(*results: ControlResult, **fields: Any) -> Snapshot:
    assessment = Assessment(id="a", created=NOW, tool="t", tool_version="1", mode=CheckKind.STATIC, subject=SubjectRef(),
                            profiles=[], frameworks=[], catalog_digest="c", results=list(results))
    return Snapshot(kind=fields.pop("kind", DiffKind.PACKET), ref=REF, assessment=assessment, **fields)


@pytest.mark.parametrize(
    ("old", "new", "kind", "regression"),
    [
        (control(), control(status=Status.FAIL), ControlChangeKind.NEWLY_FAILING, True),
        (control(), control(status=Status.ERROR), ControlChangeKind.NEWLY_FAILING, True),
        (control(status=Status.FAIL), control(), ControlChangeKind.FIXED, False),
        (control(status=Status.ERROR), control(status=Status.NOT_APPLICABLE), ControlChangeKind.FIXED, False),
        (control(status=Status.FAIL), control(status=Status.WAIVED, waiver="W-1"), ControlChangeKind.NEWLY_WAIVED, False),
        (control(status=Status.WAIVED, waiver="W-1"), control(status=Status.WAIVED, waiver="W-2"), ControlChangeKind.NEWLY_WAIVED, False),
        (control(status=Status.WAIVED, waiver="W-1"), control(status=Status.FAIL, notes=["waiver W-1 expired on 2026-10-01"]),
         ControlChangeKind.WAIVER_EXPIRED, True),
        (control(status=Status.WAIVED, waiver="W-1"), control(status=Status.FAIL), ControlChangeKind.WAIVER_REMOVED, True),
        (control(status=Status.WAIVED, waiver="W-1"), control(), ControlChangeKind.WAIVER_REMOVED, False),
        (control(), control(status=Status.MANUAL), ControlChangeKind.STATUS_CHANGED, False),
        (control(status=Status.FAIL), control(status=Status.ERROR), ControlChangeKind.STATUS_CHANGED, False),
    ],
)
def test_each_kind_of_control_change(old: ControlResult, new: ControlResult, kind: ControlChangeKind, regression: bool) -> None:
    diff = diff_snapshots(snapshot(old), snapshot(new))
    assert [(c.control_id, c.kind, c.old_status, c.new_status) for c in diff.controls] == [("C-01", kind, old.status, new.status)]
    assert diff.regression is regression and len(diff.regressions) == int(regression)
    if kind in (ControlChangeKind.WAIVER_EXPIRED, ControlChangeKind.WAIVER_REMOVED):
        assert diff.controls[0].waiver == "W-1"


def test_controls_added_and_removed() -> None:
    diff = diff_snapshots(snapshot(control("C-01")), snapshot(control("C-02"), control("C-03", Status.FAIL)))
    assert [(c.control_id, c.kind) for c in diff.controls] == [
        ("C-01", ControlChangeKind.REMOVED), ("C-02", ControlChangeKind.ADDED), ("C-03", ControlChangeKind.NEWLY_FAILING),
    ]
    assert diff.regressions == ["control C-03 (high) newly failing: not assessed → fail: C-03 fail"]


def test_observed_values_by_key_and_json_type() -> None:
    old = control(observed={"values": {"kernel.kptr_restrict": 2, "fs.suid_dumpable": 0}, "enabled": True, "ports": [22]})
    new = control(observed={"values": {"kernel.kptr_restrict": 1, "fs.suid_dumpable": 0}, "enabled": 1, "ports": [22, 80]})
    diff = diff_snapshots(snapshot(old), snapshot(new))
    assert [(c.path, c.old, c.new) for c in diff.observed] == [
        (["enabled"], True, 1),  # the same to Python, not in the document
        (["ports"], [22], [22, 80]),
        (["values", "kernel.kptr_restrict"], 2, 1),
    ]
    assert diff.controls == [] and not diff.regression


def test_observed_keys_appearing_and_records_in_lists() -> None:
    old = control(observed={"reports": [{"findings": 2, "source": "a"}]})
    new = control(observed={"reports": [{"findings": 1, "source": "a"}], "extra": None})
    diff = diff_snapshots(snapshot(old), snapshot(new))
    assert [(c.path, c.old, c.new, c.absent_before) for c in diff.observed] == [
        (["extra"], None, None, True), (["reports", "0", "findings"], 2, 1, False),
    ]


def _closure(*names: str) -> dict[str, Package]:
    out = {}
    for i, full in enumerate(names):
        name, _, version = full.rpartition("-")
        out[f"/nix/store/{i:032d}-{full}"] = Package(name, version)
    return out


def test_packages_upgraded_downgraded_added_removed_and_the_kernel() -> None:
    old = _closure("curl-8.9", "zlib-1.3.1", "linux-6.6.50", "bash-5.2", "gone-1.0")
    new = _closure("curl-8.10", "zlib-1.3", "linux-6.6.58", "bash-5.2", "fresh-2.0")
    diff = diff_snapshots(snapshot(closure=old), snapshot(closure=new))
    assert diff.closure is not None
    assert [(p.name, p.kind, p.old_versions, p.new_versions) for p in diff.closure.packages] == [
        ("curl", PackageChangeKind.UPGRADED, ["8.9"], ["8.10"]),
        ("fresh", PackageChangeKind.ADDED, [], ["2.0"]),
        ("gone", PackageChangeKind.REMOVED, ["1.0"], []),
        ("linux", PackageChangeKind.UPGRADED, ["6.6.50"], ["6.6.58"]),
        ("zlib", PackageChangeKind.DOWNGRADED, ["1.3.1"], ["1.3"]),
    ]
    assert diff.closure.kernel is not None and (diff.closure.kernel.old, diff.closure.kernel.new) == ("6.6.50", "6.6.58")
    assert len(diff.closure.added) == len(diff.closure.removed) == 4  # bash kept its path (same index, same name)


def test_a_closure_kept_by_digest_only_is_said_not_guessed() -> None:
    diff = diff_snapshots(snapshot(closure=_closure("curl-8.9")), snapshot(closure=None))
    assert diff.closure is not None and not diff.closure.compared and diff.closure.added == []
    assert diff.notes == ["only one side keeps a copy of its closure: the closures are not compared"]


def test_vulnerability_changes_and_new_blocking_is_a_regression() -> None:
    old = {("CVE-1", "curl"): VulnState("below_threshold"), ("CVE-2", "zlib"): VulnState("blocking"),
           ("CVE-3", "ssl"): VulnState("blocking"), ("CVE-4", "ssl"): VulnState("below_threshold")}
    new = {("CVE-1", "curl"): VulnState("blocking"), ("CVE-3", "ssl"): VulnState("suppressed_by_vex"),
           ("CVE-4", "ssl"): VulnState("below_threshold"), ("CVE-5", "bash"): VulnState("blocking")}
    diff = diff_snapshots(snapshot(vulns=old), snapshot(vulns=new))
    assert [(v.id, v.kind, v.blocking) for v in diff.vulnerabilities] == [
        ("CVE-1", VulnChangeKind.VERDICT_CHANGED, True),
        ("CVE-2", VulnChangeKind.FIXED, False),
        ("CVE-3", VulnChangeKind.NEWLY_SUPPRESSED_BY_VEX, False),
        ("CVE-5", VulnChangeKind.NEW, True),
    ]
    assert diff.regressions == [
        "vulnerability CVE-1 in curl newly blocks the release (below_threshold → blocking)",
        "vulnerability CVE-5 in bash newly blocks the release (not reported → blocking)",
    ]


def _vuln_report(observed: dict[str, Any]) -> GateReport:
    result = control("SC-02", observed=observed, function="known_vulnerabilities")
    assessment = Assessment(id="a", created=NOW, tool="t", tool_version="1", mode=CheckKind.STATIC, subject=SubjectRef(),
                            profiles=[], frameworks=[], catalog_digest="c", results=[result])
    return GateReport(assessment=assessment, decision=Decision(passed=True, verdict="pass", policy_digest="p", counts=Counts()))


def test_a_vulnerability_list_the_results_cut_is_noted() -> None:
    listed = [{"id": f"CVE-{i}", "component": "c", "severity": "high", "cvss": 9.0} for i in range(2)]
    report = _vuln_report({"blocking": listed, "counts": {"blocking": 5}})
    snap = release_snapshot(report, [], REF, catalog=None)
    assert snap.vulns == {(f"CVE-{i}", "c"): VulnState("blocking", "high", 9.0) for i in range(2)}
    assert snap.notes == ["s: the results list 2 of 5 findings judged blocking; the others are compared without their verdict"]


def test_options_changed_added_removed() -> None:
    diff = diff_snapshots(snapshot(options={"a.b": 1, "c": "x"}), snapshot(options={"a.b": 2, "d": []}))
    assert [(o.option, o.old, o.new, o.absent_before, o.absent_after) for o in diff.options] == [
        ("a.b", 1, 2, False, False), ("c", "x", None, False, True), ("d", None, [], True, False),
    ]
    one_sided = diff_snapshots(snapshot(options={"a": 1}), snapshot(options=None))
    assert one_sided.options == [] and "only one side has NixOS configuration facts" in one_sided.notes[0]


def test_clause_standing_changes() -> None:
    diff = diff_snapshots(snapshot(standing={"nis2": {"A": "pass", "B": "fail"}}), snapshot(standing={"nis2": {"A": "fail", "C": "pass"}}))
    assert [(c.clause, c.old, c.new) for c in diff.clauses] == [("A", "pass", "fail"), ("B", "fail", None), ("C", None, "pass")]
    assert not diff.regression  # a clause standing worse is reported; the regression is the control behind it


def test_drift_needs_one_host() -> None:
    a = snapshot(kind=DiffKind.PROBE, host={"host.machine_id": "m1", "host.name": "web-1"})
    b = snapshot(kind=DiffKind.PROBE, host={"host.machine_id": "m2", "host.name": "web-1"})
    with pytest.raises(InputError, match="another host"):
        same_host(a, b)
    nameless = snapshot(kind=DiffKind.PROBE, host={"host.machine_id": None, "host.name": None})
    with pytest.raises(InputError, match="neither report names its host"):
        same_host(nameless, nameless)
    same_host(a, a)
    rebooted = snapshot(kind=DiffKind.PROBE, host={"host.machine_id": "m1", "host.name": "web-1", "host.boot_id": "b2"})
    diff = diff_snapshots(a, rebooted)
    assert [(c.name, c.old, c.new) for c in diff.identity] == [("host.boot_id", None, "b2")]

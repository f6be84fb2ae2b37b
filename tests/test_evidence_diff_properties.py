"""Properties of the evidence diff, on snapshots built directly from the models (no packet):
a snapshot compared with itself gives an empty diff, and every change made to a copy is
named by the diff, in its section, with nothing else."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.evidence.packet_diff import (
    FAILING,
    Package,
    Snapshot,
    VulnState,
    compare_versions,
    diff_snapshots,
)
from compliance.models.common import Severity, Status
from compliance.models.control import CheckKind
from compliance.models.evidence_history import (
    DiffKind,
    EvidenceRef,
    PackageChangeKind,
    VulnChangeKind,
)
from compliance.models.results import Assessment, CheckResult, ControlResult, SubjectRef

NOW = datetime(2026, 11, 1, tzinfo=UTC)
VERDICTS = ["blocking", "suppressed_by_vex", "excepted", "not_in_release", "below_threshold"]
STANDINGS = ["pass", "fail", "error", "manual", "waived", "attested", "not_covered"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text("xyz", min_size=1, max_size=2), inner, max_size=3)), max_leaves=6)


@st.composite
def controls(draw: st.DrawFn) -> list[ControlResult]:
    ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=8, unique=True))
    out = []
    for n in sorted(ids):
        status = draw(st.sampled_from(list(Status)))
        observed = draw(st.dictionaries(st.text("klm", min_size=1, max_size=2), json_values, max_size=3))
        params = draw(st.dictionaries(st.text("pq", min_size=1, max_size=2), scalars, max_size=2))
        out.append(
            ControlResult(
                control_id=f"C-{n:02d}", title=f"control {n}", severity=draw(st.sampled_from(list(Severity))), status=status,
                message=f"m{n}", checks=[CheckResult(kind=CheckKind.STATIC, function="check", status=status, message="", observed=observed)],
                params=params, param_sources={k: "default" for k in params},
            )
        )
    return out


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    results = draw(controls())
    names = draw(st.lists(st.sampled_from(["curl", "zlib", "linux", "openssl", "bash", "sqlite"]), min_size=1, max_size=6, unique=True))
    closure: dict[str, Package] = {}
    for i, name in enumerate(names):
        version = f"{draw(st.integers(0, 9))}.{draw(st.integers(0, 9))}"
        closure[f"/nix/store/{i:032d}-{name}-{version}"] = Package(name, version)
    options = draw(st.dictionaries(st.sampled_from(["a.b", "a.c", "d", "e.f.g"]), scalars, max_size=4))
    vulns = {
        (f"CVE-{i}", comp): VulnState(draw(st.sampled_from(VERDICTS)))
        for i, comp in enumerate(draw(st.lists(st.sampled_from(["pkg:nix/curl@1", "pkg:nix/zlib@2"]), max_size=3)))
    }
    standing = {"nis2": {f"CIR {i}": draw(st.sampled_from(STANDINGS)) for i in range(draw(st.integers(0, 4)))}}
    assessment = Assessment(
        id="a", created=NOW, tool="compliance-gate", tool_version="1", mode=CheckKind.STATIC, subject=SubjectRef(),
        profiles=["p"], frameworks=[], catalog_digest="c", results=results,
    )
    ref = EvidenceRef(source="s", id="i", created=NOW, verified=True)
    return Snapshot(kind=DiffKind.PACKET, ref=ref, assessment=assessment, policy_digest="d", standing=standing,
                    closure=closure, options=options, vulns=vulns)


def _copy(snap: Snapshot) -> Snapshot:
    return Snapshot(
        kind=snap.kind, ref=snap.ref, assessment=snap.assessment, policy_digest=snap.policy_digest,
        standing=copy.deepcopy(snap.standing), closure=dict(snap.closure or {}), options=dict(snap.options or {}),
        vulns=dict(snap.vulns or {}),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_a_snapshot_compared_with_itself_is_empty(snap: Snapshot) -> None:
    diff = diff_snapshots(snap, _copy(snap))
    assert diff.empty and not diff.regression and diff.regressions == [] and diff.notes == []


MUTATIONS = ["status", "observed", "param", "option", "package_added", "package_removed", "package_upgraded",
             "vuln_new", "vuln_fixed", "vuln_verdict", "clause", "control_added"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(), st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=len(MUTATIONS), unique=True), st.data())
def test_every_change_made_to_b_is_named(a: Snapshot, mutations: list[str], data: st.DataObject) -> None:
    b = _copy(a)
    results = {r.control_id: r for r in a.assessment.results}
    expected: dict[str, set[Any]] = {k: set() for k in ("controls", "observed", "params", "options", "added", "removed", "packages", "vulns", "clauses")}
    regression = False
    touched_controls: set[str] = set()

    def pick_control() -> str | None:
        free = sorted(set(results) - touched_controls)
        if not free:
            return None
        cid = data.draw(st.sampled_from(free))
        touched_controls.add(cid)
        return cid

    for mutation in mutations:
        if mutation == "status" and (cid := pick_control()) is not None:
            old = results[cid]
            new_status = data.draw(st.sampled_from([s for s in Status if s is not old.status]))
            results[cid] = old.model_copy(update={"status": new_status})
            expected["controls"].add((cid, old.status, new_status))
            regression |= new_status in FAILING and old.status not in FAILING
        elif mutation == "observed" and (cid := pick_control()) is not None:
            old = results[cid]
            check = old.checks[0].model_copy(update={"observed": {**old.checks[0].observed, "changed": "x-new"}})
            results[cid] = old.model_copy(update={"checks": [check]})
            expected["observed"].add((cid, ("changed",)))
        elif mutation == "param" and (cid := pick_control()) is not None:
            old = results[cid]
            results[cid] = old.model_copy(update={"params": {**old.params, "changed": 999}, "param_sources": {**old.param_sources, "changed": "profile-x"}})
            expected["params"].add((cid, "changed"))
        elif mutation == "control_added":
            cid = "Z-99"
            touched_controls.add(cid)
            status = data.draw(st.sampled_from(list(Status)))
            results[cid] = ControlResult(control_id=cid, title="new", severity=Severity.HIGH, status=status, message="m")
            expected["controls"].add((cid, None, status))
            regression |= status in FAILING
        elif mutation == "option":
            assert b.options is not None
            b.options["changed.option"] = "x-new"
            expected["options"].add("changed.option")
        elif mutation == "package_added":
            assert b.closure is not None
            b.closure["/nix/store/" + "n" * 32 + "-newpkg-1.0"] = Package("newpkg", "1.0")
            expected["added"].add("/nix/store/" + "n" * 32 + "-newpkg-1.0")
            expected["packages"].add(("newpkg", PackageChangeKind.ADDED))
        elif mutation in ("package_removed", "package_upgraded"):
            assert b.closure is not None
            candidates = sorted(p for p in b.closure if p in (a.closure or {}) and b.closure[p].name != "newpkg")
            if not candidates:
                continue
            path = data.draw(st.sampled_from(candidates))
            package = b.closure.pop(path)
            expected["removed"].add(path)
            if mutation == "package_upgraded":
                assert package.version is not None
                version = f"1{package.version}"  # a larger first component
                new_path = path.rsplit("-", 1)[0] + f"-{version}"
                b.closure[new_path] = Package(package.name, version)
                expected["added"].add(new_path)
                expected["packages"].add((package.name, PackageChangeKind.UPGRADED))
            else:
                expected["packages"].add((package.name, PackageChangeKind.REMOVED))
        elif mutation == "vuln_new":
            assert b.vulns is not None
            verdict = data.draw(st.sampled_from(VERDICTS))
            b.vulns[("CVE-NEW", "pkg:nix/new@1")] = VulnState(verdict)
            expected["vulns"].add(("CVE-NEW", VulnChangeKind.NEW))
            regression |= verdict == "blocking"
        elif mutation in ("vuln_fixed", "vuln_verdict"):
            assert b.vulns is not None
            keys = sorted(k for k in b.vulns if k in (a.vulns or {}) and b.vulns[k] == (a.vulns or {})[k])
            if not keys:
                continue
            key = data.draw(st.sampled_from(keys))
            if mutation == "vuln_fixed":
                del b.vulns[key]
                expected["vulns"].add((key[0], VulnChangeKind.FIXED))
            else:
                old_verdict = b.vulns[key].verdict
                verdict = data.draw(st.sampled_from([v for v in VERDICTS if v != old_verdict]))
                b.vulns[key] = VulnState(verdict)
                kind = VulnChangeKind.NEWLY_SUPPRESSED_BY_VEX if verdict == "suppressed_by_vex" else VulnChangeKind.VERDICT_CHANGED
                expected["vulns"].add((key[0], kind))
                regression |= verdict == "blocking"
        elif mutation == "clause":
            b.standing["dora"] = {"Art.9": "fail"}
            expected["clauses"].add(("dora", "Art.9"))
    b.assessment = a.assessment.model_copy(update={"results": [results[c] for c in sorted(results)]})

    diff = diff_snapshots(a, b)
    assert {(c.control_id, c.old_status, c.new_status) for c in diff.controls} == expected["controls"]
    assert {(c.control_id, tuple(c.path)) for c in diff.observed} == expected["observed"]
    assert {(c.control_id, c.param) for c in diff.params} == expected["params"]
    assert {c.option for c in diff.options} == expected["options"]
    assert diff.closure is not None
    assert set(diff.closure.added) == expected["added"] and set(diff.closure.removed) == expected["removed"]
    named_packages = {(p.name, p.kind) for p in diff.closure.packages}
    # Removing one of several store paths of a name is a change of its versions, not of the name.
    assert expected["packages"] <= named_packages | {(n, PackageChangeKind.REMOVED) for n, _ in named_packages}
    assert {p.name for p in diff.closure.packages} == {n for n, _ in expected["packages"]}
    assert {(v.id, v.kind) for v in diff.vulnerabilities} == expected["vulns"]
    assert {(c.framework, c.clause) for c in diff.clauses} == expected["clauses"]
    assert diff.regression is regression and (len(diff.regressions) > 0) is regression
    assert diff.empty is not any(expected.values())


@given(st.lists(st.integers(0, 30), min_size=1, max_size=4), st.lists(st.integers(0, 30), min_size=1, max_size=4))
def test_compare_versions_is_an_order_on_dotted_numbers(a: list[int], b: list[int]) -> None:
    x, y = ".".join(map(str, a)), ".".join(map(str, b))
    assert compare_versions(x, y) == -compare_versions(y, x)
    assert compare_versions(x, x) == 0
    if len(a) == len(b):
        assert compare_versions(x, y) == (a > b) - (a < b)


def test_compare_versions_follows_nix() -> None:
    # builtins.compareVersions: numbers by value, "pre" before anything, letters before numbers
    assert compare_versions("1.10", "1.9") == 1
    assert compare_versions("2.3pre1", "2.3") == -1
    assert compare_versions("2.3a", "2.3.1") == -1
    assert compare_versions("1.0", "1.0") == 0
    assert compare_versions("1.0", "1.0.1") == -1


@given(st.text("ab-1.x_A", max_size=14))
def test_the_closure_reader_splits_names_as_nix_does(name: str) -> None:
    from compliance.evidence.packet_diff import closure_packages
    from compliance.nix.storepath import split_name

    path = "/nix/store/" + "a" * 32 + "-" + name
    try:
        packages = closure_packages(path.encode() + b"\n", "listing")
    except Exception as exc:  # a name Nix refuses is refused here too, as an input error
        assert type(exc).__name__ == "InputError" and path in str(exc)
        return
    assert tuple(packages[path].__dict__.values()) == tuple(split_name(name))

"""What the report says, decided before any layout: coverage matrix, order of findings,
waivers and attestations, shortened values, escaping, and independence from the order in
which a report's mappings were read."""

from __future__ import annotations

from compliance import formats
from compliance.catalog import standing
from compliance.catalog.loader import load_catalog
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.models.frameworks import FrameworkId
from compliance.models.results import CheckResult, ClauseStanding, GateReport, Reason, SubjectRef
from compliance.report import render_html
from compliance.report.coverage_matrix import FrameworkCoverage, coverage_matrix
from compliance.report.html import css_string
from compliance.report.values import nix_assignments, observed_text
from compliance.report.view import build_view
from tests.support.report_sample import MISSING, sample_context, sample_report


def _rows(framework: FrameworkId, catalog_given: bool = True) -> FrameworkCoverage:
    report = sample_report()
    view = build_view(report, sample_context(catalog=load_catalog() if catalog_given else None))
    return next(fw for fw in view.coverage.frameworks if fw.id == framework.value)


def test_every_clause_of_the_catalog_is_listed_and_gaps_are_not_covered() -> None:
    nis2 = _rows(FrameworkId.NIS2)
    catalog = load_catalog().frameworks[FrameworkId.NIS2]
    assert [row.clause_id for row in nis2.rows] == [c.id for c in catalog.clauses]
    assert nis2.complete and nis2.note is None
    by_id = {row.clause_id: row for row in nis2.rows}
    assert by_id["Art.21(2)(a)"].state is ClauseStanding.UNCOVERED and not by_id["Art.21(2)(a)"].supports
    assert not any(row.state.shown for row in nis2.rows if not row.supports)  # nothing run, nothing satisfied
    assert nis2.count(ClauseStanding.UNCOVERED) > 40  # most of NIS2 is organisational: the gaps show


def test_a_cited_point_counts_towards_its_enclosing_clause() -> None:
    by_id = {row.clause_id: row for row in _rows(FrameworkId.NIS2).rows}
    network = by_id["CIR 6.7"]
    assert [(s.control_id, s.cited) for s in network.supports] == [("NW-01", ("CIR 6.7.2(c)",))]
    # The sample's results carry no scope: a passing control evidences a part, never all.
    assert network.state is ClauseStanding.PARTIAL and network.reason == "NW-01 (partial): firewall passed"
    assert [c.evidences for c in network.supports[0].claims] == [standing.UNSCOPED]


def test_the_worst_supporting_status_is_the_clause_result() -> None:
    by_id = {row.clause_id: row for row in _rows(FrameworkId.NIS2).rows}
    assert by_id["CIR 6.3"].state is ClauseStanding.FAILED and by_id["CIR 6.3"].reason.startswith("HK-01 (partial): sysctl_baseline fail")
    assert by_id["CIR 6.10"].state is ClauseStanding.FAILED and "SC-01 (partial)" in by_id["CIR 6.10"].reason  # could not decide
    assert by_id["CIR 11.6"].state is ClauseStanding.WAIVED and "IA-02 (partial): fails under waiver" in by_id["CIR 11.6"].reason
    # Art.21(2)(d) has SC-06 (fail): a failing control is never hidden by another status.
    assert by_id["Art.21(2)(d)"].state is ClauseStanding.FAILED


def test_a_valid_attestation_answers_a_manual_control_and_an_expired_one_does_not_count() -> None:
    nis2 = {row.clause_id: row for row in _rows(FrameworkId.NIS2).rows}
    change = nis2["CIR 6.4"]
    assert [s.status for s in change.supports] == [Status.MANUAL]
    assert [a.name for a in change.attestations] == ["ATT-1"] and change.state is ClauseStanding.ATTESTED
    iso = {row.clause_id: row for row in _rows(FrameworkId.ISO27001).rows}
    policy = iso["A.5.1"]
    assert [a.name for a in policy.attestations] == ["ATT-2"] and not policy.attestations[0].counts
    assert policy.state is ClauseStanding.UNCOVERED


def test_without_a_clause_list_the_matrix_lists_cited_clauses_and_says_it_is_incomplete() -> None:
    nis2 = _rows(FrameworkId.NIS2, catalog_given=False)
    assert not nis2.complete
    assert nis2.note is not None and "cannot show what is not covered" in nis2.note
    ids = [row.clause_id for row in nis2.rows]
    assert "CIR 6.7.2(c)" in ids and "CIR 6.4.1" in ids  # as cited, by controls and by attestations
    assert "Art.21(2)(a)" not in ids
    assert ids.index("CIR 6.4.1") < ids.index("CIR 6.7.2(c)") < ids.index("CIR 6.10.2(b)") < ids.index("CIR 11.6.2(a)")


def test_frameworks_come_from_the_assessment_and_another_catalog_is_named() -> None:
    report = sample_report()
    matrix = coverage_matrix(report.assessment, load_catalog(), [])
    assert [fw.id for fw in matrix.frameworks] == ["nis2", "iso27001"] and matrix.catalog_note is None
    other = report.assessment.model_copy(update={"catalog_digest": "sha256:" + "0" * 64})
    note = coverage_matrix(other, load_catalog(), []).catalog_note
    assert note is not None and "sha256:" + "0" * 64 in note


def test_findings_put_blocking_controls_first_with_observed_values_and_remedy() -> None:
    view = build_view(sample_report(), sample_context())
    assert [f.control_id for f in view.findings] == ["HK-01", "SC-01", "SC-06"]
    assert [f.blocking for f in view.findings] == [True, True, False]
    hk01 = view.findings[0]
    assert hk01.nixos == ('boot.kernel.sysctl."kernel.kptr_restrict" = 2;',)
    assert ("not_as_expected", "kernel.kptr_restrict: {actual: 0; expected: 2}") in hk01.checks[0].observed
    assert hk01.params[0].source == "anssi-intermediary"


def _hint(checks: list[CheckResult], remediation: dict[str, object]) -> tuple[str, ...]:
    report = sample_report()
    results = report.assessment.results
    hk01 = next(r for r in results if r.control_id == "HK-01").model_copy(update={"checks": checks, "remediation": remediation})
    others = [r for r in results if r.control_id != "HK-01"]
    changed = report.model_copy(update={"assessment": report.assessment.model_copy(update={"results": [hk01, *others]})})
    return next(f for f in build_view(changed, sample_context()).findings if f.control_id == "HK-01").nixos


def _sysctl_check(function: str, status: Status, **mismatches: dict[str, object]) -> CheckResult:
    return CheckResult(kind=CheckKind.STATIC, function=function, status=status, message="off baseline",
                       observed={"mismatches": mismatches, "values": {}, "source": "boot.kernel.sysctl"})


def test_a_sysctl_hint_sets_what_failed_and_nothing_already_compliant() -> None:
    """The catalog's block names kptr_restrict (compliant here) and perf_event_paranoid; the
    check names panic_on_oops, perf_event_paranoid and perf_cpu_time_max_percent."""
    catalog = {"nixos": {"boot.kernel.sysctl": {"kernel.kptr_restrict": 2, "kernel.perf_event_paranoid": 3},
                         "security.lockKernelModules": True}}
    check = _sysctl_check(
        "sysctl_baseline", Status.FAIL,
        **{"kernel.panic_on_oops": {"value": None, "expected": "1", "problem": "is not set"},
           "kernel.perf_event_paranoid": {"value": 1, "expected": ">=2"},
           "kernel.perf_cpu_time_max_percent": {"value": 25, "expected": "<=1"},
           "kernel.core_pattern": {"value": "core", "expected": "|/bin/false"}},
    )
    assert _hint([check], catalog) == (
        'boot.kernel.sysctl."kernel.core_pattern" = "|/bin/false";',
        'boot.kernel.sysctl."kernel.panic_on_oops" = 1;',
        'boot.kernel.sysctl."kernel.perf_cpu_time_max_percent" = 1;',
        'boot.kernel.sysctl."kernel.perf_event_paranoid" = 3;',  # the catalog's value meets ">=2"
        "security.lockKernelModules = true;",  # not a sysctl: the catalog's, as it is
    )
    runtime = _sysctl_check("sysctl_runtime", Status.FAIL, **{"net.ipv4.tcp_syncookies": {"value": 0, "expected": "1"}})
    assert _hint([check, runtime], catalog)[0] == 'boot.kernel.sysctl."kernel.core_pattern" = "|/bin/false";'
    assert 'boot.kernel.sysctl."net.ipv4.tcp_syncookies" = 1;' in _hint([check, runtime], catalog)


def test_without_named_mismatches_the_hint_is_the_catalog_block() -> None:
    catalog = {"nixos": {"boot.kernel.sysctl": {"kernel.kptr_restrict": 2}}}
    errored = CheckResult(kind=CheckKind.STATIC, function="sysctl_baseline", status=Status.ERROR, message="no facts")
    other = _sysctl_check("sshd_config", Status.FAIL, PermitRootLogin={"value": "yes", "allowed": ["no"]})
    for checks in ([errored], [other]):
        assert _hint(checks, catalog) == ('boot.kernel.sysctl."kernel.kptr_restrict" = 2;',)


def test_waivers_show_approver_and_expiry() -> None:
    view = build_view(sample_report(), sample_context())
    (waiver,) = view.waivers
    assert (waiver.control_id, waiver.approver, waiver.expires, waiver.covered_status) == (
        "IA-02", "Jane Roe, CISO", "2026-12-31T23:59:59Z", "fail",
    )


def test_long_lists_are_shortened_with_the_count_of_what_is_left_out() -> None:
    text = observed_text(MISSING)
    assert MISSING[0] in text and MISSING[11] in text and MISSING[12] not in text
    assert text.endswith("… and 88 more (all of them in results.json)")
    assert observed_text({"b": [], "a": None}) == "a: null; b: none"


def test_remediation_values_are_nix() -> None:
    assert nix_assignments("services.openssh.settings.PermitRootLogin", "no") == ['services.openssh.settings.PermitRootLogin = "no";']
    assert nix_assignments("nix.settings.substituters", ["https://cache.nixos.org", "${x}"]) == [
        'nix.settings.substituters = [ "https://cache.nixos.org" "\\${x}" ];'
    ]
    assert nix_assignments("boot.kernel.sysctl", {"b.c": -1, "a": True}) == [
        "boot.kernel.sysctl.a = true;",
        'boot.kernel.sysctl."b.c" = -1;',
    ]


def test_text_from_the_inputs_is_escaped() -> None:
    report = sample_report()
    hostile = report.assessment.results[0].model_copy(update={"title": "<script>alert(1)</script>", "message": "a & b"})
    assessment = report.assessment.model_copy(update={"results": [hostile, *report.assessment.results[1:]]})
    html = render_html(report.model_copy(update={"assessment": assessment}), sample_context(packet_id='x"</style><b>')).decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "</style><b>" not in html
    assert str(css_string('a"\\</style>')) == '"a\\22 \\5c \\3c /style\\3e "'


def test_a_report_read_back_from_results_json_renders_the_same() -> None:
    report = sample_report()
    read_back = GateReport.model_validate_json(formats.render("json", report))
    assert render_html(read_back, sample_context()) == render_html(report, sample_context())


def test_anssi_rows_are_the_levels_the_profiles_select_and_a_higher_citation_is_kept() -> None:
    catalog = load_catalog()
    report = sample_report()
    hk01 = report.assessment.results[0].model_copy(update={"clauses": {FrameworkId.ANSSI: ["R9", "R15"]}})
    assessment = report.assessment.model_copy(update={
        "profiles": ["anssi-minimal", "anssi-intermediary"],
        "frameworks": [FrameworkId.ANSSI],
        "results": [hk01, *report.assessment.results[1:]],
    })
    (anssi,) = coverage_matrix(assessment, catalog, []).frameworks
    levels = {row.level for row in anssi.rows if row.part != "Cited, beyond the levels in scope"}
    assert levels == {"minimal", "intermediary"}
    expected = [c.id for c in catalog.frameworks[FrameworkId.ANSSI].clauses if c.level and c.level.value in levels]
    assert [row.clause_id for row in anssi.rows][: len(expected)] == expected
    (beyond,) = [row for row in anssi.rows if row.part == "Cited, beyond the levels in scope"]
    assert (beyond.clause_id, beyond.level, [s.control_id for s in beyond.supports]) == ("R15", "high", ["HK-01"])
    assert anssi.note is not None and "(minimal, intermediary)" in anssi.note


def test_runtime_evidence_names_the_host_and_its_boot() -> None:
    report = sample_report()
    subject = SubjectRef(kind="host", host="web-01.example.org", machine_id="4c4c4544" * 4, boot_id="b0a1" * 8,
                         store_path="/nix/store/qlg9vwl41fcmjvpcypf3y6s8g047524i-nixos-system-web-01-24.11")
    assessment = report.assessment.model_copy(update={"subject": subject, "mode": CheckKind.RUNTIME})
    cover = build_view(report.model_copy(update={"assessment": assessment}), sample_context()).cover
    facts = {fact.label: fact.value for fact in [*cover.subject, *cover.assessment]}
    assert facts["Host"] == "web-01.example.org" and facts["Boot id"] == "b0a1" * 8 and facts["Machine id"] == "4c4c4544" * 4
    assert facts["NAR sha256"] == "not recorded" and facts["Checks"] == "runtime (on the running host)"


def test_an_assessment_without_controls_still_renders_and_says_why_it_failed() -> None:
    report = sample_report()
    assessment = report.assessment.model_copy(update={"results": [], "attestations": None})
    decision = report.decision.model_copy(update={
        "blocking": [Reason(message="no control was selected: nothing was checked")], "non_blocking": [],
        "counts": assessment.counts(),
    })
    html = render_html(GateReport(assessment=assessment, decision=decision), sample_context()).decode()
    assert "no control was selected: nothing was checked" in html
    assert "No control failed and no check errored." in html
    assert "No control covers this clause" in html  # every clause is a gap

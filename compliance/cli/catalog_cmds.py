"""``compliance controls`` and ``compliance frameworks``: browse the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson

from compliance.catalog.loader import Catalog, load_catalog
from compliance.cli.options import catalog_option
from compliance.errors import UsageError
from compliance.models.frameworks import AnssiLevel
from compliance.models.results import ClauseResult


@click.group("controls")
def controls_group() -> None:
    """List and show controls and profiles."""


@controls_group.command("list")
@click.option("--profile", "-p", "profiles", multiple=True, metavar="P", help="Only controls these profiles select.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@catalog_option
def controls_list(profiles: tuple[str, ...], as_json: bool, catalog: Path | None) -> int:
    """List the controls: id, severity, check kinds, frameworks cited, title."""
    from compliance.catalog.selection import select

    cat = load_catalog(catalog)
    chosen = [s.control for s in select(cat, list(profiles)).controls]
    if as_json:
        click.echo(orjson.dumps([c.model_dump(mode="json", exclude={"rationale"}) for c in chosen], option=orjson.OPT_INDENT_2).decode())
        return 0
    for c in chosen:
        kinds = "+".join(sorted({ch.kind.value for ch in c.checks})) or "manual"
        fws = ",".join(fw.value for fw in c.clauses)
        click.echo(f"{c.id:<8} {c.severity.value:<8} {kinds:<14} {fws:<26} {c.title}")
    return 0


@controls_group.command("show")
@click.argument("control_id")
@catalog_option
def controls_show(control_id: str, catalog: Path | None) -> int:
    """Show one control: rationale, clauses, parameters, checks, remediation."""
    cat = load_catalog(catalog)
    control = cat.controls.get(control_id) or cat.controls.get(control_id.upper())
    if control is None:
        raise UsageError(f"unknown control {control_id!r} (see 'compliance controls list')")
    click.echo(f"{control.id}  {control.title}\nseverity: {control.severity.value}    file: {cat.files[control.id]}\n")
    click.echo(" ".join(control.rationale.split()) + "\n")
    for cite in control.resolved_cites():
        checks = cite.checks if isinstance(cite.checks, str) else ", ".join(cite.checks)
        click.echo(f"{cite.framework.value:<9} {', '.join(cite.clauses)}  [{checks}] {cite.scope.value}: {cite.evidences}")
    from compliance.catalog.selection import select

    selected = next(s for s in select(cat, []).controls if s.control.id == control.id)
    if selected.params:
        click.echo("\nparameters:")
        for name, value in sorted(selected.params.items()):
            click.echo(f"  {name} = {orjson.dumps(value).decode()}")
    click.echo("\nchecks:")
    for check in control.checks:
        click.echo(f"  {check.kind.value:<8} {check.function}")
    if not control.checks:
        click.echo("  (none: needs a manual attestation)")
    if control.remediation:
        click.echo("\nremediation:")
        for option, value in control.remediation.nixos.items():
            click.echo(f"  {option} = {orjson.dumps(value).decode()};")
        if control.remediation.text:
            click.echo("  " + " ".join(control.remediation.text.split()))
    return 0


@controls_group.command("validate")
@catalog_option
def controls_validate(catalog: Path | None) -> int:
    """Validate the catalog: every control, framework and profile file. Exit 0 valid, 2 not
    (one line naming the file and the problem)."""
    from compliance.runs.validate_run import validate_catalog

    click.echo(validate_catalog(catalog))
    return 0


@controls_group.command("profiles")
@catalog_option
def controls_profiles(catalog: Path | None) -> int:
    """List the profiles."""
    cat = load_catalog(catalog)
    for profile in cat.profiles.values():
        click.echo(f"{profile.id:<22} {profile.title}")
    return 0


@click.group("frameworks")
def frameworks_group() -> None:
    """List frameworks and report their clause coverage."""


@frameworks_group.command("list")
@catalog_option
def frameworks_list(catalog: Path | None) -> int:
    """List the framework clause catalogs."""
    cat = load_catalog(catalog)
    for fw in cat.frameworks.values():
        click.echo(f"{fw.id.value:<9} {len(fw.clauses):>4} clauses  {fw.title} ({fw.version})")
    return 0


@frameworks_group.command("coverage")
@click.argument("framework")
@click.option("--profile", "-p", "profiles", multiple=True, metavar="P", help="Only the controls these profiles select (and, for ANSSI, their levels).")
@click.option("--attestations", multiple=True, metavar="F", help="Signed attestation file: valid attestations count as attested (repeatable).")
@click.option("--attestation-key", metavar="PUB", help="Public key the attestations must be signed with.")
@click.option("--results", "-r", metavar="R", help="results.json of an assessment: show each clause's standing after it.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@catalog_option
def frameworks_coverage(
    framework: str,
    profiles: tuple[str, ...],
    attestations: tuple[str, ...],
    attestation_key: str | None,
    results: str | None,
    as_json: bool,
    catalog: Path | None,
) -> int:
    """Every clause of FRAMEWORK as automated (a full-scope machine check), partial, attested
    or uncovered, with what covers it; with --results, its standing after that assessment."""
    from compliance.catalog.clause_coverage import CoverageKind, framework_coverage
    from compliance.catalog.selection import select
    from compliance.runs.attestation_files import describe, verify_files
    from compliance.util import clock

    if bool(attestations) != bool(attestation_key):
        raise UsageError("--attestations and --attestation-key go together")
    cat = load_catalog(catalog)
    if results is not None:
        if profiles or attestations:
            raise UsageError("--results takes the profiles and attestations of the assessment: drop --profile and --attestations")
        return _standing_view(cat, framework, results, as_json)
    controls = [s.control for s in select(cat, list(profiles)).controls] if profiles else None
    outcomes = verify_files(list(attestations), attestation_key, cat, clock.now()) if attestation_key else []
    coverage = framework_coverage(cat, framework, controls=controls, attestations=outcomes, levels=_anssi_levels(cat, profiles))
    if as_json:
        doc = coverage.to_jsonable()
        doc["attestations"] = [o.to_jsonable() for o in outcomes]
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return 0
    levels = any(row.clause.level for row in coverage.clauses)
    for row in coverage.clauses:
        backing = ", ".join(row.controls) or (f"manual: {', '.join(row.attestations)}" if row.attestations else "-")
        level = f"{row.clause.level.value:<13}" if levels and row.clause.level else ""
        click.echo(f"{row.clause.id:<14} {level}{row.kind.value:<10} {backing:<32} {row.clause.title}")
    counts = ", ".join(f"{coverage.count(kind)} {kind.value}" for kind in CoverageKind)
    click.echo(f"\n{len(coverage.clauses)} clauses of {coverage.framework.title}: {counts}")
    for outcome in outcomes:
        if not outcome.counts:
            click.echo(f"attestation {describe(outcome)} does not count: {outcome.reason}")
    return 0


def _standing_view(cat: Catalog, framework: str, results: str, as_json: bool) -> int:
    """``frameworks coverage --results``: the standing of every clause in scope."""
    from compliance.catalog.clause_coverage import framework_of
    from compliance.catalog.gaps import read_results
    from compliance.catalog.standing import standings_of
    from compliance.models.results import ClauseStanding

    fw = framework_of(cat, framework)
    assessment = read_results(results).assessment
    levels = _anssi_levels(cat, tuple(p for p in assessment.profiles if p in cat.profiles))
    rows = [r for r in standings_of(cat, fw.id, assessment) or [] if levels is None or r.level is None or AnssiLevel(r.level) in levels]
    counts = {s.value: sum(1 for r in rows if r.standing is s) for s in ClauseStanding}
    if as_json:
        doc: dict[str, Any] = {
            "framework": fw.id.value,
            "title": fw.title,
            "assessment": assessment.id,
            "counts": counts,
            "clauses": [r.to_jsonable() for r in rows],
        }
        if levels is not None:
            doc["levels"] = [level.value for level in AnssiLevel if level in levels]
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return 0
    for row in rows:
        level = f"{row.level:<13}" if row.level else ""
        controls = ", ".join(dict.fromkeys(c.control_id for c in row.citations)) or "-"
        click.echo(f"{row.clause:<14} {level}{row.standing.value:<23} {controls:<24} {row.title or ''}")
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    click.echo(f"\n{len(rows)} clauses of {fw.title} after assessment {assessment.id}: {summary}")
    return 0


def _anssi_levels(cat: Catalog, profiles: tuple[str, ...]) -> set[AnssiLevel] | None:
    """The ANSSI levels the profiles select by, or None when none selects by level."""
    from compliance.catalog.loader import expand_profiles

    levels = {level for pid in expand_profiles(cat, list(profiles)) for level in cat.profiles[pid].select.anssi_levels}
    return levels or None


@frameworks_group.command("gaps")
@click.argument("framework")
@click.option("--results", "-r", required=True, metavar="R", help="results.json of an assessment ('compliance gate -o json=R').")
@click.option("--all", "show_all", is_flag=True, help="Every clause, not only the gaps.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (every clause).")
@catalog_option
def frameworks_gaps(framework: str, results: str, show_all: bool, as_json: bool, catalog: Path | None) -> int:
    """For each clause of FRAMEWORK not covered by the assessment R, what to enable, fix or attest."""
    from compliance.catalog.gaps import framework_gaps, read_results
    from compliance.models.results import ClauseStanding

    cat = load_catalog(catalog)
    report = read_results(results)
    gaps = framework_gaps(cat, framework, report)
    if as_json:
        click.echo(orjson.dumps(gaps.to_jsonable(), option=orjson.OPT_INDENT_2).decode())
        return 0
    for row in gaps.clauses:
        if not row.is_gap and not show_all:
            continue
        click.echo(f"{row.clause.id:<14} {row.standing.value:<23} {row.clause.title}")
        click.echo(f"    why: {row.result.reason}")
        _echo_citations(row.result)
        if row.attestations:
            click.echo(f"    attested by {', '.join(row.attestations)} (manual)")
        for advice in row.advice:
            who = f"{advice.control_id} ({advice.status.value if advice.status else 'not assessed'})" if advice.control_id else "clause"
            click.echo(f"    {advice.action.value:<10} {who}: {advice.detail}")
    counts = ", ".join(f"{gaps.count(s)} {s.value}" for s in ClauseStanding if gaps.count(s))
    click.echo(f"\n{len(gaps.clauses)} clauses of {gaps.framework.title}: {counts}")
    for note in gaps.notes:
        click.echo(f"note: {note}")
    return 0


def _echo_citations(row: ClauseResult) -> None:
    for cite in row.citations:
        checks = ", ".join(cite.checks) or "attestation"
        click.echo(f"    {cite.control_id} [{checks}] {cite.scope.value}: {cite.evidences}")


COMMANDS = [controls_group, frameworks_group]

"""``compliance controls`` and ``compliance frameworks``: browse the catalog."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from ..catalog import load_catalog
from ..errors import UsageError
from ..models.frameworks import FrameworkId
from ._common import catalog_option


@click.group("controls")
def controls_group() -> None:
    """List and show controls and profiles."""


@controls_group.command("list")
@click.option("--profile", "-p", "profiles", multiple=True, metavar="P", help="Only controls these profiles select.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@catalog_option
def controls_list(profiles: tuple[str, ...], as_json: bool, catalog: Path | None) -> int:
    """List the controls: id, severity, check kinds, frameworks cited, title."""
    from ..selection import select

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
    for fw, refs in control.clauses.items():
        click.echo(f"{fw.value:<9} {', '.join(refs)}")
    from ..selection import select

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
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@catalog_option
def frameworks_coverage(framework: str, as_json: bool, catalog: Path | None) -> int:
    """Every clause of FRAMEWORK with the controls that support it, or none."""
    cat = load_catalog(catalog)
    try:
        fw_id = FrameworkId(framework)
    except ValueError:
        raise UsageError(f"unknown framework {framework!r} (known: {', '.join(f.value for f in FrameworkId)})") from None
    fw = cat.frameworks.get(fw_id)
    if fw is None:
        raise UsageError(f"the catalog has no clause list for {framework}")
    by_clause: dict[str, list[str]] = {c.id: [] for c in fw.clauses}
    for control in cat.controls.values():
        for ref in control.clauses.get(fw_id, []):
            clause = fw.resolve(ref)
            if clause and control.id not in by_clause[clause]:
                by_clause[clause].append(control.id)
    rows = [{"clause": c.id, "title": c.title, "controls": by_clause[c.id], "status": "automated" if by_clause[c.id] else "uncovered"} for c in fw.clauses]
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return 0
    for row in rows:
        controls = ", ".join(row["controls"]) or "-"
        click.echo(f"{row['clause']:<16} {row['status']:<10} {controls:<30} {row['title']}")
    covered = sum(1 for r in rows if r["controls"])
    click.echo(f"\n{covered} of {len(rows)} clauses supported by at least one control")
    return 0


COMMANDS = [controls_group, frameworks_group]

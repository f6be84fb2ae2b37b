"""``compliance evidence``: verify and export signed evidence packets.

``evidence report`` is attached to :data:`evidence_group` by ``report_cmd``.
"""

from __future__ import annotations

import click

from compliance.evidence.layout import EXPORTABLE
from compliance.runs.outputs import check_output_file
from compliance.util.fsutil import atomic_write


@click.group("evidence")
def evidence_group() -> None:
    """Check and read evidence packets (a directory or a .tar.gz), offline."""


@evidence_group.command("verify")
@click.argument("packet", metavar="PACKET")
@click.option("--key", "key_path", required=True, metavar="PUB", help="The signer's public key (PEM, e.g. cosign.pub).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--expect-subject", metavar="STORE_PATH", help="The release's store path: a valid packet of another one is exit 1.")
@click.option("--expect-nar-hash", metavar="HASH", help="The release's NAR hash (hex, SRI or sha256:nix32): another one is exit 1.")
@click.option("--expect-commit", metavar="REV", help="The commit the release was built from (7 or more hex digits).")
def verify_command(packet: str, key_path: str, fmt: str, expect_subject: str | None, expect_nar_hash: str | None,
                   expect_commit: str | None) -> int:
    """Check every file's digest, the signatures and that statement, manifest and results
    agree; say which release, profiles, time and verdict were verified. Exit 0 valid (and
    the expected release), 1 invalid or another release, 2 unreadable."""
    import orjson

    from compliance.evidence.packet import open_packet
    from compliance.evidence.packet_verify import expectations, verify_packet
    from compliance.formats.console import progress
    from compliance.signing.keys import load_public_key

    key = load_public_key(key_path)
    with progress(f"verifying {packet}"):
        result = verify_packet(open_packet(packet), key)
    identity = result.identity if result.valid else None
    checks = expectations(identity, subject=expect_subject, nar_hash=expect_nar_hash, commit=expect_commit) if identity else []
    wrong = [c for c in checks if not c.ok]
    if fmt == "json":
        doc = {
            "packet": result.packet,
            "key": result.key_fingerprint,
            "valid": result.valid,
            "expected_release": not wrong,
            "steps": [{"name": s.name, "ok": s.ok, "skipped": s.skipped,
                       "failures": [{"file": f.file, "message": f.message} for f in s.failures]} for s in result.steps],
            "verified": None if identity is None else {
                "subject": identity.subject.model_dump(mode="json", exclude_none=True),
                "profiles": identity.profiles,
                "created": identity.created.isoformat().replace("+00:00", "Z"),
                "verdict": identity.verdict,
                "passed": identity.passed,
                "packet_id": identity.packet_id,
            },
            "expectations": [{"what": c.what, "expected": c.expected, "actual": c.actual, "ok": c.ok} for c in checks],
        }
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return 0 if result.valid and not wrong else 1
    click.echo(f"packet {result.packet}")
    click.echo(f"key    {result.key_fingerprint}")
    width = max(len(step.name) for step in result.steps)
    for step in result.steps:
        if step.ok:
            click.echo(f"ok      {step.name:<{width}}  {step.passed_summary}")
        elif step.skipped is not None and not step.failures:
            click.echo(f"SKIPPED {step.name:<{width}}  {step.skipped}")
        for failure in step.failures:
            click.echo(f"FAILED  {step.name:<{width}}  {failure.message}")
    if not result.valid:
        failed = [step.name for step in result.steps if not step.ok]
        click.echo(f"INVALID: {len(failed)} check(s) failed ({', '.join(failed)}); files: {', '.join(result.failed_files) or 'none'}")
        return 1
    assert identity is not None
    subject = identity.subject
    click.echo(f"subject  {subject.store_path or subject.name or subject.host or '(none recorded)'}")
    click.echo(f"nar hash {'sha256:' + subject.nar_sha256 if subject.nar_sha256 else '(none recorded)'}")
    click.echo(f"commit   {subject.commit or '(none recorded)'}")
    click.echo(f"profiles {', '.join(identity.profiles) or '(none)'}")
    click.echo(f"created  {identity.created.isoformat().replace('+00:00', 'Z')}")
    click.echo(f"verdict  {identity.verdict} (the gate {'passed' if identity.passed else 'did not pass'})")
    for check in wrong:
        click.echo(f"WRONG RELEASE: the packet's {check.what} is {check.actual or '(none recorded)'}, expected {check.expected}")
    if wrong:
        return 1
    click.echo("VALID: every check passed" + (f"; the expected release ({', '.join(c.what for c in checks)})" if checks else ""))
    return 0


@evidence_group.command("export")
@click.argument("packet", metavar="PACKET")
@click.option("--format", "-f", "fmt", required=True, type=click.Choice(sorted(EXPORTABLE)), help="What to export.")
@click.option("--output", "-o", metavar="F", help="Write to F instead of standard output.")
def export_command(packet: str, fmt: str, output: str | None) -> int:
    """Write the packet's OSCAL, SARIF, JUnit or JSON results (as signed). Exit 0 ok, 2 error."""
    from compliance.evidence.export import export_file
    from compliance.evidence.packet import open_packet

    if output:
        check_output_file(output)
    data = export_file(open_packet(packet), fmt)
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode("utf-8"), nl=False)
    return 0


COMMANDS = [evidence_group]

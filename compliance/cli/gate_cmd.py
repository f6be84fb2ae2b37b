"""``compliance gate``: the CI release gate."""

from __future__ import annotations

from pathlib import Path

import click

from compliance import formats
from compliance.cli.options import catalog_option, parse_outputs, profile_option, write_outputs
from compliance.runs.gate_run import GateOptions, run_gate


@click.command("gate")
@profile_option
@click.option("--closure", metavar="X", help="Closure: path-info JSON, a store path listing, or a store path / result link (asks nix).")
@click.option("--sbom", metavar="F", help="SBOM (CycloneDX JSON, SPDX JSON or tag-value). Generated from the closure when omitted.")
@click.option("--facts", metavar="F", help="NixOS configuration facts (JSON, from 'compliance facts').")
@click.option("--flake", metavar="REF#HOST", help="Evaluate the facts from nixosConfigurations.HOST of a flake.")
@click.option("--nix-file", metavar="F", help="Evaluate the facts from a Nix file (its value, or its .config).")
@click.option("--attr", "nix_attr", metavar="A", help="Attribute path inside --nix-file.")
@click.option("--flake-lock", metavar="F", help="flake.lock of the release (dates the nixpkgs input).")
@click.option("--kernel-config", metavar="F", help="Kernel .config, when the closure does not carry one.")
@click.option("--vulns", multiple=True, metavar="F", help="Vulnerability report or VEX (repeatable).")
@click.option("--waivers", metavar="F", help="Waiver file (TOML or JSON).")
@click.option("--policy", metavar="F", help="Gate policy (TOML or JSON): which severities block.")
@click.option("--attestations", multiple=True, metavar="F", help="Signed attestation file for clauses no machine can check (repeatable).")
@click.option("--attestation-key", metavar="PUB", help="Public key the attestations must be signed with.")
@click.option("--store", metavar="DIR", help="Nix store to query for a live closure (a chroot store).")
@click.option("--commit", metavar="REV", help="VCS commit the release was built from.")
@click.option("--no-generate-sbom", is_flag=True, help="Do not generate an SBOM from the closure when --sbom is omitted.")
@click.option("--format", "-f", "formats_", multiple=True, metavar="FMT", help="Output format: text, json, junit, sarif, markdown, oscal (repeatable).")
@click.option("--output", "-o", "outputs", multiple=True, metavar="[FMT=]F", help="Write a format to a file instead of standard output (repeatable).")
@click.option("--evidence", metavar="OUT", help="Also write a signed evidence packet (directory, or OUT.tar.gz).")
@click.option("--key", metavar="K", help="Signing key for --evidence (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--signer", type=click.Choice(["native", "cosign"]), default="native", show_default=True, help="Sign natively or through a cosign binary.")
@catalog_option
def gate_command(
    profiles: tuple[str, ...],
    closure: str | None,
    sbom: str | None,
    facts: str | None,
    flake: str | None,
    nix_file: str | None,
    nix_attr: str | None,
    flake_lock: str | None,
    kernel_config: str | None,
    vulns: tuple[str, ...],
    waivers: str | None,
    policy: str | None,
    attestations: tuple[str, ...],
    attestation_key: str | None,
    store: str | None,
    commit: str | None,
    no_generate_sbom: bool,
    formats_: tuple[str, ...],
    outputs: tuple[str, ...],
    evidence: str | None,
    key: str | None,
    signer: str,
    catalog: Path | None,
) -> int:
    """Judge a release against the selected controls. Exit 0 pass, 1 fail, 2 input error."""
    from compliance.errors import UsageError

    stdout, to_files = parse_outputs(formats_, outputs, formats.names())
    if evidence and not key:
        raise UsageError("--evidence needs --key")
    # A key given without a packet to sign would sign nothing while looking as if it did.
    if key and not evidence:
        raise UsageError("--key signs the evidence packet: give --evidence OUT too")
    if not evidence and click.get_current_context().get_parameter_source("signer") is click.core.ParameterSource.COMMANDLINE:
        raise UsageError("--signer signs the evidence packet: give --evidence OUT and --key too")
    opening = None
    if evidence and key:
        from compliance.evidence.writer import check_destination
        from compliance.runs.evidence_run import SignerOpening

        check_destination(evidence)  # before the gate runs, not after
        opening = SignerOpening(signer, key)  # decrypts the key while the gate runs
    run = run_gate(
        GateOptions(
            profiles=list(profiles), closure=closure, sbom=sbom, facts=facts, flake=flake, nix_file=nix_file,
            nix_attr=nix_attr, flake_lock=flake_lock, kernel_config=kernel_config, vulns=list(vulns),
            waivers=waivers, policy=policy, store=store, commit=commit, catalog=catalog,
            generate_sbom=not no_generate_sbom, attestations=list(attestations), attestation_key=attestation_key,
        )
    )
    rendered = {fmt: formats.render(fmt, run.report) for fmt in {*stdout, *to_files}}
    if evidence and key and opening:
        from compliance.runs.evidence_run import build_packet

        build_packet(run, evidence, key_path=key, signer=signer, signing=opening.result())
    write_outputs(rendered, stdout, to_files)
    return 0 if run.report.decision.passed else 1


COMMANDS = [gate_command]

"""The gate's data flow, as a library call: inputs → subject → selection → engine →
assessment → waivers and policy → decision. The CLI is a thin layer over :func:`run_gate`;
the evidence packet is built from the :class:`GateRun` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from compliance.assess import assessment as assessment_mod
from compliance.assess import engine
from compliance.assess import gate_decision as gate
from compliance.assess.locations import place_results
from compliance.catalog import standing
from compliance.catalog.loader import Catalog, load_catalog
from compliance.catalog.selection import Selection, select
from compliance.checks.predicate_subject import Subject
from compliance.errors import CheckError, UsageError
from compliance.formats.console import progress
from compliance.inputs.closure import read_closure
from compliance.inputs.documents import read_policy, read_waivers
from compliance.inputs.facts import parse_facts
from compliance.inputs.flakelock import parse_flake_lock
from compliance.inputs.kernelconfig import parse_kernel_config
from compliance.inputs.sbom import parse_sbom
from compliance.models.control import CheckKind
from compliance.models.policy import Policy, Waiver
from compliance.models.results import GateReport
from compliance.models.run_options import (
    catalog_dir_option,
    option,
    profiles_option,
    quiet_option,
    verbose_option,
)
from compliance.models.subject import InputRef
from compliance.runs import attestation_files as attestations
from compliance.runs.validate_run import check_policy_controls, check_waiver_controls
from compliance.signing.keys import PublicKey, parse_public_key
from compliance.util import clock
from compliance.util.fsutil import parse_json, read_bytes


@dataclass
class GateOptions:
    """Everything ``compliance gate`` takes, declared once: the CLI's options are built
    from these fields (:func:`compliance.cli.options.click_options`)."""

    profiles: list[str] = field(default_factory=list, metadata=profiles_option())
    closure: str | None = field(default=None, metadata=option(
        "--closure", metavar="X", help="Closure: path-info JSON, a store path listing, or a store path / result link (asks nix)."))
    sbom: str | None = field(default=None, metadata=option(
        "--sbom", metavar="F", help="SBOM (CycloneDX JSON, SPDX JSON or tag-value). Generated from the closure when omitted."))
    facts: str | None = field(default=None, metadata=option(
        "--facts", metavar="F", help="NixOS configuration facts (JSON, from 'compliance facts')."))
    flake: str | None = field(default=None, metadata=option(
        "--flake", metavar="REF#HOST", help="Evaluate the facts from nixosConfigurations.HOST of a flake."))
    nix_file: str | None = field(default=None, metadata=option(
        "--nix-file", metavar="F", help="Evaluate the facts from a Nix file (its value, or its .config)."))
    nix_attr: str | None = field(default=None, metadata=option(
        "--attr", metavar="A", help="Attribute path inside --nix-file."))
    flake_lock: str | None = field(default=None, metadata=option(
        "--flake-lock", metavar="F", help="flake.lock of the release (dates the nixpkgs input)."))
    kernel_config: str | None = field(default=None, metadata=option(
        "--kernel-config", metavar="F", help="Kernel .config, when the closure does not carry one."))
    vulns: list[str] = field(default_factory=list, metadata=option(
        "--vulns", metavar="F", help="Vulnerability report or VEX (repeatable)."))
    waivers: str | None = field(default=None, metadata=option(
        "--waivers", metavar="F", help="Waiver file (TOML or JSON)."))
    policy: str | None = field(default=None, metadata=option(
        "--policy", metavar="F", help="Gate policy (TOML or JSON): which severities block."))
    attestations: list[str] = field(default_factory=list, metadata=option(
        "--attestations", metavar="F", help="Signed attestation file for clauses no machine can check (repeatable)."))
    attestation_key: str | None = field(default=None, metadata=option(
        "--attestation-key", metavar="PUB", help="Public key the attestations must be signed with."))
    store: str | None = field(default=None, metadata=option(
        "--store", metavar="DIR", help="Nix store to query for a live closure (a chroot store)."))
    commit: str | None = field(default=None, metadata=option(
        "--commit", metavar="REV", help="VCS commit the release was built from."))
    generate_sbom: bool = field(default=True, metadata=option(
        "--no-generate-sbom", inverted=True, help="Do not generate an SBOM from the closure when --sbom is omitted."))
    formats: list[str] = field(default_factory=list, metadata=option(
        "--format", "-f", metavar="FMT", help="Output format: text, json, junit, junit-strict, sarif, markdown, oscal (repeatable)."))
    outputs: list[str] = field(default_factory=list, metadata=option(
        "--output", "-o", metavar="[FMT=]F", help="Write a format to a file instead of standard output (repeatable)."))
    evidence: str | None = field(default=None, metadata=option(
        "--evidence", metavar="OUT", help="Also write a signed evidence packet (directory, or OUT.tar.gz)."))
    key: str | None = field(default=None, metadata=option(
        "--key", metavar="K", help="Signing key for --evidence (cosign-compatible; password in COSIGN_PASSWORD)."))
    signer: str | None = field(default=None, metadata=option(
        "--signer", choices=("native", "cosign"), help="Sign natively (the default) or through a cosign binary."))
    previous: str | None = field(default=None, metadata=option(
        "--previous", metavar="OLD", help="The previous release's packet: the report gets a section of the changes since it."))
    previous_key: str | None = field(default=None, metadata=option(
        "--previous-key", metavar="PUB", help="Public key OLD must verify with (default: the public half of --key)."))
    catalog: Path | None = field(default=None, metadata=catalog_dir_option())
    quiet: bool = field(default=False, metadata=quiet_option())
    verbose: bool = field(default=False, metadata=verbose_option())


@dataclass(frozen=True)
class LoadedInput:
    """An input as the gate read it: its reference (kind, path, digest) and its bytes, for the evidence packet."""
    ref: InputRef
    data: bytes


@dataclass
class GateRun:
    """What a gate run produced: the report, and the subject, selection, catalog and inputs the packet is built from."""
    report: GateReport
    subject: Subject
    selection: Selection
    catalog: Catalog
    policy: Policy
    waivers: list[Waiver]
    inputs: list[LoadedInput]


def _load(kind: str, path: str, loaded: list[LoadedInput], *, what: str) -> bytes:
    data = read_bytes(path, what=what)
    loaded.append(LoadedInput(assessment_mod.input_ref(kind, path, data), data))
    return data


def load_subject(opts: GateOptions, selection: Selection, loaded: list[LoadedInput]) -> Subject:
    """Read every input the options name into the subject, generating the SBOM from the closure when a selected check needs one."""
    subject = Subject(commit=opts.commit)
    if opts.closure:
        with progress(f"reading the closure {opts.closure}"):
            closure, data = read_closure(opts.closure, store=opts.store)
        subject.closure = closure
        loaded.append(LoadedInput(assessment_mod.input_ref("closure", opts.closure, data), data))
    if opts.sbom:
        with progress(f"reading the SBOM {opts.sbom}"):
            subject.sbom = parse_sbom(_load("sbom", opts.sbom, loaded, what="SBOM file"), opts.sbom)
    elif subject.closure is not None and opts.generate_sbom and _needs_sbom(selection):
        with progress("writing an SBOM from the closure"):
            generated = _generate_sbom(subject)
            subject.sbom = parse_sbom(generated, "sbom (generated from the closure)")
        loaded.append(LoadedInput(assessment_mod.input_ref("sbom-generated", "sbom.generated.cdx.json", generated), generated))
        subject.notes.append("no SBOM was given: the SBOM was generated from the closure")
    if opts.facts and (opts.flake or opts.nix_file):
        raise UsageError("give either --facts or --flake/--nix-file, not both")
    if opts.facts:
        subject.facts = parse_facts(parse_json(_load("facts", opts.facts, loaded, what="facts file"), opts.facts), opts.facts)
    elif opts.flake or opts.nix_file:
        from compliance.inputs.facts_eval import evaluate_facts

        with progress(f"evaluating the facts from {opts.flake or opts.nix_file} with nix eval"):
            doc = evaluate_facts(option_paths(selection), flake=opts.flake, nix_file=opts.nix_file, attr=opts.nix_attr)
        data = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
        source = opts.flake or opts.nix_file or "facts"
        loaded.append(LoadedInput(assessment_mod.input_ref("facts-evaluated", "facts.json", data), data))
        subject.facts = parse_facts(doc, f"facts evaluated from {source}")
        subject.notes.append(f"facts were evaluated from {source} with nix eval")
    if opts.flake_lock:
        subject.flake_lock = parse_flake_lock(parse_json(_load("flake-lock", opts.flake_lock, loaded, what="flake.lock"), opts.flake_lock), opts.flake_lock)
    if opts.kernel_config:
        data = _load("kernel-config", opts.kernel_config, loaded, what="kernel configuration")
        subject.kernel_config = parse_kernel_config(data.decode("utf-8", "replace"), opts.kernel_config)
    if opts.vulns:
        from compliance.inputs.scanners import load_vulnerability_reports

        with progress("reading the vulnerability reports"):
            subject.vulnerabilities = load_vulnerability_reports(
                [(path, _load("vulnerabilities", path, loaded, what="vulnerability report")) for path in opts.vulns]
            )
    if subject.commit is None and subject.facts is not None:
        from compliance.inputs.facts import lookup_or

        try:
            revision = lookup_or(subject.facts, "system.configurationRevision", None)
        except CheckError:  # it threw: the subject names no commit; controls reading it say why
            revision = None
        if isinstance(revision, str) and revision:
            subject.commit = revision
    subject.inputs = [item.ref for item in loaded]
    return subject


def _needs_sbom(selection: Selection) -> bool:
    from compliance.checks import registry

    for selected in selection.controls:
        for check in selected.control.checks_of(CheckKind.STATIC):
            spec = registry.get(CheckKind.STATIC, check.function)
            if spec is not None and "sbom" in spec.needs:
                return True
    return False


def _generate_sbom(subject: Subject) -> bytes:
    from compliance.sbomgen.sbom_files import write_sbom

    assert subject.closure is not None
    return write_sbom(subject.closure, "cyclonedx")


def option_paths(selection: Selection) -> list[str]:
    """The NixOS options the selected static checks read (what ``compliance facts`` evaluates)."""
    from compliance.checks import registry

    paths: set[str] = {"system.configurationRevision", "system.nixos.version"}
    for selected in selection.controls:
        for check in selected.control.checks_of(CheckKind.STATIC):
            spec = registry.get(CheckKind.STATIC, check.function)
            if spec is not None:
                paths.update(spec.facts_read(selected.params_for(CheckKind.STATIC, check.function)))
    return sorted(paths)


def _read_attestations(opts: GateOptions, loaded: list[LoadedInput]) -> tuple[PublicKey, list[tuple[str, list[Any]]]] | None:
    """The trusted key and the entries of each signed attestation file (checked later,
    at the assessment's time); an unreadable file or key is an input error."""
    if not opts.attestations:
        if opts.attestation_key:
            raise UsageError("--attestation-key is only used with --attestations")
        return None
    if not opts.attestation_key:
        raise UsageError("--attestations needs --attestation-key: the public key the attestations are signed with")
    key = parse_public_key(_load("attestation-key", opts.attestation_key, loaded, what="public key"), opts.attestation_key)
    files = [(path, attestations.signed_entries(_load("attestations", path, loaded, what="attestation file"), path)) for path in opts.attestations]
    return key, files


def run_gate(opts: GateOptions) -> GateRun:
    """The gate's data flow: inputs, subject, selection, engine, assessment, waivers and policy, decision."""
    catalog = load_catalog(opts.catalog)
    selection = select(catalog, opts.profiles, CheckKind.STATIC)
    loaded: list[LoadedInput] = []
    policy = read_policy(opts.policy, _load("policy", opts.policy, loaded, what="policy file")) if opts.policy else Policy()
    waivers = read_waivers(opts.waivers, _load("waivers", opts.waivers, loaded, what="waiver file")) if opts.waivers else []
    check_waiver_controls(waivers, catalog, opts.waivers or "waivers")
    check_policy_controls(policy, catalog, opts.policy or "policy")
    if not (opts.closure or opts.sbom or opts.facts or opts.flake or opts.nix_file):
        raise UsageError("nothing to assess: give --closure, --sbom or --facts (see 'compliance gate --help')")
    attested = _read_attestations(opts, loaded)
    subject = load_subject(opts, selection, loaded)
    results = engine.evaluate(selection, CheckKind.STATIC, subject)
    assessed = assessment_mod.build(
        selection=selection,
        results=results,
        subject=assessment_mod.closure_subject(subject),
        inputs=[item.ref for item in loaded],
        catalog_digest=catalog.digest,
        mode=CheckKind.STATIC,
        created=clock.now(),
        notes=subject.notes,
    )
    if attested is not None:
        key, files = attested
        outcomes = [o for path, entries in files for o in attestations.verify_entries(entries, path, key, catalog, assessed.created)]
        assessed = attestations.record(assessed, outcomes)
    waived = standing.assess_clauses(catalog, gate.apply_waivers(assessed, waivers, policy))
    waived = place_results(waived, selection, subject, [(item.ref, item.data) for item in loaded], Path.cwd())
    decision = gate.decide(waived, policy)
    applied = gate.policy_applied(waived, decision, policy, waivers, opts.policy)
    return GateRun(GateReport(assessment=waived, decision=decision, policy=applied), subject, selection, catalog, policy, waivers, loaded)

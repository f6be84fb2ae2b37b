"""``compliance gate`` end to end: check the outputs, run the gate, sign the packet, write,
and say the verdict on standard error.

The order is the contract's: every usage error before any work (a typo in ``-o`` costs no
gate run), the signing key decrypted while the gate runs, the packet built from the same
run the formats render, then every output file written all or none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compliance import formats
from compliance.errors import UsageError
from compliance.formats.console import gate_verdict, outputs_written, print_verdict
from compliance.runs.gate_run import GateOptions, GateRun, run_gate
from compliance.runs.outputs import parse_outputs, write_outputs

if TYPE_CHECKING:
    from compliance.runs.evidence_run import SignerOpening


def gate_command(opts: GateOptions) -> tuple[GateRun, int]:
    """Run the gate as the command does; returns the run and the exit code (0 pass, 1 fail)."""
    stdout, to_files = parse_outputs(tuple(opts.formats), tuple(opts.outputs), formats.names())
    if opts.evidence and not opts.key:
        raise UsageError("--evidence needs --key")
    # A key given without a packet to sign would sign nothing while looking as if it did.
    if opts.key and not opts.evidence:
        raise UsageError("--key signs the evidence packet: give --evidence OUT too")
    if opts.signer is not None and not opts.evidence:
        raise UsageError("--signer signs the evidence packet: give --evidence OUT and --key too")
    if (opts.previous or opts.previous_key) and not opts.evidence:
        raise UsageError("--previous adds a section to the packet's report: give --evidence OUT and --key too")
    if opts.previous_key and not opts.previous:
        raise UsageError("--previous-key verifies the packet given with --previous")
    signer = opts.signer or "native"
    opening: SignerOpening | None = None
    if opts.evidence and opts.key:
        # The packet builder (report renderer, signing) is imported only when a packet is asked
        # for: a plain gate does not pay for it at start-up.
        from compliance.evidence.writer import check_destination
        from compliance.runs.evidence_run import SignerOpening

        check_destination(opts.evidence)  # before the gate runs, not after
        opening = SignerOpening(signer, opts.key)  # decrypts the key while the gate runs
    try:
        run = run_gate(opts)
    except BaseException:
        if opening is not None:
            opening.wait()  # never end the process inside the crypto library
        raise
    rendered = {fmt: formats.render(fmt, run.report) for fmt in {*stdout, *to_files}}
    if opts.evidence and opts.key and opening:
        from compliance.runs.evidence_run import build_packet

        signing = opening.result()
        changes = None
        if opts.previous:  # imported here: the comparison's stack costs the plain gate nothing
            from compliance.runs.diff_run import Trust, gate_changes
            from compliance.signing.keys import load_public_key

            key = load_public_key(opts.previous_key) if opts.previous_key else signing.public_key
            changes = gate_changes(run, opts.previous, Trust(key))
        build_packet(run, opts.evidence, key_path=opts.key, signer=signer, signing=signing, changes=changes)
    write_outputs(rendered, stdout, to_files)
    written = outputs_written(to_files, [("evidence", opts.evidence)] if opts.evidence else [])
    print_verdict(gate_verdict(run.report, run.policy, written), quiet=opts.quiet, verbose=opts.verbose)
    return run, 0 if run.report.decision.passed else 1

"""``compliance promote``: verify a wave's host reports and decide promote, hold or roll back."""

from __future__ import annotations

import click

from compliance.errors import UsageError

FORMATS = ["text", "json", "dsse"]


@click.command("promote")
@click.option("--wave", "wave_path", required=True, metavar="F", help="Wave file (JSON or TOML): wave id, nonce, hosts with keys and expected closures.")
@click.option("--reports", required=True, metavar="DIR", help="Folder of the hosts' reports (probe reports; nixfleet evidence.json with its .sig).")
@click.option("--nonce", required=True, metavar="N", help="The wave's nonce, as issued to the probes (must be the wave file's).")
@click.option("--policy", "policy_path", metavar="F", help="Promotion policy (TOML or JSON). Default: every host reports within the hour; critical and high failures roll back, medium ones and errors hold.")
@click.option("--format", "formats", multiple=True, metavar="FMT", help="Decision on standard output: text (default) or json.")
@click.option("--output", "-o", "outputs", multiple=True, metavar="[FMT=]F",
              help="Write the decision to F: text, json, or dsse (signed with --key). Repeatable.")
@click.option("--key", metavar="K", help="Signing key for the dsse decision (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--serve", "serve_address", metavar="HOST:PORT",
              help="Serve instead: POST /reports stores a report in DIR, GET /decision answers the decision.")
def promote_command(
    wave_path: str,
    reports: str,
    nonce: str,
    policy_path: str | None,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    key: str | None,
    serve_address: str | None,
) -> int:
    """Verify each host's report with its key from the wave file, check it is bound to this
    wave's nonce, the host and its expected closure, and fresh; apply the policy.

    Exit 0 promote, 1 roll back, 3 hold (evidence missing, not yet fresh, or invalid), 2 error.
    """
    from compliance.promote.render import render_decision_text
    from compliance.promote.session import PromotionGate
    from compliance.promote.signed_decision import sign_decision
    from compliance.promote.wave_decision import decision_json
    from compliance.runs.outputs import parse_outputs, write_outputs
    from compliance.signing.keys import NativeSigner
    from compliance.util import clock

    if serve_address is not None and (formats or outputs):
        raise UsageError("--serve answers over HTTP: --format and --output do not apply")
    stdout, to_files = ([], {}) if serve_address is not None else parse_outputs(formats, outputs, FORMATS)
    if "dsse" in stdout:
        raise UsageError("the signed decision is written to a file: -o dsse=FILE")
    if "dsse" in to_files and key is None:
        raise UsageError("-o dsse=FILE (a signed decision) needs --key")
    gate = PromotionGate.load(wave_path, reports, nonce, policy_path)
    signer = NativeSigner.from_file(key) if key is not None else None
    if serve_address is not None:
        from compliance.promote.serve import parse_address, serve

        return serve(gate, parse_address(serve_address), signer)
    decision = gate.decide(clock.now())
    wanted = set(stdout) | set(to_files)
    rendered: dict[str, bytes] = {}
    if "text" in wanted:
        rendered["text"] = render_decision_text(decision)
    if "json" in wanted:
        rendered["json"] = decision_json(decision)
    if "dsse" in wanted and signer is not None:
        rendered["dsse"] = sign_decision(decision, signer)
    write_outputs(rendered, stdout, to_files)
    return decision.exit_code


COMMANDS = [promote_command]

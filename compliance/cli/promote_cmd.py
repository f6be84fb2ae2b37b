"""``compliance promote``: verify a wave's host reports and decide promote, hold or roll back."""

from __future__ import annotations

from typing import Any

import click

from compliance.cli.options import verbosity_options
from compliance.errors import UsageError

FORMATS = ["text", "json", "dsse", "nixfleet-events"]
SERVE_ONLY = ("tls_cert", "tls_key", "client_ca", "token_file", "agent_token_file", "quarantine")


@click.command("promote")
@click.option("--wave", "wave_path", required=True, metavar="F", help="Wave file (JSON or TOML): wave id, nonce, hosts with keys and expected closures.")
@click.option("--reports", required=True, metavar="DIR", help="Folder of the hosts' reports (probe reports; nixfleet evidence.json with its .sig).")
@click.option("--nonce", required=True, metavar="N", help="The wave's nonce, as issued to the probes (must be the wave file's).")
@click.option("--policy", "policy_path", metavar="F", help="Promotion policy (TOML or JSON). Default: every host reports within the hour; critical and high failures roll back, medium ones and errors hold.")
@click.option("--format", "formats", multiple=True, metavar="FMT", help="Decision on standard output: text (default), json or nixfleet-events.")
@click.option("--output", "-o", "outputs", multiple=True, metavar="[FMT=]F",
              help="Write the decision to F: text, json, dsse (signed with --key), or nixfleet-events (JSON Lines of nixfleet compliance-failure / runtime-gate-error reports). Repeatable.")
@click.option("--key", metavar="K", help="Signing key for the dsse decision (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--serve", "serve_address", metavar="HOST:PORT",
              help="Serve instead (the report service): GET /wave, POST /reports (verified reports are stored in DIR), GET /decision.")
@click.option("--tls-cert", metavar="F", help="--serve over HTTPS: the server's certificate (PEM, with its chain).")
@click.option("--tls-key", metavar="F", help="--serve over HTTPS: the certificate's private key (PEM).")
@click.option("--client-ca", metavar="F", help="--serve with mutual TLS: every client must present a certificate this CA signed.")
@click.option("--token-file", metavar="F", help="--serve: bearer tokens (one a line) that may read the decision.")
@click.option("--agent-token-file", metavar="F", help="--serve: bearer tokens that GET /wave and POST /reports then need too.")
@click.option("--quarantine", metavar="DIR", help="--serve: where refused uploads are kept. Default: DIR/.quarantine.")
@click.option("--quarantine-limit", type=click.IntRange(min=0), default=10_000, show_default=True,
              help="--serve: files kept in quarantine at most; further refused uploads are only counted.")
@click.option("--max-report-bytes", type=click.IntRange(min=1024), default=16 << 20, show_default=True,
              help="--serve: largest upload accepted (413 beyond).")
@click.option("--body-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="--serve: seconds to receive a request's head (then the connection is closed), and then its body (408).")
@click.option("--keep-alive", type=click.IntRange(min=1), default=15, show_default=True,
              help="--serve: seconds an idle connection stays open.")
@click.option("--max-connections", type=click.IntRange(min=1), default=1000, show_default=True,
              help="--serve: concurrent connections and requests at most (503 beyond).")
@click.option("--graceful-timeout", type=click.IntRange(min=0), default=30, show_default=True,
              help="--serve: seconds in-flight requests get to finish on SIGTERM.")
@verbosity_options
def promote_command(
    wave_path: str,
    reports: str,
    nonce: str,
    policy_path: str | None,
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    key: str | None,
    serve_address: str | None,
    quiet: bool,
    verbose: bool,
    **service: Any,
) -> int:
    """Verify each host's report with its key from the wave file, check it is bound to this
    wave's nonce, the host and its expected closure, and fresh; apply the policy.

    Exit 0 promote, 1 roll back, 3 hold (evidence missing, not yet fresh, or invalid), 2 error.
    """
    from compliance.formats.console import outputs_written, print_verdict
    from compliance.promote.render import decision_verdict, render_decision_text
    from compliance.promote.session import PromotionGate
    from compliance.promote.signed_decision import sign_decision
    from compliance.promote.wave_decision import decision_json
    from compliance.runs.outputs import parse_outputs, write_outputs
    from compliance.signing.keys import NativeSigner
    from compliance.util import clock

    if serve_address is not None and (formats or outputs):
        raise UsageError("--serve answers over HTTP: --format and --output do not apply")
    if serve_address is None and any(v is not None for k, v in service.items() if k in SERVE_ONLY):
        raise UsageError("--tls-cert, --tls-key, --client-ca, --token-file, --agent-token-file and --quarantine need --serve")
    stdout, to_files = ([], {}) if serve_address is not None else parse_outputs(formats, outputs, FORMATS)
    if "dsse" in stdout:
        raise UsageError("the signed decision is written to a file: -o dsse=FILE")
    if "dsse" in to_files and key is None:
        raise UsageError("-o dsse=FILE (a signed decision) needs --key")
    gate = PromotionGate.load(wave_path, reports, nonce, policy_path)
    signer = NativeSigner.from_file(key) if key is not None else None
    if serve_address is not None:
        from compliance.promote.serve import ServiceOptions, parse_address, read_tokens, serve

        files = {k: service.pop(k) for k in ("token_file", "agent_token_file")}
        tokens = {k: read_tokens(f, f"--{k.replace('_', '-')}") if f else () for k, f in files.items()}
        options = ServiceOptions(address=parse_address(serve_address), read_tokens=tokens["token_file"],
                                 agent_tokens=tokens["agent_token_file"], **service)
        return serve(gate, options, signer)
    decision = gate.decide(clock.now())
    wanted = set(stdout) | set(to_files)
    rendered: dict[str, bytes] = {}
    if "text" in wanted:
        rendered["text"] = render_decision_text(decision)
    if "json" in wanted:
        rendered["json"] = decision_json(decision)
    if "dsse" in wanted and signer is not None:
        rendered["dsse"] = sign_decision(decision, signer)
    if "nixfleet-events" in wanted:
        from compliance.promote.nixfleet_events import nixfleet_events_jsonl

        rendered["nixfleet-events"] = nixfleet_events_jsonl(decision)
    write_outputs(rendered, stdout, to_files)
    print_verdict(decision_verdict(decision, outputs_written(to_files)), quiet=quiet, verbose=verbose)
    return decision.exit_code


COMMANDS = [promote_command]

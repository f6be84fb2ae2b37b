"""Predicates over network services the configuration declares: which TLS versions they accept."""

from __future__ import annotations

from typing import Annotated

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, predicate, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.inputs.facts import lookup
from compliance.models.params import INTERSECTION, MERGE_FIXED, Params

# enable option of a TLS server → the option listing the protocol versions it accepts
# (space-separated, as nginx's ssl_protocols directive, or a list).
DEFAULT_TLS_SERVICES = {"services.nginx.enable": "services.nginx.sslProtocols"}


class TlsProtocolParams(Params):
    tls_services: Annotated[dict[str, str], MERGE_FIXED] = DEFAULT_TLS_SERVICES
    allowed_protocols: Annotated[list[str], INTERSECTION] = ["TLSv1.2", "TLSv1.3"]


def _reads(params: TlsProtocolParams) -> list[str]:
    return sorted({*params.tls_services, *params.tls_services.values()})


@predicate("tls_protocol_versions", params=TlsProtocolParams, reads=_reads)
def tls_protocol_versions(subject: Subject, params: TlsProtocolParams) -> Outcome:
    """Each enabled TLS server of the configuration accepts only the allowed protocol versions.

    SSL 3, TLS 1.0 and TLS 1.1 have known weaknesses and are deprecated (RFC 8996); a
    server that still offers them lets a client, or an attacker in the path, use them.
    Servers that are not enabled are not judged; when none is, the control does not apply.
    """
    facts = subject.need_facts()
    enabled: dict[str, list[str]] = {}
    for enable_option, protocols_option in sorted(params.tls_services.items()):
        if lookup(facts, enable_option) is not True:
            continue
        value = lookup(facts, protocols_option)
        if isinstance(value, str):
            protocols = value.split()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            protocols = list(value)
        else:
            raise CheckError(f"{protocols_option} is neither a string nor a list of protocol names")
        enabled[protocols_option] = protocols
    if not enabled:
        raise NotApplicable(f"no TLS server enabled among {', '.join(sorted(params.tls_services))}")
    allowed = set(params.allowed_protocols)
    bad = {option: [p for p in protocols if p not in allowed] for option, protocols in enabled.items()}
    bad = {k: v for k, v in bad.items() if v}
    empty = [k for k, v in enabled.items() if not v]
    problems = [f"{k} accepts {', '.join(v)}" for k, v in bad.items()] + [f"{k} lists no protocol" for k in empty]
    return verdict(
        not problems,
        "TLS servers accept only " + ", ".join(sorted({p for v in enabled.values() for p in v})),
        "; ".join(problems) + f" (allowed: {', '.join(params.allowed_protocols)})",
        protocols=enabled,
        disallowed=bad,
    )

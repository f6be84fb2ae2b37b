"""Judges that a static predicate and a runtime probe share.

The same expectation (a sysctl baseline, an sshd setting) is judged the same way whether
its value came from the NixOS configuration or from the running host, so the judgement
lives here, below both, and each side only gathers the values.
"""

from __future__ import annotations

from typing import Annotated, Any

from compliance.checks.registry import Outcome, failed, passed, verdict
from compliance.errors import CheckError
from compliance.models.params import BOUNDS, INTERSECTION, Bound, Params, merge

# OpenSSH's compiled-in defaults (sshd_config(5)) for settings NixOS leaves unset: an
# unset setting is not "unknown", it is this value.
OPENSSH_DEFAULTS: dict[str, str] = {
    "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes",
    "kbdinteractiveauthentication": "yes",
    "permitemptypasswords": "no",
    "pubkeyauthentication": "yes",
    "x11forwarding": "no",
    "permituserenvironment": "no",
    "allowtcpforwarding": "yes",
    "allowagentforwarding": "yes",
    "permittunnel": "no",
    "maxauthtries": "6",
    "logingracetime": "120",
    "clientaliveinterval": "0",
    "clientalivecountmax": "3",
    "loglevel": "INFO",
    "authenticationmethods": "any",
}


def sshd_value(value: Any) -> str:
    """NixOS writes booleans for yes/no settings; sshd -T prints lower-case words."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ",".join(sshd_value(v) for v in value)
    return str(value).strip().lower()


class SshdParams(Params):
    # setting (case-insensitive, as in sshd_config) → allowed values ("no", "yes", ...)
    """Parameters of an sshd comparison: each setting with the values it may have."""
    expected: Annotated[dict[str, list[str]], merge(INTERSECTION)] = {}


def compare_sshd(effective: dict[str, str], params: SshdParams, source: str) -> Outcome:
    """Judge effective sshd settings against their allowed values; an unknown setting with no default is an error."""
    mismatches: dict[str, dict[str, Any]] = {}
    observed: dict[str, str] = {}
    for setting, allowed in sorted(params.expected.items()):
        key = setting.lower()
        if key not in effective:
            raise CheckError(f"sshd setting {setting} is unknown in {source} and has no known default")
        value = effective[key]
        observed[setting] = value
        # sshd reads keyword arguments case-insensitively; sshd -T prints some upper case (INFO)
        if value.lower() not in {a.lower() for a in allowed}:
            mismatches[setting] = {"value": value, "allowed": allowed}
    return verdict(
        not mismatches,
        f"sshd settings as required in {source}",
        "sshd: " + "; ".join(f"{k} is {v['value']!r}, expected {' or '.join(v['allowed'])}" for k, v in mismatches.items()),
        settings=observed,
        mismatches=mismatches,
        source=source,
    )



class SysctlParams(Params):
    # sysctl key → expectation: "2" (exactly), ">=1" (at least), "<=0" (at most), or a
    # non-numeric string compared verbatim (white space normalised).
    """Parameters of a sysctl baseline: each key with its expectation."""
    expected: Annotated[dict[str, str], merge(BOUNDS)] = {}


def judge_sysctl(values: dict[str, Any], params: SysctlParams, source: str, unset: str) -> Outcome:
    """Compare observed sysctl values with their expectations; ``unset`` words a missing key."""
    mismatches: dict[str, dict[str, Any]] = {}
    seen: dict[str, Any] = {}
    for key, expectation in sorted(params.expected.items()):
        if key not in values:
            mismatches[key] = {"value": None, "expected": expectation, "problem": unset}
            continue
        value = values[key]
        seen[key] = value
        if not sysctl_matches(value, expectation):
            mismatches[key] = {"value": value, "expected": expectation}
    if mismatches:
        details = "; ".join(
            f"{k} {v.get('problem') or 'is ' + repr(v['value'])}, expected {v['expected']}" for k, v in mismatches.items()
        )
        return failed(f"{len(mismatches)} of {len(params.expected)} sysctls off baseline: {details}", values=seen, mismatches=mismatches, source=source)
    return passed(f"all {len(params.expected)} sysctls meet the baseline", values=seen, mismatches={}, source=source)


def sysctl_matches(value: Any, expectation: str) -> bool:
    """Whether a sysctl value meets an expectation (exact, bound, or verbatim text)."""
    if isinstance(value, bool):
        value = int(value)
    try:
        bound = Bound.parse(expectation)
    except ValueError:
        return " ".join(str(value).split()) == " ".join(expectation.split())
    try:
        return bound.accepts(int(str(value).strip()))
    except ValueError:
        return False

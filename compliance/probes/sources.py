"""Inputs several probes share, read the right way for the kind of host.

On a live host the kernel is asked (``/proc/sys``, ``/proc/cmdline``); on an offline root
the same questions are answered from the configuration at rest that the system applies
when it boots (``sysctl.d`` with systemd-sysctl's precedence, the system profile's
``kernel-params``, systemd drop-ins). The ``source`` each helper returns names where the
value came from, and ends up in the result, so a reader knows which of the two was judged.
"""

from __future__ import annotations

import math
import re

from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request

# systemd-sysctl(8): a file name in an earlier folder masks the same name in later ones;
# files apply in lexical order of their names, later assignments win.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
SYSTEM_PROFILE = "/nix/var/nix/profiles/system"
KERNEL_PARAMS = SYSTEM_PROFILE + "/kernel-params"


def proc_sys_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def sysctl_requests(host: Host, keys: list[str]) -> list[Request]:
    if host.live:
        return [ReadFile(proc_sys_path(k)) for k in keys]
    return [ListDir(d) for d in SYSCTL_DIRS]


def configured_sysctls(host: Host) -> dict[str, str]:
    """key → value that systemd-sysctl would apply from the root's sysctl.d folders."""
    chosen: dict[str, str] = {}
    for folder in SYSCTL_DIRS:
        for name in host.listdir(folder) or []:
            if name.endswith(".conf") and name not in chosen:
                chosen[name] = f"{folder}/{name}"
    host.prefetch(ReadFile(p) for p in chosen.values())
    values: dict[str, str] = {}
    for name in sorted(chosen):
        for raw in (host.read_text(chosen[name]) or "").splitlines():
            line = raw.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, _, value = line.partition("=")
            values[key.strip().lstrip("-").replace("/", ".")] = " ".join(value.split())
    return values


def read_sysctls(host: Host, keys: list[str]) -> tuple[dict[str, str], str, str]:
    """(values found, source, how to word a key without a value)."""
    if host.live:
        host.prefetch(sysctl_requests(host, keys))
        values: dict[str, str] = {}
        for key in keys:
            text = host.read_text(proc_sys_path(key))
            if text is not None:
                values[key] = " ".join(text.split())
        return values, "/proc/sys", "does not exist on this kernel"
    configured = configured_sysctls(host)
    return {k: configured[k] for k in keys if k in configured}, "sysctl.d (offline root)", "is not configured in sysctl.d"


def kernel_params(host: Host) -> tuple[list[str], str]:
    """The kernel command line: the running kernel's, or the one the system profile boots with."""
    if host.live:
        text = host.read_text("/proc/cmdline")
        if text is None:
            raise CheckError("/proc/cmdline is missing")
        source = "/proc/cmdline"
    else:
        text = host.read_text(KERNEL_PARAMS)
        if text is None:
            raise NotApplicable(f"no {KERNEL_PARAMS} in the offline root (not a NixOS system profile)")
        source = KERNEL_PARAMS
    tokens = text.split()
    if "--" in tokens:  # what follows is for init, not the kernel
        tokens = tokens[: tokens.index("--")]
    return tokens, source


def param_value(tokens: list[str], key: str) -> str | None:
    """The value of the last ``key=value`` token (the kernel takes the last one)."""
    found = None
    for token in tokens:
        name, sep, value = token.partition("=")
        if name == key:
            found = value if sep else ""
    return found


def ini_settings(host: Host, main: str, dropin_dir: str, section: str) -> dict[str, str]:
    """Settings of a systemd-style INI file and its drop-ins (later files win)."""
    paths = [main] + [f"{dropin_dir}/{n}" for n in sorted(host.listdir(dropin_dir) or []) if n.endswith(".conf")]
    host.prefetch(ReadFile(p) for p in paths)
    return ini_section(host, paths, section)


def ini_section(host: Host, paths: list[str], section: str) -> dict[str, str]:
    """One section of systemd-style INI files read in order: a later assignment wins, an
    empty one resets the setting to its default (systemd's rule for unit files and
    drop-ins)."""
    values: dict[str, str] = {}
    for path in paths:
        current = None
        for raw in (host.read_text(path) or "").splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip()
                continue
            if current == section and "=" in line:
                key, _, value = line.partition("=")
                key, value = key.strip(), value.strip()
                if value:
                    values[key] = value
                else:
                    values.pop(key, None)
    return values


def unit_enabled(host: Host, unit: str, targets: tuple[str, ...] = ("multi-user.target", "sysinit.target")) -> bool:
    """Whether a systemd unit is pulled in at boot by one of ``targets`` (a .wants link)."""
    for target in targets:
        for folder in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"):
            if unit in (host.listdir(f"{folder}/{target}.wants") or []):
                return True
    return False


# systemd's time span units (time-util.c), case-sensitive ("M" is a month, "m" a minute),
# in the order systemd tries them: the first that the text starts with is the unit.
_SPAN_UNITS: tuple[tuple[str, float], ...] = (
    ("seconds", 1), ("second", 1), ("sec", 1), ("s", 1),
    ("minutes", 60), ("minute", 60), ("min", 60),
    ("months", 2629800), ("month", 2629800), ("M", 2629800),
    ("msec", 1e-3), ("ms", 1e-3), ("m", 60),
    ("hours", 3600), ("hour", 3600), ("hr", 3600), ("h", 3600),
    ("days", 86400), ("day", 86400), ("d", 86400),
    ("weeks", 604800), ("week", 604800), ("w", 604800),
    ("years", 31557600), ("year", 31557600), ("y", 31557600),
    ("usec", 1e-6), ("us", 1e-6), ("\u03bcs", 1e-6), ("\u00b5s", 1e-6),
)
_SPAN_PART = re.compile(r"\s*\+?(\d+(?:\.\d+)?|\.\d+)\s*(" + "|".join(re.escape(u) for u, _ in _SPAN_UNITS) + r")?")
_UNIT_SECONDS = dict(_SPAN_UNITS)


def parse_timespan(text: str) -> float:
    """A systemd time span in seconds, as systemd parses it: a sum of numbers (decimals
    allowed), each with an optional unit (seconds without one), blanks optional between
    them ("600", "10min", "1d 12h", "1d12h", "0.5d"); ``infinity`` is ``math.inf``.
    Anything systemd would reject (a negative, an unknown unit, "1,5h", "5.") raises
    :class:`ValueError`."""
    stripped = text.strip()
    if stripped == "infinity":
        return math.inf
    if not stripped:
        raise ValueError(f"{text!r} is not a systemd time span")
    total, pos = 0.0, 0
    while pos < len(stripped):
        match = _SPAN_PART.match(stripped, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"{text!r} is not a systemd time span")
        if match.group(2) is None and match.end(1) < len(stripped) and not stripped[match.end(1)].isspace():
            raise ValueError(f"{text!r} is not a systemd time span")  # "1.5.5h": a number runs into another
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
        pos = match.end()
    return total


def timespan_seconds(text: str) -> float | None:
    """A systemd time span in seconds; None for infinity or nonsense (callers that must
    tell them apart use :func:`parse_timespan`)."""
    try:
        seconds = parse_timespan(text)
    except ValueError:
        return None
    return None if math.isinf(seconds) else seconds

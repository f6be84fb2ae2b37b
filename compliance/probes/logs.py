"""Probes of logging and time: the audit subsystem, the persistent journal, clock
synchronisation."""

from __future__ import annotations

from typing import Annotated

from ..errors import CheckError
from ..hosts.base import Host
from ..hosts.requests import ListDir, ListProcesses, ReadFile, Request, RunCommand
from ..models.params import HIGHER, LOWER, UNION, NoParams, Params
from ..registry import Outcome, failed, probe, verdict
from .plan import plans
from .sources import ini_settings, unit_enabled

# ---------------------------------------------------------------------------- audit

AUDIT_RULES = "/etc/audit/audit.rules"
AUDIT_RULES_D = "/etc/audit/rules.d"


class AuditParams(Params):
    min_audit_rules: Annotated[int, HIGHER] = 1
    audit_watches: Annotated[list[str], UNION] = []  # paths some rule must watch


@plans("auditd_rules")
def _plan_audit(host: Host, params: AuditParams) -> list[Request]:
    if host.live:
        return [ListProcesses(), RunCommand(("auditctl", "-s")), RunCommand(("auditctl", "-l"))]
    return [ReadFile(AUDIT_RULES), ListDir(AUDIT_RULES_D), ListDir("/etc/systemd/system/multi-user.target.wants")]


def _watched(rules: list[str], path: str) -> bool:
    for rule in rules:
        words = rule.split()
        if ("-w" in words and words.index("-w") + 1 < len(words) and words[words.index("-w") + 1] == path) or any(
            w in (f"path={path}", f"dir={path}") for w in words
        ):
            return True
    return False


@probe("auditd_rules", params=AuditParams)
def auditd_rules(host: Host, params: AuditParams) -> Outcome:
    """The audit daemon runs, kernel auditing is enabled, and the loaded rules watch the required files."""
    problems: list[str] = []
    if host.live:
        running = "auditd" in host.processes().values()
        if not running:
            problems.append("auditd is not running")
        status = host.run("auditctl", "-s")
        if status is None:
            return failed("auditctl is not installed: the audit subsystem is not managed", running=running)
        if status.exit_code != 0:
            raise CheckError(f"auditctl -s failed: {status.stderr}")
        fields = dict(line.split(" ", 1) for line in status.stdout.splitlines() if " " in line)
        enabled = fields.get("enabled", "0").strip()
        if enabled not in ("1", "2"):
            problems.append(f"kernel auditing is disabled (enabled {enabled})")
        listed = host.run("auditctl", "-l")
        if listed is None or listed.exit_code != 0:
            raise CheckError(f"auditctl -l failed: {listed.stderr if listed else 'not installed'}")
        rules = [ln.strip() for ln in listed.stdout.splitlines() if ln.strip().startswith("-")]
        source = "auditctl"
    else:
        running = unit_enabled(host, "auditd.service")
        if not running:
            problems.append("auditd.service is not enabled")
        enabled = "configured"
        paths = [AUDIT_RULES] + [f"{AUDIT_RULES_D}/{n}" for n in sorted(host.listdir(AUDIT_RULES_D) or []) if n.endswith(".rules")]
        host.prefetch(ReadFile(p) for p in paths)
        rules = [ln.strip() for p in paths for ln in (host.read_text(p) or "").splitlines() if ln.strip().startswith(("-a", "-w", "-A"))]
        source = "audit rules files (offline root)"
    if len(rules) < params.min_audit_rules:
        problems.append(f"{len(rules)} audit rules loaded, at least {params.min_audit_rules} required")
    unwatched = [p for p in params.audit_watches if not _watched(rules, p)]
    if unwatched:
        problems.append(f"not watched: {', '.join(unwatched)}")
    return verdict(not problems, f"auditd running with {len(rules)} rules", "; ".join(problems),
                   running=running, enabled=enabled, rule_count=len(rules), unwatched=unwatched, source=source)


# ---------------------------------------------------------------------------- journal

JOURNALD_CONF = "/etc/systemd/journald.conf"
JOURNALD_DROPINS = "/etc/systemd/journald.conf.d"


@plans("journald_persistent")
def _plan_journal(host: Host, params: NoParams) -> list[Request]:
    out: list[Request] = [ReadFile(JOURNALD_CONF), ListDir(JOURNALD_DROPINS), ListDir("/var/log/journal"), ReadFile("/etc/machine-id")]
    return [*out, ListProcesses()] if host.live else out


@probe("journald_persistent", params=NoParams)
def journald_persistent(host: Host, params: NoParams) -> Outcome:
    """The journal is kept on disk (Storage=persistent, or auto with /var/log/journal present), and on a live host journald writes it."""
    storage = ini_settings(host, JOURNALD_CONF, JOURNALD_DROPINS, "Journal").get("Storage", "auto").lower()
    folder = host.listdir("/var/log/journal")
    problems = []
    if storage in ("volatile", "none"):
        problems.append(f"journald Storage={storage}: logs are lost at reboot")
    elif storage == "auto" and folder is None:
        problems.append("journald Storage=auto and /var/log/journal does not exist: logs stay in memory")
    writing = None
    if host.live:
        if "systemd-journal" not in host.processes().values():
            problems.append("systemd-journald is not running")
        machine_id = (host.read_text("/etc/machine-id") or "").strip()
        writing = bool(machine_id) and machine_id in (folder or [])
        if not writing:
            problems.append(f"no persistent journal for this machine in /var/log/journal/{machine_id or '?'}")
    return verdict(not problems, f"journal persistent (Storage={storage})", "; ".join(problems), storage=storage, writing=writing)


# ---------------------------------------------------------------------------- time

SYNC_UNITS = ("chronyd.service", "chrony.service", "systemd-timesyncd.service", "ntpd.service", "ntp.service", "openntpd.service", "ntpsec.service")


class TimeParams(Params):
    max_offset_ms: Annotated[int, LOWER] = 100


@plans("time_synchronised")
def _plan_time(host: Host, params: TimeParams) -> list[Request]:
    if host.live:
        return [RunCommand(("timedatectl", "show")), RunCommand(("chronyc", "-c", "tracking"))]
    return [ListDir(f"{d}/multi-user.target.wants") for d in ("/etc/systemd/system",)]


@probe("time_synchronised", params=TimeParams)
def time_synchronised(host: Host, params: TimeParams) -> Outcome:
    """The clock is synchronised (timedated or chrony says so, within the offset); offline, a synchronisation service is enabled."""
    if not host.live:
        enabled = [u for u in SYNC_UNITS if unit_enabled(host, u)]
        return verdict(bool(enabled), f"time synchronisation enabled: {', '.join(enabled)}",
                       "no time synchronisation service is enabled", enabled=enabled, source="systemd units (offline root)")
    answers: dict[str, str] = {}
    chrony = host.run("chronyc", "-c", "tracking")
    if chrony is not None and chrony.exit_code == 0 and chrony.stdout.count(",") >= 13:
        fields = chrony.stdout.strip().split(",")
        offset_ms = abs(float(fields[4])) * 1000
        leap = fields[13]
        ok = leap == "Normal" and offset_ms <= params.max_offset_ms
        return verdict(ok, f"chrony synchronised (offset {offset_ms:.3f} ms)",
                       f"chrony: leap status {leap}, offset {offset_ms:.3f} ms (at most {params.max_offset_ms} ms)",
                       source="chronyc", leap=leap, offset_ms=round(offset_ms, 3))
    answers["chronyc"] = "not installed" if chrony is None else (chrony.stderr or chrony.stdout.strip() or f"exit {chrony.exit_code}")
    timedated = host.run("timedatectl", "show")
    if timedated is not None and timedated.exit_code == 0:
        props = dict(line.split("=", 1) for line in timedated.stdout.splitlines() if "=" in line)
        synced = props.get("NTPSynchronized") == "yes"
        return verdict(synced, "the clock is synchronised (timedated)", f"the clock is not synchronised (NTPSynchronized={props.get('NTPSynchronized')}, NTP={props.get('NTP')})",
                       source="timedatectl", ntp=props.get("NTP"), synchronized=props.get("NTPSynchronized"))
    answers["timedatectl"] = "not installed" if timedated is None else (timedated.stderr or f"exit {timedated.exit_code}")
    return failed("no time synchronisation service answered: " + "; ".join(f"{k}: {v}" for k, v in answers.items()), answers=answers)



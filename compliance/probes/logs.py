"""Probes of logging, monitoring and time: the audit subsystem, the persistent journal and
its retention, forwarding to a collector, the monitoring agent, file integrity
monitoring, clock synchronisation."""

from __future__ import annotations

import math
import re
from typing import Annotated

from compliance.checks.registry import Outcome, failed, passed, probe, verdict
from compliance.errors import CheckError
from compliance.hosts.host_api import Host
from compliance.hosts.requests import (
    ListDir,
    ListProcesses,
    ReadFile,
    Request,
    RunCommand,
    StatPath,
)
from compliance.models.params import HIGHER, INTERSECTION, LOWER, TRUE, UNION, NoParams, Params
from compliance.probes.planners import plans
from compliance.probes.sources import ini_settings, parse_timespan, unit_enabled

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




# ---------------------------------------------------------------------------- retention


class RetentionParams(Params):
    min_retention_days: Annotated[int, HIGHER] = 30


@plans("journal_retention")
def _plan_retention(host: Host, params: RetentionParams) -> list[Request]:
    return [ReadFile(JOURNALD_CONF), ListDir(JOURNALD_DROPINS)]


@probe("journal_retention", params=RetentionParams)
def journal_retention(host: Host, params: RetentionParams) -> Outcome:
    """journald is not told to delete entries younger than the retention period (MaxRetentionSec, MaxFileSec with rotation).

    CIR 3.2.5 and DORA RTS 12(2)(a) ask that logs be kept for a predefined period; a
    MaxRetentionSec below it deletes them earlier on purpose. Size limits (SystemMaxUse)
    can also cut retention short; they depend on the log volume, which a configuration
    does not show, and are reported for the reader.
    """
    settings = ini_settings(host, JOURNALD_CONF, JOURNALD_DROPINS, "Journal")
    retention = settings.get("MaxRetentionSec")
    seconds: float | None = None
    if retention not in (None, ""):  # unset or reset to the default: no time limit
        try:
            seconds = parse_timespan(retention)
        except ValueError:
            raise CheckError(f"journald MaxRetentionSec={retention} (in {JOURNALD_CONF} or its drop-ins) is not a systemd time span: "
                             "what journald does with it cannot be judged") from None
        if seconds == 0 or math.isinf(seconds):
            seconds = None  # 0 turns the limit off
    observed = {"max_retention_sec": retention, "max_retention_seconds": seconds, "system_max_use": settings.get("SystemMaxUse"),
                "min_retention_days": params.min_retention_days}
    if seconds is not None and seconds < params.min_retention_days * 86400:
        return failed(f"journald MaxRetentionSec={retention} deletes entries before {params.min_retention_days} days", **observed)
    return passed(f"journald keeps entries for at least {params.min_retention_days} days" + (f" (MaxRetentionSec={retention})" if retention else " (no time limit)"),
                  **observed)


# ---------------------------------------------------------------------------- forwarding

JOURNAL_UPLOAD_CONF = "/etc/systemd/journal-upload.conf"
JOURNAL_UPLOAD_DROPINS = "/etc/systemd/journal-upload.conf.d"
RSYSLOG_CONF = "/etc/rsyslog.conf"
RSYSLOG_DROPINS = "/etc/rsyslog.d"
_OMFWD = re.compile(r'action\s*\(([^)]*type\s*=\s*"omfwd"[^)]*)\)', re.IGNORECASE | re.DOTALL)
_PARAM = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_LEGACY_FWD = re.compile(r"^\s*[^\s#$]+\s+(@@?)\(?[^\s)]+")


class ForwardingParams(Params):
    min_forwarders: Annotated[int, HIGHER] = 1
    require_server_verification: Annotated[bool, TRUE] = True


@plans("log_forwarding")
def _plan_forwarding(host: Host, params: ForwardingParams) -> list[Request]:
    return [ReadFile(JOURNAL_UPLOAD_CONF), ListDir(JOURNAL_UPLOAD_DROPINS), ReadFile(RSYSLOG_CONF), ListDir(RSYSLOG_DROPINS),
            *(ListDir(f"/etc/systemd/system/{t}.wants") for t in ("multi-user.target", "sysinit.target"))]


def _rsyslog_forwarders(text: str, verify: bool) -> tuple[list[str], list[str]]:
    """(secure, insecure) forwarding actions of an rsyslog configuration."""
    secure: list[str] = []
    insecure: list[str] = []
    legacy_driver = re.search(r"^\s*\$DefaultNetstreamDriver\s+(gtls|ossl)\b", text, re.MULTILINE | re.IGNORECASE) is not None
    legacy_mode = re.search(r"^\s*\$ActionSendStreamDriverMode\s+1\b", text, re.MULTILINE) is not None
    legacy_auth = re.search(r"^\s*\$ActionSendStreamDriverAuthMode\s+(\S+)", text, re.MULTILINE)
    global_driver = re.search(r'global\s*\([^)]*DefaultNetstreamDriver\s*=\s*"(gtls|ossl)"', text, re.IGNORECASE | re.DOTALL) is not None
    for match in _OMFWD.finditer(text):
        params = {k.lower(): v for k, v in _PARAM.findall(match.group(1))}
        target = f"{params.get('target', '?')}:{params.get('port', '514')}/{params.get('protocol', 'udp')}"
        tls = (params.get("streamdriver", "").lower() in ("gtls", "ossl") or global_driver) and params.get("streamdrivermode") == "1"
        auth = params.get("streamdriverauthmode", "anon").lower()
        if tls and params.get("protocol", "udp").lower() == "tcp" and (not verify or auth != "anon"):
            secure.append(f"rsyslog omfwd {target}")
        else:
            insecure.append(f"rsyslog omfwd {target} ({'TLS without server verification' if tls else 'clear text'})")
    for line in text.splitlines():
        legacy = _LEGACY_FWD.match(line)
        if not legacy:
            continue
        tcp = legacy.group(1) == "@@"
        auth = legacy_auth.group(1).lower() if legacy_auth else "anon"
        if tcp and legacy_driver and legacy_mode and (not verify or auth != "anon"):
            secure.append(f"rsyslog {line.strip()}")
        else:
            insecure.append(f"rsyslog {line.strip()} (clear text{'' if tcp else ', UDP'})")
    return secure, insecure


@probe("log_forwarding", params=ForwardingParams)
def log_forwarding(host: Host, params: ForwardingParams) -> Outcome:
    """Logs leave the host for a collector over TLS with the collector's certificate verified (systemd-journal-upload over https, rsyslog with a TLS stream driver), and nothing forwards in clear text.

    Logs kept only on the host they describe can be erased by whoever took it over: a copy
    on a collector outlives the host and the intruder (CIR 3.2.5, 3.2.6 redundant
    logging; DORA RTS 12(2)(d)). Over the network they must be encrypted and sent to the
    right collector, or they leak and can be redirected.
    """
    secure: list[str] = []
    insecure: list[str] = []
    if unit_enabled(host, "systemd-journal-upload.service"):
        url = ini_settings(host, JOURNAL_UPLOAD_CONF, JOURNAL_UPLOAD_DROPINS, "Upload").get("URL", "")
        (secure if url.lower().startswith("https://") else insecure).append(f"journal-upload {url or '(no URL)'}")
    if unit_enabled(host, "rsyslog.service") or unit_enabled(host, "rsyslogd.service") or unit_enabled(host, "syslog.service"):
        files = [RSYSLOG_CONF] + [f"{RSYSLOG_DROPINS}/{n}" for n in sorted(host.listdir(RSYSLOG_DROPINS) or []) if n.endswith(".conf")]
        host.prefetch(ReadFile(p) for p in files)
        text = "\n".join(host.read_text(p) or "" for p in files)
        got, bad = _rsyslog_forwarders(text, params.require_server_verification)
        secure += got
        insecure += bad
    problems = []
    if insecure:
        problems.append(f"insecure forwarding: {', '.join(insecure)}")
    if len(secure) < params.min_forwarders:
        problems.append(f"{len(secure)} log forwarder(s) over verified TLS, at least {params.min_forwarders} required")
    return verdict(not problems, f"logs forwarded over TLS: {', '.join(secure)}", "; ".join(problems), secure=secure, insecure=insecure)


# ---------------------------------------------------------------------------- monitoring

DEFAULT_MONITORING_AGENTS = [
    "prometheus-node-exporter.service", "telegraf.service", "collectd.service", "netdata.service", "zabbix-agent.service",
    "datadog-agent.service", "grafana-agent.service", "alloy.service",
]


class MonitoringParams(Params):
    monitoring_agents: Annotated[list[str], INTERSECTION] = DEFAULT_MONITORING_AGENTS  # any one of them


@plans("monitoring_agent")
def _plan_monitoring(host: Host, params: MonitoringParams) -> list[Request]:
    if host.live:
        return [RunCommand(("systemctl", "is-active", *params.monitoring_agents))]
    return [ListDir(f"/etc/systemd/system/{t}.wants") for t in ("multi-user.target", "sysinit.target")]


@probe("monitoring_agent", params=MonitoringParams)
def monitoring_agent(host: Host, params: MonitoringParams) -> Outcome:
    """A monitoring agent reports the host's health (node exporter, Telegraf, collectd, ...): active on a running host, enabled at boot on an image.

    Incidents, capacity shortages and a logging pipeline that stopped are detected only
    when something watches the host and raises an alert (CIR 3.2.2, 3.2.4; DORA Art. 10,
    RTS 9(1)(c)). Which alerts are defined lives in the monitoring system, not on the host.
    """
    if not params.monitoring_agents:
        raise CheckError("no monitoring agent is accepted (parameter 'monitoring_agents' is empty)")
    if host.live:
        result = host.run("systemctl", "is-active", *params.monitoring_agents)
        if result is None:
            raise CheckError("systemctl is not installed: cannot tell which agents run")
        states = dict(zip(params.monitoring_agents, result.stdout.split(), strict=False))
        if len(states) != len(params.monitoring_agents):
            raise CheckError(f"systemctl is-active answered {result.stdout.strip() or result.stderr.strip()!r}")
        active = [u for u, s in states.items() if s == "active"]
        return verdict(bool(active), f"monitoring agent active: {', '.join(active)}",
                       "no monitoring agent is active (" + ", ".join(f"{u}: {s}" for u, s in states.items()) + ")", states=states)
    enabled = [u for u in params.monitoring_agents if unit_enabled(host, u)]
    return verdict(bool(enabled), f"monitoring agent enabled: {', '.join(enabled)}",
                   f"no monitoring agent is enabled at boot (one of {', '.join(params.monitoring_agents)})",
                   enabled=enabled, source="systemd units (offline root)")


# ---------------------------------------------------------------------------- integrity

AIDE_CONFS = ("/etc/aide.conf", "/etc/aide/aide.conf")
AIDE_DEFAULT_DBS = ("/var/lib/aide/aide.db", "/var/lib/aide/aide.db.gz")
_AIDE_DEFINE = re.compile(r"^@@define\s+(\w+)\s+(\S+)")


class IntegrityParams(Params):
    fim_paths: Annotated[list[str], UNION] = ["/etc", "/boot"]  # trees the rules must watch
    require_timer: Annotated[bool, TRUE] = True


def aide_rules(text: str) -> tuple[list[str], list[str], str | None]:
    """(watched trees, excluded trees, database path) of an AIDE configuration."""
    defines: dict[str, str] = {}
    watched: list[str] = []
    excluded: list[str] = []
    database = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if match := _AIDE_DEFINE.match(line):
            defines[match.group(1)] = match.group(2)
            continue
        for name, value in defines.items():
            line = line.replace(f"@@{{{name}}}", value)
        if line.startswith(("database_in=", "database=")):
            database = line.split("=", 1)[1].removeprefix("file:")
        elif line.startswith("!"):
            excluded.append(line[1:].split()[0].rstrip("$"))
        elif line.startswith(("/", "=/")) and len(line.split()) >= 2:
            watched.append(line.lstrip("=").split()[0].rstrip("$"))
    return watched, excluded, database


@plans("file_integrity_monitoring")
def _plan_fim(host: Host, params: IntegrityParams) -> list[Request]:
    return [*(ReadFile(p) for p in AIDE_CONFS), *(ListDir(f"/etc/systemd/system/{t}.wants") for t in ("timers.target", "multi-user.target"))]


@probe("file_integrity_monitoring", params=IntegrityParams)
def file_integrity_monitoring(host: Host, params: IntegrityParams) -> Outcome:
    """AIDE watches the mutable trees that matter (/etc, /boot, ...), its database exists, and a timer runs the check.

    The Nix store is verified against its own hashes (SC-07); what lives outside it
    (/etc files NixOS copies rather than links, /boot, secrets, service state) can change
    unseen unless a file integrity checker keeps seals of it (ANSSI BP-028 R76; CIR
    6.9.1, 3.2.3(f)).
    """
    host.prefetch(_plan_fim(host, params))
    config = next(((p, t) for p in AIDE_CONFS if (t := host.read_text(p)) is not None), None)
    if config is None:
        return failed(f"no AIDE configuration ({', '.join(AIDE_CONFS)}): no file integrity monitoring", config=None)
    path, text = config
    watched, excluded, database = aide_rules(text)
    problems: list[str] = []
    unwatched = [p for p in params.fim_paths if not any(p == w or p.startswith(w.rstrip("/") + "/") or w == "/" for w in watched) or p in excluded]
    if unwatched:
        problems.append(f"not watched by {path}: {', '.join(unwatched)}")
    candidates = [database] if database else list(AIDE_DEFAULT_DBS)
    host.prefetch(StatPath(c) for c in candidates)
    present = [c for c in candidates if host.stat(c) is not None]
    if not present:
        problems.append(f"no AIDE database ({', '.join(candidates)}): aide --init was never run")
    timers = sorted({n for t in ("timers.target", "multi-user.target") for n in host.listdir(f"/etc/systemd/system/{t}.wants") or []
                     if "aide" in n and n.endswith(".timer")})
    if params.require_timer and not timers:
        problems.append("no AIDE check timer is enabled")
    return verdict(not problems, f"AIDE watches {', '.join(params.fim_paths)} ({path}), database {present[0] if present else '?'}, timer {', '.join(timers)}",
                   "; ".join(problems), config=path, watched=watched, excluded=excluded, database=present, timers=timers)

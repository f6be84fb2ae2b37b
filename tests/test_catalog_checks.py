"""The check functions of the catalog's later controls, case by case: each passes one
subject and fails another on its own, including the ways to pass that a control's two
fixtures cannot both show (GRUB as well as systemd-boot, unbound as well as
systemd-resolved, rsyslog as well as journal-upload, ...), and the parsers they rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compliance.checks import registry
from compliance.checks.predicate_subject import Subject
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.filesystem import OfflineRootHost
from compliance.inputs.facts import parse_facts
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.probes.accounts import parse_sudoers
from compliance.probes.sources import timespan_seconds
from tests.support.runtime_fixtures import evaluate_probe_offline, lay_out_root

WANTS = "/etc/systemd/system/multi-user.target.wants"
GRUB_LOCKED = "set superusers=\"root\"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.AB12\nmenuentry 'NixOS' { linux /kernel }\n"
RSYSLOG_TLS = ('global(DefaultNetstreamDriverCAFile="/etc/ssl/logs-ca.pem")\n'
               'action(type="omfwd" target="logs.example.net" port="6514" protocol="tcp"\n'
               '       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name")\n')
UNBOUND = "server:\n  interface: 127.0.0.1\n  auto-trust-anchor-file: /var/lib/unbound/root.key\n"

# probe, parameters, files of the passing root, files of the failing root, words of the failure
CASES: list[tuple[str, dict[str, Any], dict[str, str], dict[str, str], str]] = [
    ("journal_retention", {"min_retention_days": 90},
     {"/etc/systemd/journald.conf": "[Journal]\nStorage=persistent\nMaxRetentionSec=6month\n"},
     {"/etc/systemd/journald.conf": "[Journal]\nStorage=persistent\n", "/etc/systemd/journald.conf.d/size.conf": "[Journal]\nMaxRetentionSec=2week\n"},
     "MaxRetentionSec=2week"),
    ("session_idle_timeout", {"max_idle_seconds": 600},
     {"/etc/systemd/logind.conf": "[Login]\n", "/etc/systemd/logind.conf.d/idle.conf": "[Login]\nStopIdleSessionSec=10min\n"},
     {"/etc/systemd/logind.conf": "[Login]\nStopIdleSessionSec=1h\n", "/etc/profile": "readonly TMOUT=3600\n"},
     "TMOUT=3600 in /etc/profile, at most 600 s"),
    ("boot_loader_locked", {}, {"/boot/grub/grub.cfg": GRUB_LOCKED},
     {"/boot/grub/grub.cfg": "menuentry 'NixOS' { linux /kernel }\n"}, "GRUB has no superuser"),
    ("boot_loader_locked", {}, {"/boot/grub/grub.cfg": GRUB_LOCKED},
     {"/boot/grub/grub.cfg": GRUB_LOCKED.replace("password_pbkdf2 root grub.pbkdf2.sha512.10000.AB12", "password root hunter2")}, "clear text"),
    ("sudoers_hardened", {"required_defaults": ["use_pty", "env_reset", "umask=0077"], "nopasswd_allowlist": ["deploy"]},
     {"/etc/sudoers": "Defaults use_pty, umask=0077\n%wheel ALL=(ALL:ALL) ALL\ndeploy ALL=(root) NOPASSWD: /run/current-system/bin/switch-to-configuration\n"},
     {"/etc/sudoers": "Defaults use_pty,!env_reset\n%wheel ALL=(ALL:ALL) ALL\n"}, "Defaults not set: env_reset, umask=0077"),
    ("sudoers_hardened", {"required_defaults": [], "require_explicit_arguments": True},
     {"/etc/sudoers": "%wheel ALL=(ALL:ALL) ALL\nops ALL=(root) /run/current-system/sw/bin/systemctl restart nginx, /usr/bin/true \"\"\n"},
     {"/etc/sudoers": "%wheel ALL=(ALL:ALL) ALL\nops ALL=(root) /run/current-system/sw/bin/systemctl\n"}, "without explicit arguments: ops"),
    ("directory_client_secure", {},
     {"/etc/nslcd.conf": "uri ldap://ldap.example.net/\nssl start_tls\ntls_reqcert demand\n"},
     {"/etc/nslcd.conf": "uri ldaps://ldap.example.net/\ntls_reqcert allow\n"}, "tls_reqcert allow does not verify"),
    ("resolver_dnssec", {}, {"/etc/resolv.conf": "nameserver 127.0.0.1\n", "/etc/unbound/unbound.conf": UNBOUND},
     {"/etc/resolv.conf": "nameserver 192.0.2.53\n"}, "not to a local validating resolver"),
    ("resolver_dnssec", {"require_dns_over_tls": True},
     {"/etc/resolv.conf": "nameserver 127.0.0.53\n", "/etc/systemd/resolved.conf": "[Resolve]\nDNSSEC=yes\nDNSOverTLS=yes\n"},
     {"/etc/resolv.conf": "nameserver 127.0.0.53\n", "/etc/systemd/resolved.conf": "[Resolve]\nDNSSEC=yes\n"}, "DNSOverTLS=no"),
    ("log_forwarding", {"min_forwarders": 1},
     {"/etc/rsyslog.conf": RSYSLOG_TLS, f"{WANTS}/rsyslog.service": ""},
     {"/etc/rsyslog.conf": RSYSLOG_TLS.replace("x509/name", "anon"), f"{WANTS}/rsyslog.service": ""}, "TLS without server verification"),
    ("log_forwarding", {"min_forwarders": 2},
     {"/etc/rsyslog.conf": RSYSLOG_TLS, f"{WANTS}/rsyslog.service": "", f"{WANTS}/systemd-journal-upload.service": "",
      "/etc/systemd/journal-upload.conf": "[Upload]\nURL=https://logs-b.example.net:19532\n"},
     {"/etc/rsyslog.conf": RSYSLOG_TLS, f"{WANTS}/rsyslog.service": ""}, "1 log forwarder(s) over verified TLS, at least 2"),
    ("monitoring_agent", {"monitoring_agents": ["telegraf.service"]}, {f"{WANTS}/telegraf.service": ""},
     {f"{WANTS}/prometheus-node-exporter.service": ""}, "no monitoring agent is enabled"),
    ("file_integrity_monitoring", {"fim_paths": ["/etc"], "require_timer": False},
     {"/etc/aide/aide.conf": "/ NORMAL\n!/proc\n", "/var/lib/aide/aide.db": "db"},
     {"/etc/aide/aide.conf": "/ NORMAL\n!/etc\n", "/var/lib/aide/aide.db": "db"}, "not watched by /etc/aide/aide.conf: /etc"),
    ("rollback_generations", {"min_generations": 3},
     {f"/nix/var/nix/profiles/system-{n}-link": "" for n in (7, 8, 9)},
     {f"/nix/var/nix/profiles/system-{n}-link": "" for n in (8, 9)}, "2 system generation(s) kept, at least 3"),
    ("no_imperative_packages", {"allow_channels": False},
     {"/nix/var/nix/profiles/.keep": ""},
     {"/nix/var/nix/profiles/per-user/root/channels/nixos/default.nix": "{}", "/nix/var/nix/profiles/per-user/root/channels/manifest.nix": "[ ]"},
     "root follows channels: nixos"),
    ("service_sandboxing", {"required_settings": {"NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"]}},
     {f"{WANTS}/web.service": "", "/etc/systemd/system/web.service": "[Service]\nDynamicUser=true\n",
      f"{WANTS}/getty@tty1.service": "", "/etc/systemd/system/getty@.service": "[Service]\nExecStart=agetty\n"},
     {f"{WANTS}/web.service": "", "/etc/systemd/system/web.service": "[Service]\nUser=web\nNoNewPrivileges=yes\nProtectSystem=full\n"},
     "web.service: ProtectSystem=full"),
    ("enabled_units_allowlist", {"allowed_units": ["sshd.service", "systemd-*"]},
     {f"{WANTS}/sshd.service": "", "/etc/systemd/system/timers.target.wants/systemd-tmpfiles-clean.timer": ""},
     {f"{WANTS}/sshd.service": "", "/etc/systemd/system/timers.target.wants/nixos-upgrade.timer": ""}, "nixos-upgrade.timer"),
]


def _decision(kind: CheckKind, name: str, target: Any, params: dict[str, Any]) -> tuple[str, str]:
    """What the engine would record: the outcome, or error / not applicable when the check raises."""
    spec = registry.get(kind, name)
    assert spec is not None, name
    try:
        outcome = spec.func(target, spec.params.model_validate(params))
    except CheckError as exc:
        return "error", str(exc)
    except NotApplicable as exc:
        return "not_applicable", str(exc)
    return outcome.status.value, outcome.message


@pytest.mark.parametrize(("probe", "params", "good", "bad", "words"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_probe_passes_one_root_and_fails_the_other(probe: str, params: dict[str, Any], good: dict[str, str], bad: dict[str, str], words: str, tmp_path: Path) -> None:
    status, message = evaluate_probe_offline(probe, params, lay_out_root({"files": good}, tmp_path / "good"))
    assert status is Status.PASS, message
    status, message = evaluate_probe_offline(probe, params, lay_out_root({"files": bad}, tmp_path / "bad"))
    assert status is Status.FAIL and words in message, message


@pytest.mark.parametrize(("probe", "files", "status", "words"), [
    ("directory_client_secure", {"/etc/nsswitch.conf": "passwd: files systemd\n"}, "not_applicable", "no remote user database"),
    ("sudoers_hardened", {}, "not_applicable", "sudo is not configured"),
    ("certificates_valid", {}, "not_applicable", "no certificate"),
    ("boot_loader_locked", {}, "error", "is the ESP mounted"),
    ("service_sandboxing", {}, "error", "not a systemd system"),
    ("no_imperative_packages", {}, "error", "not a Nix system"),
    ("resolver_dnssec", {}, "error", "/etc/resolv.conf is missing"),
    ("certificates_valid", {"/var/lib/acme/x/cert.pem": "not a certificate"}, "error", "not a PEM certificate"),
    ("process_executables", {}, "not_applicable", "needs a running system"),
    ("booted_kernel_current", {}, "not_applicable", "needs a running system"),
    ("cleartext_listeners", {}, "not_applicable", "needs a running system"),
])
def test_a_probe_without_its_input_does_not_pass(probe: str, files: dict[str, str], status: str, words: str, tmp_path: Path) -> None:
    got, message = _decision(CheckKind.RUNTIME, probe, OfflineRootHost(lay_out_root({"files": files}, tmp_path / "root")), {})
    assert (got, words in message) == (status, True), message


def _facts(options: dict[str, Any]) -> Subject:
    return Subject(facts=parse_facts({"facts_version": 1, "origin": {"unavailable": []}, "options": options}, "test facts"))


def _ssh(**settings: Any) -> Subject:
    return _facts({"services": {"openssh": {"enable": True, "settings": {"PasswordAuthentication": False, **settings}, "extraConfig": ""}}})


@pytest.mark.parametrize(("predicate", "params", "subject", "status", "words"), [
    ("sshd_second_factor", {}, _ssh(KbdInteractiveAuthentication=True, AuthenticationMethods="publickey,keyboard-interactive:pam"), "pass", "second_method"),
    ("sshd_second_factor", {}, _ssh(AuthenticationMethods="publickey,publickey"), "fail", "one kind of method only"),
    ("sshd_second_factor", {}, _ssh(PubkeyAcceptedAlgorithms="sk-ssh-ed25519@openssh.com"), "fail", "without user verification"),
    ("sshd_second_factor", {"allowed_routes": ["second_method"]},
     _ssh(PubkeyAcceptedAlgorithms="sk-ssh-ed25519@openssh.com", PubkeyAuthOptions="verify-required"), "fail", "not allowed: fido_verified"),
    ("no_secrets_in_store", {"forbid_hashes_in_store": True},
     _facts({"users": {"users": {"root": {"password": None, "initialPassword": None, "hashedPassword": "$y$j9T$x", "initialHashedPassword": None}}}}),
     "fail", "users.users.root: hashedPassword"),
    ("no_secrets_in_store", {"plaintext_options": ["services.grafana.settings.security.admin_password"]},
     _facts({"users": {"users": {}}, "services": {"grafana": {"settings": {"security": {"admin_password": "admin"}}}}}),
     "fail", "services.grafana.settings.security.admin_password"),
    ("tls_protocol_versions", {}, _facts({"services": {"nginx": {"enable": False, "sslProtocols": "SSLv3"}}}), "not_applicable", "no TLS server enabled"),
    ("tls_protocol_versions", {"tls_services": {"services.nginx.enable": "services.nginx.sslProtocols", "services.x.enable": "services.x.protocols"}},
     _facts({"services": {"nginx": {"enable": True, "sslProtocols": "TLSv1.3"}, "x": {"enable": True, "protocols": ["TLSv1.2", "SSLv3"]}}}),
     "fail", "services.x.protocols accepts SSLv3"),
    ("backup_jobs", {"required_paths": ["/var/lib/postgresql"], "approved_targets": ["s3:https://backup.example.net/"]},
     _facts({"services": {"restic": {"backups": {"db": {"repository": "sftp:backup@vault:/srv/restic", "paths": ["/var/lib"], "timerConfig": {}}}},
                          "borgbackup": {"jobs": {}}}}), "fail", "is not an approved target"),
    ("backup_jobs", {"required_paths": ["/var/lib/postgresql"]},
     _facts({"services": {"restic": {"backups": {}}, "borgbackup": {"jobs": {"db": {
         "repo": "borg@vault.example.net:db", "paths": "/var/lib", "encryption": {"mode": "repokey-blake2"}, "startAt": ["daily"], "prune": {"keep": {"daily": 7}}}}}}}),
     "pass", "1 backup job"),
    ("backup_jobs", {}, _facts({"services": {"restic": {"backups": {}}, "borgbackup": {"jobs": {}}}}), "fail", "0 backup job(s), at least 1"),
    ("nixos_option_includes", {"required_entries": {"boot.kernelParams": ["slab_nomerge"]}}, _facts({"boot": {"kernelParams": "slab_nomerge"}}), "error", "is not a list"),
])
def test_predicates_on_their_own(predicate: str, params: dict[str, Any], subject: Subject, status: str, words: str) -> None:
    got, message = _decision(CheckKind.STATIC, predicate, subject, params)
    assert (got, words in message) == (status, True), message


def test_flake_inputs_can_be_required_to_record_the_commit() -> None:
    from compliance.inputs.flakelock import parse_flake_lock

    spec = registry.get(CheckKind.STATIC, "flake_inputs_locked")
    assert spec is not None
    lock = parse_flake_lock({"version": 7, "root": "root", "nodes": {
        "root": {"inputs": {"nixpkgs": "nixpkgs"}},
        "nixpkgs": {"locked": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "narHash": "sha256-AAAA", "lastModified": 1},
                    "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "ref": "nixos-24.05"}}}}, "flake.lock")
    subject = _facts({"system": {"configurationRevision": None}})
    subject.flake_lock = lock
    outcome = spec.func(subject, spec.params.model_validate({"require_configuration_revision": True}))
    assert outcome.status is Status.FAIL
    assert "nixpkgs: no commit (rev)" in outcome.message and "system.configurationRevision" in outcome.message


@pytest.mark.parametrize(("text", "seconds"), [
    ("600", 600), ("10min", 600), ("1h 30min", 5400), ("2weeks", 1209600), ("90d", 7776000), ("infinity", None), ("ten", None), ("5 parsecs", None),
])
def test_systemd_time_spans(text: str, seconds: float | None) -> None:
    assert timespan_seconds(text) == seconds


def test_sudoers_parsing_keeps_defaults_tags_and_negations_apart() -> None:
    lines = [("Defaults env_reset, !lecture, umask=0077", "/etc/sudoers"), ("Defaults:deploy !requiretty", "/etc/sudoers"),
             ("User_Alias ADMINS = alice, bob", "/etc/sudoers"), ("ADMINS ALL=(ALL) NOPASSWD:SETENV: ALL, !/usr/bin/su", "/etc/sudoers")]
    defaults, rules = parse_sudoers(lines)
    assert defaults == {"env_reset": "on", "lecture": "off", "umask": "0077"}
    assert [(r.principal, r.tags, r.commands) for r in rules] == [("ADMINS", ("NOPASSWD", "SETENV"), ("ALL", "!/usr/bin/su"))]

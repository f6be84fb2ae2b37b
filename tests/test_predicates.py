"""Static predicates on hand-made subjects: the cases a control's two fixtures do not show,
above all the ways a configuration could slip past a check."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.assess import engine
from compliance.catalog.selection import SelectedControl
from compliance.checks.predicate_subject import Subject
from compliance.inputs.facts import parse_facts
from compliance.models.common import Severity, Status
from compliance.models.control import Check, CheckKind, Control


def _facts(options: dict[str, Any], absent: list[str] | None = None, unavailable: list[str] | None = None) -> Subject:
    doc = {"facts_version": 1, "origin": {"absent": absent or [], "unavailable": unavailable or []}, "options": options}
    return Subject(facts=parse_facts(doc, "test facts"))


def _run(function: str, subject: Subject, params: dict[str, Any] | None = None) -> tuple[Status, str]:
    control = Control(id="TT-01", title="t", severity=Severity.HIGH, rationale="r",
                      checks=[Check(kind=CheckKind.STATIC, function=function)])
    result = engine.evaluate_control(SelectedControl(control, dict(params or {}), {}), CheckKind.STATIC, subject)
    return result.status, result.message


def _firewall(tcp_ranges: list[Any], udp_ranges: list[Any] | None = None, interfaces: dict[str, Any] | None = None,
              trusted: list[str] | None = None) -> Subject:
    return _facts({"networking": {"firewall": {
        "enable": True, "allowedTCPPorts": [22], "allowedUDPPorts": [],
        "allowedTCPPortRanges": tcp_ranges, "allowedUDPPortRanges": udp_ranges or [], "interfaces": interfaces or {},
        "trustedInterfaces": trusted or [],
    }}})


@pytest.mark.parametrize(("trusted", "allowed", "status"), [
    ([], [], Status.PASS), (["lo"], [], Status.PASS), (["eth0"], [], Status.FAIL), (["wg0"], ["wg0"], Status.PASS),
    (["wg0", "eth0"], ["wg0"], Status.FAIL),
])
def test_a_trusted_interface_bypasses_the_firewall(trusted: list[str], allowed: list[str], status: Status) -> None:
    got, message = _run("firewall_enabled", _firewall([], trusted=trusted), {"allowed_trusted_interfaces": allowed})
    assert got is status, message
    assert (got is Status.FAIL) == ("trusted interfaces accept all inbound traffic: eth0" in message), message


@pytest.mark.parametrize(("subject", "status", "words"), [
    (_firewall([{"from": 8000, "to": 8010}]), Status.FAIL, "TCP port ranges open ports beyond the allowlist: 8000-8010"),
    (_firewall([], interfaces={"eth0": {"allowedTCPPortRanges": [{"from": 1, "to": 65535}]}}), Status.FAIL, "1-65535"),
    (_firewall([], udp_ranges=[{"from": 60000, "to": 61000}]), Status.FAIL, "UDP port ranges"),
    (_firewall([{"from": 22, "to": 22}]), Status.PASS, "firewall enabled"),
    (_firewall(["8000-8010"]), Status.ERROR, "allowedTCPPortRanges is not a list of {from, to} port ranges"),
])
def test_port_ranges_do_not_escape_the_port_allowlist(subject: Subject, status: Status, words: str) -> None:
    got, message = _run("firewall_enabled", subject, {"allowed_tcp_ports": [22], "allowed_udp_ports": [53]})
    assert (got, words in message) == (status, True), message


NIXOS_KEY = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="
EXTRA_SETTINGS = ["nix.settings.extra-substituters", "nix.settings.extra-trusted-substituters",
                  "nix.settings.extra-trusted-public-keys", "nix.settings.extra-trusted-users"]


def _nix(extra_options: str = "", **settings: Any) -> Subject:
    base = {"substituters": ["https://cache.nixos.org"], "trusted-substituters": [], "trusted-public-keys": [NIXOS_KEY],
            "require-sigs": True, "trusted-users": ["root"]}
    given = {k.replace("_", "-"): v for k, v in settings.items()}
    absent = [p for p in EXTRA_SETTINGS if p.rsplit(".", 1)[1] not in given]
    return _facts({"nix": {"settings": {**base, **given}, "extraOptions": extra_options}}, absent)


@pytest.mark.parametrize(("function", "subject", "status", "words"), [
    ("substituters_trusted", _nix(), Status.PASS, "trusted"),
    ("substituters_trusted", _nix(extra_substituters=["http://cache.example.test"]), Status.FAIL, "not on the allowlist: http://cache.example.test"),
    ("substituters_trusted", _nix(extra_trusted_public_keys=["evil-1:AAAA"]), Status.FAIL, "signing keys not on the allowlist: evil-1"),
    ("substituters_trusted", _nix("extra-substituters = http://cache.example.test\n"), Status.FAIL, "http://cache.example.test"),
    ("substituters_trusted", _nix("require-sigs = false # for the lab\n"), Status.FAIL, "require-sigs is not true"),
    ("substituters_trusted", _nix("experimental-features = nix-command flakes\n"), Status.PASS, "trusted"),
    ("nix_trusted_users", _nix(extra_trusted_users=["@wheel"]), Status.FAIL, "beyond the allowlist: @wheel"),
    ("nix_trusted_users", _nix("trusted-users = root deploy\n"), Status.FAIL, "beyond the allowlist: deploy"),
    ("nix_trusted_users", _facts({"nix": {"settings": {"trusted-users": ["root"]}, "extraOptions": ""}}), Status.ERROR,
     "nix.settings.extra-trusted-users is not in the facts"),
])
def test_nix_settings_are_read_wherever_nix_conf_takes_them(function: str, subject: Subject, status: Status, words: str) -> None:
    got, message = _run(function, subject)
    assert (got, words in message) == (status, True), message


def _borg(mode: str | None) -> Subject:
    job = {"repo": "borg@vault.example.net:web", "paths": ["/var/lib"], "encryption": {"mode": mode}, "startAt": "daily"}
    return _facts({"services": {"restic": {"backups": {}}, "borgbackup": {"jobs": {"web": job}}}})


@pytest.mark.parametrize(("mode", "status"), [
    ("repokey-blake2", Status.PASS), ("keyfile", Status.PASS), ("repokey-aes-ocb", Status.PASS),
    ("authenticated", Status.FAIL), ("authenticated-blake2", Status.FAIL), ("none", Status.FAIL), (None, Status.FAIL),
])
def test_borg_modes_that_only_authenticate_do_not_encrypt(mode: str | None, status: Status) -> None:
    got, message = _run("backup_jobs", _borg(mode))
    assert got is status, message
    assert (got is Status.FAIL) == ("borgbackup.web: not encrypted" in message), message


@pytest.mark.parametrize(("expression", "allowed"), [
    ("MIT", True), ("AGPL-3.0-only", False), ("MIT OR AGPL-3.0-only", True), ("MIT AND AGPL-3.0-only", False),
    ("(MIT OR Apache-2.0) AND AGPL-3.0-or-later", False), ("GPL-2.0-or-later WITH Classpath-exception-2.0", True),
    ("AGPL-3.0-only+", False), ("Apache License 2.0", True),
    # malformed expressions: a denied licence in them still counts
    ("AGPL-3.0-only AND", False), ("(AGPL-3.0-only", False), ("MIT AGPL-3.0-only", False), ("AGPL-3.0-only WITH", False),
    ("MIT OR", False),  # does not parse and names nothing denied: unknown, which is not "allowed"
])
def test_licence_expressions(expression: str, allowed: bool) -> None:
    from compliance.predicates.sbom_checks import licence_allowed

    assert licence_allowed(expression, {"agpl-3.0-only", "agpl-3.0-or-later"}) is allowed


def _sshd(extra_config: str = "", **settings: Any) -> Subject:
    return _facts({"services": {"openssh": {"enable": True, "settings": settings, "extraConfig": extra_config}}})


@pytest.mark.parametrize(("subject", "setting", "allowed", "status"), [
    (_sshd(LogLevel=None), "LogLevel", ["INFO", "VERBOSE"], Status.PASS),  # unset: OpenSSH's default, INFO
    (_sshd(LogLevel=None), "LogLevel", ["VERBOSE"], Status.FAIL),
    (_sshd(LogLevel="VERBOSE"), "LogLevel", ["verbose"], Status.PASS),
    (_sshd(PermitRootLogin="No"), "PermitRootLogin", ["no"], Status.PASS),
])
def test_sshd_values_compare_without_case(subject: Subject, setting: str, allowed: list[str], status: Status) -> None:
    got, message = _run("sshd_settings", subject, {"expected": {setting: allowed}})
    assert got is status, message


def test_sshd_t_output_in_upper_case_meets_its_expectation() -> None:
    from compliance.predicates.nixos import OPENSSH_DEFAULTS, SshdParams, compare_sshd

    outcome = compare_sshd({**OPENSSH_DEFAULTS, "loglevel": "VERBOSE"}, SshdParams(expected={"LogLevel": ["VERBOSE"]}), "sshd -T")
    assert outcome.status is Status.PASS, outcome.message


@pytest.mark.parametrize(("value", "want", "status"), [
    (True, True, Status.PASS), (1, True, Status.FAIL), (0, False, Status.FAIL), (0.0, False, Status.FAIL),
    (False, 0, Status.FAIL), ([1, True], [1, 1], Status.FAIL), ({"a": [False]}, {"a": [False]}, Status.PASS), (None, False, Status.FAIL),
    (2, 2.0, Status.PASS),
])
def test_nixos_options_do_not_take_a_number_for_a_boolean(value: Any, want: Any, status: Status) -> None:
    got, message = _run("nixos_options", _facts({"security": {"lockKernelModules": value}}), {"expected": {"security.lockKernelModules": want}})
    assert got is status, message


@pytest.mark.parametrize(("root", "status"), [
    ({"hashedPassword": "!"}, Status.PASS),  # root's password locked: no hash in the store
    ({"hashedPassword": "*", "initialHashedPassword": "!!"}, Status.PASS),
    ({"hashedPassword": "!$6$salt$hash"}, Status.FAIL),  # locked, but the hash is still there
    ({"hashedPassword": "$y$j9T$salt$hash"}, Status.FAIL),
    ({"hashedPassword": "<redacted>"}, Status.FAIL),  # as 'compliance facts' writes a hash
])
def test_a_locked_password_field_holds_no_secret(root: dict[str, Any], status: Status) -> None:
    fields = {"password": None, "initialPassword": None, "hashedPassword": None, "initialHashedPassword": None, **root}
    got, message = _run("no_secrets_in_store", _facts({"users": {"users": {"root": fields}}}), {"forbid_hashes_in_store": True})
    assert got is status, message


NO_PASSWORDS = {"PasswordAuthentication": ["no"], "KbdInteractiveAuthentication": ["no"]}


@pytest.mark.parametrize(("extra_config", "status", "words"), [
    ("UsePAM yes\n", Status.PASS, "as required"),
    # a Match block overrides the global settings for the connections it matches
    ("Match Address 0.0.0.0/0\n  PasswordAuthentication yes\n", Status.FAIL, "'Match Address 0.0.0.0/0'"),
    ("Match User deploy\n  ChallengeResponseAuthentication yes\n", Status.FAIL, "KbdInteractiveAuthentication is 'yes'"),
    ("Match User sftp\n  ForceCommand internal-sftp\n", Status.PASS, "as required"),
    # settings come first in sshd_config and the first value wins: a later global line does not override
    ("PasswordAuthentication yes\n", Status.PASS, "as required"),
    ("Include /etc/ssh/sshd_config.d/*.conf\n", Status.ERROR, "cannot be judged"),
])
def test_sshd_extra_config_is_read_as_sshd_reads_it(extra_config: str, status: Status, words: str) -> None:
    subject = _sshd(extra_config, PasswordAuthentication=False, KbdInteractiveAuthentication=False)
    got, message = _run("sshd_settings", subject, {"expected": NO_PASSWORDS})
    assert (got, words in message) == (status, True), message


def test_an_unset_setting_takes_a_global_line_of_extra_config() -> None:
    got, message = _run("sshd_settings", _sshd("KbdInteractiveAuthentication yes\n", PasswordAuthentication=False), {"expected": NO_PASSWORDS})
    assert got is Status.FAIL and "KbdInteractiveAuthentication is 'yes'" in message, message


def test_a_match_block_cannot_drop_the_second_factor() -> None:
    fido = {"PubkeyAcceptedAlgorithms": "sk-ssh-ed25519@openssh.com", "PubkeyAuthOptions": "verify-required"}
    assert _run("sshd_second_factor", _sshd("", **fido))[0] is Status.PASS
    got, message = _run("sshd_second_factor", _sshd("Match User deploy\n  PubkeyAcceptedAlgorithms ssh-ed25519\n", **fido))
    assert got is Status.FAIL and "'Match User deploy'" in message, message

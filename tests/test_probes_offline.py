"""Each probe that can judge configuration at rest, on an offline root laid out once so
that it passes and once so that it fails, on its own (the control fixtures judge whole
controls, where one failing check hides the others)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compliance.checks import registry
from compliance.errors import CheckError
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.probes.sources import parse_timespan
from tests.support.runtime_fixtures import evaluate_probe_offline, lay_out_root

PASSWD = "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/var/empty:/sbin/nologin\nsshd:x:74:74::/var/empty:/sbin/nologin\nalice:x:1000:100::/home/alice:/bin/bash\n"
SHADOW = "root:!:1::::::\nnobody:!:1::::::\nsshd:*:1::::::\nalice:$6$salt$hash:19000::::::\n"
CORE_OK = {"/etc/sysctl.d/50-coredump.conf": "kernel.core_pattern=|/lib/systemd/systemd-coredump %P\nfs.suid_dumpable = 0\n",
           "/etc/systemd/coredump.conf": "[Coredump]\nStorage=external\n", "/etc/systemd/coredump.conf.d/off.conf": "[Coredump]\nStorage=none\n"}
FAILLOCK = "auth required pam_faillock.so preauth deny=4\nauth sufficient pam_unix.so\nauth [default=die] pam_faillock.so authfail deny=4\n"

# probe, parameters, files of the passing root, files of the failing root, words of the failure
CASES: list[tuple[str, dict[str, Any], dict[str, str], dict[str, str], str]] = [
    ("sysctl_runtime", {"expected": {"kernel.kptr_restrict": "2"}},
     {"/usr/lib/sysctl.d/50-default.conf": "kernel.kptr_restrict = 1\n", "/etc/sysctl.d/50-default.conf": "kernel.kptr_restrict = 2\n"},
     {"/etc/sysctl.d/50-default.conf": "kernel.kptr_restrict = 2\n", "/etc/sysctl.d/90-debug.conf": "kernel/kptr_restrict=0\n"},
     "kernel.kptr_restrict is '0'"),
    ("ptrace_restricted", {}, {"/etc/sysctl.d/10-yama.conf": "kernel.yama.ptrace_scope = 2\n"},
     {"/etc/sysctl.d/10-yama.conf": "kernel.yama.ptrace_scope = 0\n"}, "kernel.yama.ptrace_scope is 0"),
    ("core_dumps_restricted", {}, CORE_OK, {**CORE_OK, "/etc/systemd/coredump.conf.d/off.conf": "[Coredump]\n"}, "Storage=external"),
    ("core_dumps_restricted", {}, CORE_OK, {**CORE_OK, "/etc/sysctl.d/99-dump.conf": "kernel.core_pattern = /var/crash/core.%p\n"}, "writes core files"),
    ("kernel_lockdown", {}, {"/nix/var/nix/profiles/system/kernel-params": "lockdown=confidentiality\n"},
     {"/nix/var/nix/profiles/system/kernel-params": "quiet\n"}, "kernel lockdown is none"),
    ("sensitive_file_modes", {"max_modes": {"/etc/shadow": "0640", "/etc/ssh/ssh_host_*_key": "0600"}},
     {"/etc/shadow": SHADOW, "/etc/ssh/ssh_host_ed25519_key": "k", "/etc/ssh/ssh_host_ed25519_key.pub": "p"},
     {"/etc/shadow": SHADOW, "/etc/ssh/ssh_host_rsa_key": "k"}, "/etc/ssh/ssh_host_rsa_key is 0644"),
    ("uid0_unique", {}, {"/etc/passwd": PASSWD}, {"/etc/passwd": PASSWD + "admin:x:0:0::/root:/bin/sh\n"}, "admin"),
    ("system_accounts_no_login", {}, {"/etc/passwd": PASSWD, "/etc/shadow": SHADOW},
     {"/etc/passwd": PASSWD.replace("/var/empty:/sbin/nologin\nsshd", "/var/empty:/bin/sh\nsshd"), "/etc/shadow": SHADOW}, "nobody (shell /bin/sh)"),
    ("no_empty_passwords", {}, {"/etc/passwd": PASSWD, "/etc/shadow": SHADOW},
     {"/etc/passwd": PASSWD, "/etc/shadow": SHADOW.replace("alice:$6$salt$hash", "alice:")}, "alice (/etc/shadow)"),
    # the password field of /etc/passwd is the password unless it says x: empty there is no password at all
    ("no_empty_passwords", {}, {"/etc/passwd": PASSWD + "eve:x:1001:100::/home/eve:/bin/bash\n", "/etc/shadow": SHADOW + "eve:$6$s$h:1::::::\n"},
     {"/etc/passwd": PASSWD + "eve::1001:100::/home/eve:/bin/bash\n", "/etc/shadow": SHADOW + "eve:$6$s$h:1::::::\n"}, "eve (/etc/passwd)"),
    ("journal_retention", {"min_retention_days": 90}, {"/etc/systemd/journald.conf": "[Journal]\nMaxRetentionSec=1y\n"},
     {"/etc/systemd/journald.conf": "[Journal]\nMaxRetentionSec=0.5d\n"}, "MaxRetentionSec=0.5d deletes entries before 90 days"),
    ("journal_retention", {"min_retention_days": 90}, {"/etc/systemd/journald.conf": "[Journal]\nMaxRetentionSec=3M 1d\n"},
     {"/etc/systemd/journald.conf": "[Journal]\nMaxRetentionSec=89d 23h\n"}, "MaxRetentionSec=89d 23h"),
    ("password_hashing", {}, {"/etc/shadow": SHADOW}, {"/etc/shadow": SHADOW.replace("$6$salt$hash", "abRhashDES12")}, "alice (des)"),
    ("login_lockout", {"pam_services": ["sshd"], "max_deny": 5},
     {"/etc/pam.d/sshd": "@include common-auth\n", "/etc/pam.d/common-auth": FAILLOCK},
     {"/etc/pam.d/sshd": "@include common-auth\n", "/etc/pam.d/common-auth": FAILLOCK.replace("deny=4", "deny=10")}, "locks after 10 failures"),
]


@pytest.mark.parametrize(("probe", "params", "good", "bad", "words"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_probe_passes_one_root_and_fails_the_other(probe: str, params: dict[str, Any], good: dict[str, str], bad: dict[str, str], words: str, tmp_path: Path) -> None:
    modes = {p: "0640" if "shadow" in p else "0600" if p.endswith("_key") else "0644" for p in good}
    status, message = evaluate_probe_offline(probe, params, lay_out_root({"files": good, "modes": modes}, tmp_path / "good"))
    assert status is Status.PASS, message
    status, message = evaluate_probe_offline(probe, params, lay_out_root({"files": bad}, tmp_path / "bad"))
    assert status is Status.FAIL and words in message, message


def test_every_probe_is_covered_somewhere() -> None:
    """A probe without a passing and a failing case is a defect: list where each is shown."""
    here = {c[0] for c in CASES}
    elsewhere = {  # tests/test_probes_live.py and the control fixtures
        "kernel_cmdline", "cpu_vulnerabilities", "lsm_loaded", "kernel_modules_locked", "sshd_effective", "sshd_crypto",
        "mount_options", "nix_store_read_only", "world_writable_sticky", "setuid_allowlist", "listening_sockets",
        "firewall_default_deny", "auditd_rules", "journald_persistent", "time_synchronised", "root_on_luks",
        "running_closure", "store_paths_verified", "sysctl_runtime",
        # tests/test_catalog_checks.py and the control fixtures
        "service_sandboxing", "enabled_units_allowlist", "process_executables", "boot_loader_locked",
        "session_idle_timeout", "sudoers_hardened", "directory_client_secure", "cleartext_listeners", "resolver_dnssec",
        "certificates_valid", "journal_retention", "log_forwarding", "monitoring_agent", "file_integrity_monitoring",
        "rollback_generations", "booted_kernel_current", "no_imperative_packages",
    }
    assert set(registry.all_specs(CheckKind.RUNTIME)) == here | elsewhere


# ---------------------------------------------------------------------------- systemd time spans

SPANS = ["0.5d", "1d 12h", "1d12h", "1.5h", "10", "2 weeks", "1M", "3 months", "1y", "1us", "5msec", "1 d", "0", "+1h", "1h 30",
         "30 1h", "1 h 1", "1 1", ".5d", "5 m", "1 minutes", "6month", "1h30m", "1h.5h", "1μs",
         "garbage", "1,5h", "-1h", "1h-", "1e3", "5.", "1H", "1 Min", "1.5.5h", "1nsec", "1mo", "1h,2m", "5mins", "d", "1d garbage"]


def _systemd_says(span: str) -> float | None:
    proc = subprocess.run(["systemd-analyze", "timespan", "--", span], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    micro = next(line for line in proc.stdout.splitlines() if line.strip().startswith("μs:"))
    return int(micro.split(":", 1)[1]) / 1e6


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (the reference parser)")
@pytest.mark.parametrize("span", SPANS)
def test_time_spans_are_read_as_systemd_reads_them(span: str) -> None:
    expected = _systemd_says(span)
    if expected is None:
        with pytest.raises(ValueError, match="not a systemd time span"):
            parse_timespan(span)
    else:
        assert parse_timespan(span) == pytest.approx(expected, abs=1e-6), span


@pytest.mark.parametrize("retention", ["garbage", "1,5h", "ninety days", "1H"])
def test_a_retention_journald_would_not_read_is_an_error_not_a_pass(retention: str, tmp_path: Path) -> None:
    root = lay_out_root({"files": {"/etc/systemd/journald.conf": f"[Journal]\nMaxRetentionSec={retention}\n"}}, tmp_path / "root")
    with pytest.raises(CheckError, match="not a systemd time span") as raised:
        evaluate_probe_offline("journal_retention", {"min_retention_days": 90}, root)
    assert f"MaxRetentionSec={retention}" in str(raised.value)


@pytest.mark.parametrize("retention", ["", "0", "infinity"])
def test_no_time_limit_keeps_entries(retention: str, tmp_path: Path) -> None:
    root = lay_out_root({"files": {"/etc/systemd/journald.conf": f"[Journal]\nMaxRetentionSec={retention}\n"}}, tmp_path / "root")
    assert evaluate_probe_offline("journal_retention", {"min_retention_days": 90}, root)[0] is Status.PASS

"""Probes on the real machine, live: the effective sshd configuration, the running
kernel, namespaces set up for the purpose (firewall, mounts, securityfs, a running NixOS
closure), a real audit daemon, a real store path tampered with. Each probe is shown to
pass on one real state and to fail on another; nothing stands in for the host."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.hosts.filesystem import LocalHost, OfflineRootHost
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.predicates.nixos import SysctlParams
from compliance.probes.files import (
    SetuidParams,
    StickyParams,
    setuid_allowlist,
    world_writable_sticky,
)
from compliance.probes.kernel_live import (
    CmdlineParams,
    CpuVulnParams,
    cpu_vulnerabilities,
    kernel_cmdline,
    sysctl_runtime,
)
from compliance.probes.sshd import SshdRuntimeParams, sshd_effective
from tests.support import nix
from tests.support.runtime_fixtures import lay_out_root, run_in_namespace, run_probe_in_namespace

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, sshd, auditd)")
CATALOG = load_catalog()


def _selected(control_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in select(CATALOG, [], CheckKind.RUNTIME).controls if s.control.id == control_id)


# ---------------------------------------------------------------------------- sshd


def _sshd_files(base: Path, main_includes: str, dropin: str | None) -> Path:
    (base / "sshd_config.d").mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "host_key")], check=True)
    if dropin is not None:
        (base / "sshd_config.d" / "50-rescue.conf").write_text(dropin)
    config = base / "sshd_config"
    config.write_text(f"HostKey {base / 'host_key'}\nInclude {main_includes}\nPermitRootLogin no\nPasswordAuthentication no\n")
    return config


@as_root
@pytest.mark.parametrize(("dropin", "expected"), [(None, "pass"), ("PermitRootLogin yes\n", "fail")])
def test_a_drop_in_that_re_enables_root_login_is_seen_live_and_offline(tmp_path: Path, dropin: str | None, expected: str) -> None:
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    live = _sshd_files(tmp_path / "live", f"{tmp_path / 'live'}/sshd_config.d/*.conf", dropin)
    outcome = sshd_effective(LocalHost(), SshdRuntimeParams(expected={"PermitRootLogin": ["no"]}, sshd_config=str(live)))
    assert outcome.status.value == expected, outcome.message
    assert outcome.observed["source"] == f"sshd -T -f {live}"
    # The same files at rest in an image, read without running anything, give the same verdict.
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"}
    if dropin:
        files["/etc/ssh/sshd_config.d/50-rescue.conf"] = dropin
    root = lay_out_root({"files": files}, tmp_path / "image")
    offline = sshd_effective(OfflineRootHost(root), SshdRuntimeParams(expected={"PermitRootLogin": ["no"]}))
    assert offline.status.value == expected, offline.message


def _sshd_T(config: Path, *connection: str) -> dict[str, str]:
    argv = ["sshd", "-T", "-f", str(config)] + (["-C", ",".join(connection)] if connection else [])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return dict(line.partition(" ")[::2] for line in out.splitlines())


MATCH_CASES = [
    # (main file tail, drop-in, whether the control passes, words naming the block, a connection sshd gives the setting to)
    ("Match User alice\n  PermitRootLogin yes\n", None, False, "'Match User alice'", ("user=alice", "host=x", "addr=203.0.113.9")),
    ("Match all\n  PasswordAuthentication yes\n", None, False, "'Match all'", ("user=bob", "host=x", "addr=198.51.100.1")),
    ("", "Match User carol\nPasswordAuthentication yes\n", False, "'Match User carol'", ("user=carol", "host=x", "addr=198.51.100.1")),
    # an Include inside a Match block puts the included lines in that block
    ("Match Address 203.0.113.0/24\n  Include {base}/extra.conf\n", None, False, "'Match Address 203.0.113.0/24'",
     ("user=bob", "host=x", "addr=203.0.113.9")),
    # a Match block that keeps the required values, or sets something else, is fine
    ("Match User alice\n  PermitRootLogin no\n  X11Forwarding yes\n", "Match Group admins\nAllowTcpForwarding yes\n", True, "", ()),
]


@as_root
@pytest.mark.parametrize(("tail", "dropin", "passes", "words", "connection"), MATCH_CASES)
def test_a_match_block_that_turns_on_root_login_or_passwords_fails_live_and_offline(
    tmp_path: Path, tail: str, dropin: str | None, passes: bool, words: str, connection: tuple[str, ...],
) -> None:
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    params = SshdRuntimeParams(expected={"PermitRootLogin": ["no"], "PasswordAuthentication": ["no"]})
    base = tmp_path / "live"
    live = _sshd_files(base, f"{base}/sshd_config.d/*.conf", dropin)
    (base / "extra.conf").write_text("PermitRootLogin yes\n")
    live.write_text(live.read_text() + tail.format(base=base))
    # The real server: globally as required (but for 'Match all', which sshd -T applies), yet
    # the connection the block matches gets the setting.
    if "Match all" not in words:
        assert (_sshd_T(live)["permitrootlogin"], _sshd_T(live)["passwordauthentication"]) == ("no", "no")
    if connection:
        given = _sshd_T(live, *connection)
        assert "yes" in (given["permitrootlogin"], given["passwordauthentication"]), given
    outcome = sshd_effective(LocalHost(), params.model_copy(update={"sshd_config": str(live)}))
    assert (outcome.status is Status.PASS) is passes, outcome.message
    assert words in outcome.message or "Match all" in words  # sshd -T itself applies 'Match all'
    # The same files at rest in an image.
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n"
             + tail.format(base="/etc/ssh"),
             "/etc/ssh/extra.conf": "PermitRootLogin yes\n"}
    if dropin:
        files["/etc/ssh/sshd_config.d/50-rescue.conf"] = dropin
    offline = sshd_effective(OfflineRootHost(lay_out_root({"files": files}, tmp_path / "image")), params)
    assert (offline.status is Status.PASS) is passes, offline.message
    assert words in offline.message
    if not passes:
        assert offline.observed["match"] == words.strip("'").removeprefix("Match ")


def test_a_match_block_in_an_included_file_ends_with_that_file(tmp_path: Path) -> None:
    """After the included file, the including file's lines are global again (as sshd reads
    them), so a Match block of a drop-in does not swallow the settings that follow."""
    files = {"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n",
             "/etc/ssh/sshd_config.d/10.conf": "Match User bob\nX11Forwarding yes\n"}
    root = lay_out_root({"files": files}, tmp_path / "image")
    outcome = sshd_effective(OfflineRootHost(root), SshdRuntimeParams(expected={"PermitRootLogin": ["no"]}))
    assert outcome.status is Status.PASS, outcome.message
    assert outcome.observed["match_blocks"] == ["'Match User bob' (/etc/ssh/sshd_config.d/10.conf line 1)"]
    (root / "etc/ssh/sshd_config.d/10.conf").write_text("Match User bob\nPermitRootLogin yes\n")
    assert sshd_effective(OfflineRootHost(root), SshdRuntimeParams(expected={"PermitRootLogin": ["no"]})).status is Status.FAIL


# ---------------------------------------------------------------------------- kernel


def test_sysctls_are_read_from_the_running_kernel() -> None:
    value = subprocess.run(["sysctl", "-n", "kernel.pid_max"], capture_output=True, text=True, check=True).stdout.strip()
    host = LocalHost()
    assert sysctl_runtime(host, SysctlParams(expected={"kernel.pid_max": value})).status is Status.PASS
    outcome = sysctl_runtime(host, SysctlParams(expected={"kernel.pid_max": str(int(value) + 1)}))
    assert outcome.status is Status.FAIL and outcome.observed["values"] == {"kernel.pid_max": value}


@as_root
def test_network_sysctls_of_a_namespace_are_that_namespaces(tmp_path: Path) -> None:
    params = {"expected": {"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.rp_filter": "1"}}
    good = run_probe_in_namespace("sysctl_runtime", params, {"sysctl": {"net.ipv4.ip_forward": "0", "net.ipv4.conf.all.rp_filter": "1"}}, tmp_path)
    bad = run_probe_in_namespace("sysctl_runtime", params, {"sysctl": {"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "1"}}, tmp_path)
    assert good[0] is Status.PASS, good
    assert bad[0] is Status.FAIL and "net.ipv4.ip_forward is '1'" in bad[1]


def test_kernel_command_line_of_the_running_kernel() -> None:
    tokens = Path("/proc/cmdline").read_text().split()
    first = tokens[0]
    assert kernel_cmdline(LocalHost(), CmdlineParams(required_params=[first], forbidden_params=[])).status is Status.PASS
    outcome = kernel_cmdline(LocalHost(), CmdlineParams(required_params=[], forbidden_params=[first]))
    assert outcome.status is Status.FAIL and first in outcome.message


def test_cpu_vulnerabilities_as_the_kernel_reports_them() -> None:
    folder = Path("/sys/devices/system/cpu/vulnerabilities")
    if not folder.is_dir():
        pytest.skip("the kernel reports no CPU vulnerabilities")
    vulnerable = sorted(p.name for p in folder.iterdir() if p.read_text().startswith("Vulnerable"))
    assert cpu_vulnerabilities(LocalHost(), CpuVulnParams(allow_vulnerable=vulnerable)).status is Status.PASS
    if not vulnerable:
        pytest.skip("this CPU reports nothing vulnerable: the failing case needs one")
    outcome = cpu_vulnerabilities(LocalHost(), CpuVulnParams())
    assert outcome.status is Status.FAIL and vulnerable[0] in outcome.message


@as_root
def test_lsms_and_lockdown_need_securityfs_and_are_read_from_it(tmp_path: Path) -> None:
    without = run_probe_in_namespace("lsm_loaded", {}, {"commands": [["umount", "-q", "/sys/kernel/security"]] if os.path.ismount("/sys/kernel/security") else []}, tmp_path)
    assert without[0] is Status.ERROR and "securityfs is not mounted" in without[1]  # never a pass without the input
    securityfs = {"mounts": [{"target": "/sys/kernel/security", "type": "securityfs", "options": "rw"}]}
    active = run_probe_in_namespace("lsm_loaded", {"required_lsms": ["capability"], "mac_lsms": []}, securityfs, tmp_path)
    assert active[0] is Status.PASS, active
    loaded = active[1].removeprefix("active LSMs: ").split(", ")
    mac = run_probe_in_namespace("lsm_loaded", {"mac_lsms": ["apparmor", "selinux"]}, securityfs, tmp_path)
    if {"apparmor", "selinux"} & set(loaded):
        assert mac[0] in (Status.PASS, Status.FAIL) and "no mandatory access control" not in mac[1]
    else:
        assert mac[0] is Status.FAIL and "no mandatory access control LSM active" in mac[1], mac
    absent = run_probe_in_namespace("lsm_loaded", {"required_lsms": [*loaded, "no-such-lsm"], "mac_lsms": []}, securityfs, tmp_path)
    assert absent[0] is Status.FAIL and "no-such-lsm is not active" in absent[1]
    mode = run_probe_in_namespace("kernel_lockdown", {"lockdown_modes": ["none", "integrity", "confidentiality"]}, securityfs, tmp_path)
    assert mode[0] is Status.PASS, mode
    current = mode[1].rsplit(" ", 1)[-1]
    stricter = run_probe_in_namespace("kernel_lockdown", {"lockdown_modes": [m for m in ("none", "integrity", "confidentiality") if m != current]}, securityfs, tmp_path)
    assert stricter[0] is Status.FAIL and current in stricter[1]


@as_root
def test_lockdown_is_not_judged_from_the_command_line_without_securityfs(tmp_path: Path) -> None:
    """A command line that says lockdown=confidentiality proves nothing about a kernel
    without the lockdown LSM: without securityfs the state is unknown, an error."""
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(Path("/proc/cmdline").read_text().strip() + " lockdown=confidentiality\n")
    setup = {"commands": [*([["umount", "-q", "/sys/kernel/security"]] if os.path.ismount("/sys/kernel/security") else []),
                          ["mount", "--bind", str(cmdline), "/proc/cmdline"]]}
    status, message = run_probe_in_namespace("kernel_lockdown", {"lockdown_modes": ["confidentiality"]}, setup, tmp_path)
    assert status is Status.ERROR and "/sys/kernel/security/lockdown is missing" in message, (status, message)


# ---------------------------------------------------------------------------- file system


@as_root
@pytest.mark.parametrize(("mounts", "expected"), [(["/tmp", "/dev/shm", "/home", "/var"], "pass"), (["/tmp", "/dev/shm"], "fail")])
def test_mount_options_of_the_running_system(tmp_path: Path, mounts: list[str], expected: str) -> None:
    # Bind mounts onto themselves: separate mounts with the options, whose content stays
    # visible (the checkout and its virtual environment may live under /tmp, /home or /var).
    setup = {"mounts": [{"target": m, "bind": True, "options": "nosuid,nodev,noexec"} for m in mounts]}
    status, message = run_in_namespace("HK-05", setup, None, tmp_path)
    assert status.value == expected, message
    if expected == "fail":
        assert "/home (not a separate mount" in message


@as_root
def test_special_modes_found_by_a_real_walk(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "shared").mkdir(parents=True)
    os.chmod(tree / "shared", 0o1777)
    (tree / "wrappers").mkdir()
    (tree / "wrappers" / "sudo").write_text("x")
    os.chmod(tree / "wrappers" / "sudo", 0o4755)
    scan = {"scan_roots": [str(tree)], "scan_prune": []}
    host = LocalHost()
    assert world_writable_sticky(host, StickyParams(**scan)).status is Status.PASS
    assert setuid_allowlist(host, SetuidParams(**scan, setuid_allowlist=[f"{tree}/wrappers/*"])).status is Status.PASS
    (tree / "drop").mkdir()
    os.chmod(tree / "drop", 0o777)
    (tree / "bin").mkdir()
    (tree / "bin" / "shell").write_text("x")
    os.chmod(tree / "bin" / "shell", 0o6755)
    host = LocalHost()  # a new run: nothing cached
    sticky = world_writable_sticky(host, StickyParams(**scan))
    assert sticky.status is Status.FAIL and f"{tree}/drop" in sticky.message
    setuid = setuid_allowlist(host, SetuidParams(**scan, setuid_allowlist=[f"{tree}/wrappers/*"]))
    assert setuid.status is Status.FAIL and setuid.observed["not_allowed"] == [f"{tree}/bin/shell"]


# ---------------------------------------------------------------------------- firewall


@as_root
@pytest.mark.skipif(shutil.which("iptables") is None, reason="needs iptables")
def test_iptables_default_drop_is_recognised(tmp_path: Path) -> None:
    both = [["iptables", "-P", "INPUT", "DROP"], ["ip6tables", "-P", "INPUT", "DROP"], ["iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"]]
    status, message = run_in_namespace("NW-01", {"commands": both}, None, tmp_path)
    assert status is Status.PASS, message
    status, message = run_in_namespace("NW-01", {"commands": both[:1]}, None, tmp_path)
    assert status is Status.FAIL and "IPv6" in message and "IPv4" not in message


# ---------------------------------------------------------------------------- running closure and store


@pytest.fixture
def unique_closure(tmp_path: Path) -> Iterator[str]:
    if not nix.have_nix():
        pytest.skip("needs Debian's nix-bin, as root")
    token = uuid.uuid4().hex
    path = nix.build(f'mk "system-{token[:8]}" \'\'mkdir -p $out/bin; echo {token} > $out/bin/init\'\'', tmp_path, "system")
    yield path
    (tmp_path / "system-result").unlink(missing_ok=True)
    subprocess.run(["nix-store", "--delete", path], capture_output=True, env=nix.nix_env(), check=False)


def _running(path: str) -> dict[str, object]:
    return {"mounts": [{"target": "/run", "type": "tmpfs", "options": "nosuid,nodev"}, {"target": "/nix/store", "bind": True, "options": "ro"}],
            "links": {"/run/current-system": path}}


@as_root
def test_the_running_closure_is_compared_with_the_expected_one(unique_closure: str, tmp_path: Path) -> None:
    assert run_in_namespace("CM-01", _running(unique_closure), unique_closure, tmp_path)[0] is Status.PASS
    other = "/nix/store/00000000000000000000000000000000-nixos-system-other"
    status, message = run_in_namespace("CM-01", _running(unique_closure), other, tmp_path)
    assert status is Status.FAIL and unique_closure in message


@as_root
def test_a_modified_store_path_is_detected(unique_closure: str, tmp_path: Path) -> None:
    assert run_in_namespace("SC-07", _running(unique_closure), None, tmp_path)[0] is Status.PASS
    target = Path(unique_closure) / "bin" / "init"
    os.chmod(target, 0o644)
    target.write_text("tampered\n")
    status, message = run_in_namespace("SC-07", _running(unique_closure), None, tmp_path)
    assert status is Status.FAIL and "modified" in message and unique_closure in message


# ---------------------------------------------------------------------------- audit


AUDITD_CONF = """log_file = {log}
log_format = ENRICHED
flush = NONE
max_log_file = 8
num_logs = 1
max_log_file_action = ROTATE
space_left = 75
space_left_action = IGNORE
admin_space_left = 50
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
"""


@pytest.fixture
def audit_lock() -> Iterator[None]:
    """The kernel has one audit subsystem: tests that start auditd take turns."""
    with open("/run/lock/compliance-audit-test.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@as_root
@pytest.mark.skipif(shutil.which("auditd") is None or shutil.which("auditctl") is None, reason="needs auditd")
def test_auditd_running_with_rules_passes_and_stopped_fails(audit_lock: None, tmp_path: Path) -> None:
    status = subprocess.run(["auditctl", "-s"], capture_output=True, text=True, check=False)
    if status.returncode != 0:
        pytest.skip(f"kernel auditing is not available: {status.stderr.strip()}")
    if "auditd" in subprocess.run(["ps", "-eo", "comm"], capture_output=True, text=True, check=True).stdout.split():
        pytest.skip("an audit daemon already runs on this machine: not touching it")
    was_enabled = "enabled 1" in status.stdout
    (tmp_path / "auditd.conf").write_text(AUDITD_CONF.format(log=tmp_path / "audit.log"))
    os.chmod(tmp_path / "auditd.conf", 0o640)
    rules = tmp_path / "test.rules"
    rules.write_text("".join(f"-w {p} -p wa -k cg-test\n" for p in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers", "/etc/gshadow")))
    daemon = subprocess.Popen(["auditd", "-f", "-n", "-c", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # readiness, not a timed assertion
            if f"pid {daemon.pid}" in subprocess.run(["auditctl", "-s"], capture_output=True, text=True, check=False).stdout:
                break
            time.sleep(0.05)
        subprocess.run(["auditctl", "-R", str(rules)], capture_output=True, check=True)
        running = engine.evaluate_control(_selected("LG-01"), CheckKind.RUNTIME, LocalHost())
        assert running.status is Status.PASS, running.message
    finally:
        subprocess.run(["auditctl", "-D", "-k", "cg-test"], capture_output=True, check=False)
        daemon.terminate()
        daemon.wait(timeout=30)
        if not was_enabled:
            subprocess.run(["auditctl", "-e", "0"], capture_output=True, check=False)
    stopped = engine.evaluate_control(_selected("LG-01"), CheckKind.RUNTIME, LocalHost())
    assert stopped.status is Status.FAIL and "auditd is not running" in stopped.message


def test_old_sshd_keyword_spellings_count_offline(tmp_path: Path) -> None:
    """Debian 11's sshd_config says ChallengeResponseAuthentication, which sshd reads as
    KbdInteractiveAuthentication; a Match block does not change the global settings (and
    one that keeps the required values passes)."""
    config = "ChallengeResponseAuthentication no\nPasswordAuthentication no\nMatch User backup\n  X11Forwarding yes\n"
    root = lay_out_root({"files": {"/etc/ssh/sshd_config": config}}, tmp_path / "image")
    params = SshdRuntimeParams(expected={"KbdInteractiveAuthentication": ["no"], "PasswordAuthentication": ["no"]})
    assert sshd_effective(OfflineRootHost(root), params).status is Status.PASS
    (root / "etc/ssh/sshd_config").write_text(config.replace("ChallengeResponseAuthentication no\n", ""))
    outcome = sshd_effective(OfflineRootHost(root), params)
    assert outcome.status is Status.FAIL and "KbdInteractiveAuthentication is 'yes'" in outcome.message

"""The three transports answer the same requests with the same bytes: the local machine,
the same machine through a real OpenSSH server on loopback, and an offline root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.errors import ProbeError, UsageError
from compliance.hosts import remote_script
from compliance.hosts.filesystem import LocalHost, OfflineRootHost
from compliance.hosts.host_api import Host
from compliance.hosts.requests import (
    FindSpecial,
    ListDir,
    ListProcesses,
    ObservationStatus,
    ReadFile,
    Request,
    ResolvePath,
    RunCommand,
    StatPath,
)
from compliance.hosts.ssh import SshHost, parse_ssh_url
from compliance.runs.host_open import open_host
from tests.support.cli import ROOT
from tests.support.sshd import SshServer, sshd_server  # noqa: F401

TRICKY = b"line\n@@cg-0000 0 0 5 0 ok\n\x00\xff binary \r\n"


def _tree(base: Path) -> None:
    """Files whose answers every transport must render identically."""
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "tricky").write_bytes(TRICKY)
    (base / "etc" / "empty").write_bytes(b"")
    (base / "etc" / "secret").write_text("s\n")
    os.chmod(base / "etc" / "secret", 0o600)
    (base / "etc" / "link").symlink_to("tricky")
    (base / "shared").mkdir()
    os.chmod(base / "shared", 0o1777)
    (base / "open").mkdir()
    os.chmod(base / "open", 0o777)
    (base / "bin").mkdir()
    (base / "bin" / "su").write_text("#!/bin/sh\n")
    os.chmod(base / "bin" / "su", 0o4755)
    (base / "skip").mkdir()
    (base / "skip" / "sg").write_text("x")
    os.chmod(base / "skip" / "sg", 0o2755)


def _requests(base: str) -> list[Request]:
    return [
        ReadFile(f"{base}/etc/tricky"), ReadFile(f"{base}/etc/empty"), ReadFile(f"{base}/etc/link"),
        ReadFile(f"{base}/etc/absent"), ReadFile(f"{base}/etc"), StatPath(f"{base}/etc/secret"),
        StatPath(f"{base}/etc/link"), StatPath(f"{base}/absent"), ListDir(f"{base}/etc"), ListDir(f"{base}/absent"),
        ResolvePath(f"{base}/etc/link"), ResolvePath(f"{base}/absent"),
        FindSpecial((f"{base}",), (f"{base}/skip",)), FindSpecial((f"{base}/absent",)),
    ]


def _answers(host: Host, requests: list[Request]) -> dict[Request, tuple[str, bytes]]:
    host.prefetch(requests)
    return {r: (host.observe(r).status.value, host.observe(r).data) for r in requests}


@pytest.mark.skipif(os.geteuid() != 0, reason="ssh as root")
def test_ssh_and_local_render_the_same_bytes(sshd_server: SshServer, tmp_path: Path) -> None:  # noqa: F811
    _tree(tmp_path)
    requests = _requests(str(tmp_path))
    local = _answers(LocalHost(), requests)
    with SshHost(parse_ssh_url(sshd_server.url), identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as remote:
        over_ssh = _answers(remote, requests)
        assert remote.round_trips == 1  # every request of the batch in one exchange
    assert over_ssh == local
    assert local[ReadFile(f"{tmp_path}/etc/tricky")] == ("ok", TRICKY)
    assert local[ReadFile(f"{tmp_path}/etc/absent")][0] == "missing"
    assert local[ReadFile(f"{tmp_path}/etc")][0] == "error"
    found = local[FindSpecial((str(tmp_path),), (f"{tmp_path}/skip",))][1].decode()
    assert f"4755 0 0 f {tmp_path}/bin/su" in found and f"1777 0 0 d {tmp_path}/shared" in found
    assert f"777 0 0 d {tmp_path}/open" in found and "skip" not in found


@pytest.mark.skipif(os.geteuid() != 0, reason="ssh as root")
def test_commands_over_ssh_keep_exit_code_stdout_and_stderr(sshd_server: SshServer) -> None:  # noqa: F811
    script = RunCommand(("sh", "-c", "printf 'out\\000put'; echo problem >&2; exit 3"))
    absent = RunCommand(("no-such-command-here",))
    with SshHost(parse_ssh_url(sshd_server.url), identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as remote:
        remote.prefetch([script, absent, ListProcesses()])
        obs = remote.observe(script)
        assert (obs.status, obs.exit_code, obs.data, obs.stderr_text) == (ObservationStatus.OK, 3, b"out\x00put", "problem")
        assert remote.observe(absent).status is ObservationStatus.MISSING
        assert "sshd" in remote.processes().values()


def test_offline_root_confines_absolute_links_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc" / "static").mkdir(parents=True)
    (root / "etc" / "static" / "hostname").write_text("image\n")
    (root / "etc" / "hostname").symlink_to("/etc/static/hostname")  # absolute: inside the image
    (root / "etc" / "escape").symlink_to("/../../../../etc/passwd")
    host = OfflineRootHost(root)
    assert host.read_text("/etc/hostname") == "image\n"
    assert host.read_text("/etc/escape") is None  # /etc/passwd of the image, which it does not have
    assert host.resolve("/etc/hostname") == "/etc/static/hostname"


def test_offline_root_runs_nothing(tmp_path: Path) -> None:
    host = OfflineRootHost(tmp_path)
    host.prefetch([RunCommand(("id",)), ListProcesses()])
    assert host.observe(RunCommand(("id",))).status is ObservationStatus.UNAVAILABLE
    assert host.observe(ListProcesses()).status is ObservationStatus.UNAVAILABLE


def test_an_offline_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        OfflineRootHost(tmp_path / "absent")


@pytest.mark.parametrize("url", ["http://h", "ssh://", "ssh://h/path", "ssh://u:pw@h", "ssh://h:99999", "ssh://-oProxyCommand=x"])
def test_bad_ssh_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError):
        parse_ssh_url(url)


@pytest.mark.skipif(os.geteuid() != 0, reason="ssh as root")
def test_a_host_key_that_does_not_match_is_refused(sshd_server: SshServer, tmp_path: Path) -> None:  # noqa: F811
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd_server.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    with pytest.raises(ProbeError, match="SSH connection failed"):
        open_host(ssh_url=sshd_server.url, identity=str(sshd_server.identity), known_hosts=str(wrong))
    assert sshd_server.accepted_connections() == 0


# Root reads through any file mode; to see what an unprivileged account sees, root runs the
# command with the two capabilities that bypass modes dropped (still uid 0, so the checkout
# stays readable). Another user runs it as is: a folder of mode 000 stops its owner too.
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _unprivileged(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if subprocess.run([*NO_DAC, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here (setpriv)")
    return [*NO_DAC, *argv]


LOCAL_STATUSES = """
import sys
from compliance.hosts.filesystem import LocalHost
from compliance.hosts.requests import ListDir, ReadFile, ResolvePath, StatPath
base = sys.argv[1]
requests = [ReadFile(base + "/locked/secret"), StatPath(base + "/locked/secret"), ListDir(base + "/locked/sub"),
            ResolvePath(base + "/locked/secret"), ReadFile(base + "/absent"), ResolvePath(base + "/absent")]
host = LocalHost()
host.prefetch(requests)
print(" ".join(host.observe(r).status.value for r in requests))
"""


def test_a_file_this_account_may_not_reach_is_denied_not_missing(tmp_path: Path) -> None:
    """A file below a folder the probing account cannot search is *denied* (the probe
    cannot decide) on every transport, never *missing*: probes read an absent file as
    "nothing to flag" (no package in /root/.nix-profile, no stray key), so an audit account
    without rights over SSH would pass them."""
    locked = tmp_path / "locked"
    (locked / "sub").mkdir(parents=True)
    (locked / "secret").write_text("s\n")
    base = str(tmp_path)
    requests: list[Request] = [
        ReadFile(f"{base}/locked/secret"), StatPath(f"{base}/locked/secret"), ListDir(f"{base}/locked/sub"),
        ResolvePath(f"{base}/locked/secret"), ReadFile(f"{base}/absent"), ResolvePath(f"{base}/absent"),
    ]
    expected = ["denied"] * 4 + ["missing"] * 2
    token = remote_script.new_token()
    os.chmod(locked, 0o000)
    try:
        script = subprocess.run(_unprivileged(["sh", "-s"]), input=remote_script.render(requests, token).encode(),
                                capture_output=True, timeout=60, check=True)
        local = subprocess.run(_unprivileged([sys.executable, "-c", LOCAL_STATUSES, base]), cwd=ROOT,
                               capture_output=True, text=True, timeout=60, check=True)
    finally:
        os.chmod(locked, 0o700)
    answers = remote_script.parse(script.stdout, requests, token, "test")
    assert [answers[r].status.value for r in requests] == expected
    assert local.stdout.split() == expected

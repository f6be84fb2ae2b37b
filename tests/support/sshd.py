"""A real OpenSSH server on 127.0.0.1, on a free port, with its own configuration, host
key and authorized key in a temporary folder: the remote host of the SSH transport tests.

``sshd -D -e`` logs to a file the tests read (one "Accepted publickey" line per
connection), and the server stops with the fixture.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class SshServer:
    port: int
    config: Path
    identity: Path  # the client's private key
    known_hosts: Path
    log: Path
    dropins: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def cli_args(self) -> list[str]:
        return ["--host", self.url, "--ssh-identity", str(self.identity), "--ssh-known-hosts", str(self.known_hosts)]

    def accepted_connections(self) -> int:
        return sum(1 for line in self.log.read_text(errors="replace").splitlines() if "Accepted publickey" in line)


def have_sshd() -> bool:
    return os.path.exists(SSHD) and shutil.which("ssh") is not None and os.geteuid() == 0


requires_sshd = pytest.mark.skipif(not have_sshd(), reason="needs openssh-server and openssh-client, as root")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)


@pytest.fixture
def sshd_server(tmp_path: Path) -> Iterator[SshServer]:
    if not have_sshd():
        pytest.skip("needs openssh-server and openssh-client, as root")
    with start_sshd(tmp_path / "sshd") as server:
        yield server


# A host of its own on this machine: its own host name (UTS namespace) and its own
# /run/current-system (a private /run and /nix/store in a mount namespace), so that
# several sshd instances on loopback answer as several NixOS hosts.
NAMESPACED = """set -e
hostname "$1"
mount -t tmpfs -o mode=0755 none /run
mkdir -p /run/sshd
if [ -n "$2" ]; then
  mount -t tmpfs -o mode=0755 none /nix/store
  mkdir -p "$2"
  ln -s "$2" /run/current-system
  ln -s "$2" /run/booted-system
fi
shift 2
exec "$@"
"""


def can_namespace() -> bool:
    if not have_sshd() or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--uts", "--mount", "--propagation", "private", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@contextlib.contextmanager
def start_sshd(base: Path, *, hostname: str | None = None, closure: str | None = None) -> Iterator[SshServer]:
    """Start sshd with everything it needs under ``base``; stop it on exit. With
    ``hostname``, in namespaces where it is that host, running ``closure``."""
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    base.mkdir(parents=True)
    _keygen(base / "host_key")
    _keygen(base / "client_key")
    (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
    dropins = base / "sshd_config.d"
    dropins.mkdir()
    # The drop-in is read first, so its value wins over the main file's (as sshd -T shows).
    (dropins / "10-deploy.conf").write_text("PermitRootLogin prohibit-password\n")
    port = _free_port()
    config = base / "sshd_config"
    config.write_text(
        f"Include {dropins}/*.conf\n"
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nPidFile {base / 'sshd.pid'}\n"
        "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nLogLevel VERBOSE\nMaxStartups 100\n"
    )
    host_pub = (base / "host_key.pub").read_text().split()
    known_hosts = base / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    log = base / "sshd.log"
    with log.open("wb") as handle:
        argv = [SSHD, "-D", "-e", "-f", str(config)]
        if hostname is not None:
            argv = ["unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", NAMESPACED, "sh",
                    hostname, closure or "", *argv]
        proc = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):  # readiness, not a timed assertion
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield SshServer(port, config, base / "client_key", known_hosts, log, dropins)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

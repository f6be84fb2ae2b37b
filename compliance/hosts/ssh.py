"""A remote host over real OpenSSH, one connection for the whole run.

The first contact opens a ControlMaster connection (authenticated once, in the
background); every batch of requests then runs as one remote ``sh`` over that connection
(:mod:`compliance.hosts.remote_script`), so a full profile costs a few round trips and a
single SSH handshake. Host keys are checked as OpenSSH checks them (``BatchMode``: no
prompt; give ``known_hosts`` for a host not in the user's file), and authentication is
whatever the user's SSH setup provides, or an identity file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from compliance.errors import ProbeError, UsageError
from compliance.hosts import remote_script
from compliance.hosts.host_api import Host
from compliance.hosts.requests import Observation, ObservationStatus, Request

# A batch's commands and walks run side by side, each stopped after the host's timeout:
# the batch as a whole gets that and this much more (connection, file reads, output).
BATCH_SLACK = 60.0
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int | None

    @property
    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"


_HOST_RE = re.compile(r"^[A-Za-z0-9._:-]+$")


def parse_ssh_url(text: str) -> SshTarget:
    """``ssh://[user@]host[:port]`` (IPv6 literals in brackets)."""
    parts = urlsplit(text)
    if parts.scheme != "ssh" or not parts.hostname:
        raise UsageError(f"--host {text}: expected ssh://[user@]host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.password:
        raise UsageError(f"--host {text}: only ssh://[user@]host[:port] is accepted (no path, password or query)")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"--host {text}: invalid port") from None
    if not _HOST_RE.match(parts.hostname) or parts.hostname.startswith("-"):
        raise UsageError(f"--host {text}: invalid host name")
    user = unquote(parts.username) if parts.username else None
    if user is not None and (not user or user.startswith("-") or any(c.isspace() for c in user)):
        raise UsageError(f"--host {text}: invalid user name")
    return SshTarget(user, parts.hostname, port)


class SshHost(Host):
    kind = "ssh"
    live = True

    def __init__(
        self,
        target: SshTarget,
        *,
        identity: str | None = None,
        known_hosts: str | None = None,
        options: Sequence[str] = (),
    ) -> None:
        super().__init__()
        if shutil.which("ssh") is None:
            raise ProbeError("ssh: the OpenSSH client is not installed")
        self.target = target
        self._dir = tempfile.mkdtemp(prefix="compliance-ssh-")
        self._control = os.path.join(self._dir, "control")
        self._options: list[str] = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
        if target.port:
            self._options += ["-p", str(target.port)]
        if identity:
            self._options += ["-i", identity, "-o", "IdentitiesOnly=yes"]
        if known_hosts:
            self._options += ["-o", f"UserKnownHostsFile={known_hosts}"]
        for option in options:
            self._options += ["-o", option]
        self._destination = f"{target.user}@{target.host}" if target.user else target.host
        self._open = False

    @property
    def address(self) -> str:
        return self.target.url

    def connect(self) -> None:
        """Authenticate once; the master connection stays in the background until close."""
        if self._open:
            return
        log = os.path.join(self._dir, "master.log")
        argv = ["ssh", *self._options, "-o", "ControlMaster=yes", "-o", f"ControlPath={self._control}",
                "-o", "ControlPersist=60", "-E", log, "-f", "-N", self._destination]
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=CONNECT_TIMEOUT + 20, check=False)
        except subprocess.TimeoutExpired:
            raise ProbeError(f"{self.address}: SSH connection timed out") from None
        if proc.returncode != 0:
            raise ProbeError(f"{self.address}: SSH connection failed: {_last_line(log)}")
        self._open = True

    def _collect(self, requests: list[Request]) -> dict[Request, Observation]:
        self.connect()
        token = remote_script.new_token()
        script = remote_script.render(requests, token, self.timeout)
        argv = ["ssh", *self._options, "-o", "ControlMaster=no", "-o", f"ControlPath={self._control}",
                self._destination, "exec /bin/sh -s"]
        limit = self.timeout + BATCH_SLACK
        try:
            proc = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            # Not an answer to any of them: every request of the batch is an error, and the
            # checks that needed one say so; the others of the run are still judged.
            detail = f"the remote batch did not finish within {limit:g} s"
            return {r: Observation(r, ObservationStatus.ERROR, detail=detail) for r in requests}
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ProbeError(f"{self.address}: remote batch failed (exit {proc.returncode}): {reason[-1] if reason else 'no message'}")
        return remote_script.parse(proc.stdout, requests, token, self.address, self.timeout)

    def close(self) -> None:
        if self._open:
            subprocess.run(["ssh", *self._options, "-o", f"ControlPath={self._control}", "-O", "exit", self._destination],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False)
            self._open = False
        shutil.rmtree(self._dir, ignore_errors=True)


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [ln.strip() for ln in handle if ln.strip()]
    except OSError:
        return "no message"
    return lines[-1] if lines else "no message"

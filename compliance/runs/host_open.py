"""Opening the host a probe run reads: an offline root, SSH, or the local machine.

The transport is chosen here, in the run, so that importing the probes (as every catalog
load does) never imports a transport.
"""

from __future__ import annotations

from collections.abc import Sequence

from compliance.errors import UsageError
from compliance.hosts.filesystem import LocalHost, OfflineRootHost
from compliance.hosts.host_api import Host, HostIdentity
from compliance.hosts.ssh import SshHost, parse_ssh_url


def open_host(
    *,
    root: str | None = None,
    ssh_url: str | None = None,
    identity: str | None = None,
    known_hosts: str | None = None,
    ssh_options: Sequence[str] = (),
) -> Host:
    """The host a probe run reads: an offline root, an SSH connection (opened here), or this machine."""
    if root and ssh_url:
        raise UsageError("--root and --host are mutually exclusive")
    if (identity or known_hosts or ssh_options) and not ssh_url:
        raise UsageError("--ssh-identity, --ssh-known-hosts and --ssh-option need --host")
    if root:
        return OfflineRootHost(root)
    if ssh_url:
        host = SshHost(parse_ssh_url(ssh_url), identity=identity, known_hosts=known_hosts, options=ssh_options)
        try:
            host.connect()
        except BaseException:
            host.close()
            raise
        return host
    return LocalHost()


__all__ = ["Host", "HostIdentity", "LocalHost", "OfflineRootHost", "SshHost", "open_host"]

"""How runtime probes reach a host: the local machine, SSH, or an offline root folder.

Probes only see :class:`~compliance.hosts.host_api.Host`; :func:`open_host` picks the
transport from the command line's ``--root`` / ``--host``.
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

"""Probe of disk encryption: is the root file system on dm-crypt (LUKS)."""

from __future__ import annotations

from ..errors import CheckError
from ..hosts.base import Host
from ..hosts.requests import ReadFile, Request
from ..models.params import NoParams
from ..registry import Outcome, failed, probe, verdict
from .plan import plans


@plans("root_on_luks")
def _plan_luks(host: Host, params: NoParams) -> list[Request]:
    return [ReadFile("/proc/self/mountinfo")] if host.live else [ReadFile("/etc/fstab"), ReadFile("/etc/crypttab")]


def _crypt_chain(host: Host, device: str, depth: int = 0) -> list[str]:
    """The dm-crypt devices under a block device (``MAJ:MIN``), through LVM and other layers."""
    if depth > 8:
        return []
    uuid = (host.read_text(f"/sys/dev/block/{device}/dm/uuid") or "").strip()
    found = [f"{device} {uuid}"] if uuid.startswith("CRYPT-") else []
    for slave in host.listdir(f"/sys/dev/block/{device}/slaves") or []:
        number = (host.read_text(f"/sys/class/block/{slave}/dev") or "").strip()
        if number:
            found += _crypt_chain(host, number, depth + 1)
    return found


@probe("root_on_luks", params=NoParams)
def root_on_luks(host: Host, params: NoParams) -> Outcome:
    """The root file system sits on a dm-crypt (LUKS) device: live, from the block device chain in sysfs; offline, from fstab and crypttab."""
    if host.live:
        text = host.read_text("/proc/self/mountinfo") or ""
        root = next((line.split() for line in text.splitlines() if line.split()[4:5] == ["/"]), None)
        if root is None:
            raise CheckError("no mount of / in /proc/self/mountinfo")
        device, fstype = root[2], root[root.index("-") + 1]
        if device.startswith("0:"):
            raise CheckError(f"/ is a {fstype} file system without a block device: its encryption cannot be told from sysfs")
        chain = _crypt_chain(host, device)
        return verdict(bool(chain), f"/ ({fstype} on {device}) is on dm-crypt", f"/ ({fstype} on block device {device}) is not on dm-crypt",
                       device=device, crypt=chain)
    fstab = host.read_text("/etc/fstab")
    if fstab is None:
        raise CheckError("the offline root has no /etc/fstab")
    entry = next((f for f in (ln.split() for ln in fstab.splitlines()) if len(f) >= 2 and f[1] == "/" and not f[0].startswith("#")), None)
    if entry is None:
        return failed("/etc/fstab has no entry for /")
    crypttab = [f[0] for f in (ln.split() for ln in (host.read_text("/etc/crypttab") or "").splitlines()) if f and not f[0].startswith("#")]
    name = entry[0].removeprefix("/dev/mapper/") if entry[0].startswith("/dev/mapper/") else None
    return verdict(name is not None and name in crypttab, f"/ is on {entry[0]}, unlocked through crypttab",
                   f"/ is on {entry[0]}, which is not a dm-crypt device listed in /etc/crypttab", device=entry[0], crypttab=crypttab)

"""Probes of cryptography at rest and in use: is the root file system on dm-crypt (LUKS),
and the certificates the host serves."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from compliance.checks.registry import Outcome, failed, probe, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request
from compliance.models.params import HIGHER, LOWER, UNION, NoParams, Params
from compliance.probes.planners import plans
from compliance.util import clock


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


# ---------------------------------------------------------------------------- certificates

# Certificates NixOS's ACME client keeps (security.acme.certs.<name> → /var/lib/acme/<name>).
DEFAULT_CERTIFICATE_PATHS = ["/var/lib/acme/*/cert.pem"]
WEAK_SIGNATURE_HASHES = ("md5", "sha1")


class CertificateParams(Params):
    certificate_paths: Annotated[list[str], UNION] = DEFAULT_CERTIFICATE_PATHS  # globs, any component
    min_days_left: Annotated[int, HIGHER] = 30
    min_rsa_bits: Annotated[int, HIGHER] = 2048
    min_ec_bits: Annotated[int, HIGHER] = 256
    max_validity_days: Annotated[int | None, LOWER] = None


def expand_glob(host: Host, pattern: str) -> list[str]:
    """Paths matching ``pattern`` (globs in any component), listed through the host."""
    found = ["/"]
    for part in [p for p in pattern.split("/") if p]:
        nxt: list[str] = []
        for base in found:
            prefix = base.rstrip("/")
            if any(c in part for c in "*?["):
                nxt += [f"{prefix}/{n}" for n in sorted(host.listdir(base) or []) if fnmatch.fnmatchcase(n, part)]
            else:
                nxt.append(f"{prefix}/{part}")
        found = nxt
    return found


def describe_certificate(pem: bytes, path: str) -> dict[str, Any]:
    """The register entry of the first certificate of a PEM file."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise CheckError(f"{path}: not a PEM certificate ({exc})") from None
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, bits = f"EC {key.curve.name}", key.curve.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, bits = "Ed25519", 256
    else:
        key_type, bits = type(key).__name__, 0
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    digest = cert.signature_hash_algorithm
    return {
        "path": path,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "san": names,
        "not_before": clock.isoformat(cert.not_valid_before_utc),
        "not_after": clock.isoformat(cert.not_valid_after_utc),
        "key": key_type,
        "key_bits": bits,
        "signature_hash": digest.name if digest is not None else "none",
        "_not_before": cert.not_valid_before_utc,
        "_not_after": cert.not_valid_after_utc,
    }


@plans("certificates_valid")
def _plan_certs(host: Host, params: CertificateParams) -> list[Request]:
    # the folder above the first glob: listing it is the first step of every expansion
    out: list[Request] = []
    for pattern in params.certificate_paths:
        parts = pattern.split("/")
        first = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[")), None)
        out.append(ReadFile(pattern) if first is None else ListDir("/".join(parts[:first]) or "/"))
    return out


@probe("certificates_valid", params=CertificateParams)
def certificates_valid(host: Host, params: CertificateParams) -> Outcome:
    """Every certificate the host serves is a register entry (subject, names, issuer, serial, validity, key, signature) and is not about to expire, weak or too long-lived.

    An expired certificate stops a service or trains users to click through warnings; a
    short RSA key or a SHA-1 signature can be forged. DORA RTS 7(4) asks for a register of
    certificates and 7(5) for renewal before expiry; the observed values are that register.
    """
    paths = [p for pattern in params.certificate_paths for p in expand_glob(host, pattern)]
    host.prefetch(ReadFile(p) for p in paths)
    register: list[dict[str, Any]] = []
    for path in paths:
        text = host.read_text(path)
        if text is not None:
            register.append(describe_certificate(text.encode(), path))
    if not register:
        raise NotApplicable(f"no certificate at {', '.join(params.certificate_paths)}")
    now = clock.now()
    problems: list[str] = []
    for entry in register:
        path = entry["path"]
        days_left = (entry["_not_after"] - now).total_seconds() / 86400
        entry["days_left"] = round(days_left, 1)
        if days_left < params.min_days_left:
            problems.append(f"{path} expires {entry['not_after']}" + (" (expired)" if days_left < 0 else f" (in {days_left:.0f} days, at least {params.min_days_left} required)"))
        if entry["key"] == "RSA" and entry["key_bits"] < params.min_rsa_bits:
            problems.append(f"{path}: RSA key of {entry['key_bits']} bits (at least {params.min_rsa_bits})")
        if entry["key"].startswith("EC ") and entry["key_bits"] < params.min_ec_bits:
            problems.append(f"{path}: EC key of {entry['key_bits']} bits (at least {params.min_ec_bits})")
        if entry["signature_hash"] in WEAK_SIGNATURE_HASHES:
            problems.append(f"{path}: signed with {entry['signature_hash'].upper()}")
        validity = (entry["_not_after"] - entry["_not_before"]).days
        if params.max_validity_days is not None and validity > params.max_validity_days:
            problems.append(f"{path}: valid for {validity} days (at most {params.max_validity_days})")
    for entry in register:
        del entry["_not_before"], entry["_not_after"]
    return verdict(not problems, f"{len(register)} certificate(s) valid for at least {params.min_days_left} days with strong keys",
                   "; ".join(problems), certificates=register)

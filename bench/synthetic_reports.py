"""Synthetic gate reports of any size, shaped like real ones, for the report benchmark.

Control ids follow the catalog's pattern (``HK-07``), statuses are spread the way a real
release sees them (mostly pass, some fail, a few errors, waivers and manual controls),
observed values have the shapes the predicates produce (sysctl maps, lists of store paths
missing from an SBOM, open ports), and every control cites clauses of the four frameworks
taken from the bundled framework catalogs, at the precision controls cite them
("CIR 6.7.2(c)"). Seeded: the same arguments always give the same report.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from compliance.catalog.loader import Catalog, load_catalog
from compliance.models.attestation import AttestationOutcome, AttestationStatus
from compliance.models.common import Severity, Status
from compliance.models.control import CheckKind
from compliance.models.frameworks import FrameworkId
from compliance.models.results import (
    Assessment,
    CheckResult,
    ControlResult,
    Decision,
    GateReport,
    Reason,
    SubjectRef,
    WaiverApplied,
)
from compliance.models.subject import Component, InputRef, Sbom
from compliance.report import ReportContext

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"

FAMILIES: dict[str, list[str]] = {
    "SC": ["SBOM covers every store path of the closure", "No denied package in the closure",
           "Licences of the SBOM components are allowed", "The locked nixpkgs is recent",
           "Substituters are trusted and signatures required", "No insecure package is permitted",
           "Build inputs are pinned and provenance recorded", "Known vulnerabilities are below the threshold"],
    "HK": ["Kernel sysctl baseline", "Network sysctl baseline", "Kernel modules cannot be loaded after boot",
           "Kernel built with hardening options", "Core dumps are disabled", "Mount options of /tmp and /dev/shm",
           "ptrace is restricted", "Unprivileged BPF is disabled"],
    "IA": ["Accounts are declared, not mutable", "SSH refuses password authentication",
           "SSH refuses root login", "Only root is a trusted Nix user", "Login lockout after failed attempts",
           "Password hashing uses yescrypt", "sudo requires a password", "No account has an empty password"],
    "NW": ["The firewall is enabled with default-deny inbound", "Only allowed ports listen",
           "IPv6 router advertisements are ignored", "Remote administration only over SSH"],
    "CR": ["SSH ciphers and MACs are state of the art", "Root file system is encrypted",
           "TLS certificates are renewed before expiry", "Host keys are Ed25519"],
    "LG": ["journald keeps logs persistently", "auditd runs with rules", "Time is synchronised",
           "Logs are forwarded off the host"],
    "BR": ["Backups run daily", "Restore was tested this quarter", "Rollback generations are kept"],
    "CM": ["The release was built from a signed commit", "Configuration revision is recorded",
           "Changes are approved by someone other than the author"],
    "AM": ["Every host is in the inventory", "The inventory records the owner"],
}
FUNCTIONS = ["nixos_options", "sysctl_baseline", "sbom_coverage", "package_denylist", "licence_policy",
             "nixpkgs_age", "nix_settings", "firewall", "kernel_config", "insecure_packages"]
SEVERITIES = [Severity.LOW, Severity.MEDIUM, Severity.MEDIUM, Severity.HIGH, Severity.HIGH, Severity.CRITICAL]
# Status mix of a release that is almost ready: the gate has something to say.
STATUS_WEIGHTS = [(Status.PASS, 66), (Status.FAIL, 13), (Status.ERROR, 5), (Status.WAIVED, 5),
                  (Status.MANUAL, 6), (Status.NOT_APPLICABLE, 5)]
LICENCES = ["MIT", "GPL-2.0-only", "GPL-3.0-or-later", "LGPL-2.1-or-later", "BSD-3-Clause", "Apache-2.0",
            "MPL-2.0", "ISC", "Zlib", "OpenSSL", "BSD-2-Clause", "Artistic-1.0-Perl OR GPL-1.0-or-later"]
PACKAGES = ["glibc-2.39-52", "openssl-3.0.14", "systemd-255.9", "openssh-9.8p1", "coreutils-9.5",
            "bash-5.2p32", "linux-6.6.47", "nginx-1.26.2", "postgresql-16.4", "python3-3.12.5",
            "util-linux-2.39.4", "zlib-1.3.1", "curl-8.9.1", "sqlite-3.46.0", "perl-5.38.2"]


def store_path(rng: random.Random, name: str) -> str:
    return "/nix/store/" + "".join(rng.choice(NIX32) for _ in range(32)) + "-" + name


def _clause_refs(catalog: Catalog, rng: random.Random) -> dict[FrameworkId, list[str]]:
    refs: dict[FrameworkId, list[str]] = {}
    for fw_id, framework in catalog.frameworks.items():
        if rng.random() < 0.15:
            continue  # not every control cites every framework
        pool = [c.id for c in framework.clauses if c.machine_checkable is not False] or [c.id for c in framework.clauses]
        chosen = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2, 3])))
        cited = []
        for clause in chosen:
            if clause.startswith("CIR ") and rng.random() < 0.6:
                clause = f"{clause}.{rng.randint(1, 3)}({rng.choice('abcdef')})"  # a point under the clause
            elif clause.startswith(("RTS ", "Art.")) and fw_id is FrameworkId.DORA and rng.random() < 0.4:
                clause = f"{clause}({rng.randint(1, 4)})"
            cited.append(clause)
        refs[fw_id] = sorted(set(cited))
    return refs


def _observed(rng: random.Random, function: str, status: Status) -> dict[str, Any]:
    bad = status in (Status.FAIL, Status.WAIVED)
    if function == "sbom_coverage":
        missing = [store_path(rng, rng.choice(PACKAGES)) for _ in range(rng.randint(20, 60) if bad else 0)]
        return {"closure_paths": 4812, "covered": 4812 - len(missing), "missing_store_paths": missing}
    if function == "sysctl_baseline":
        keys = ["kernel.kptr_restrict", "kernel.dmesg_restrict", "kernel.unprivileged_bpf_disabled",
                "kernel.yama.ptrace_scope", "fs.suid_dumpable", "net.ipv4.conf.all.rp_filter"]
        return {"not_as_expected": {k: {"expected": 1, "actual": 0 if bad else 1} for k in keys[: rng.randint(2, 6)]} if bad else {},
                "checked": len(keys)}
    if function == "firewall":
        return {"enabled": not bad, "tcp_ports": [22, 80, 443, 8080, 9100] if bad else [22], "udp_ports": [], "port_ranges": []}
    if function == "package_denylist":
        denied = [{"path": store_path(rng, n), "name": n.rsplit("-", 1)[0]} for n in ("telnet-0.17", "inetutils-2.5")] if bad else []
        return {"closure_paths": 4812, "denied": denied, "denylist": ["telnet", "rsh", "tftp-hpa", "xinetd"]}
    if function == "nixpkgs_age":
        days = rng.randint(31, 120) if bad else rng.randint(1, 25)
        return {"input": "nixpkgs", "last_modified": "2026-08-01T10:12:55Z", "age_days": days, "rev": hashlib.sha1(str(days).encode()).hexdigest()}
    if function == "licence_policy":
        return {"components": 1530, "denied": [{"component": "pkg:nix/unrar@7.0.9", "licence": "unRAR"}] if bad else [], "unknown": 3 if bad else 0}
    return {"settings": {"services.openssh.settings.PasswordAuthentication": "yes" if bad else "no",
                         "services.openssh.settings.PermitRootLogin": "prohibit-password" if bad else "no"}}


def _control_ids(n: int) -> list[str]:
    ids: list[str] = []
    families = list(FAMILIES)
    i = 0
    while len(ids) < n:
        family = families[i % len(families)]
        ids.append(f"{family}-{i // len(families) + 1:02d}")
        i += 1
    return ids


def synthetic_results(n: int, catalog: Catalog, seed: int = 4) -> list[ControlResult]:
    rng = random.Random(seed)
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    results = []
    for control_id in _control_ids(n):
        family = control_id.split("-")[0]
        number = int(control_id.split("-")[1])
        title = FAMILIES[family][(number - 1) % len(FAMILIES[family])]
        if number > len(FAMILIES[family]):
            title += f" ({number})"
        status = rng.choices(statuses, weights)[0]
        severity = rng.choice(SEVERITIES)
        function = rng.choice(FUNCTIONS)
        check_status = Status.FAIL if status is Status.WAIVED else status
        if status is Status.ERROR:
            message = "needs NixOS configuration facts: give --facts or --flake"
            observed: dict[str, Any] = {"missing_input": "facts"}
        else:
            observed = _observed(rng, function, status)
            message = {
                Status.PASS: "as required",
                Status.FAIL: f"{function.replace('_', ' ')}: not as required",
                Status.WAIVED: f"{function.replace('_', ' ')}: not as required",
                Status.MANUAL: "needs a signed attestation: the process cannot be checked on the closure",
                Status.NOT_APPLICABLE: "does not apply: the closure has no such service",
            }[status]
        kind = CheckKind.STATIC
        waiver = None
        if status is Status.WAIVED:
            waiver = WaiverApplied(id=f"W-{number:03d}", reason="Vendor fix scheduled for the next maintenance window; compensating firewall rule in place.",
                                   approver="ciso@example.org", risk="medium", expires=CREATED + timedelta(days=45), covered_status=Status.FAIL)
        remediation: dict[str, Any] | None = None
        if status in (Status.FAIL, Status.WAIVED, Status.ERROR):
            remediation = {"nixos": {"boot.kernel.sysctl": {"kernel.kptr_restrict": 2, "kernel.dmesg_restrict": 1}}
                           if function == "sysctl_baseline" else {"services.openssh.settings.PasswordAuthentication": False}}
            if function in ("nixpkgs_age", "sbom_coverage"):
                remediation = {"text": "Update the lock with 'nix flake update nixpkgs', rebuild and release."}
        results.append(ControlResult(
            control_id=control_id, title=title, severity=severity, status=status, message=message,
            checks=[CheckResult(kind=kind, function=function, status=check_status, message=message, observed=observed)],
            clauses=_clause_refs(catalog, rng),
            params={"max_age_days": 30} if function == "nixpkgs_age" else {},
            param_sources={"max_age_days": "nis2-essential"} if function == "nixpkgs_age" else {},
            remediation=remediation, waiver=waiver,
        ))
    return results


def synthetic_sbom(rng: random.Random, n: int = 1500) -> Sbom:
    components = []
    for i in range(n):
        name = rng.choice(PACKAGES).rsplit("-", 1)[0] + f"-part{i}"
        licences = () if rng.random() < 0.04 else (rng.choice(LICENCES),)
        components.append(Component(ref=f"c{i}", name=name, version="1.0", purl=f"pkg:nix/{name}@1.0", licenses=licences,
                                    hashes={"sha256": hashlib.sha256(name.encode()).hexdigest()}))
    return Sbom(source="sbom.cdx.json", format="cyclonedx", spec_version="1.6", encoding="json",
                serial="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", components=tuple(components))


def synthetic_attestations(catalog: Catalog) -> list[AttestationOutcome]:
    """Signed statements for organisational clauses: three valid, one expired."""
    organisational = [
        (fw_id, clause.id) for fw_id, fw in sorted(catalog.frameworks.items()) for clause in fw.clauses
        if clause.machine_checkable is False
    ]
    outcomes = []
    for n, (fw_id, clause) in enumerate(organisational[:4], start=1):
        expired = n == 4
        outcomes.append(AttestationOutcome(
            status=AttestationStatus.EXPIRED if expired else AttestationStatus.VALID,
            reason="expired on 2026-06-30T23:59:59Z" if expired else None,
            source=f"attestations.json#{n}", id=f"ATT-{n:03d}", attested_by="Jane Roe, CISO",
            clauses={fw_id: [clause]}, statement="The procedure is documented, approved and was exercised this year.",
            evidence=f"ISMS-DOC-{100 + n}", valid_from=CREATED - timedelta(days=200),
            valid_until=CREATED - timedelta(days=120) if expired else CREATED + timedelta(days=165),
            key_fingerprint="SHA256:" + hashlib.sha256(b"attester").hexdigest(),
        ))
    return outcomes


def synthetic_report(n: int, seed: int = 4, catalog: Catalog | None = None) -> tuple[GateReport, ReportContext]:
    catalog = catalog or load_catalog()
    rng = random.Random(seed + 1000)
    results = synthetic_results(n, catalog, seed)
    top = store_path(rng, "nixos-system-web-01-24.11.20261030.5ef6c42")
    inputs = [
        InputRef(kind="closure", path="closure.json", sha256=hashlib.sha256(b"closure").hexdigest(), size=2_914_204),
        InputRef(kind="sbom", path="sbom.cdx.json", sha256=hashlib.sha256(b"sbom").hexdigest(), size=1_804_331),
        InputRef(kind="facts", path="facts.json", sha256=hashlib.sha256(b"facts").hexdigest(), size=48_211),
        InputRef(kind="flake-lock", path="flake.lock", sha256=hashlib.sha256(b"lock").hexdigest(), size=3_112),
    ]
    assessment = Assessment(
        id="7b0c3f5e-1f1d-5c7e-9a0e-2d51b1f4c6a9", created=CREATED, tool="compliance-gate", tool_version="0.1.0",
        mode=CheckKind.STATIC,
        subject=SubjectRef(name="nixos-system-web-01-24.11.20261030.5ef6c42", store_path=top,
                           nar_sha256=hashlib.sha256(top.encode()).hexdigest(), commit="5ef6c42d1b0e7a9f3c2b8d4e6f1a0b9c8d7e6f5a"),
        profiles=["nis2-essential", "dora", "iso27001", "anssi-intermediary"],
        frameworks=[FrameworkId.NIS2, FrameworkId.DORA, FrameworkId.ISO27001, FrameworkId.ANSSI],
        catalog_digest=catalog.digest, inputs=inputs, results=results,
        attestations=synthetic_attestations(catalog),
    )
    blocking = [Reason(control_id=r.control_id, status=r.status, severity=r.severity, message=r.message)
                for r in results if r.status is Status.ERROR or (r.status is Status.FAIL and r.severity.rank >= Severity.HIGH.rank)]
    non_blocking = [Reason(control_id=r.control_id, status=r.status, severity=r.severity, message=r.message)
                    for r in results if r.status in (Status.FAIL, Status.WAIVED, Status.MANUAL) and r.control_id not in {b.control_id for b in blocking}]
    decision = Decision(passed=not blocking, verdict="pass" if not blocking else "fail",
                        policy_digest="sha256:" + hashlib.sha256(b"policy").hexdigest(),
                        blocking=blocking, non_blocking=non_blocking, counts=assessment.counts())
    context = ReportContext(
        packet_id="pkt-" + hashlib.sha256(top.encode()).hexdigest()[:24],
        key_fingerprint="SHA256:" + hashlib.sha256(b"key").hexdigest(),
        inputs=inputs,
        verify_commands=[
            "compliance evidence verify packet.tar.gz --key cosign.pub",
            "openssl dgst -sha256 -verify cosign.pub -signature manifest.json.sig.der manifest.json",
            "cosign verify-blob --key cosign.pub --bundle manifest.json.sigstore.json --insecure-ignore-tlog=true manifest.json",
        ],
        catalog=catalog,
        sbom=synthetic_sbom(rng),
    )
    return GateReport(assessment=assessment, decision=decision), context

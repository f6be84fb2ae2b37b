"""Realistic large inputs for benchmarks: a NixOS-like closure, its SBOM, facts, a lock.

The closure is a DAG shaped like a NixOS system: a few hundred base packages (glibc,
openssl, systemd, …) referenced by many, then layers of libraries and applications, each
with 1–3 outputs (out, lib, dev, bin, man), real-looking store paths (nix-base32 hashes),
SRI NAR hashes, sizes, derivers and cache signatures. Everything derives from a seed, so
the same size gives the same bytes on every machine.

    python -m bench.generate --paths 5000 --out /tmp/bench-5000
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any

NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"
BASE = [
    "glibc", "gcc-lib", "zlib", "openssl", "xz", "bzip2", "ncurses", "readline", "bash", "coreutils",
    "systemd", "util-linux", "dbus", "libcap", "acl", "attr", "pcre2", "libffi", "sqlite", "curl",
    "nghttp2", "libidn2", "libunistring", "e2fsprogs", "kmod", "iproute2", "iptables", "nftables",
    "openssh", "sudo", "shadow", "pam", "linux-pam", "audit", "libseccomp", "expat", "libxml2",
    "python3", "perl", "gnugrep", "gnused", "gawk", "findutils", "diffutils", "gzip", "tzdata",
    "nix", "boost", "brotli", "libarchive", "lz4", "zstd", "libsodium", "gmp", "mpfr", "icu",
]
LICENCES = ["MIT", "Apache-2.0", "GPL-2.0-only", "GPL-3.0-or-later", "LGPL-2.1-or-later", "BSD-3-Clause",
            "ISC", "Zlib", "MPL-2.0", "OpenSSL", "curl", "BSD-2-Clause", "LGPL-3.0-or-later", "PostgreSQL"]
OUTPUTS = ["", "", "", "-lib", "-bin", "-dev", "-man"]
CACHE_KEY = "cache.nixos.org-1"


def _hash(rng: random.Random) -> str:
    return "".join(rng.choice(NIX32) for _ in range(32))


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}"


def generate_closure(paths: int, seed: int = 1) -> dict[str, Any]:
    """Nix 2.8 path-info JSON (list shape) of a ``paths``-path closure, top-level last."""
    rng = random.Random(seed * 1_000_003 + paths)
    names: list[str] = []
    for i in range(paths - 1):
        base = BASE[i] if i < len(BASE) else f"{rng.choice(['lib', 'py', 'perl', 'node', 'go', 'rust', 'x'])}{rng.choice(BASE)}-{i}"
        names.append(f"{base}-{_version(rng)}{rng.choice(OUTPUTS)}")
    names.append("nixos-system-web-24.05.20241020.abc1234")
    store = [f"/nix/store/{_hash(rng)}-{n}" for n in names]
    entries = []
    for index, path in enumerate(store):
        if index == len(store) - 1:
            # the system references its direct packages and everything nothing else
            # references, so that it is the closure's one top-level path
            referenced = {r for e in entries for r in e["references"] if r != e["path"]}
            refs = set(rng.sample(store[:-1], min(len(store) - 1, 60))) | (set(store[:-1]) - referenced)
        elif index < 8:
            refs = set(rng.sample(store[:index], min(index, 2))) if index else set()
        else:
            pool = store[: index]
            refs = {store[rng.randrange(min(len(BASE), index))] for _ in range(rng.randint(1, 3))}
            refs |= {pool[rng.randrange(len(pool))] for _ in range(rng.randint(0, 4))}
        if rng.random() < 0.3:
            refs.add(path)  # self-references are common (rpaths, scripts)
        digest = hashlib.sha256(path.encode()).digest()
        entries.append({
            "path": path,
            "narHash": "sha256-" + base64.b64encode(digest).decode(),
            "narSize": rng.randint(1_000, 50_000_000),
            "references": sorted(refs),
            "deriver": f"/nix/store/{_hash(rng)}-{names[index]}.drv",
            "registrationTime": 1_700_000_000 + index,
            "signatures": [f"{CACHE_KEY}:" + base64.b64encode(hashlib.sha512(path.encode()).digest()).decode()],
            "ultimate": False,
        })
    return {"entries": entries}


def generate_sbom(closure: list[dict[str, Any]], seed: int = 1) -> dict[str, Any]:
    """A CycloneDX 1.6 SBOM with one component per store path (as sbomnix/bombon write them)."""
    rng = random.Random(seed)
    from compliance.nix.storepath import split_name

    components = []
    dependencies = []
    for entry in closure:
        path = entry["path"]
        name, version = split_name(path.split("/")[-1][33:])
        digest = base64.b64decode(entry["narHash"][len("sha256-"):]).hex()
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": path,
            "supplier": {"name": "nixpkgs", "url": ["https://github.com/NixOS/nixpkgs"]},
            "name": name,
            "version": version or "",
            "purl": f"pkg:nix/{name}@{version}" if version else f"pkg:nix/{name}",
            "hashes": [{"alg": "SHA-256", "content": digest}],
            "licenses": [{"license": {"id": rng.choice(LICENCES)}}],
            "properties": [{"name": "nix:output_path", "value": path}, {"name": "nix:drv_path", "value": entry["deriver"]}],
        }
        components.append(component)
        dependencies.append({"ref": path, "dependsOn": [r for r in entry["references"] if r != path]})
    top = components[-1]
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"timestamp": "2024-10-21T00:00:00Z", "tools": {"components": [{"type": "application", "name": "bombon", "version": "0.4.0"}]},
                     "component": {**top, "type": "application"}},
        "components": components[:-1],
        "dependencies": dependencies,
    }


FACTS = {
    "facts_version": 1,
    "origin": {"flake": "github:example/fleet#web", "absent": [
        "nix.settings.extra-substituters", "nix.settings.extra-trusted-public-keys",
        "nix.settings.extra-trusted-substituters", "nix.settings.extra-trusted-users"]},
    "options": {
        "services": {
            "openssh": {"enable": True, "settings": {"PermitRootLogin": "no", "PasswordAuthentication": False, "KbdInteractiveAuthentication": False,
                                                     "PubkeyAcceptedAlgorithms": "sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com",
                                                     "PubkeyAuthOptions": "verify-required"},
                        "extraConfig": "UsePAM yes\nAuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u\n"},
            "nginx": {"enable": True, "sslProtocols": "TLSv1.2 TLSv1.3"},
            "vsftpd": {"enable": False}, "atftpd": {"enable": False}, "xinetd": {"enable": False},
            "resolved": {"enable": True, "dnssec": "true"},
            "restic": {"backups": {"daily": {"repository": "s3:https://backup.example.net/web", "repositoryFile": None,
                                             "passwordFile": "/run/agenix/restic", "paths": ["/var/lib", "/etc"],
                                             "timerConfig": {"OnCalendar": "daily", "Persistent": True}, "pruneOpts": ["--keep-daily 7"]}}},
            "borgbackup": {"jobs": {}},
        },
        "networking": {"firewall": {"enable": True, "allowedTCPPorts": [22, 443], "allowedUDPPorts": [], "allowedTCPPortRanges": [], "allowedUDPPortRanges": [], "interfaces": {},
                                    "trustedInterfaces": []}},
        "boot": {"kernel": {"sysctl": {
            "kernel.dmesg_restrict": 1, "kernel.kptr_restrict": 2, "kernel.perf_event_paranoid": 3, "kernel.randomize_va_space": 2,
            "kernel.sysrq": 0, "kernel.unprivileged_bpf_disabled": 1, "kernel.yama.ptrace_scope": 1, "vm.mmap_min_addr": 65536,
            "fs.suid_dumpable": 0, "fs.protected_fifos": 2, "fs.protected_regular": 2, "fs.protected_symlinks": 1, "fs.protected_hardlinks": 1,
            "net.ipv4.ip_forward": 0, "net.ipv4.conf.all.accept_redirects": 0, "net.ipv4.conf.default.accept_redirects": 0,
            "net.ipv4.conf.all.secure_redirects": 0, "net.ipv4.conf.all.send_redirects": 0, "net.ipv4.conf.all.accept_source_route": 0,
            "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.icmp_ignore_bogus_error_responses": 1, "net.ipv4.tcp_syncookies": 1,
            "net.ipv4.tcp_rfc1337": 1, "net.ipv6.conf.all.accept_redirects": 0, "net.ipv6.conf.default.accept_redirects": 0,
            "net.ipv6.conf.all.accept_source_route": 0, "net.core.bpf_jit_harden": 2}},
            "blacklistedKernelModules": ["usb-storage", "uas"]},
        "nix": {"settings": {"substituters": ["https://cache.nixos.org"], "trusted-substituters": [],
                             "trusted-public-keys": ["cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="],
                             "require-sigs": True, "trusted-users": ["root"]},
                "extraOptions": "experimental-features = nix-command flakes\n"},
        "nixpkgs": {"config": {"permittedInsecurePackages": []}},
        "security": {"lockKernelModules": True, "sudo": {"execWheelOnly": True, "wheelNeedsPassword": True}},
        "users": {"mutableUsers": False, "users": {
            name: {"password": None, "initialPassword": None, "hashedPassword": None, "initialHashedPassword": None,
                   "hashedPasswordFile": f"/run/agenix/{name}-password"} for name in ("root", "alice")}},
        "system": {"nixos": {"version": "24.05.20241020.abc1234"}, "configurationRevision": "4f1c0de5a1b2c3d4e5f60718293a4b5c6d7e8f90"},
    },
}


def flake_lock(last_modified: int = 1_729_382_400) -> dict[str, Any]:
    return {"version": 7, "root": "root", "nodes": {
        "root": {"inputs": {"nixpkgs": "nixpkgs"}},
        "nixpkgs": {"locked": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "abc1234" + "0" * 33,
                               "narHash": "sha256-" + base64.b64encode(b"\0" * 32).decode(), "lastModified": last_modified},
                    "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "ref": "nixos-24.05"}}}}


def write(out: Path, paths: int, *, fresh: bool = False) -> dict[str, Path]:
    """The benchmark inputs. ``fresh``: lock and vulnerability scan dated just before now,
    so that every control can pass when the gate runs on the wall clock."""
    import time

    out.mkdir(parents=True, exist_ok=True)
    entries = generate_closure(paths)["entries"]
    files = {
        "closure": out / "closure.json",
        "sbom": out / "sbom.cdx.json",
        "facts": out / "facts.json",
        "flake_lock": out / "flake.lock",
        "vulns": out / "grype.json",
    }
    now = int(time.time())
    files["closure"].write_text(json.dumps(entries))
    files["sbom"].write_text(json.dumps(generate_sbom(entries)))
    files["facts"].write_text(json.dumps(FACTS, indent=2))
    files["flake_lock"].write_text(json.dumps(flake_lock(now - 5 * 86400 if fresh else 1_729_382_400), indent=2))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600 if fresh else 1_729_810_800))
    files["vulns"].write_text(json.dumps({"matches": [], "source": {"type": "sbom", "target": "sbom.cdx.json"},
                                          "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": stamp,
                                                         "db": {"status": {"built": stamp}}}}))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=5000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for kind, path in write(args.out, args.paths).items():
        print(f"{kind:<11} {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------------------- examples

EXAMPLE_KERNEL_CONFIG = "\n".join(
    ["CONFIG_STRICT_KERNEL_RWX=y", "CONFIG_STACKPROTECTOR_STRONG=y", "CONFIG_HARDENED_USERCOPY=y", "CONFIG_VMAP_STACK=y",
     "CONFIG_FORTIFY_SOURCE=y", "CONFIG_SECURITY_DMESG_RESTRICT=y", "CONFIG_SLAB_FREELIST_RANDOM=y",
     "CONFIG_SLAB_FREELIST_HARDENED=y", "CONFIG_SECCOMP_FILTER=y", "CONFIG_SECURITY_YAMA=y", "CONFIG_RANDOMIZE_BASE=y",
     "CONFIG_PAGE_TABLE_ISOLATION=y", "CONFIG_MODULE_SIG=y", "# CONFIG_DEVKMEM is not set", "# CONFIG_PROC_KCORE is not set",
     "# CONFIG_ACPI_CUSTOM_METHOD is not set", "# CONFIG_LEGACY_PTYS is not set", ""]
)


def write_example(out: Path) -> None:
    """The bundled example release (examples/web): 150 store paths, one waived finding."""
    out.mkdir(parents=True, exist_ok=True)
    entries = generate_closure(150, seed=24)["entries"]
    sbom = generate_sbom(entries, seed=24)
    facts = json.loads(json.dumps(FACTS))
    facts["origin"] = {"flake": "github:example/fleet#web", "nix": "nix (Nix) 2.24.9", "unavailable": []}
    facts["options"]["nix"]["settings"]["trusted-users"] = ["root", "deploy"]
    (out / "closure.json").write_text(json.dumps(entries, indent=1) + "\n")
    (out / "sbom.cdx.json").write_text(json.dumps(sbom, indent=1) + "\n")
    (out / "facts.json").write_text(json.dumps(facts, indent=2) + "\n")
    (out / "flake.lock").write_text(json.dumps(flake_lock(1_729_382_400), indent=2) + "\n")
    (out / "kernel.config").write_text(EXAMPLE_KERNEL_CONFIG)
    grype, vex = example_vulnerabilities(entries)
    (out / "grype.json").write_text(json.dumps(grype, indent=1) + "\n")
    (out / "vex.openvex.json").write_text(json.dumps(vex, indent=1) + "\n")


def _grype_match(cve: str, severity: str, vector: str, score: float, name: str, version: str) -> dict[str, Any]:
    return {
        "vulnerability": {"id": cve, "dataSource": f"https://nvd.nist.gov/vuln/detail/{cve}", "namespace": "nvd:cpe",
                          "severity": severity, "cvss": [{"source": "nvd@nist.gov", "type": "Primary", "version": "3.1", "vector": vector,
                                                          "metrics": {"baseScore": score}}], "fix": {"versions": [], "state": "unknown"}},
        "relatedVulnerabilities": [],
        "matchDetails": [{"type": "cpe-match", "matcher": "stock-matcher",
                          "searchedBy": {"namespace": "nvd:cpe", "package": {"name": name, "version": version}},
                          "found": {"vulnerabilityID": cve}}],
        "artifact": {"name": name, "version": version, "type": "nix", "purl": f"pkg:nix/{name}@{version}", "locations": []},
    }


def example_vulnerabilities(entries: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A grype scan of the example SBOM the evening before the demo's clock (2024-10-25):
    one high finding on openssl that an OpenVEX statement declares not affecting the
    release, one low finding on zlib under the blocking threshold."""
    from compliance.nix.storepath import split_name

    packages = {split_name(e["path"].split("/")[-1][33:]) for e in entries}
    version = {name: ver for name, ver in packages if ver}
    grype = {
        "matches": [
            _grype_match("CVE-2024-5535", "High", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H", 9.1, "openssl", version["openssl"]),
            _grype_match("CVE-2023-45853", "Low", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", 1.8, "zlib", version["zlib"]),
        ],
        "source": {"type": "sbom", "target": "sbom.cdx.json"},
        "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": "2024-10-24T23:00:00Z",
                       "db": {"status": {"built": "2024-10-24T04:00:00Z"}}},
    }
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/web-2024-10-20",
        "author": "Security team <security@example.org>",
        "timestamp": "2024-10-20T09:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2024-5535"},
            "products": [{"@id": f"pkg:nix/openssl@{version['openssl']}"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "SSL_select_next_proto is not called: no service of the web role negotiates NPN or ALPN with a client-supplied list.",
        }],
    }
    return grype, vex

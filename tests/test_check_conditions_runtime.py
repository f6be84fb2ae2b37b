"""Each failure condition of a runtime probe, alone: a host state the probe passes, and the
same state with one thing changed, which fails for that reason and no other.

Offline conditions use an offline root. Conditions only a running system shows (securityfs,
/proc/modules, SELinux's enforce flag) use :class:`RecordedLiveHost`: the files of a running
system laid out in a folder and read as a live host reads them, since this machine's own
securityfs cannot be set to a chosen state.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from compliance.checks import registry
from compliance.hosts.filesystem import FilesystemHost, OfflineRootHost
from compliance.hosts.host_api import Observation, ObservationStatus, Request
from compliance.models.common import Status
from compliance.models.control import CheckKind
from tests.support.runtime_fixtures import lay_out_root

KERNEL_PARAMS = "/nix/var/nix/profiles/system/kernel-params"
LSM = "/sys/kernel/security/lsm"
PROFILES = "/sys/kernel/security/apparmor/profiles"
GRUB = "/boot/grub/grub.cfg"
GRUB_LOCKED = "set superusers=\"root\"\npassword_pbkdf2 root grub.pbkdf2.sha512.10000.AB12\nmenuentry 'NixOS' { linux /kernel }\n"
SUDO_BASE = "Defaults use_pty\n%wheel ALL=(ALL:ALL) ALL\n"


class RecordedLiveHost(FilesystemHost):
    """A running system's files, recorded in a folder: read as a live host reads them."""

    kind = "recorded-live"
    live = True

    @property
    def address(self) -> str:
        return self.root

    def _run(self, request: Request) -> Observation:
        return Observation(request, ObservationStatus.UNAVAILABLE, detail="a recorded host runs no command")

    def _processes(self, request: Request) -> Observation:
        return Observation(request, ObservationStatus.UNAVAILABLE, detail="a recorded host has no process list")


def _outcome(probe: str, params: dict[str, Any], files: dict[str, str], root: Path, live: bool) -> tuple[Status, str]:
    spec = registry.get(CheckKind.RUNTIME, probe)
    assert spec is not None, probe
    lay_out_root({"files": files}, root)
    host = RecordedLiveHost(str(root)) if live else OfflineRootHost(root)
    outcome = spec.func(host, spec.params.model_validate(params))
    return outcome.status, outcome.message


# probe, live?, parameters, files it passes, the change (files replaced), the whole failure message
CASES: list[tuple[str, bool, dict[str, Any], dict[str, str], dict[str, str], str]] = [
    # lsm_loaded
    ("lsm_loaded", True, {}, {LSM: "lockdown,yama,apparmor", PROFILES: "nginx (enforce)\n"},
     {PROFILES: "nginx (enforce)\nsshd (complain)\n"}, "1 AppArmor profiles in complain mode"),
    ("lsm_loaded", True, {}, {LSM: "lockdown,yama,selinux", "/sys/fs/selinux/enforce": "1\n"},
     {"/sys/fs/selinux/enforce": "0\n"}, "SELinux is permissive"),
    ("lsm_loaded", True, {}, {LSM: "lockdown,yama,apparmor", PROFILES: ""},
     {LSM: "lockdown,yama"}, "no mandatory access control LSM active (one of apparmor, selinux)"),
    ("lsm_loaded", True, {"required_lsms": ["landlock"]}, {LSM: "landlock,apparmor", PROFILES: ""},
     {LSM: "lockdown,apparmor"}, "landlock is not active"),
    ("lsm_loaded", False, {}, {KERNEL_PARAMS: "lsm=landlock,yama,apparmor\n"},
     {KERNEL_PARAMS: "lsm=landlock,yama\n"}, "no mandatory access control LSM active (one of apparmor, selinux)"),
    # kernel_modules_locked
    ("kernel_modules_locked", True, {"module_denylist": ["usb-storage"]},
     {"/proc/sys/kernel/modules_disabled": "1\n", "/proc/modules": "ext4 1 0 - Live 0x0\n"},
     {"/proc/modules": "ext4 1 0 - Live 0x0\nusb_storage 1 0 - Live 0x0\n"}, "denylisted modules loaded: usb_storage"),
    ("kernel_modules_locked", True, {}, {"/proc/sys/kernel/modules_disabled": "1\n", "/proc/modules": ""},
     {"/proc/sys/kernel/modules_disabled": "0\n"}, "kernel modules can still be loaded (kernel.modules_disabled is not 1)"),
    ("kernel_modules_locked", False, {"module_denylist": ["usb-storage"]},
     {"/etc/sysctl.d/60-lock.conf": "kernel.modules_disabled = 1\n", "/etc/modprobe.d/usb.conf": "install usb-storage /bin/false\n"},
     {"/etc/modprobe.d/usb.conf": "# nothing\n"}, "denylisted modules not blocked in modprobe.d: usb_storage"),
    # kernel_cmdline
    ("kernel_cmdline", False, {"required_params": ["slab_nomerge", "page_alloc.shuffle=1"]},
     {KERNEL_PARAMS: "slab_nomerge page_alloc.shuffle=1\n"}, {KERNEL_PARAMS: "page_alloc.shuffle=1\n"},
     "kernel command line: missing slab_nomerge"),
    ("kernel_cmdline", False, {"required_params": ["slab_nomerge", "page_alloc.shuffle=1"]},
     {KERNEL_PARAMS: "slab_nomerge page_alloc.shuffle=1\n"}, {KERNEL_PARAMS: "slab_nomerge page_alloc.shuffle=0\n"},
     "kernel command line: missing page_alloc.shuffle=1"),
    ("kernel_cmdline", False, {}, {KERNEL_PARAMS: "slab_nomerge\n"}, {KERNEL_PARAMS: "slab_nomerge nokaslr\n"},
     "kernel command line: forbidden nokaslr"),
    ("kernel_cmdline", True, {"required_params": ["init_on_alloc=1"]}, {"/proc/cmdline": "init_on_alloc=1 quiet\n"},
     {"/proc/cmdline": "quiet\n"}, "kernel command line: missing init_on_alloc=1"),
    # boot_loader_locked
    ("boot_loader_locked", False, {}, {GRUB: GRUB_LOCKED}, {GRUB: GRUB_LOCKED.replace('set superusers="root"\n', "")},
     f"{GRUB}: GRUB has no superuser with a password: its entries can be edited at boot"),
    ("boot_loader_locked", False, {}, {GRUB: GRUB_LOCKED}, {GRUB: GRUB_LOCKED.replace('"root"', '""')},
     f"{GRUB}: GRUB has no superuser with a password: its entries can be edited at boot"),
    ("boot_loader_locked", False, {}, {GRUB: GRUB_LOCKED},
     {GRUB: GRUB_LOCKED.replace("password_pbkdf2 root grub.pbkdf2.sha512.10000.AB12\n", "")},
     f"{GRUB}: GRUB has no superuser with a password: its entries can be edited at boot"),
    ("boot_loader_locked", False, {}, {GRUB: GRUB_LOCKED},
     {GRUB: GRUB_LOCKED.replace("password_pbkdf2 root grub.pbkdf2.sha512.10000.AB12", "password root hunter2")},
     f"{GRUB}: a GRUB password is stored in clear text (use password_pbkdf2)"),
    ("boot_loader_locked", False, {}, {"/boot/loader/loader.conf": "timeout 3\neditor no\n"},
     {"/boot/loader/loader.conf": "timeout 3\n"},
     "/boot/loader/loader.conf: the systemd-boot editor is on (editor yes): the kernel command line can be changed at boot"),
    ("boot_loader_locked", False, {}, {"/boot/loader/loader.conf": "editor 0\n"}, {"/boot/loader/loader.conf": "editor 1\n"},
     "/boot/loader/loader.conf: the systemd-boot editor is on (editor 1): the kernel command line can be changed at boot"),
    # sudoers_hardened
    ("sudoers_hardened", False, {}, {"/etc/sudoers": SUDO_BASE}, {"/etc/sudoers": SUDO_BASE + "Defaults !authenticate\n"},
     "Defaults !authenticate: no rule asks for a password"),
    ("sudoers_hardened", False, {}, {"/etc/sudoers": SUDO_BASE}, {"/etc/sudoers": SUDO_BASE.replace("Defaults use_pty\n", "")},
     "Defaults not set: use_pty"),
    ("sudoers_hardened", False, {"required_defaults": ["use_pty", "umask=0077"]}, {"/etc/sudoers": SUDO_BASE + "Defaults umask=0077\n"},
     {"/etc/sudoers": SUDO_BASE + "Defaults umask=0022\n"}, "Defaults not set: umask=0077"),
    ("sudoers_hardened", False, {}, {"/etc/sudoers": SUDO_BASE}, {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) NOPASSWD: ALL\n"},
     "password-less rules for ops"),
    ("sudoers_hardened", False, {}, {"/etc/sudoers": SUDO_BASE}, {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) ALL, !/bin/sh\n"},
     "negated commands: ops: !/bin/sh"),
    ("sudoers_hardened", False, {"require_explicit_arguments": True}, {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) /bin/systemctl restart web\n"},
     {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) /bin/systemctl\n"}, "commands without explicit arguments: ops: /bin/systemctl"),
]


@pytest.mark.parametrize(("probe", "live", "params", "good", "change", "message"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_condition_fails_alone(probe: str, live: bool, params: dict[str, Any], good: dict[str, str],
                                    change: dict[str, str], message: str, tmp_path: Path) -> None:
    status, said = _outcome(probe, params, good, tmp_path / "good", live)
    assert status is Status.PASS, said
    status, said = _outcome(probe, params, {**good, **change}, tmp_path / "bad", live)
    assert (status, said) == (Status.FAIL, message)


@pytest.mark.parametrize(("probe", "live", "params", "files"), [
    ("lsm_loaded", True, {"allow_complain": True}, {LSM: "apparmor", PROFILES: "sshd (complain)\n"}),
    ("kernel_modules_locked", True, {"require_locked": False}, {"/proc/sys/kernel/modules_disabled": "0\n", "/proc/modules": ""}),
    ("kernel_modules_locked", False, {"module_denylist": ["uas"]},
     {"/etc/sysctl.d/60-lock.conf": "kernel.modules_disabled = 1\n", "/etc/modprobe.d/usb.conf": "blacklist uas\n"}),
    ("sudoers_hardened", False, {"forbid_negation": False}, {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) ALL, !/bin/sh\n"}),
    ("sudoers_hardened", False, {"nopasswd_allowlist": ["ops"]}, {"/etc/sudoers": SUDO_BASE + "ops ALL=(root) NOPASSWD: ALL\n"}),
])
def test_what_a_parameter_allows_passes(probe: str, live: bool, params: dict[str, Any], files: dict[str, str], tmp_path: Path) -> None:
    status, said = _outcome(probe, params, files, tmp_path / "root", live)
    assert status is Status.PASS, said


# ---------------------------------------------------------------------------- certificates

CERT = "/var/lib/acme/web/cert.pem"
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # the tests' fixed clock


def _certificate(key: Any = None, days_before: int = 30, days_after: int = 200, digest: Any = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web.example.net")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW - dt.timedelta(days=days_before)).not_valid_after(NOW + dt.timedelta(days=days_after))
            .sign(key, digest or hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


P384 = {"key": ec.generate_private_key(ec.SECP384R1())}


@pytest.mark.parametrize(("params", "good", "bad", "message"), [
    ({}, {}, {"days_after": -1}, f"{CERT} expires 2026-10-31T00:00:00Z (expired)"),
    ({}, {}, {"days_after": 10}, f"{CERT} expires 2026-11-11T00:00:00Z (in 10 days, at least 30 required)"),
    ({}, {"key": rsa.generate_private_key(65537, 2048)}, {"key": rsa.generate_private_key(65537, 1024)},
     f"{CERT}: RSA key of 1024 bits (at least 2048)"),
    ({}, {}, {"key": ec.generate_private_key(ec.SECP224R1())}, f"{CERT}: EC key of 224 bits (at least 256)"),
    ({"min_ec_bits": 384}, P384, {}, f"{CERT}: EC key of 256 bits (at least 384)"),
    ({"max_validity_days": 398}, {}, {"days_before": 300, "days_after": 200}, f"{CERT}: valid for 500 days (at most 398)"),
])
def test_each_certificate_limit_fails_alone(params: dict[str, Any], good: dict[str, Any], bad: dict[str, Any], message: str,
                                            tmp_path: Path) -> None:
    status, said = _outcome("certificates_valid", params, {CERT: _certificate(**good)}, tmp_path / "good", False)
    assert status is Status.PASS, said
    status, said = _outcome("certificates_valid", params, {CERT: _certificate(**bad)}, tmp_path / "bad", False)
    assert (status, said) == (Status.FAIL, message)


def test_a_sha1_signature_fails_alone(tmp_path: Path) -> None:
    """The cryptography library refuses to sign with SHA-1; openssl still does, as old CAs did."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    pem = tmp_path / "sha1.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(pem), "-sha1", "-days", "400", "-subj", "/CN=web.example.net"],
                   check=True, capture_output=True)
    status, said = _outcome("certificates_valid", {}, {CERT: pem.read_text()}, tmp_path / "bad", False)
    assert (status, said) == (Status.FAIL, f"{CERT}: signed with SHA1")

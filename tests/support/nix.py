"""Real Nix closures built with Debian's nix-bin (single-user, as root, no network).

Derivations use ``/bin/sh`` as builder, so nothing needs nixpkgs: store paths, references
and NAR hashes are real, and the same expression gives the same paths on every machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# ``build-users-group =``: Debian's nix-bin without its recommended nix-setup-systemd has no
# ``nixbld`` group, and root then builds as itself.
NIX_CONFIG = "experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nbuild-users-group =\n"


def nix_env() -> dict[str, str]:
    return {**os.environ, "NIX_CONFIG": NIX_CONFIG}


def have_nix() -> bool:
    return shutil.which("nix-build") is not None and shutil.which("nix") is not None and os.geteuid() == 0


requires_nix = pytest.mark.skipif(not have_nix(), reason="needs Debian's nix-bin, as root")

PRELUDE = """
let
  mk = name: script: derivation {
    inherit name; system = builtins.currentSystem; builder = "/bin/sh";
    args = [ "-c" script ]; PATH = "/usr/bin:/bin";
  };
  file = name: text: derivation {
    inherit name text; system = builtins.currentSystem; builder = "/bin/sh";
    passAsFile = [ "text" ]; args = [ "-c" "/bin/cp $textPath $out" ];
  };
in
"""


def build(expression: str, workdir: Path, name: str = "closure") -> str:
    """Build ``PRELUDE + expression`` and return the output store path."""
    path = workdir / f"{name}.nix"
    path.write_text(PRELUDE + expression)
    link = workdir / f"{name}-result"
    proc = subprocess.run(
        ["nix-build", str(path), "-o", str(link), "--quiet"],
        capture_output=True, text=True, env=nix_env(), timeout=600, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nix-build failed: {proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def path_info(store_path: str) -> list[dict[str, object]]:
    out = subprocess.run(
        ["nix", "path-info", "--json", "--recursive", store_path],
        capture_output=True, check=True, env=nix_env(), timeout=120,
    ).stdout
    doc = json.loads(out)
    return doc if isinstance(doc, list) else [{"path": k, **v} for k, v in doc.items()]


def requisites(store_path: str) -> list[str]:
    out = subprocess.run(["nix-store", "-qR", store_path], capture_output=True, text=True, check=True, env=nix_env()).stdout
    return out.split()


# A small closure shaped like a release: an app depending on curl, openssl and zlib, a
# path without a version, one whose name has several dashes, and a kernel configuration.
RELEASE = """
let
  openssl = mk "openssl-3.0.13" ''mkdir -p $out/lib; echo libssl > $out/lib/libssl.so'';
  zlib    = mk "zlib-1.3.1" ''mkdir -p $out/lib; echo libz > $out/lib/libz.so'';
  curl    = mk "curl-8.6.0" ''mkdir -p $out/bin; printf '#!/bin/sh\\n# %s %s\\n' ${openssl} ${zlib} > $out/bin/curl'';
  tzdata  = mk "source" ''mkdir -p $out; echo UTC > $out/zone'';
  pyyaml  = mk "python3.11-pyyaml-6.0.1" ''mkdir -p $out; echo ${zlib} > $out/ref'';
  kconfig = file "linux-config-6.6.30" @KCONFIG@;
  app     = mk "myapp-1.0" ''mkdir -p $out/bin; echo "exec ${curl}/bin/curl ${tzdata} ${pyyaml} ${kconfig}" > $out/bin/myapp'';
in app
"""

HARDENED_KCONFIG = "\n".join(
    [
        "CONFIG_STRICT_KERNEL_RWX=y", "CONFIG_STACKPROTECTOR_STRONG=y", "CONFIG_HARDENED_USERCOPY=y",
        "CONFIG_VMAP_STACK=y", "CONFIG_FORTIFY_SOURCE=y", "CONFIG_SECURITY_DMESG_RESTRICT=y",
        "CONFIG_SLAB_FREELIST_RANDOM=y", "CONFIG_SLAB_FREELIST_HARDENED=y", "CONFIG_SECCOMP_FILTER=y",
        "CONFIG_SECURITY_YAMA=y", "CONFIG_RANDOMIZE_BASE=y", "CONFIG_PAGE_TABLE_ISOLATION=y",
        "# CONFIG_DEVKMEM is not set", "# CONFIG_PROC_KCORE is not set", "CONFIG_MODULES=y", "",
    ]
)


def build_release(workdir: Path, kconfig: str = HARDENED_KCONFIG, name: str = "release") -> str:
    return build(RELEASE.replace("@KCONFIG@", json.dumps(kconfig)), workdir, name)

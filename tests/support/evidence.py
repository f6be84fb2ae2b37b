"""Keys, gate runs and packets for the evidence and signing tests.

Everything is real: keys are cosign-format files written by the tool, runs come from
``run_gate`` over the benchmark generator's NixOS-like release, packets are built and
signed by the packet builder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from compliance.evidence.writer import write_packet
from compliance.runs.evidence_run import packet_files
from compliance.runs.gate_run import GateOptions, GateRun, run_gate
from compliance.signing.keys import NativeSigner, write_key_pair
from tests.support.inputs import write_release

PASSWORD = "correct horse battery staple"
FIXED_TIME = 1_793_491_200  # the tests' SOURCE_DATE_EPOCH (tests/conftest.py)


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path

    def signer(self) -> NativeSigner:
        return NativeSigner.from_file(self.private, PASSWORD.encode())


def make_key_pair(directory: Path, prefix: str = "cosign") -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    private, public, _ = write_key_pair(directory / prefix, PASSWORD.encode())
    return KeyPair(private, public)


def cli_env() -> dict[str, str]:
    return {"COSIGN_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": str(FIXED_TIME)}


def release_run(directory: Path, paths: int = 40) -> GateRun:
    """A gate run over a small realistic release (closure, SBOM, facts, flake.lock)."""
    files = write_release(directory, paths)
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(FIXED_TIME))
    return run_gate(
        GateOptions(closure=str(files["closure"]), sbom=str(files["sbom"]), facts=str(files["facts"]), flake_lock=str(files["lock"]))
    )


def build_files(run: GateRun, keys: KeyPair, *, include_pdf: bool = False) -> dict[str, bytes]:
    return packet_files(run, keys.signer(), include_pdf=include_pdf)


def write_directory(files: dict[str, bytes], out: Path) -> Path:
    write_packet(files, out, FIXED_TIME)
    return out


def flip(data: bytes, index: int) -> bytes:
    """``data`` with the lowest bit of one byte inverted."""
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]

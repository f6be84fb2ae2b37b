"""Special files given as inputs never hang the tool nor make it read without bound: a FIFO
that nothing writes is refused after the stream wait (``COMPLIANCE_STREAM_WAIT``), a device
that never ends is read to the size limit plus one byte and refused, and a pipe that does
give data (bash process substitution, a FIFO whose writer comes late) is read."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.util.fsutil import read_bytes
from tests.support.cli import ROOT, one_line_error, run
from tests.support.evidence import cli_env, make_key_pair
from tests.support.inputs import gate_args, write_release

WAIT = {"COMPLIANCE_STREAM_WAIT": "1"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_release(tmp_path_factory.mktemp("release"))


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "input.fifo"
    os.mkfifo(path)
    return path


def _replace(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


ENTRY_POINTS = {
    "gate --closure": lambda f, x: _replace(gate_args(f), "--closure", x),
    "gate --sbom": lambda f, x: _replace(gate_args(f), "--sbom", x),
    "gate --facts": lambda f, x: _replace(gate_args(f), "--facts", x),
    "gate --flake-lock": lambda f, x: _replace(gate_args(f), "--flake-lock", x),
    "gate --vulns": lambda f, x: _replace(gate_args(f), "--vulns", x),
    "gate --policy": lambda f, x: [*gate_args(f), "--policy", x],
    "gate --waivers": lambda f, x: [*gate_args(f), "--waivers", x],
    "sbom --closure": lambda f, x: ["sbom", "--closure", x],
    "promote --wave": lambda f, x: ["promote", "--wave", x, "--reports", str(f["closure"].parent), "--nonce", "n" * 32],
    "evidence verify PACKET": lambda f, x: ["evidence", "verify", x, "--key", str(f["keys"] / "cosign.pub")],
    "evidence verify --key": lambda f, x: ["evidence", "verify", str(f["closure"].parent), "--key", x],
    "attest sign FILE": lambda f, x: ["attest", "sign", x, "--key", str(f["keys"] / "cosign.key"), "-o", str(f["keys"] / "a.json")],
    "attest verify FILE": lambda f, x: ["attest", "verify", x, "--key", str(f["keys"] / "cosign.pub")],
    "evidence export PACKET": lambda f, x: ["evidence", "export", x, "--format", "json"],
}


@pytest.fixture(scope="module")
def with_keys(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    keys = tmp_path_factory.mktemp("keys")
    make_key_pair(keys)
    return {**files, "keys": keys}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_fifo_without_writer_is_refused_not_waited_for(with_keys: dict[str, Path], fifo: Path, entry: str) -> None:
    start = time.monotonic()
    result = run(*ENTRY_POINTS[entry](with_keys, str(fifo)), env={**cli_env(), **WAIT}, timeout=60)
    assert time.monotonic() - start < 30
    assert result.code == 2, (result.stdout, result.stderr)
    line = one_line_error(result)
    assert line.startswith(f"compliance: {fifo}: "), line
    assert "no data within 1 s" in line or "not a regular file" in line, line


def test_dev_zero_is_read_to_the_limit_only(files: dict[str, Path]) -> None:
    result = run(*_replace(gate_args(files), "--sbom", "/dev/zero"), timeout=120)
    assert result.code == 2
    assert one_line_error(result) == "compliance: /dev/zero: larger than 268435456 bytes"


def test_reading_a_device_stops_one_byte_past_the_limit() -> None:
    with pytest.raises(InputError) as caught:
        read_bytes("/dev/zero", limit=4096)
    assert str(caught.value) == "/dev/zero: larger than 4096 bytes"
    assert read_bytes("/dev/null") == b""


def test_process_substitution_is_read(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    args = gate_args(files)
    args = _replace(args, "--closure", f"<(sleep 0.5; cat {files['closure']})")
    args = _replace(args, "--sbom", f"<(cat {files['sbom']})")
    command = " ".join([f"{sys.executable} -m compliance", *args, "-o", f"json={out}"])
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert "sbom.cdx.json" not in proc.stderr and out.exists()


def test_a_fifo_whose_writer_comes_late_is_read(files: dict[str, Path], fifo: Path) -> None:
    content = files["closure"].read_bytes()

    def write_later() -> None:
        time.sleep(1.5)
        with open(fifo, "wb") as handle:
            handle.write(content[:1000])
            time.sleep(0.2)
            handle.write(content[1000:])

    writer = threading.Thread(target=write_later)
    writer.start()
    try:
        assert read_bytes(fifo) == content
    finally:
        writer.join()


"""The systemd units shipped in packaging/systemd: systemd's own parser accepts every line
(an unknown or misspelt setting is only a warning to systemd, so any warning fails
here), the hardening the docs promise is there, and the command lines use only options
the commands have."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run

UNITS = ROOT / "packaging" / "systemd"
NAMES = ["compliance-agent.service", "compliance-agent.timer", "compliance-gate.service"]


def _settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    text = re.sub(r"\\\n\s*", " ", unit.read_text())
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_systemd_accepts_every_line(name: str) -> None:
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(UNITS / name)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("name", "at_most"), [("compliance-agent.service", 4.0), ("compliance-gate.service", 2.0)])
def test_exposure_as_systemd_rates_it(name: str, at_most: float) -> None:
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNITS / name)],
                          capture_output=True, text=True, timeout=60)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
    assert level is not None, done.stdout[-500:]
    assert float(level.group(1)) <= at_most


def test_the_agent_unit_is_hardened_but_sees_the_real_host() -> None:
    unit = _settings(UNITS / "compliance-agent.service")
    for key, value in {"ProtectSystem": "strict", "NoNewPrivileges": "yes", "ProtectHome": "read-only",
                       "Type": "oneshot", "CapabilityBoundingSet": "CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_SYS_PTRACE"}.items():
        assert unit[key] == [value], key
    # A private /tmp, /dev or network would be judged instead of the host's.
    for absent in ("PrivateTmp", "PrivateDevices", "PrivateNetwork", "PrivateUsers", "ProtectKernelModules"):
        assert absent not in unit, absent
    assert _settings(UNITS / "compliance-agent.timer")["Persistent"] == ["true"]


@pytest.mark.parametrize(("name", "command"), [("compliance-agent.service", "agent"),
                                               ("compliance-gate.service", "promote")])
def test_units_use_only_options_the_command_has(name: str, command: str) -> None:
    exec_start = _settings(UNITS / name)["ExecStart"][0]
    used = set(re.findall(r"(?<!\S)(--[a-z-]+)", exec_start))
    helped = run(command, "--help")
    assert helped.code == 0
    known = set(re.findall(r"(--[a-z-]+)", helped.stdout))
    assert used and used <= known, used - known

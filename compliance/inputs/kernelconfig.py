"""Linux kernel ``.config`` files (``CONFIG_X=y``, ``# CONFIG_X is not set``)."""

from __future__ import annotations

import re

from compliance.errors import InputError
from compliance.models.subject import KernelConfig

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


def parse_kernel_config(text: str, source: str) -> KernelConfig:
    options: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        match = _SET.match(line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            options[match.group(1)] = value
            continue
        match = _UNSET.match(line)
        if match:
            options[match.group(1)] = "n"
    if not options:
        raise InputError(source, "not a kernel configuration: no CONFIG_ lines")
    return KernelConfig(source=source, options=options)

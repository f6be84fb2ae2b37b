"""The wave file: which hosts were activated, what each must run, and the keys that vouch
for their reports.

The control plane writes it when it activates a release on a wave of hosts, with a fresh
nonce that every probe of the wave signs into its report (so that a report of another
wave cannot be replayed into this one). Published as ``evidence/wave.schema.json``; read
from JSON, or TOML when the name ends in ``.toml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from compliance.errors import InputError, SigningError
from compliance.inputs.documents import load_document, validate
from compliance.models.common import Record
from compliance.promote.hostkeys import HostKeys
from compliance.util.canonical import canonical_json

WAVE_SCHEMA = "https://compliance-gate.dev/schemas/wave/v1"
# /nix/store/<32 nix32 characters>-<name>: the top-level path of a system closure.
STORE_PATH_PATTERN = r"^/nix/store/[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]+$"
HOST_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"


class WaveHost(Record):
    """One activated host. At least one key: ``public_key`` verifies ``compliance probe``
    reports, ``ssh_host_key`` nixfleet-compliance's evidence.json."""

    name: str = Field(pattern=HOST_NAME_PATTERN, description="host name, as the host reports it")
    expected_closure: str = Field(pattern=STORE_PATH_PATTERN, description="the system closure the wave activated on this host")
    public_key: str | None = Field(default=None, description="PEM public key (ECDSA P-256) that signs the host's probe reports")
    ssh_host_key: str | None = Field(default=None, description="'ssh-ed25519 AAAA…' host key that signs its nixfleet evidence.json")
    machine_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$", description="/etc/machine-id, when the inventory knows it")
    canary: bool = Field(default=False, description="judged by the policy's stricter canary rules")

    @model_validator(mode="after")
    def _has_a_key(self) -> WaveHost:
        if self.public_key is None and self.ssh_host_key is None:
            raise PydanticCustomError("invalid", "a host needs public_key or ssh_host_key: nothing else can vouch for its reports")
        return self


class Wave(Record):
    model_config = ConfigDict(title="Wave")

    schema_: str = Field(default=WAVE_SCHEMA, alias="$schema")
    id: str = Field(min_length=1, description="the wave's name in the control plane, e.g. web@3f2a1c0/1")
    nonce: str = Field(min_length=1, max_length=512, pattern=r"^[!-~]+$", description="fresh per wave; every report must sign it")
    activated_at: AwareDatetime | None = Field(
        default=None, description="when activation completed: reports taken earlier do not describe the release",
    )
    hosts: list[WaveHost] = Field(min_length=1)

    @field_validator("hosts")
    @classmethod
    def _names_unique(cls, hosts: list[WaveHost]) -> list[WaveHost]:
        seen: set[str] = set()
        for host in hosts:
            if host.name in seen:
                raise PydanticCustomError("invalid", "host {name} is listed twice", {"name": host.name})
            seen.add(host.name)
        return hosts


def wave_schema() -> dict[str, object]:
    body = Wave.model_json_schema(by_alias=True, mode="validation")
    body.pop("title", None)
    return body


@dataclass(frozen=True)
class LoadedWave:
    """A validated wave file with each host's keys parsed, and its digest."""

    wave: Wave
    source: str
    hosts: dict[str, WaveHost]
    keys: dict[str, HostKeys]
    digest: str


def read_wave(path: str | Path, data: bytes | None = None) -> LoadedWave:
    """The wave file, or :class:`InputError` naming the file and the problem."""
    wave = validate(Wave, load_document(path, data), path)
    keys: dict[str, HostKeys] = {}
    owner: dict[str, str] = {}
    for index, host in enumerate(wave.hosts):
        try:
            keys[host.name] = HostKeys.parse(host.public_key, host.ssh_host_key)
        except SigningError as exc:
            raise InputError(path, f"hosts.{index} ({host.name}): {exc}") from None
        for fingerprint in keys[host.name].fingerprints():
            if fingerprint in owner:
                raise InputError(path, f"hosts {owner[fingerprint]} and {host.name} share the key {fingerprint}: "
                                       "a report of one would stand for the other")
            owner[fingerprint] = host.name
    digest = "sha256:" + hashlib.sha256(canonical_json(wave.to_jsonable())).hexdigest()
    return LoadedWave(wave, str(path), {h.name: h for h in wave.hosts}, keys, digest)


def check_nonce(loaded: LoadedWave, nonce: str, min_length: int) -> None:
    """The nonce given on the command line must be the wave's, and long enough to be unguessable."""
    if nonce != loaded.wave.nonce:
        raise InputError(loaded.source, f"nonce: the wave file's nonce is not the one given with --nonce ({nonce!r})")
    if len(nonce) < min_length:
        raise InputError(loaded.source, f"nonce: {len(nonce)} characters; the policy needs at least {min_length} "
                                        "(a guessable nonce lets a report be made before the wave)")

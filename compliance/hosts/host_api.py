"""The one host interface every runtime probe reads through.

A :class:`Host` answers :mod:`requests <compliance.hosts.requests>`; a transport only has
to implement :meth:`Host._collect`, which answers a batch of them at once. On top of that
this class gives probes typed accessors that fail closed: an answer that cannot be trusted
raises :class:`~compliance.errors.CheckError` (an ``error`` result), a request the
transport cannot answer at all (a command on an offline root) raises
:class:`~compliance.errors.NotApplicable` with the reason. A missing file is not an error:
it is an answer (``None``), and the probe decides what it means.

Every answer is cached for the run, so probes that read the same input cost one read, and
every request a control touched is recorded so that the report can list the digests of
the raw answers each verdict was judged on.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from compliance.errors import CheckError, NotApplicable
from compliance.hosts.requests import (
    FindSpecial,
    ListDir,
    ListProcesses,
    Observation,
    ObservationStatus,
    ReadFile,
    Request,
    ResolvePath,
    RunCommand,
    StatPath,
    describe,
)


@dataclass(frozen=True)
class FileStat:
    mode: int  # st_mode: type and permission bits
    uid: int
    gid: int
    size: int

    @property
    def perms(self) -> int:
        return self.mode & 0o7777

    @property
    def is_dir(self) -> bool:
        return self.mode & 0o170000 == 0o040000


@dataclass(frozen=True)
class SpecialEntry:
    """A setuid, setgid or world-writable file system entry."""

    perms: int
    uid: int
    gid: int
    type: str  # find's %y: f, d, ...
    path: str


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class HostIdentity:
    """What a probe report is bound to (``None``: the transport cannot know it)."""

    name: str | None
    machine_id: str | None
    boot_id: str | None
    kernel: str | None
    running_closure: str | None  # /run/current-system (live), the system profile (offline)
    booted_closure: str | None


LIVE_IDENTITY: dict[str, Request] = {
    "name": ReadFile("/proc/sys/kernel/hostname"),
    "machine_id": ReadFile("/etc/machine-id"),
    "boot_id": ReadFile("/proc/sys/kernel/random/boot_id"),
    "kernel": ReadFile("/proc/sys/kernel/osrelease"),
    "running_closure": ResolvePath("/run/current-system"),
    "booted_closure": ResolvePath("/run/booted-system"),
}
OFFLINE_IDENTITY: dict[str, Request] = {
    "name": ReadFile("/etc/hostname"),
    "machine_id": ReadFile("/etc/machine-id"),
    "running_closure": ResolvePath("/nix/var/nix/profiles/system"),
}


DEFAULT_COLLECT_TIMEOUT = 60.0


class Host(ABC):
    """A machine to probe: the local one, one reached over SSH, or an offline root."""

    kind: str  # "local" | "ssh" | "offline-root"
    live: bool  # a running system (commands, /proc, /sys) rather than files at rest

    def __init__(self) -> None:
        self._cache: dict[Request, Observation] = {}
        self._touched: list[Request] | None = None
        self.round_trips = 0
        # Set by the runner: what the report is bound to and what sampling is keyed on.
        self.expected_closure: str | None = None
        self.nonce: str = ""
        # The time limit of each command or file-system walk of a batch (``--timeout``): one
        # that runs out is an ``error`` answer for the checks that needed it.
        self.timeout: float = DEFAULT_COLLECT_TIMEOUT

    # ---------------------------------------------------------------- transport

    @abstractmethod
    def _collect(self, requests: list[Request]) -> dict[Request, Observation]:
        """Answer every request of the batch (one round trip for a remote host)."""

    @property
    @abstractmethod
    def address(self) -> str:
        """How the report names the target: ``local``, ``ssh://user@host:port``, a root path."""

    def close(self) -> None:  # noqa: B027 - only remote transports hold a connection
        """Release the connection, if any."""

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- batching

    def prefetch(self, requests: Iterable[Request]) -> None:
        """Collect every request not answered yet, in one batch."""
        missing = list(dict.fromkeys(r for r in requests if r not in self._cache))
        if not missing:
            return
        answers = self._collect(missing)
        self.round_trips += 1
        for request in missing:
            self._cache[request] = answers.get(
                request, Observation(request, ObservationStatus.ERROR, detail="the transport gave no answer")
            )

    def peek(self, request: Request) -> Observation | None:
        """The answer if it is already collected; never asks the host (for planners)."""
        return self._cache.get(request)

    def peek_text(self, request: Request) -> str | None:
        """The text of an ``ok`` answer already collected, else ``None``."""
        obs = self._cache.get(request)
        return obs.text if obs is not None and obs.status is ObservationStatus.OK else None

    def observe(self, request: Request) -> Observation:
        self.prefetch([request])
        if self._touched is not None and request not in self._touched:
            self._touched.append(request)
        return self._cache[request]

    @contextlib.contextmanager
    def tracking(self) -> Iterator[list[Request]]:
        """Record the requests read inside the block (the evidence of one control)."""
        previous, self._touched = self._touched, []
        try:
            yield self._touched
        finally:
            self._touched = previous

    def observations(self) -> list[Observation]:
        return list(self._cache.values())

    def planning_view(self) -> PlanningView:
        """A copy that answers from what is already collected and notes everything else."""
        return PlanningView(self)

    # ---------------------------------------------------------------- accessors

    def _settle(self, obs: Observation) -> Observation | None:
        kind, target = describe(obs.request)
        if obs.status is ObservationStatus.MISSING:
            return None
        if obs.status is ObservationStatus.UNAVAILABLE:
            raise NotApplicable(f"{kind} {target}: {obs.detail or 'not available on this host'}")
        if obs.status is not ObservationStatus.OK:
            raise CheckError(f"cannot read {kind} {target} on {self.address}: {obs.detail or obs.status.value}")
        return obs

    def read_text(self, path: str) -> str | None:
        """The content of a file; ``None`` when it does not exist."""
        obs = self._settle(self.observe(ReadFile(path)))
        return obs.text if obs else None

    def run(self, *argv: str) -> CommandResult | None:
        """Run a command on a live host; ``None`` when the command is not installed."""
        obs = self._settle(self.observe(RunCommand(tuple(argv))))
        if obs is None:
            return None
        assert obs.exit_code is not None
        return CommandResult(obs.exit_code, obs.text, obs.stderr_text)

    def stat(self, path: str) -> FileStat | None:
        obs = self._settle(self.observe(StatPath(path)))
        if obs is None:
            return None
        try:
            mode, uid, gid, size = obs.text.split()
            return FileStat(int(mode, 16), int(uid), int(gid), int(size))
        except ValueError:
            raise CheckError(f"stat {path}: unexpected answer {obs.text.strip()!r}") from None

    def listdir(self, path: str) -> list[str] | None:
        obs = self._settle(self.observe(ListDir(path)))
        return None if obs is None else [n for n in obs.text.split("\n") if n]

    def resolve(self, path: str) -> str | None:
        obs = self._settle(self.observe(ResolvePath(path)))
        return None if obs is None else obs.text.strip() or None

    def find_special(self, roots: tuple[str, ...], prune: tuple[str, ...] = ()) -> list[SpecialEntry]:
        obs = self._settle(self.observe(FindSpecial(roots, prune)))
        entries: list[SpecialEntry] = []
        for line in (obs.text if obs else "").splitlines():
            parts = line.split(" ", 4)
            if len(parts) != 5:
                raise CheckError(f"find: unexpected line {line!r}")
            mode, uid, gid, kind, path = parts
            entries.append(SpecialEntry(int(mode, 8), int(uid), int(gid), kind, path))
        return entries

    def processes(self) -> dict[int, str]:
        """pid → command name of every running process (live hosts)."""
        obs = self._settle(self.observe(ListProcesses()))
        out: dict[int, str] = {}
        for line in (obs.text if obs else "").splitlines():
            pid, _, comm = line.partition(" ")
            if pid.isdigit():
                out[int(pid)] = comm.strip()
        return out

    def require_live(self, what: str) -> None:
        if not self.live:
            raise NotApplicable(f"{what} needs a running system; {self.address} is an offline root")

    # ---------------------------------------------------------------- identity

    def identity_requests(self) -> dict[str, Request]:
        return LIVE_IDENTITY if self.live else OFFLINE_IDENTITY

    def identity(self) -> HostIdentity:
        values: dict[str, str | None] = {}
        for field, request in self.identity_requests().items():
            obs = self.observe(request)
            values[field] = obs.text.strip() or None if obs.status is ObservationStatus.OK else None
        return HostIdentity(
            name=values.get("name"),
            machine_id=values.get("machine_id"),
            boot_id=values.get("boot_id"),
            kernel=values.get("kernel"),
            running_closure=values.get("running_closure"),
            booted_closure=values.get("booted_closure"),
        )


class PlanningView(Host):
    """Answers from what its host has collected; any other request is noted in ``wanted``
    and answered as missing, never sent. Running a probe against a view shows which further
    inputs it would read (the files a listing names, the includes of an include), so a
    runner can collect them in one batch before the probe runs for real."""

    def __init__(self, real: Host) -> None:
        super().__init__()
        self.kind, self.live = real.kind, real.live
        self._address = real.address
        self._cache = dict(real._cache)
        self.expected_closure, self.nonce, self.timeout = real.expected_closure, real.nonce, real.timeout
        self.wanted: list[Request] = []

    @property
    def address(self) -> str:
        return self._address

    def _collect(self, requests: list[Request]) -> dict[Request, Observation]:
        self.wanted.extend(requests)
        return {r: Observation(r, ObservationStatus.MISSING, detail="not collected yet") for r in requests}

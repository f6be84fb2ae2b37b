"""One POSIX shell script per batch of requests, and the parser of what it prints.

Over SSH every request of a batch runs in the same remote ``sh``: one round trip, however
many files and commands a profile needs (a per-command SSH exchange is what makes
remote scanners slow). The script writes each answer to a private temporary folder, then
prints a header ``<token> <index> <exit code> <stdout bytes> <stderr bytes> <flag>``
followed by exactly those bytes, so any content (binary, with newlines, with something
that looks like a header) is framed without escaping. It only needs POSIX sh and the
coreutils/findutils every NixOS and Debian system has (cat, stat, ls, readlink, find, sort,
wc, mktemp); nothing is installed on the host.
"""

from __future__ import annotations

import secrets
import shlex

from compliance.errors import ProbeError
from compliance.hosts.filesystem import EXTRA_PATH, FIND_FORMAT, find_argv
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
    vanished_only,
)

COMMAND_TIMEOUT_S = 60.0
PRELUDE = f"""\
PATH="$PATH:{EXTRA_PATH}"; LC_ALL=C; export PATH LC_ALL
umask 077
t=$(mktemp -d) || {{ echo "mktemp -d failed" >&2; exit 97; }}
trap 'rm -rf "$t"' EXIT
trap 'exit 98' HUP INT TERM
if command -v timeout >/dev/null 2>&1; then T="timeout -k 5 $LIMIT"; else T=; fi
e() {{ i=$1; r=$2; f=$3; x=$4; set -- $(wc -c "$t/o$x" "$t/e$x"); printf '%s %s %s %s %s %s\\n' "$TOKEN" "$i" "$r" "$1" "$3" "$f"; cat "$t/o$x" "$t/e$x"; }}
z() {{ : >"$t/o"; : >"$t/e"; }}
"""


def _q(text: str) -> str:
    return shlex.quote(text)


def _file_like(index: int, path: str, test: str, command: str) -> str:
    """``test`` is false both for a path that does not exist and for one below a folder
    this user cannot search; ``ls -d`` tells them apart, so that an unreadable file is
    *denied* (the probe cannot decide), never *missing* (which a probe may take as a pass),
    as a local read would say."""
    p = _q(path)
    return (
        f"if [ {test} {p} ]; then {command} -- {p} >\"$t/o\" 2>\"$t/e\" </dev/null; e {index} $? ok; "
        f"else z; if ! ls -d -- {p} >/dev/null 2>\"$t/e\" && case $(cat \"$t/e\") in *'Permission denied'*) true;; *) false;; esac; "
        f"then e {index} 1 denied; else z; e {index} 0 missing; fi; fi\n"
    )


def _command(index: int, request: RunCommand) -> str:
    """Run in the background into its own files; ``_emit_job`` prints it after ``wait``."""
    argv = " ".join(_q(a) for a in request.argv)
    return (
        f"if command -v {_q(request.argv[0])} >/dev/null 2>&1; then "
        f"( $T {argv} >\"$t/o{index}\" 2>\"$t/e{index}\" </dev/null; echo $? >\"$t/r{index}\" ) & "
        f"else : >\"$t/o{index}\"; : >\"$t/e{index}\"; echo missing >\"$t/r{index}\"; fi\n"
    )


def _find(index: int, request: FindSpecial) -> str:
    roots = " ".join(_q(r) for r in request.roots)
    find = find_argv(['"$@"'], list(request.prune))
    assert FIND_FORMAT in find
    rendered = " ".join(a if a == '"$@"' else _q(a) for a in find)
    return (
        f"( set --; for r in {roots}; do if [ -e \"$r\" ] || [ -L \"$r\" ]; then set -- \"$@\" \"$r\"; fi; done; "
        f"if [ $# -gt 0 ]; then $T {rendered} >\"$t/f{index}\" 2>\"$t/e{index}\" </dev/null; r=$?; "
        f"else : >\"$t/f{index}\"; : >\"$t/e{index}\"; r=0; fi; "
        f"sort <\"$t/f{index}\" >\"$t/o{index}\"; echo $r >\"$t/r{index}\" ) &\n"
    )


def _emit_job(index: int) -> str:
    return (
        f"r=$(cat \"$t/r{index}\"); if [ \"$r\" = missing ]; then e {index} 127 missing {index}; "
        f"elif [ -n \"$T\" ] && [ \"$r\" -eq 124 ]; then e {index} $r timeout {index}; else e {index} $r ok {index}; fi\n"
    )


def render(requests: list[Request], token: str, timeout: float = COMMAND_TIMEOUT_S) -> str:
    """The script: commands and walks start in the background first (they take the time),
    files are read meanwhile, then every job's answer is printed once all have ended. Each
    command and walk is stopped after ``timeout`` seconds (an ``error`` answer)."""
    lines = [f"TOKEN={_q(token)}\n", f"LIMIT={timeout:g}\n", PRELUDE]
    jobs: list[int] = []
    for index, request in enumerate(requests):
        if isinstance(request, RunCommand):
            lines.append(_command(index, request))
            jobs.append(index)
        elif isinstance(request, FindSpecial):
            lines.append(_find(index, request))
            jobs.append(index)
    for index, request in enumerate(requests):
        if isinstance(request, ReadFile):
            lines.append(_file_like(index, request.path, "-e", "cat"))
        elif isinstance(request, StatPath):
            lines.append(_file_like(index, request.path, "-e", "stat -L -c '%f %u %g %s'"))
        elif isinstance(request, ListDir):
            lines.append(_file_like(index, request.path, "-d", "ls -A1"))
        elif isinstance(request, ResolvePath):
            lines.append(_file_like(index, request.path, "-e", "readlink -e"))
        elif isinstance(request, ListProcesses):
            lines.append(
                "for d in /proc/[0-9]*; do c=; read -r c <\"$d/comm\" 2>/dev/null && printf '%s %s\\n' \"${d#/proc/}\" \"$c\"; "
                f"done 2>/dev/null | sort -n >\"$t/o\"; : >\"$t/e\"; e {index} 0 ok\n"
            )
    if jobs:
        lines.append("wait\n")
        lines.extend(_emit_job(index) for index in jobs)
    lines.append("exit 0\n")
    return "".join(lines)


def new_token() -> str:
    return "@@cg-" + secrets.token_hex(8)


def parse(output: bytes, requests: list[Request], token: str, source: str,
          timeout: float = COMMAND_TIMEOUT_S) -> dict[Request, Observation]:
    """The observations of a batch; a malformed stream is a transport failure."""
    answers: dict[Request, Observation] = {}
    pos = 0
    marker = token.encode()
    while pos < len(output):
        end = output.find(b"\n", pos)
        if end < 0:
            raise ProbeError(f"{source}: truncated answer from the remote script")
        header = output[pos:end].split(b" ")
        if len(header) != 6 or header[0] != marker:
            raise ProbeError(f"{source}: unexpected output from the remote script: {output[pos:end][:80]!r}")
        try:
            index, code, out_len, err_len = (int(x) for x in header[1:5])
        except ValueError:
            raise ProbeError(f"{source}: malformed header from the remote script") from None
        flag = header[5].decode()
        start = end + 1
        data, err = output[start : start + out_len], output[start + out_len : start + out_len + err_len]
        if len(data) + len(err) != out_len + err_len or not 0 <= index < len(requests):
            raise ProbeError(f"{source}: truncated answer from the remote script")
        pos = start + out_len + err_len
        request = requests[index]
        answers[request] = _observation(request, flag, code, data, err, timeout)
    return answers


def _observation(request: Request, flag: str, code: int, data: bytes, err: bytes, timeout: float) -> Observation:
    message = err.decode("utf-8", "replace").strip().splitlines()
    first = message[0] if message else f"exit code {code}"
    if flag == "missing":
        detail = f"{request.argv[0]}: command not found" if isinstance(request, RunCommand) else "does not exist"
        return Observation(request, ObservationStatus.MISSING, detail=detail)
    if flag == "denied":
        return Observation(request, ObservationStatus.DENIED, stderr=err, detail="permission denied")
    if flag == "timeout":
        return Observation(request, ObservationStatus.ERROR, exit_code=code, stderr=err, detail=f"timed out after {timeout:g} s")
    if isinstance(request, RunCommand | ListProcesses):
        return Observation(request, ObservationStatus.OK, data, exit_code=code, stderr=err)
    if isinstance(request, FindSpecial):
        if code == 0 or vanished_only(err):
            return Observation(request, ObservationStatus.OK, data, exit_code=0)
        return Observation(request, ObservationStatus.ERROR, exit_code=code, stderr=err, detail=first)
    if code == 0:
        return Observation(request, ObservationStatus.OK, data)
    if b"Permission denied" in err:
        return Observation(request, ObservationStatus.DENIED, stderr=err, detail="permission denied")
    return Observation(request, ObservationStatus.ERROR, exit_code=code, stderr=err, detail=first)

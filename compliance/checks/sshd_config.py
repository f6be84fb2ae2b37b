"""sshd_config text read the way sshd reads it: global settings and Match blocks.

sshd keeps the first value it reads of a keyword. ``Include`` pulls other files in at the
point it appears (globs in lexical order, relative names under /etc/ssh); an Include inside
a Match block puts the included lines in that block. A ``Match`` line starts a block that
lasts until the next Match line or the end of the file it is in: after an included file
ends, the including file is back in the context it was in before the Include.

What a Match block sets applies only to the connections it matches, so the blocks are kept
apart from the global settings: a checker judges each one as the global settings overridden
by the block (:func:`block_settings`), whatever its criteria, since whether a criterion can
match (a user, an address, ``all``) is not something the file at rest can settle.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from compliance.errors import CheckError

SSHD_DIR = "/etc/ssh"
MAX_INCLUDE_DEPTH = 16
_KEYWORD = re.compile(r"([A-Za-z]+)(?:\s*=\s*|\s+|$)(.*)$")
# Keywords sshd still accepts under an older name (sshd -T prints the new one).
KEYWORD_ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
VALUE_ALIASES = {("permitrootlogin", "without-password"): "prohibit-password"}

Reader = Callable[[str], "str | None"]
Lister = Callable[[str], "list[str] | None"]


def normalise(key: str, value: str) -> str:
    """A value as ``sshd -T`` prints it: yes/no lower case, old spellings renamed."""
    value = value.strip()
    lowered = value.lower()
    return VALUE_ALIASES.get((key, lowered), lowered if lowered in ("yes", "no") or key == "permitrootlogin" else value)


@dataclass
class MatchBlock:
    """One Match block of an sshd_config: its criteria and the settings it overrides."""
    criteria: str
    file: str
    line: int
    settings: dict[str, str] = field(default_factory=dict)  # the first value of each keyword in the block

    @property
    def name(self) -> str:
        return f"'Match {self.criteria}' ({self.file} line {self.line})"


@dataclass
class SshdConfig:
    """An sshd_config as sshd reads it: global settings (first value wins) and Match blocks apart."""
    settings: dict[str, str]  # global keywords only (no defaults filled in)
    matches: list[MatchBlock]
    files: list[str]  # every file read, in the order sshd reads them


def block_settings(global_settings: dict[str, str], block: MatchBlock) -> dict[str, str]:
    """What a connection the block matches gets: the block's keywords over the global ones."""
    return {**global_settings, **block.settings}


def _glob(pattern: str, listdir: Lister) -> list[str]:
    folder, name = posixpath.split(pattern)
    if not any(c in name for c in "*?["):
        return [pattern]
    return [f"{folder}/{n}" for n in sorted(listdir(folder) or []) if fnmatch.fnmatchcase(n, name)]


def parse_sshd_config(config: str, read: Reader, listdir: Lister) -> SshdConfig | None:
    """The configuration rooted at ``config``; ``None`` when that file does not exist.
    An included file that does not exist is skipped, as sshd skips an empty glob."""
    result = SshdConfig({}, [], [])

    def load(path: str, depth: int, block: MatchBlock | None) -> bool:
        if depth > MAX_INCLUDE_DEPTH:
            raise CheckError(f"{path}: Include nesting deeper than {MAX_INCLUDE_DEPTH}")
        text = read(path)
        if text is None:
            return False
        result.files.append(path)
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _KEYWORD.match(line)
            if match is None:
                continue
            key, rest = match.group(1).lower(), match.group(2).strip()
            key = KEYWORD_ALIASES.get(key, key)
            if key == "match":
                block = MatchBlock(rest, path, number)
                result.matches.append(block)
            elif key == "include":
                for pattern in rest.split():
                    full = pattern if pattern.startswith("/") else f"{SSHD_DIR}/{pattern}"
                    for included in _glob(full, listdir):
                        load(included, depth + 1, block)
            else:
                target = result.settings if block is None else block.settings
                target.setdefault(key, normalise(key, rest.strip('"')))
        return True

    return result if load(config, 0, None) else None

"""Why the verdict is what it is, in one sentence: what every human-facing output says.

A PASS beside FAIL rows is only readable with the policy next to it ("2 failures below the
blocking threshold; the policy blocks critical and high"); a FAIL names how many results
block. The text is a function of the decision and the policy alone, so the terminal, the
Markdown summary and the report all say the same thing.
"""

from __future__ import annotations

from compliance.models.common import Status
from compliance.models.policy import Policy
from compliance.models.results import Decision

_NOUNS = {
    Status.FAIL: ("failure", "failures"),
    Status.ERROR: ("error", "errors"),
    Status.MANUAL: ("manual review", "manual reviews"),
}


def _count(n: int, status: Status) -> str:
    one, many = _NOUNS[status]
    return f"{n} {one if n == 1 else many}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def policy_sentence(policy: Policy) -> str:
    """What the policy blocks, in words: "the policy blocks critical and high failures and errors"."""
    ordered = sorted(set(policy.block_severities), key=lambda s: -s.rank)
    blocked = [f"{_join([s.value for s in ordered])} failures"] if ordered else []
    if policy.errors_block:
        blocked.append("errors")
    if policy.manual_blocks:
        blocked.append("manual reviews")
    if policy.block_controls:
        blocked.append("any failure of " + ", ".join(policy.block_controls))
    sentence = "the policy blocks " + (_join(blocked) if blocked else "nothing")
    if policy.never_block:
        sentence += "; never " + ", ".join(policy.never_block)
    if policy.min_decided:
        sentence += f"; at least {policy.min_decided:.0%} of the controls must reach a decision"
    return sentence


def below_threshold(decision: Decision) -> dict[Status, int]:
    """The non-blocking results by status (waivers counted apart)."""
    counts: dict[Status, int] = {}
    for reason in decision.non_blocking:
        if reason.status is not None:
            counts[reason.status] = counts.get(reason.status, 0) + 1
    return counts


def explain(decision: Decision, policy: Policy | None) -> str:
    """The verdict and why: "PASS: 2 failures below the blocking threshold; the policy
    blocks critical and high failures, and errors"."""
    head = "PASS" if decision.passed else "FAIL"
    rule = policy_sentence(policy) if policy is not None else "the policy of digest " + decision.policy_digest
    if not decision.passed:
        n = len(decision.blocking)
        return f"{head}: {n} blocking result{'s' if n != 1 else ''}; {rule}"
    below = below_threshold(decision)
    said = [_count(below[s], s) for s in (Status.FAIL, Status.ERROR, Status.MANUAL) if below.get(s)]
    waived = below.get(Status.WAIVED, 0)
    why = f"{_join(said)} below the blocking threshold" if said else "nothing blocking"
    if waived:
        why += f", {waived} result{'s' if waived != 1 else ''} waived"
    return f"{head}: {why}; {rule}"


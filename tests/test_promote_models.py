"""The wave gate's typed inputs and published schemas: durations as operators write them,
canary rules that can only be stricter, the share of hosts rounded up, and the
evidence/wave.schema.json, decision.schema.json and probe-report.schema.json files up to
date with the models."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema_rs
import pytest
from pydantic import ValidationError

from compliance.models.common import Severity
from compliance.promote.durations import describe
from compliance.promote.promotion_policy import Action, HostRules, PromotionPolicy
from compliance.promote.published_schemas import WAVE_GATE_SCHEMAS, schema_bytes
from compliance.promote.wave import Wave
from tests.support.promote import NONCE, closure

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"


@pytest.mark.parametrize("name", sorted(WAVE_GATE_SCHEMAS))
def test_published_schema_is_up_to_date(name: str) -> None:
    assert (EVIDENCE / name).read_bytes() == schema_bytes(name), (
        f"evidence/{name} is stale: run '.venv/bin/python -m compliance.promote.published_schemas evidence'"
    )


def test_a_wave_file_validates_against_its_schema_and_the_schema_is_closed() -> None:
    doc = {"id": "web@3f2a1c0/1", "nonce": NONCE, "activated_at": "2026-11-01T00:00:00Z",
           "hosts": [{"name": "web-1", "expected_closure": closure("web-1"), "ssh_host_key": "ssh-ed25519 AAAA", "canary": True}]}
    validator = jsonschema_rs.validator_for(json.loads((EVIDENCE / "wave.schema.json").read_text()), validate_formats=True)
    assert [e.message for e in validator.iter_errors(doc)] == []
    assert not validator.is_valid({**doc, "hots": []})
    assert not validator.is_valid({**doc, "hosts": [{"name": "web-1", "expected_closure": "/etc/nixos", "public_key": "k"}]})
    Wave.model_validate(doc)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), (" 5 m ", 300), (600, 600)])
def test_durations_as_operators_write_them(text: str | int, seconds: int) -> None:
    rules = HostRules.model_validate({"max_report_age": text})
    assert rules.max_report_age == timedelta(seconds=seconds)
    assert rules.model_dump(mode="json")["max_report_age"] == seconds


@pytest.mark.parametrize("text", ["an hour", "1w", "-5", -5, "1.5h", True])
def test_what_is_not_a_duration_is_refused(text: str | int | bool) -> None:
    with pytest.raises(ValidationError):
        HostRules.model_validate({"max_report_age": text})


def test_describe_prints_the_shortest_exact_unit() -> None:
    assert [describe(timedelta(seconds=s)) for s in (0, 45, 90, 3600, 5400, 86400)] == ["0s", "45s", "90s", "1h", "90m", "1d"]


def test_canary_rules_are_never_laxer_than_the_hosts() -> None:
    policy = PromotionPolicy.model_validate({
        "hosts": {"max_report_age": "30m", "min_reported": 0.9, "rollback_on": ["critical"], "hold_on": ["high", "medium"],
                  "errors": "rollback", "accept_nixfleet": True},
        "canaries": {"max_report_age": "2h", "min_reported": 0.5, "rollback_on": ["high"], "hold_on": [], "errors": "note",
                     "accept_nixfleet": True},
    })
    canary = policy.rules_for(True)
    assert canary.max_report_age == timedelta(minutes=30) and canary.min_reported == 0.9
    assert canary.rollback_on == [Severity.CRITICAL, Severity.HIGH] and canary.hold_on == [Severity.MEDIUM]
    assert canary.errors is Action.ROLLBACK and canary.accept_nixfleet is True
    assert policy.rules_for(False) == policy.hosts
    defaults = PromotionPolicy().rules_for(True)
    assert Severity.MEDIUM in defaults.rollback_on and defaults.hold_on == [Severity.LOW] and not defaults.accept_nixfleet


@pytest.mark.parametrize(("share", "hosts", "needed"), [(1.0, 7, 7), (0.9, 10, 9), (0.9, 7, 7), (0.7, 10, 7), (0.5, 3, 2), (0.0, 5, 0), (0.34, 3, 2)])
def test_the_share_of_hosts_is_rounded_up(share: float, hosts: int, needed: int) -> None:
    assert HostRules(min_reported=share).needed(hosts) == needed


def test_the_examples_of_the_wave_hook_page_are_valid() -> None:
    """Every TOML policy and JSON wave file shown in docs/wave-hook.md is read by the models."""
    import re
    import tomllib

    page = (Path(__file__).resolve().parents[1] / "docs" / "wave-hook.md").read_text()
    policies = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    waves = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", page, flags=re.S) if '"hosts"' in block]
    assert policies and waves
    for block in policies:
        PromotionPolicy.model_validate(tomllib.loads(block))
    for doc in waves:
        Wave.model_validate(doc)

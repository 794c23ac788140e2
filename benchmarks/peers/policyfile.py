"""Load benchmarks/peers/policy.yaml into plain rule records for the peer encoders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

POLICY_PATH = Path(__file__).with_name("policy.yaml")
OPS = ("eq", "in", "not_in", "before", "from", "contains")


@dataclass(frozen=True)
class Test:
    """One test of a rule's `when`: `field op value` (dates kept as 'YYYY-MM-DD')."""

    field: str
    op: str  # one of OPS
    value: Any


@dataclass(frozen=True)
class Rule:
    """A policy rule: its id, effect ('deny' | 'permit') and ANDed tests."""

    id: str
    effect: str
    tests: tuple[Test, ...]


def _tests(field: str, spec: Any) -> list[Test]:
    """Expand one `when` entry into tests (a date dict may carry both from and before)."""
    if not isinstance(spec, dict):
        return [Test(field, "eq", spec)]
    out = []
    for op, value in spec.items():
        if op not in OPS:
            raise ValueError(f"unknown test {op!r} on {field}")
        if op in ("in", "not_in") and not all(isinstance(v, str) for v in value):
            # YAML 1.1: an unquoted NO (Norway) would load as False here.
            raise ValueError(f"non-string member in {field} {op}: {value!r}")
        out.append(Test(field, op, str(value) if op in ("before", "from") else value))
    return out


def load_rules(path: Path = POLICY_PATH) -> list[Rule]:
    """Parse the policy file into Rule records, in file order."""
    doc = yaml.safe_load(path.read_text())
    rules = []
    for r in doc["rules"]:
        tests = [t for field, spec in r["when"].items() for t in _tests(field, spec)]
        rules.append(Rule(r["id"], r["effect"], tuple(tests)))
    return rules


def date_int(d: str) -> int:
    """'2022-02-26' -> 20220226 (engines that cannot compare strings get integers)."""
    return int(d.replace("-", ""))

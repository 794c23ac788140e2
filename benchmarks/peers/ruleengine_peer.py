"""Peer 'ruleengine': policy.yaml as rule-engine expressions, one compiled Rule per policy rule.

rule-engine matches one expression against an object; it has no notion of
effects, so the deny-overrides combination is done here in Python over the
rules that match. Fields are typed, so a misspelt field or a type error fails
at load. ISO date strings compare correctly with < and >=.
"""

from __future__ import annotations

import json
from typing import Any

import rule_engine
from policyfile import Rule, Test, load_rules
from rule_engine import DataType

PACKAGE = "rule-engine"
STRINGS = ["exporter", "recipient", "date", "category", "end_user", "transfer_type"]
BOOLS = [
    "lethal",
    "recipient_in_armed_conflict",
    "recipient_exercising_self_defence",
    "under_un_embargo",
    "origin_consent",
]
LISTS = ["recipient_groups", "via"]
_rules: list[tuple[str, str, rule_engine.Rule]] = []


def _expr(t: Test) -> str:
    f, v = t.field, json.dumps(t.value)
    return {
        "eq": f"{f} == {v}",
        "in": f"{f} in {v}",
        "not_in": f"{f} not in {v}",
        "before": f"{f} < {v}",
        "from": f"{f} >= {v}",
        "contains": f"{v} in {f}",
    }[t.op]


def expression(rule: Rule) -> str:
    """The rule-engine text of one policy rule."""
    return " and ".join(_expr(t) for t in rule.tests)


def load() -> None:
    """Compile every rule against a typed context."""
    types = {f: DataType.STRING for f in STRINGS} | {f: DataType.BOOLEAN for f in BOOLS}
    types |= {f: DataType.ARRAY(DataType.STRING) for f in LISTS}
    ctx = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))
    _rules[:] = [(r.id, r.effect, rule_engine.Rule(expression(r), context=ctx)) for r in load_rules()]


def decide(s: dict[str, Any]) -> tuple[str, list[str]]:
    """Match every rule, then combine deny-overrides."""
    fired = [(rid, effect) for rid, effect, rule in _rules if rule.matches(s)]
    deny = sorted(rid for rid, effect in fired if effect == "deny")
    if deny:
        return "deny", deny
    permit = sorted(rid for rid, effect in fired if effect == "permit")
    return ("permit", permit) if permit else ("licence_required", ["DEFAULT"])

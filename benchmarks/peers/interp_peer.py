"""Peer 'interp': a naive interpreter of policy.yaml (no indexing), a cross-check on reference."""

from __future__ import annotations

from typing import Any

from policyfile import Rule, Test, load_rules

PACKAGE = None  # no engine package: reported as version "n/a"
_rules: list[Rule] = []


def _holds(t: Test, s: dict[str, Any]) -> bool:
    v = s[t.field]
    if t.op == "eq":
        return v == t.value and type(v) is type(t.value)
    if t.op == "in":
        return v in t.value
    if t.op == "not_in":
        return v not in t.value
    if t.op == "before":
        return v < t.value
    if t.op == "from":
        return v >= t.value
    return t.value in v  # contains


def load() -> None:
    """Read the rules from policy.yaml."""
    _rules[:] = load_rules()


def decide(s: dict[str, Any]) -> tuple[str, list[str]]:
    """Evaluate every rule, then combine deny-overrides."""
    fired = [r for r in _rules if all(_holds(t, s) for t in r.tests)]
    for effect, decision in (("deny", "deny"), ("permit", "permit")):
        ids = sorted(r.id for r in fired if r.effect == effect)
        if ids:
            return decision, ids
    return "licence_required", ["DEFAULT"]

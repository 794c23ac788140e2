"""Peer 'cedar': policy.yaml as Cedar policies (one permit/forbid per rule), run by cedarpy.

Cedar's own combining is the policy's: any forbid -> Deny with the forbids as
reasons; else any permit -> Allow with the permits; else Deny with no reason,
which is licence_required / [DEFAULT]. Cedar cannot compare strings with <, so
dates go in the context as yyyymmdd integers.
"""

from __future__ import annotations

import json
from typing import Any

import cedarpy
from policyfile import Rule, Test, date_int, load_rules

PACKAGE = "cedarpy"
_state: dict[str, Any] = {}


def _cedar_test(t: Test) -> str:
    f, v = f"context.{t.field}", t.value
    if t.op == "eq":
        return f"{f} == {json.dumps(v)}"
    if t.op == "in":
        return f"{json.dumps(v)}.contains({f})"
    if t.op == "not_in":
        return f"!{json.dumps(v)}.contains({f})"
    if t.op == "before":
        return f"{f} < {date_int(v)}"
    if t.op == "from":
        return f"{f} >= {date_int(v)}"
    return f"{f}.contains({json.dumps(v)})"  # contains


def cedar_text(rules: list[Rule]) -> str:
    """The Cedar policy set for the rules, one annotated policy per rule, in order."""
    keyword = {"deny": "forbid", "permit": "permit"}
    return "\n".join(
        f'@id("{r.id}")\n{keyword[r.effect]} (principal, action, resource)\n'
        f"when {{ {' && '.join(_cedar_test(t) for t in r.tests)} }};\n"
        for r in rules
    )


def load() -> None:
    """Generate and parse the policy set; Cedar names the policies policy0, policy1, ..."""
    rules = load_rules()
    _state["policies"] = cedarpy.PolicySet.from_str(cedar_text(rules))
    _state["entities"] = cedarpy.Entities.from_json_str("[]")
    _state["ids"] = {f"policy{i}": r.id for i, r in enumerate(rules)}


def decide(s: dict[str, Any]) -> tuple[str, list[str]]:
    """Ask Cedar; map Allow/Deny and its reasons back to the policy's terms."""
    context = dict(s, date=date_int(s["date"]))
    request = {"principal": 'Exporter::"x"', "action": 'Action::"export"', "resource": 'Item::"x"', "context": context}
    result = cedarpy.is_authorized(request, _state["policies"], _state["entities"])
    if result.diagnostics.errors:
        raise RuntimeError(result.diagnostics.errors)
    ids = sorted(_state["ids"][p] for p in result.diagnostics.reasons)
    if result.allowed:
        return "permit", ids
    return ("deny", ids) if ids else ("licence_required", ["DEFAULT"])

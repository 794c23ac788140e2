"""Peer 'zen': policy.yaml as a zen-engine (GoRules JDM) decision graph.

input -> decision table (hit policy "collect": one row per rule, one column per
scenario field, output {id, effect} into `fired`) -> expression node doing the
deny-overrides combination -> output. Rows are in rule-id order, so the
collected ids come out sorted. Cells comparing strings with < silently fail to
match in zen, so dates are yyyymmdd integers.
"""

from __future__ import annotations

import json
from typing import Any

import zen
from policyfile import Rule, Test, date_int, load_rules

PACKAGE = "zen-engine"
FIELDS = [
    "exporter",
    "recipient",
    "date",
    "category",
    "lethal",
    "recipient_in_armed_conflict",
    "recipient_exercising_self_defence",
    "end_user",
    "under_un_embargo",
    "recipient_groups",
    "transfer_type",
    "via",
    "origin_consent",
]
COMBINE = [  # (key, zen expression); later ones read earlier ones through $
    ("denies", 'map(filter(fired, #.effect == "deny"), #.id)'),
    ("permits", 'map(filter(fired, #.effect == "permit"), #.id)'),
    ("decision", 'len($.denies) > 0 ? "deny" : len($.permits) > 0 ? "permit" : "licence_required"'),
    ("deciding", 'len($.denies) > 0 ? $.denies : len($.permits) > 0 ? $.permits : ["DEFAULT"]'),
]
_state: dict[str, Any] = {}


def _cell(t: Test) -> str:
    """A zen unary test on the column value `$`."""
    v = t.value
    if t.op == "eq":
        return f"$ == {json.dumps(v)}"
    if t.op == "in":
        return f"$ in {json.dumps(v)}"
    if t.op == "not_in":
        return f"not ($ in {json.dumps(v)})"
    if t.op == "before":
        return f"$ < {date_int(v)}"
    if t.op == "from":
        return f"$ >= {date_int(v)}"
    return f"{json.dumps(v)} in $"  # contains


def _node(node_id: str, kind: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "name": node_id, "type": kind, "position": {"x": 0, "y": 0}}
    if content is not None:
        node["content"] = content
    return node


def graph(rules: list[Rule]) -> dict[str, Any]:
    """The JDM decision graph for the rules."""
    rows = []
    for r in sorted(rules, key=lambda r: r.id):
        row = {"_id": r.id, "out_id": json.dumps(r.id), "out_effect": json.dumps(r.effect)}
        for f in FIELDS:
            row[f"in_{f}"] = " and ".join(_cell(t) for t in r.tests if t.field == f)
        rows.append(row)
    table = {
        "hitPolicy": "collect",
        "outputPath": "fired",
        "passThrough": False,
        "executionMode": "single",
        "inputs": [{"id": f"in_{f}", "name": f, "field": f} for f in FIELDS],
        "outputs": [
            {"id": "out_id", "name": "id", "field": "id"},
            {"id": "out_effect", "name": "effect", "field": "effect"},
        ],
        "rules": rows,
    }
    combine = {"expressions": [{"id": k, "key": k, "value": v} for k, v in COMBINE]}
    nodes = [
        _node("in", "inputNode"),
        _node("rules", "decisionTableNode", table),
        _node("combine", "expressionNode", combine),
        _node("out", "outputNode"),
    ]
    edges = [
        {"id": f"e{i}", "sourceId": a["id"], "targetId": b["id"], "type": "edge"}
        for i, (a, b) in enumerate(zip(nodes, nodes[1:]))
    ]
    return {"nodes": nodes, "edges": edges}


def load() -> None:
    """Generate the graph from policy.yaml and compile it."""
    _state["decision"] = zen.ZenEngine().create_decision(json.dumps(graph(load_rules())))


def decide(s: dict[str, Any]) -> tuple[str, list[str]]:
    """Evaluate the graph on one scenario."""
    result = _state["decision"].evaluate(dict(s, date=date_int(s["date"])))["result"]
    return result["decision"], result["deciding"]

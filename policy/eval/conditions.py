"""Three-valued evaluation of rule conditions: true, false, or unknown (None).

A missing fact is never silently false: a leaf over an unknown fact is unknown, and
``all``/``any``/``not`` follow Kleene's logic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from policy.eval.derive import Facts
from policy.model import All, Any_, Leaf, Not, category_within


@dataclass(frozen=True)
class LeafResult:
    """One comparison as evaluated: what was tested, what the fact was, and the outcome."""

    fact: str
    op: str
    expected: Any
    actual: Any
    result: bool | None

    def describe(self) -> str:
        exp = _fmt(self.expected)
        act = "unknown" if self.actual is None else _fmt(self.actual)
        mark = {True: "yes", False: "no", None: "unknown"}[self.result]
        return f"{self.fact} {_OP_WORDS[self.op]} {exp} (is {act}): {mark}"


_OP_WORDS = {
    "eq": "=",
    "ne": "!=",
    "in": "in",
    "not_in": "not in",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "within": "within",
    "exists": "exists",
}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _as_date(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            return v
    return v


def eval_leaf(leaf: Leaf, facts: Facts) -> LeafResult:
    op = leaf.op
    expected = leaf.value
    fv = facts.get(leaf.fact)
    actual = fv.value
    if op == "exists":
        return LeafResult(leaf.fact, op, expected, actual, fv.known == bool(expected))
    if actual is None:
        return LeafResult(leaf.fact, op, expected, None, None)
    result: bool
    if op in ("lt", "lte", "gt", "gte") or isinstance(actual, dt.date):
        expected_cmp = _as_date(expected) if isinstance(actual, dt.date) else expected
    else:
        expected_cmp = expected
    if op == "eq":
        result = actual == expected_cmp
    elif op == "ne":
        result = actual != expected_cmp
    elif op in ("in", "not_in"):
        if isinstance(actual, tuple):
            hit = any(a in expected for a in actual)
        else:
            hit = actual in expected
        result = hit if op == "in" else not hit
    elif op == "within":
        parents = [expected] if isinstance(expected, str) else expected
        result = any(category_within(str(actual), p) for p in parents)
    else:
        try:
            if op == "lt":
                result = actual < expected_cmp
            elif op == "lte":
                result = actual <= expected_cmp
            elif op == "gt":
                result = actual > expected_cmp
            else:
                result = actual >= expected_cmp
        except TypeError:
            return LeafResult(leaf.fact, op, expected, actual, None)
    return LeafResult(leaf.fact, op, expected, actual, result)


def evaluate(cond: Any, facts: Facts, trace: list[LeafResult] | None = None) -> bool | None:
    """Evaluate a condition. Appends every leaf evaluated to ``trace`` when given."""
    if cond is None:
        return True
    if isinstance(cond, Leaf):
        r = eval_leaf(cond, facts)
        if trace is not None:
            trace.append(r)
        return r.result
    if isinstance(cond, list) or isinstance(cond, All):
        parts = cond if isinstance(cond, list) else cond.all
        out: bool | None = True
        for c in parts:
            v = evaluate(c, facts, trace)
            if v is False:
                out = False
                if trace is None:
                    return False
            elif v is None and out is True:
                out = None
        return out
    if isinstance(cond, Any_):
        anyout: bool | None = False
        for c in cond.any:
            v = evaluate(c, facts, trace)
            if v is True:
                anyout = True
                if trace is None:
                    return True
            elif v is None and anyout is False:
                anyout = None
        return anyout
    if isinstance(cond, Not):
        v = evaluate(cond.not_, facts, trace)
        return None if v is None else not v
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover

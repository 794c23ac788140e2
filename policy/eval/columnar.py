"""Columnar evaluation: one jurisdiction's verdicts for many transfers at once, with numpy.

Columns are encoded once (``encode``): each becomes integer codes plus its distinct values. A
condition leaf is then computed on the distinct values with the same compiled scalar test the
screening path uses, and spread to all rows by one gather; rules combine with boolean array
operations, and default logic (exceptions, defaults, conflicts, severity) runs on whole columns.
The verdicts are those of the scalar path (a test checks this); columns must hold every fact the
rules test (no unknowns) — rows with missing facts belong on the scalar path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from policy.eval.conditions import compile_condition
from policy.eval.core import Resolution, candidate, compile_rule, rule_role, settle, settled_verdict
from policy.model import All, Any_, Effect, Leaf, Not, Role, RuleFile, Verdict
from policy.model.base import in_period
from policy.model.facts import fact_spec


@dataclass(frozen=True)
class Column:
    """A column as integer codes into its distinct values."""

    codes: np.ndarray
    values: list[Any]


def encode(columns: Mapping[str, Any]) -> dict[str, Column]:
    """Encode raw columns (lists or arrays; dates as datetime.date or ISO strings for `date`)."""
    out: dict[str, Column] = {}
    for name, raw in columns.items():
        arr = np.asarray(raw, dtype=object) if not isinstance(raw, np.ndarray) else raw
        if arr.dtype == object:
            keyed = np.array([_key(v) for v in arr], dtype=object) if name == "via" else arr
            uniq, inv = np.unique(keyed.astype(str), return_inverse=True)
            first = {}
            for i, code in enumerate(inv):
                if code not in first:
                    first[code] = arr[i]
                    if len(first) == len(uniq):
                        break
            values = [first[c] for c in range(len(uniq))]
        else:
            uniq, inv = np.unique(arr, return_inverse=True)
            values = [v.item() if hasattr(v, "item") else v for v in uniq]
        if name == "date":
            values = [v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in values]
        out[name] = Column(inv.astype(np.int32, copy=False), values)
    return out


def _key(v: Any) -> str:
    return "+".join(v) if isinstance(v, (list, tuple)) else str(v)


Mask = Callable[[dict[str, Column]], np.ndarray]


def _compile(cond: Any, groups: dict[str, str]) -> Mask:
    if cond is None:
        return lambda cols: np.ones(len(next(iter(cols.values())).codes), dtype=bool)
    if isinstance(cond, Leaf):
        test = compile_condition(cond, groups)
        name = cond.fact
        spec = fact_spec(name, groups)
        assert spec is not None

        def leaf(cols: dict[str, Column]) -> np.ndarray:
            col = cols.get(name)
            if col is None:
                raise KeyError(name)
            table = np.fromiter(
                (test({name: tuple(v) if spec.type == "countries" else v}) is True for v in col.values),
                dtype=bool,
                count=len(col.values),
            )
            out: np.ndarray = table[col.codes]
            return out

        return leaf
    if isinstance(cond, (list, All)):
        parts = [_compile(c, groups) for c in (cond if isinstance(cond, list) else cond.all)]

        def all_(cols: dict[str, Column]) -> np.ndarray:
            out = parts[0](cols)
            for p in parts[1:]:
                out = out & p(cols)
            return out

        return all_
    if isinstance(cond, Any_):
        parts = [_compile(c, groups) for c in cond.any]

        def any_(cols: dict[str, Column]) -> np.ndarray:
            out = parts[0](cols)
            for p in parts[1:]:
                out = out | p(cols)
            return out

        return any_
    if isinstance(cond, Not):
        inner = _compile(cond.not_, groups)
        return lambda cols: ~inner(cols)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


class ColumnarJurisdiction:
    """One jurisdiction's rules of one role, compiled for columns (two-valued: every fact a rule
    reads must be known). Which rules apply is computed by column; default logic runs once per
    distinct pattern of applicable rules, through the semantic core (``core.settle``), never
    restated here."""

    def __init__(self, jf: RuleFile, role: Role, groups: dict[str, str]) -> None:
        self.rules = [r for r in jf.rules if r.role == rule_role(role)]
        if any(r.effect is Effect.as_direct_export for r in self.rules):
            raise ValueError(f"`{jf.jurisdiction}` has consent-test rules; use the scalar screening path")
        self.masks = [_compile(r.when, groups) for r in self.rules]
        self.candidates = [candidate(compile_rule(r, groups)) for r in self.rules]
        self.if_none = Verdict(jf.if_no_rule_applies)
        self.binds = _compile(jf.binds, groups) if jf.binds is not None and role is Role.regime else None
        self.settled: dict[Any, dict[Verdict, Resolution]] = {}

    def verdicts(self, cols: dict[str, Column]) -> np.ndarray:
        """Verdict severities (see ``Verdict.severity``) for every row; -1 where the regime does not bind."""
        n = len(next(iter(cols.values())).codes)
        date = cols["date"]
        applies = np.zeros((len(self.rules), n), dtype=np.int8)
        for i, (r, mask) in enumerate(zip(self.rules, self.masks)):
            in_force = np.fromiter(
                (in_period(r.from_, r.until, d) for d in date.values), dtype=bool, count=len(date.values)
            )[date.codes]
            if in_force.any():
                applies[i] = in_force & mask(cols)
        first, which = distinct_rows(applies)
        severity = np.empty(len(first), dtype=np.int8)
        for k, row in enumerate(first):
            active = [(self.candidates[i], True) for i in np.flatnonzero(applies[:, row])]
            verdict, _ = settled_verdict(settle(self.if_none, active, self.settled))
            severity[k] = verdict.severity
        out: np.ndarray = severity[which]
        if self.binds is not None:
            out[~self.binds(cols)] = -1
        return out


def verdict_words(severities: np.ndarray) -> list[str]:
    """Severity codes back to verdict words (``-1`` is 'no say')."""
    words = {v.severity: v.value for v in Verdict}
    return [words.get(int(s), "no say") for s in severities]


# ---------------------------------------------------------------- three-valued states, for whole grids

FALSE, UNKNOWN, TRUE = 0, 1, 2
"""A condition's state per row, as int8: Kleene's logic is then ``min`` (all), ``max`` (any), ``2 - x`` (not)."""

States = Callable[[Mapping[str, Column], int], np.ndarray]


def condition_states(cond: Any, groups: dict[str, str]) -> States:
    """A condition compiled for columns, three-valued as the scalar path evaluates it (``FALSE``,
    ``UNKNOWN``, ``TRUE`` per row). A leaf is computed once per distinct value of its column with
    the scalar path's own test and spread by one gather; a fact without a column is unknown (absent)."""
    if cond is None:
        return lambda cols, n: np.full(n, TRUE, dtype=np.int8)
    if isinstance(cond, Leaf):
        test = compile_condition(cond, groups)
        name = cond.fact
        spec = fact_spec(name, groups)
        assert spec is not None  # INVARIANT: the loader rejected unknown facts

        def state(value: Any) -> int:
            r = test({name: tuple(value) if spec.type == "countries" and value is not None else value})
            return UNKNOWN if r is None else TRUE if r else FALSE

        def leaf(cols: Mapping[str, Column], n: int) -> np.ndarray:
            col = cols.get(name)
            if col is None:
                return np.full(n, state(None), dtype=np.int8)
            table = np.array([state(v) for v in col.values], dtype=np.int8)
            out: np.ndarray = table[col.codes]
            return out

        return leaf
    if isinstance(cond, (list, All, Any_)):
        items = cond if isinstance(cond, list) else cond.all if isinstance(cond, All) else cond.any
        parts = [condition_states(c, groups) for c in items]
        conj = not isinstance(cond, Any_)
        empty = TRUE if conj else FALSE
        combine = np.minimum if conj else np.maximum

        def many(cols: Mapping[str, Column], n: int) -> np.ndarray:
            if not parts:
                return np.full(n, empty, dtype=np.int8)
            out = parts[0](cols, n)
            for p in parts[1:]:
                out = combine(out, p(cols, n))
            return out

        return many
    if isinstance(cond, Not):
        inner = condition_states(cond.not_, groups)
        return lambda cols, n: (TRUE - inner(cols, n)).astype(np.int8)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def rule_states(jf: RuleFile, groups: dict[str, str], cols: Mapping[str, Column], n: int) -> np.ndarray:
    """For every rule of the file (all roles, in file order) and then its ``binds`` condition, the
    state per row: ``FALSE`` where the rule is not in force on the row's ``date`` column or its
    condition is false. Shape (rules + 1, n). Everything a jurisdiction's verdict depends on:
    rows with equal columns here get equal verdicts and deciding rules in every role."""
    date = cols["date"]
    out = np.empty((len(jf.rules) + 1, n), dtype=np.int8)
    for i, r in enumerate(jf.rules):
        in_force = np.array(
            [(r.from_ is None or r.from_ <= d) and (r.until is None or d <= r.until) for d in date.values], dtype=bool
        )[date.codes]
        out[i] = np.where(in_force, condition_states(r.when, groups)(cols, n), FALSE) if in_force.any() else FALSE
    out[-1] = condition_states(jf.binds, groups)(cols, n)
    return out


def distinct_rows(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of a (k, n) array of states: (first row index of each, in order of first
    appearance; each row's number among them)."""
    n = states.shape[1]
    key = np.zeros(n, dtype=np.int64)
    bound = 1
    for row in states:
        if row.min() == row.max():
            continue  # the same on every row: tells none apart
        if bound * 3 > 1 << 60:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64)
            bound = int(key.max()) + 1
        key = key * 3 + row
        bound *= 3
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.reshape(-1)]


__all__ = [
    "encode",
    "ColumnarJurisdiction",
    "verdict_words",
    "Column",
    "condition_states",
    "rule_states",
    "distinct_rows",
    "FALSE",
    "UNKNOWN",
    "TRUE",
]

"""How a rule condition is tested, in the two forms the backends use, each built once per rule.

- **explained** (``explained``): three-valued, true, false or unknown (None), recording every
  leaf it tests with the fact's value, for the explanation. A missing fact is never silently
  false: a leaf over an unknown fact is unknown, and ``all``/``any``/``not`` follow Kleene's logic.
- **closures** (``compile_condition``): the same truth from a plain mapping of already-coerced
  fact values, for screening (the generated fast path in ``compiled.py`` builds on these tests).

Each leaf's operator, expected value and its date form are read from the rule once, when the
condition is compiled, never per evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from policy.eval.derive import Facts
from policy.model import All, Any_, Leaf, Not, category_within
from policy.model.facts import coerce_value, fact_spec


@dataclass(frozen=True, slots=True)
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


# ---------------------------------------------------------------- explained (three-valued, traced)

Trace = list[LeafResult]


class Explained:
    """A condition compiled for explained evaluation: ``explain(facts, trace)`` gives its truth.

    With a ``trace``, every leaf is tested and recorded (an explanation shows them all); without
    one, evaluation stops as soon as the outcome is known.
    """

    __slots__ = ()

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:  # pragma: no cover
        raise NotImplementedError


class _True(Explained):
    __slots__ = ()

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:
        return True


class _Test(Explained):
    """One leaf: its fact, operator and expected value read once from the rule.

    A leaf's result depends only on the fact's value, so results are kept per value (and its
    type, so that ``1`` and ``true`` stay apart): most evaluations find theirs made.
    """

    __slots__ = ("fact", "op", "expected", "dated", "parents", "seen")

    def __init__(self, leaf: Leaf) -> None:
        self.fact = leaf.fact
        self.op = leaf.op
        self.expected = leaf.value
        self.dated = _as_date(self.expected)  # the expected value compared with a date fact
        self.parents: Sequence[Any] = [self.expected] if isinstance(self.expected, str) else self.expected
        self.seen: dict[tuple[type, Any], LeafResult] = {}

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:
        actual = facts.get(self.fact).value
        key = (type(actual), actual)
        try:
            r = self.seen.get(key)
        except TypeError:  # an unhashable value: tested each time
            r = self.compare(actual)
        else:
            if r is None:
                if len(self.seen) > 256:
                    self.seen.clear()
                r = self.seen[key] = self.compare(actual)
        if trace is not None:
            trace.append(r)
        return r.result

    def test(self, facts: Facts) -> LeafResult:
        return self.compare(facts.get(self.fact).value)

    def compare(self, actual: Any) -> LeafResult:
        """The leaf tested on a fact's value (None: unknown)."""
        op, expected = self.op, self.expected
        if op == "exists":
            return LeafResult(self.fact, op, expected, actual, (actual is not None) == bool(expected))
        if actual is None:
            return LeafResult(self.fact, op, expected, None, None)
        result: bool
        expected_cmp = self.dated if isinstance(actual, dt.date) else expected
        if op == "eq":
            result = actual == expected_cmp
        elif op == "ne":
            result = actual != expected_cmp
        elif op == "in" or op == "not_in":
            if isinstance(actual, tuple):
                hit = any(a in expected for a in actual)
            else:
                hit = actual in expected
            result = hit if op == "in" else not hit
        elif op == "within":
            result = any(category_within(str(actual), p) for p in self.parents)
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
                return LeafResult(self.fact, op, expected, actual, None)
        return LeafResult(self.fact, op, expected, actual, result)


class _All(Explained):
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Explained, ...]) -> None:
        self.parts = parts

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:
        out: bool | None = True
        for c in self.parts:
            v = c.explain(facts, trace)
            if v is False:
                out = False
                if trace is None:
                    return False
            elif v is None and out is True:
                out = None
        return out


class _Any(Explained):
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Explained, ...]) -> None:
        self.parts = parts

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:
        out: bool | None = False
        for c in self.parts:
            v = c.explain(facts, trace)
            if v is True:
                out = True
                if trace is None:
                    return True
            elif v is None and out is False:
                out = None
        return out


class _Not(Explained):
    __slots__ = ("inner",)

    def __init__(self, inner: Explained) -> None:
        self.inner = inner

    def explain(self, facts: Facts, trace: Trace | None = None) -> bool | None:
        v = self.inner.explain(facts, trace)
        return None if v is None else not v


ALWAYS: Explained = _True()


def explained(cond: Any) -> Explained:
    """Compile a condition (a leaf, a list or ``all``, ``any``, ``not``; None is always true) once."""
    if cond is None:
        return ALWAYS
    if isinstance(cond, Leaf):
        return _Test(cond)
    if isinstance(cond, (list, All)):
        return _All(tuple(explained(c) for c in (cond if isinstance(cond, list) else cond.all)))
    if isinstance(cond, Any_):
        return _Any(tuple(explained(c) for c in cond.any))
    if isinstance(cond, Not):
        return _Not(explained(cond.not_))
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def eval_leaf(leaf: Leaf, facts: Facts) -> LeafResult:
    """One leaf tested against the facts (compiles it first: prefer ``explained`` for repeated use)."""
    return _Test(leaf).test(facts)


def evaluate(cond: Any, facts: Facts, trace: list[LeafResult] | None = None) -> bool | None:
    """Evaluate a condition. Appends every leaf evaluated to ``trace`` when given."""
    return explained(cond).explain(facts, trace)


# ---------------------------------------------------------------- closures (screening)

Pred = Callable[[Mapping[str, Any]], "bool | None"]


def compile_leaf(leaf: Leaf, groups: dict[str, str]) -> Pred:
    """A closure computing one leaf's three-valued truth from a mapping of coerced fact values."""
    name, op, raw = leaf.fact, leaf.op, leaf.value
    spec = fact_spec(name, groups)
    assert spec is not None  # INVARIANT: the loader rejected unknown facts

    def co(v: Any) -> Any:
        return coerce_value(spec, v) if spec.type not in ("str",) else v

    if op == "exists":
        want = bool(raw)
        return lambda f: (f.get(name) is not None) == want
    if op == "within":
        parents = tuple([raw] if isinstance(raw, str) else raw)

        def within(f: Mapping[str, Any]) -> bool | None:
            v = f.get(name)
            return None if v is None else any(category_within(v, p) for p in parents)

        return within
    if op in ("in", "not_in"):
        values = frozenset(co(v) for v in raw)
        positive = op == "in"
        if spec.type == "countries":
            return lambda f: None if (v := f.get(name)) is None else (not values.isdisjoint(v)) == positive
        return lambda f: None if (v := f.get(name)) is None else ((v in values) == positive)
    x = co(raw)
    if op == "eq":
        return lambda f: None if (v := f.get(name)) is None else v == x
    if op == "ne":
        return lambda f: None if (v := f.get(name)) is None else v != x
    if op == "lt":
        return lambda f: None if (v := f.get(name)) is None else v < x
    if op == "lte":
        return lambda f: None if (v := f.get(name)) is None else v <= x
    if op == "gt":
        return lambda f: None if (v := f.get(name)) is None else v > x
    return lambda f: None if (v := f.get(name)) is None else v >= x


def compile_condition(cond: Any, groups: dict[str, str]) -> Pred:
    """A closure computing a condition's three-valued truth from a mapping of fact values."""
    if cond is None:
        return lambda f: True
    if isinstance(cond, Leaf):
        return compile_leaf(cond, groups)
    if isinstance(cond, (list, All)):
        parts = tuple(compile_condition(c, groups) for c in (cond if isinstance(cond, list) else cond.all))
        if len(parts) == 1:
            return parts[0]

        def all_(f: Mapping[str, Any]) -> bool | None:
            out: bool | None = True
            for p in parts:
                r = p(f)
                if r is False:
                    return False
                if r is None:
                    out = None
            return out

        return all_
    if isinstance(cond, Any_):
        parts = tuple(compile_condition(c, groups) for c in cond.any)

        def any_(f: Mapping[str, Any]) -> bool | None:
            out: bool | None = False
            for p in parts:
                r = p(f)
                if r is True:
                    return True
                if r is None:
                    out = None
            return out

        return any_
    if isinstance(cond, Not):
        inner = compile_condition(cond.not_, groups)
        return lambda f: None if (r := inner(f)) is None else not r
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover

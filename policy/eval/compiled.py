"""Rules compiled once into plain Python closures, for screening many transfers fast.

Conditions become closures over already-coerced values (built only from validated rule data,
never from text); rules are indexed by jurisdiction and role. Verdicts are identical to the
explained engine's (a test checks this); only the explanation is left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from policy.eval.derive import Facts, consent_claimants, contract_fact, implied_assumptions, view_values
from policy.eval.logic import Candidate, resolve
from policy.model import (
    All,
    Any_,
    Effect,
    Leaf,
    Not,
    Role,
    RuleFile,
    ScenarioItem,
    Verdict,
    category_within,
    iter_leaves,
)
from policy.model.facts import STATIC_FACTS, coerce_value, fact_spec
from policy.model.rulebase import RuleBase, paused_gc

Pred = Callable[[Mapping[str, Any]], "bool | None"]
MAX_UNKNOWN_RULES = 10


def _leaf(leaf: Leaf, groups: dict[str, str]) -> Pred:
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
        return _leaf(cond, groups)
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


@dataclass(frozen=True)
class CompiledRule:
    id: str
    effect: Effect
    default: bool
    exception_to: tuple[str, ...]
    yields_to: tuple[str, ...]
    from_: dt.date | None
    until: dt.date | None
    pred: Pred


@dataclass
class CompiledJurisdiction:
    code: str
    kind: str
    if_no_rule_applies: Verdict
    binds: Pred | None
    by_role: dict[Role, tuple[CompiledRule, ...]] = field(default_factory=dict)
    fast: dict[Role, Any] = field(default_factory=dict)  # generated evaluators: see _Generated


class _Generated(dict):  # type: ignore[type-arg]
    """A jurisdiction's generated evaluators by role, each generated on first use.

    ``fast[role]`` is the evaluator, or None where there is none (a role other than the
    jurisdiction's main one, or rules with consent tests). Generating on first use keeps a large
    rulebase quick to load when a run touches only some of its jurisdictions.
    """

    def __init__(self, make: Callable[[Role], Any], roles: tuple[Role, ...]) -> None:
        super().__init__()
        self._make, self._roles = make, roles

    def __missing__(self, role: Role) -> Any:
        fn = self[role] = self._make(role) if role in self._roles else None
        return fn


def compile_file(jf: RuleFile, groups: dict[str, str]) -> CompiledJurisdiction:
    by_role: dict[Role, list[CompiledRule]] = {}
    for r in jf.rules:
        by_role.setdefault(r.role, []).append(
            CompiledRule(
                r.id,
                r.effect,
                r.default,
                tuple(r.exception_to),
                tuple(r.yields_to),
                r.from_,
                r.until,
                compile_condition(r.when, groups),
            )
        )
    cj = CompiledJurisdiction(
        jf.jurisdiction,
        jf.kind,
        Verdict(jf.if_no_rule_applies),
        compile_condition(jf.binds, groups) if jf.binds is not None else None,
        {role: tuple(rules) for role, rules in by_role.items()},
    )
    cj.fast = _Generated(
        lambda role: generate(cj, jf, role, groups), (Role.regime,) if jf.kind == "regime" else (Role.exporter,)
    )
    return cj


def compile_rulebase(base: RuleBase) -> dict[str, CompiledJurisdiction]:
    """Compile every jurisdiction of a rulebase once."""
    groups = base.world.group_kinds()
    with paused_gc():
        return {code: compile_file(jf, groups) for code, jf in sorted(base.jurisdictions.items())}


DirectFn = Callable[[CompiledJurisdiction], Verdict]


def judge(
    cj: CompiledJurisdiction, role: Role, facts: Mapping[str, Any], day: dt.date, direct: DirectFn | None = None
) -> tuple[Verdict, tuple[str, ...]]:
    """One jurisdiction's verdict and determining rule ids; no explanation is built.

    ``direct`` computes the nested direct-export verdict for ``as_direct_export`` rules.
    """
    fast = cj.fast[role]
    if fast is not None:
        res = fast(facts, day)
        if res is not None:
            return res  # type: ignore[no-any-return]
    rule_role = Role.exporter if role is Role.regime else role
    active: list[tuple[CompiledRule, bool | None]] = []
    for r in cj.by_role.get(rule_role, ()):
        if (r.from_ is not None and day < r.from_) or (r.until is not None and day > r.until):
            continue
        st = r.pred(facts)
        if st is not False:
            active.append((r, st))
    if role not in (Role.exporter, Role.regime) and not active:
        return Verdict.permitted, ()

    def cand(r: CompiledRule) -> Candidate:
        if r.effect is Effect.as_direct_export:
            v = direct(cj) if direct is not None else Verdict.undetermined
            return Candidate(r.id, r.default, r.exception_to, v, True, r.yields_to)
        return Candidate(r.id, r.default, r.exception_to, Verdict(r.effect.value), False, r.yields_to)

    cands = {r.id: cand(r) for r, _ in active}
    unknown = [r for r, st in active if st is None]
    if not unknown:
        v, det, _, _ = resolve(list(cands.values()), cj.if_no_rule_applies)
        return v, tuple(det)
    if len(unknown) > MAX_UNKNOWN_RULES:
        return Verdict.undetermined, ()
    outcomes: dict[Verdict, tuple[str, ...]] = {}
    for combo in itertools.product((False, True), repeat=len(unknown)):
        on = {r.id for r, v in zip(unknown, combo) if v}
        applicable = [cands[r.id] for r, st in active if st is True or r.id in on]
        v, det, _, _ = resolve(applicable, cj.if_no_rule_applies)
        outcomes.setdefault(v, tuple(det))
    if len(outcomes) == 1:
        return next(iter(outcomes.items()))
    return Verdict.undetermined, ()


# ---------------------------------------------------------------- screening real transfers


@dataclass(frozen=True)
class Screening:
    """A verdict without explanation: overall, per jurisdiction (code, role, verdict), deciding rules."""

    verdict: Verdict
    jurisdictions: tuple[tuple[str, str, Verdict], ...]
    deciding_rules: tuple[str, ...]


class FactBuilder:
    """Fact values for screening, as a plain dict per item: no provenance, world lookups memoised.

    Values come from the same derivation as the explained engine (``derive.Facts``), computed
    once per (country, date, ...) and reused, so screening many transfers stays cheap.
    """

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.lethality = {code: c.lethal for code, c in base.categories.items()}
        names: set[str] = set()
        for jf in base.jurisdictions.values():
            for cond in [r.when for r in jf.rules] + [jf.binds]:
                for leaf, _ in iter_leaves(cond):
                    names.add(leaf.fact)
        derived = sorted(
            n for n in names if (fact_spec(n, base.world.group_kinds()) or STATIC_FACTS["date"]).origin == "derived"
        )
        self.recipient_names = [n for n in derived if n.startswith("recipient.") and ".under_embargo." not in n]
        self.embargo_names = [n for n in derived if n.startswith("recipient.under_embargo.")]
        self.exporter_names = [n for n in derived if n.startswith("exporter.")]
        self.defaults = {n: f.default for n, f in STATIC_FACTS.items() if f.origin == "assessment"}
        self.memo: dict[tuple[Any, ...], dict[str, Any]] = {}
        # World facts about a country change only on the dates its entries start or end:
        # facts are memoised per (country, interval between two such dates).
        self.breaks: dict[str, list[dt.date]] = {}
        w = base.world

        def add(country: str, start: dt.date | None, end: dt.date | None) -> None:
            b = self.breaks.setdefault(country, [])
            if start:
                b.append(start)
            if end:
                b.append(end + dt.timedelta(days=1))

        for g in w.groups.values():
            for m in g.members:
                add(m.country, m.from_, m.until)
        for c in w.conflicts:
            for country in {p.country for p in c.parties} | c.fought_on():
                self.breaks.setdefault(country, []).extend(c.change_dates())
        for e in w.embargoes:
            add(e.target, e.from_, e.until)
            if e.exemption_until:
                add(e.target, None, e.exemption_until)
        for country, b in self.breaks.items():
            self.breaks[country] = sorted(set(b))

    def _slot(self, country: str, day: dt.date) -> int:
        b = self.breaks.get(country)
        return bisect_right(b, day) if b else 0

    def _derived(self, names: list[str], key: tuple[Any, ...], sc: Any, item: Any) -> dict[str, Any]:
        hit = self.memo.get(key)
        if hit is None:
            # world facts only: the memo is shared by transfers with other assumptions (applied in build)
            neutral = sc.model_copy(update={"assume": {}}) if sc.assume else sc
            f = Facts(neutral, item, self.base.world, self.lethality)
            hit = {n: f.get(n).value for n in names}
            if len(self.memo) > 20_000:
                self.memo.clear()
            self.memo[key] = hit
        return hit

    def build(self, sc: Any, item: Any) -> dict[str, Any]:
        cat = item.category
        lethal = item.lethal
        if lethal is None and cat:
            c = cat
            while c and c not in self.lethality:
                c = c.rpartition(".")[0]
            lethal = self.lethality.get(c) if c else None
        d: dict[str, Any] = {
            "date": sc.date,
            "exporter": sc.exporter,
            "recipient": sc.recipient,
            "end_user": sc.end_user,
            "transfer": sc.transfer,
            "via": tuple(sc.via),
            "item.id": item.id,
            "item.category": cat,
            "item.lethal": lethal,
            "item.origin": item.origin,
            "item.licence_origin": item.licence_origin,
            "end_user.unit": getattr(sc, "end_user_unit", None),
            "contract_date": contract_fact(sc, "contract_date")[0],
            "licence.existing": contract_fact(sc, "licence.existing")[0],
        }
        rslot = self._slot(sc.recipient, sc.date)
        eslot = self._slot(sc.exporter, sc.date)
        contract = getattr(sc, "contract_date", None)
        key = ("all", sc.recipient, rslot, sc.exporter, eslot, sc.end_user, cat, contract)
        merged = self.memo.get(key)
        if merged is None:
            merged = dict(self.defaults)
            merged.update(self._derived(self.recipient_names, ("r", sc.recipient, rslot), sc, item))
            merged.update(self._derived(self.exporter_names, ("e", sc.exporter, eslot), sc, item))
            if self.embargo_names:
                merged.update(
                    self._derived(self.embargo_names, ("m", sc.recipient, rslot, sc.end_user, cat, contract), sc, item)
                )
            if self.base.assume:
                merged.update(implied_assumptions(self.base.assume))
                merged.update(self.base.assume)
            if len(self.memo) > 20_000:
                self.memo.clear()
            self.memo[key] = merged
        d.update(merged)
        if sc.assume:
            d.update(implied_assumptions(sc.assume))
            d.update(sc.assume)
        return d


_EXPORTER, _REGIME = Role.exporter, Role.regime
_SEVERITY = {v: v.severity for v in Verdict}


class _LazyDirect:
    """The consent test's direct-export verdict, computed only if a consent rule asks for it."""

    __slots__ = ("screener", "sc", "item")

    def __init__(self, screener: "Screener", sc: Any, item: Any) -> None:
        self.screener, self.sc, self.item = screener, sc, item

    def __call__(self, cj: CompiledJurisdiction) -> Verdict:
        sc, item = self.sc, self.item
        kind = "sale" if sc.transfer == "re-export" else sc.transfer
        dsc = sc.model_copy(update={"exporter": cj.code, "via": [], "transfer": kind})
        ditem = item.model_copy(update={"origin": None, "licence_origin": None, "components": []})
        facts = self.screener.seen_by(cj, dsc, self.screener._facts(dsc, ditem))
        return judge(cj, Role.exporter, facts, sc.date)[0]


class Screener:
    """Compiled rules plus the world data: screens scenarios without building explanations."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.compiled = compile_rulebase(base)
        self.builder = FactBuilder(base)
        self.regimes = [cj for cj in self.compiled.values() if cj.kind == "regime"]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the rulebase only: the unpickled screener compiles its rules again where it lands.

        The generated evaluators are closures and cannot travel; the rulebase is plain data and
        compiles in milliseconds, so a Dask or Spark worker gets an equal screener (memos start empty).
        """
        return (type(self), (self.base,))

    def _facts(self, sc: Any, item: Any) -> dict[str, Any]:
        return self.builder.build(sc, item)

    def seen_by(self, cj: CompiledJurisdiction, sc: Any, facts: dict[str, Any]) -> dict[str, Any]:
        """The facts as jurisdiction ``cj`` sees them (its `views`; see ``derive.view_values``)."""
        jf = self.base.jurisdictions.get(cj.code)
        views = view_values(jf, sc, self.base.assume) if jf is not None and jf.views else None
        return {**facts, **{k: fv.value for k, fv in views.items()}} if views else facts

    def screen(self, sc: Any) -> Screening:
        """The verdict for a scenario, as ``engine.evaluate`` would give it."""
        out: list[tuple[str, str, Verdict]] = []
        deciding: list[tuple[Verdict, tuple[str, ...]]] = []
        day = sc.date
        undetermined = (Verdict.undetermined, ())

        def run(cj: CompiledJurisdiction, role: Role, facts: dict[str, Any], direct: Any, at: Any = sc) -> Any:
            facts = self.seen_by(cj, at, facts)
            fast = cj.fast[role]
            res = fast(facts, day) if fast is not None else None
            return res if res is not None else judge(cj, role, facts, day, direct)

        for item in sc.items:
            facts = self._facts(sc, item)
            direct = _LazyDirect(self, sc, item)
            ex = self.compiled.get(sc.exporter)
            res = run(ex, _EXPORTER, facts, direct) if ex else undetermined
            out.append((sc.exporter, "exporter", res[0]))
            deciding.append(res)
            for role, state in consent_claimants(sc, item):
                cj = self.compiled.get(state)
                if cj is None:
                    res = undetermined
                elif self._claims(cj, role, self.seen_by(cj, sc, facts), day):
                    res = judge(cj, role, self.seen_by(cj, sc, facts), day, direct)
                else:
                    continue
                out.append((state, role.value, res[0]))
                deciding.append(res)
            for comp in item.components:
                if comp.origin == sc.exporter:
                    continue
                ci = ScenarioItem.model_validate(
                    {
                        "name": comp.name,
                        "category": comp.category or item.category,
                        "lethal": item.lethal if comp.lethal is None else comp.lethal,
                        "origin": comp.origin,
                    }
                )
                cj = self.compiled.get(comp.origin)
                cf = self._facts(sc, ci)
                if cj is None:
                    res = undetermined
                elif self._claims(cj, Role.component_origin, self.seen_by(cj, sc, cf), day):
                    res = judge(cj, Role.component_origin, self.seen_by(cj, sc, cf), day, _LazyDirect(self, sc, ci))
                else:
                    continue
                out.append((comp.origin, "component-origin", res[0]))
                deciding.append(res)
            for state in getattr(sc, "transit", ()):
                cj = self.compiled.get(state)
                if cj is None:
                    res = undetermined
                elif self._claims(cj, Role.transit, self.seen_by(cj, sc, facts), day):
                    res = judge(cj, Role.transit, self.seen_by(cj, sc, facts), day, direct)
                else:
                    continue
                out.append((state, "transit", res[0]))
                deciding.append(res)
            for holder in sc.via:
                onward = sc.model_copy(update={"exporter": holder, "via": [], "transfer": "re-export"})
                held = item.model_copy(update={"origin": item.origin or sc.exporter})
                cj = self.compiled.get(holder)
                res = (
                    run(cj, _EXPORTER, self._facts(onward, held), _LazyDirect(self, onward, held), onward)
                    if cj
                    else undetermined
                )
                out.append((holder, "re-exporter", res[0]))
                deciding.append(res)
            for cj in self.regimes:
                binds = cj.binds(facts) if cj.binds is not None else True
                if binds is False:
                    continue
                res = run(cj, _REGIME, facts, None) if binds else undetermined
                out.append((cj.code, "regime", res[0]))
                deciding.append(res)
        verdict = max((v for _, _, v in out), key=_SEVERITY.__getitem__)
        rules = sorted({rid for v, det in deciding if v is verdict for rid in det})
        return Screening(verdict, tuple(out), tuple(rules))

    @staticmethod
    def _claims(cj: CompiledJurisdiction, role: Role, facts: Mapping[str, Any], day: dt.date) -> bool:
        """A state has a say in a consent role only if one of its rules of that role may apply."""
        for r in cj.by_role.get(role, ()):
            if (
                (r.from_ is None or r.from_ <= day)
                and (r.until is None or day <= r.until)
                and r.pred(facts) is not False
            ):
                return True
        return False


# ---------------------------------------------------------------- generated fast path


class _Gen:
    """Builds the source of one jurisdiction-role evaluator.

    Safety: the text contains only generated names (``_c3``, ``_v2``...) and operators; every
    value from a rule file (fact names, constants, dates) is passed in the namespace, never
    written into the source. So no rule text can become code.
    """

    def __init__(self, groups: dict[str, str]) -> None:
        self.groups = groups
        self.ns: dict[str, Any] = {"_within": category_within}
        self.facts: dict[str, str] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.ns)}"
        self.ns[name] = value
        return name

    def var(self, fact: str) -> str:
        if fact not in self.facts:
            self.facts[fact] = f"_v{len(self.facts)}"
        return self.facts[fact]

    def cond(self, cond: Any) -> str:
        if cond is None:
            return "True"
        if isinstance(cond, Leaf):
            return self.leaf(cond)
        if isinstance(cond, (list, All)):
            parts = [self.cond(c) for c in (cond if isinstance(cond, list) else cond.all)]
            return "(" + " and ".join(parts) + ")" if parts else "True"
        if isinstance(cond, Any_):
            parts = [self.cond(c) for c in cond.any]
            return "(" + " or ".join(parts) + ")" if parts else "False"
        if isinstance(cond, Not):
            return f"(not {self.cond(cond.not_)})"
        raise TypeError(cond)  # pragma: no cover

    def leaf(self, leaf: Leaf) -> str:
        spec = fact_spec(leaf.fact, self.groups)
        assert spec is not None
        v = self.var(leaf.fact)
        op, raw = leaf.op, leaf.value
        co = (lambda x: x) if spec.type == "str" else (lambda x: coerce_value(spec, x))
        if op == "exists":
            return f"({v} is not None)" if raw else f"({v} is None)"
        if op == "within":
            parents = tuple([raw] if isinstance(raw, str) else raw)
            if len(parents) == 1:
                return f"_within({v}, {self.const(parents[0])})"
            return "(" + " or ".join(f"_within({v}, {self.const(p)})" for p in parents) + ")"
        if op in ("in", "not_in"):
            values = frozenset(co(x) for x in raw)
            if spec.type == "countries":
                test = f"(not {self.const(values)}.isdisjoint({v}))"
            else:
                test = f"({v} in {self.const(values)})"
            return test if op == "in" else f"(not {test})"
        sym = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        return f"({v} {sym} {self.const(co(raw))})"


def _partition_fact(rules: list[Any]) -> str | None:
    """The fact most rules test first with `eq` (e.g. `exporter`), if at least three do."""
    counts: dict[str, int] = {}
    for r in rules:
        leaf = _first_leaf(r.when)
        if leaf is not None and leaf.op == "eq":
            counts[leaf.fact] = counts.get(leaf.fact, 0) + 1
    best = max(sorted(counts), key=lambda f: counts[f], default=None)
    return best if best is not None and counts[best] >= 3 else None


def _first_leaf(cond: Any) -> Leaf | None:
    if isinstance(cond, Leaf):
        return cond
    parts = cond if isinstance(cond, list) else cond.all if isinstance(cond, All) else None
    return parts[0] if parts and isinstance(parts[0], Leaf) else None


def _split_key(cond: Any, key_fact: str | None) -> tuple[Any, Any]:
    """(value, rest of the condition) when the condition starts with `key_fact eq value`."""
    leaf = _first_leaf(cond)
    if key_fact is None or leaf is None or leaf.fact != key_fact or leaf.op != "eq":
        return None, cond
    if isinstance(cond, Leaf):
        return leaf.value, None
    parts = cond if isinstance(cond, list) else cond.all
    return leaf.value, list(parts[1:]) or None


INLINE_GROUPS = 12
"""Up to this many partition groups are tested inline; more are found by one dictionary lookup."""


def generate(
    cj: CompiledJurisdiction, jf: RuleFile, role: Role, groups: dict[str, str]
) -> Callable[[Mapping[str, Any], dt.date], "tuple[Verdict, tuple[str, ...]] | None"] | None:
    """A generated evaluator for one jurisdiction and role, or None if it has consent tests.

    It returns None (use ``judge``) when a fact it needs is unknown; otherwise the same verdict
    and determining rules as ``judge``. Results of the default logic are cached per set of
    applicable rules, so a call costs the condition tests plus one dictionary lookup.
    """
    rule_role = Role.exporter if role is Role.regime else role
    rules = [r for r in jf.rules if r.role == rule_role]
    if any(r.effect is Effect.as_direct_export for r in rules):
        return None
    g = _Gen(groups)
    # Rules whose condition starts with `<fact> eq <value>` on one common fact (say the exporter)
    # are grouped under one test of that fact, so a call skips the other groups at once.
    key_fact = _partition_fact(rules)
    groups_of: dict[Any, list[tuple[int, Any]]] = {}
    plain: list[tuple[int, Any]] = []
    for i, r in enumerate(rules):
        first, rest = _split_key(r.when, key_fact)
        (groups_of.setdefault(first, []) if first is not None else plain).append((i, rest))

    def emit(i: int, cond: Any, indent: str) -> str:
        r = rules[i]
        tests = []
        if r.from_ is not None:
            tests.append(f"({g.const(r.from_)} <= day)")
        if r.until is not None:
            tests.append(f"(day <= {g.const(r.until)})")
        tests.append(g.cond(cond))
        return f"{indent}if {' and '.join(tests)}:\n{indent}    fired |= {1 << i}"

    body = [emit(i, cond, "    ") for i, cond in plain]
    group_defs: list[tuple[int, list[str]]] = []
    if groups_of and len(groups_of) <= INLINE_GROUPS:
        # a few groups: an if/elif chain on the partition fact, inside the one function
        spec = fact_spec(key_fact, groups)
        assert spec is not None
        kv = g.var(key_fact)
        for n, (value, members) in enumerate(sorted(groups_of.items(), key=lambda kv_: str(kv_[0]))):
            body.append(f"    {'if' if n == 0 else 'elif'} {kv} == {g.const(coerce_value(spec, value))}:")
            body.extend(emit(i, cond, "        ") for i, cond in members)
    elif groups_of:
        # one function per value of the partition fact, found by one dictionary lookup
        spec = fact_spec(key_fact, groups)
        assert spec is not None
        table: dict[Any, str] = {}
        for n, (value, members) in enumerate(sorted(groups_of.items(), key=lambda kv_: str(kv_[0]))):
            inner = [emit(i, cond, "    ") for i, cond in members]
            group_defs.append((n, inner))
            table[coerce_value(spec, value)] = f"_g{n}"
        kv = g.var(key_fact)
        body.append(f"    grp = {g.const(table)}.get({kv})")
        body.append("    if grp is not None:\n        fired |= _groups[grp](facts, day)")
    reads = [f"    {var} = get({g.const(fact)})" for fact, var in g.facts.items()]
    # the main function reads by subscript (a missing fact raises KeyError: use `judge`)
    main_reads = [f"        {var} = facts[{g.const(fact)}]" for fact, var in g.facts.items()]
    guard = " or ".join(f"{var} is None" for var in g.facts.values()) or "False"
    group_src = ""
    for n, inner in group_defs:
        text = "\n".join(inner)
        used = set(re.findall(r"\b_v\d+\b", text))
        own = [line for line, var in zip(reads, g.facts.values()) if var in used]
        group_src += (
            f"def _g{n}(facts, day):\n    get = facts.get\n"
            + "\n".join(own)
            + "\n    fired = 0\n"
            + text
            + "\n    return fired\n"
        )
    cands = [
        Candidate(r.id, r.default, tuple(r.exception_to), Verdict(r.effect.value), False, tuple(r.yields_to))
        for r in rules
    ]
    if_none = cj.if_no_rule_applies
    cache: dict[int, tuple[Verdict, tuple[str, ...]]] = {}

    def settle(fired: int) -> tuple[Verdict, tuple[str, ...]]:
        hit = cache.get(fired)
        if hit is None:
            applicable = [c for i, c in enumerate(cands) if fired >> i & 1]
            v, det, _, _ = resolve(applicable, if_none)
            hit = (v, tuple(det))
            if len(cache) < 65536:
                cache[fired] = hit
        return hit

    g.ns["_settle"] = settle
    g.ns["_cache"] = cache
    src = (
        group_src
        + "def _judge(facts, day):\n    try:\n"
        + ("\n".join(main_reads) or "        pass")
        + "\n    except KeyError:\n        return None"
        + f"\n    if {guard}:\n        return None\n    fired = 0\n"
        + "\n".join(body)
        + "\n    hit = _cache.get(fired)\n    return hit if hit is not None else _settle(fired)\n"
    )
    exec(compile(src, f"<rules {jf.jurisdiction} {role.value}>", "exec"), g.ns)  # noqa: S102 - generated, see _Gen
    g.ns["_groups"] = {f"_g{n}": g.ns[f"_g{n}"] for n, _ in group_defs}
    fn = g.ns["_judge"]
    fn.__source__ = src  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]

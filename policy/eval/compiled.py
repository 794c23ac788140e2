"""Rules compiled once into plain Python closures, for screening many transfers fast.

Conditions become closures over already-coerced values (built only from validated rule data,
never from text); rules are indexed by jurisdiction and role. Verdicts are identical to the
explained engine's (a test checks this); only the explanation is left out.

Just over 500 lines: the fact builder (world facts memoised per country and interval), the
screener and the code generator of the fast path; the semantics itself is in ``core``.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from policy.eval.conditions import Pred, compile_condition, compile_leaf
from policy.eval.core import (
    NO_RULES,
    CompiledJurisdiction,
    CompiledRule,
    candidate,
    claims_say,
    claims_say_in,
    deciding_rules,
    direct_transfer,
    overall_verdict,
    parties,
    regime_say,
    regimes_of,
    settle,
    settled_verdict,
)
from policy.eval.core import active_rules as _active
from policy.eval.core import compile_jurisdiction as _compile_jurisdiction
from policy.eval.core import compile_rulebase as _compile_rulebase
from policy.eval.derive import Facts, contract_fact, implied_assumptions, view_values
from policy.model import All, Any_, Leaf, Not, Role, RuleFile, Verdict, category_within, iter_leaves
from policy.model.facts import STATIC_FACTS, coerce_value, fact_spec
from policy.model.rulebase import RuleBase, listed_category

__all__ = [
    "CompiledJurisdiction",
    "CompiledRule",
    "Pred",
    "Screener",
    "Screening",
    "FactBuilder",
    "compile_condition",
    "compile_file",
    "compile_leaf",
    "compile_rulebase",
    "generate",
    "judge",
    "Read",
]


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


def _arm(cj: CompiledJurisdiction) -> CompiledJurisdiction:
    """Attach the generated evaluators to a compiled jurisdiction (once)."""
    if cj.fast is None:
        cj.fast = _Generated(
            lambda role: generate(cj, role), (Role.regime,) if cj.kind == "regime" else (Role.exporter,)
        )
    return cj


def compile_file(jf: RuleFile, groups: dict[str, str]) -> CompiledJurisdiction:
    """One rule file in the core's compiled form, with its generated evaluators."""
    return _arm(_compile_jurisdiction(jf, groups))


def compile_rulebase(base: RuleBase) -> dict[str, CompiledJurisdiction]:
    """Every jurisdiction of a rulebase compiled (once per rulebase, shared with the explained engine)."""
    compiled = _compile_rulebase(base)
    for cj in compiled.values():
        _arm(cj)
    return compiled


DirectFn = Callable[[CompiledJurisdiction], Verdict]


def judge(
    cj: CompiledJurisdiction, role: Role, facts: Mapping[str, Any], day: dt.date, direct: DirectFn | None = None
) -> tuple[Verdict, tuple[str, ...]]:
    """One jurisdiction's verdict and determining rule ids; no explanation is built.

    ``direct`` computes the nested direct-export verdict for ``as_direct_export`` rules. A claimant
    whose rules claim no say is ``permitted`` here (``Screener`` leaves it out; see ``core.claims_say``).
    """
    fast = cj.fast[role] if cj.fast is not None else None
    if fast is not None:
        res = fast(facts, day)
        if res is not None:
            return res  # type: ignore[no-any-return]
    active = _active(cj, role, facts, day)
    if not claims_say(role, (st for _, st in active)):
        return Verdict.permitted, ()
    cands = [(candidate(r, direct(cj) if direct is not None and r.consent_test() else None), st) for r, st in active]
    v, settled = settled_verdict(settle(cj.if_no_rule_applies, cands, cj.settled))
    return v, tuple(settled[0]) if settled is not None else ()


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
        self.lethality = base.lethality()
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
        # a state no embargo targets is under none, whatever the item, end user or contract date
        self.embargo_targets = {e.target for e in base.world.embargoes}
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
            if e.exempt_contracts_before:
                # a transfer stating no contract date is taken as concluded on its own date: from
                # this day the grandfather clause no longer spares it
                add(e.target, e.exempt_contracts_before, None)
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

    def _exporter_facts(self, sc: Any, item: Any) -> dict[str, Any]:
        return self._derived(self.exporter_names, ("e", sc.exporter, self._slot(sc.exporter, sc.date)), sc, item)

    def _recipient_facts(self, sc: Any, item: Any) -> list[dict[str, Any]]:
        """The recipient's derived facts, then (if rules read any) its embargo facts for this item and end user."""
        rslot = self._slot(sc.recipient, sc.date)
        parts = [self._derived(self.recipient_names, ("r", sc.recipient, rslot), sc, item)]
        if self.embargo_names:
            parts.append(self._derived(self.embargo_names, self._embargo_key(sc, item, rslot), sc, item))
        return parts

    def exporter_world(self, sc: Any, item: Any) -> tuple[Any, ...]:
        """The derived facts about the exporter that rules read (``exporter_names``), on the transfer's date."""
        hit = self._exporter_facts(sc, item)
        return tuple(hit[n] for n in self.exporter_names)

    def recipient_world(self, sc: Any, item: Any) -> tuple[Any, ...]:
        """The derived facts about the recipient that rules read, embargoes on this item and end user included."""
        return tuple(v for part in self._recipient_facts(sc, item) for v in part.values())

    def _embargo_key(self, sc: Any, item: Any, rslot: int) -> tuple[Any, ...]:
        if sc.recipient not in self.embargo_targets:
            return ("m", sc.recipient, rslot)
        return ("m", sc.recipient, rslot, sc.end_user, item.category, getattr(sc, "contract_date", None))

    def lethal_of(self, category: str | None) -> bool | None:
        """An item's lethality when the transfer does not say: its category's, as listed."""
        c = listed_category(category, self.lethality) if category else None
        return self.lethality[c] if c else None

    def build(self, sc: Any, item: Any) -> dict[str, Any]:
        cat = item.category
        lethal = item.lethal
        if lethal is None and cat:
            lethal = self.lethal_of(cat)
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
            for part in self._recipient_facts(sc, item):
                merged.update(part)
            merged.update(self._exporter_facts(sc, item))
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


class _LazyDirect:
    """The consent test's direct-export verdict (``core.direct_transfer``), computed only if a consent rule asks."""

    __slots__ = ("screener", "sc", "item")

    def __init__(self, screener: "Screener", sc: Any, item: Any) -> None:
        self.screener, self.sc, self.item = screener, sc, item

    def __call__(self, cj: CompiledJurisdiction) -> Verdict:
        dsc, ditem = direct_transfer(self.sc, self.item, cj.code)
        facts = self.screener.seen_by(cj, dsc, self.screener._facts(dsc, ditem))
        return judge(cj, Role.exporter, facts, dsc.date)[0]


_ROLE_NAMES = {r: r.value for r in Role}


def _binds_on(facts: Mapping[str, Any]) -> Callable[[CompiledJurisdiction], bool | None]:
    """A regime's ``binds`` condition tested (as a closure) on one item's facts."""

    def binds(cj: CompiledJurisdiction) -> bool | None:
        return cj.binds(facts) if cj.binds is not None else True

    return binds


class Screener:
    """Compiled rules plus the world data: screens scenarios without building explanations."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.compiled = compile_rulebase(base)
        self.builder = FactBuilder(base)
        self.regimes = regimes_of(self.compiled)

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
        jf = cj.file
        views = view_values(jf, sc, self.base.assume) if jf is not None and jf.views else None
        return {**facts, **{k: fv.value for k, fv in views.items()}} if views else facts

    def screen(self, sc: Any) -> Screening:
        """The verdict for a scenario, as ``engine.evaluate`` would give it: the same parties
        (``core.parties``), each judged by ``judge``."""
        out: list[tuple[str, str, Verdict]] = []
        decided: list[tuple[Verdict, tuple[str, ...]]] = []
        day = sc.date
        compiled = self.compiled
        for item in sc.items:
            facts = self._facts(sc, item)
            direct = _LazyDirect(self, sc, item)
            for state, role, shown, psc, pitem, main, claim, binds in parties(sc, item, self.regimes, _binds_on(facts)):
                cj = compiled.get(state)
                res: tuple[Verdict, tuple[str, ...]]
                if cj is None:
                    res = (NO_RULES, ())
                elif binds is not True and regime_say(binds) is not None:
                    res = (Verdict.undetermined, ())
                elif main:
                    seen = self.seen_by(cj, sc, facts) if cj.views else facts
                    if claim and not claims_say_in(cj, role, seen, day):
                        continue
                    fast = cj.fast[role]
                    hit = fast(seen, day) if fast is not None else None
                    res = hit if hit is not None else judge(cj, role, seen, day, direct)
                else:
                    seen = self.seen_by(cj, psc, self._facts(psc, pitem))
                    if claim and not claims_say_in(cj, role, seen, day):
                        continue
                    res = judge(cj, role, seen, day, _LazyDirect(self, psc, pitem))
                out.append((state, _ROLE_NAMES[shown], res[0]))
                decided.append(res)
        verdict = overall_verdict(v for _, _, v in out)
        return Screening(verdict, tuple(out), deciding_rules(decided, verdict))


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

        def co(x: Any) -> Any:
            return x if spec.type == "str" else coerce_value(spec, x)

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


Read = tuple[str, Any]
"""How a generated evaluator reads a fact from the caller's own record: (the record's key, and a
converter: None, a mapping whose value is looked up, or a callable)."""


def generate(
    cj: CompiledJurisdiction, role: Role, reads: Mapping[str, Read] | None = None
) -> Callable[[Mapping[str, Any], dt.date], "tuple[Verdict, tuple[str, ...]] | None"] | None:
    """A generated evaluator for one jurisdiction and role, or None if it has consent tests.

    ``reads`` compiles the evaluator against the caller's own records instead of fact values:
    each fact named there is read from the record's key and converted in the generated code, so
    no dictionary of facts is built per call. Such an evaluator also returns None where a key is
    missing or a mapping lacks the value; the caller then converts the record and calls ``judge``.
    When ``reads`` names ``date``, the day is the record's (the ``day`` argument is not read).

    It returns None (use ``judge``) when a fact it needs is unknown; otherwise the same verdict
    and determining rules as ``judge``. Only conditions are generated: the rules in force on a
    day come from ``CompiledRule.in_force`` (one mask per day, memoised) and the verdict from
    ``core.settle``, cached per set of applicable rules, so a call costs the condition tests
    plus one dictionary lookup.
    """
    compiled_rules = cj.rules_for(role)
    if any(r.consent_test() for r in compiled_rules):
        return None
    rules = [r.rule for r in compiled_rules]
    g = _Gen(cj.groups)
    groups = cj.groups
    # Rules whose condition starts with `<fact> eq <value>` on one common fact (say the exporter)
    # are grouped under one test of that fact, so a call skips the other groups at once.
    key_fact = _partition_fact(rules)
    groups_of: dict[Any, list[tuple[int, Any]]] = {}
    plain: list[tuple[int, Any]] = []
    for i, r in enumerate(rules):
        first, rest = _split_key(r.when, key_fact)
        (groups_of.setdefault(first, []) if first is not None else plain).append((i, rest))

    def emit(i: int, cond: Any, indent: str) -> str:
        return f"{indent}if {g.cond(cond)}:\n{indent}    fired |= {1 << i}"

    body = [emit(i, cond, "    ") for i, cond in plain]
    group_defs: list[tuple[int, list[str]]] = []
    if groups_of and key_fact is not None and len(groups_of) <= INLINE_GROUPS:
        # a few groups: an if/elif chain on the partition fact, inside the one function
        spec = fact_spec(key_fact, groups)
        assert spec is not None
        kv = g.var(key_fact)
        for n, (value, members) in enumerate(sorted(groups_of.items(), key=lambda kv_: str(kv_[0]))):
            body.append(f"    {'if' if n == 0 else 'elif'} {kv} == {g.const(coerce_value(spec, value))}:")
            body.extend(emit(i, cond, "        ") for i, cond in members)
    elif groups_of and key_fact is not None:
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

    own_day = reads is not None and "date" in reads
    if own_day:
        g.var("date")  # the day is read (and checked) with the record's other fields

    def read(fact: str, main: bool) -> str:
        key, conv = (reads or {}).get(fact, (fact, None))
        raw = f"facts[{g.const(key)}]" if main else f"get({g.const(key)})"
        if conv is None:
            return raw
        c = g.const(conv)
        if isinstance(conv, Mapping):
            return f"{c}[{raw}]" if main else f"{c}.get({raw})"
        return f"{c}({raw})" if main else f"(None if (_t := {raw}) is None else {c}(_t))"

    group_reads = [f"    {var} = {read(fact, False)}" for fact, var in g.facts.items()]
    # the main function reads by subscript (a missing fact raises KeyError: use `judge`)
    main_reads = [f"        {var} = {read(fact, True)}" for fact, var in g.facts.items()]
    guard = " or ".join(f"{var} is None" for var in g.facts.values()) or "False"
    group_src = ""
    for n, inner in group_defs:
        text = "\n".join(inner)
        used = set(re.findall(r"\b_v\d+\b", text))
        own = [line for line, var in zip(group_reads, g.facts.values()) if var in used]
        group_src += (
            f"def _g{n}(facts, day):\n    get = facts.get\n"
            + "\n".join(own)
            + "\n    fired = 0\n"
            + text
            + "\n    return fired\n"
        )
    cands = [(candidate(r), True) for r in compiled_rules]
    if_none = cj.if_no_rule_applies
    cache: dict[int, tuple[Verdict, tuple[str, ...]]] = {}

    def settled(fired: int) -> tuple[Verdict, tuple[str, ...]]:
        hit = cache.get(fired)
        if hit is None:
            v, res = settled_verdict(settle(if_none, [c for i, c in enumerate(cands) if fired >> i & 1]))
            hit = (v, tuple(res[0]) if res is not None else ())
            if len(cache) < 65536:
                cache[fired] = hit
        return hit

    masks: dict[dt.date, int] = {}
    # the rules in force change only where a rule's period starts or ends: one mask per interval
    one = dt.timedelta(days=1)
    bounds = sorted(
        {d for r in compiled_rules if r.dated() for d in (r.from_, r.until + one if r.until else None) if d}
    )
    slot_masks = [
        sum(1 << i for i, r in enumerate(compiled_rules) if r.in_force(first)) for first in [dt.date.min, *bounds]
    ]

    def in_force(day: dt.date) -> int:
        """The rules in force on ``day``, as a bit mask (``CompiledRule.in_force``, once per interval)."""
        if len(masks) > 4096:
            masks.clear()
        m = masks[day] = slot_masks[bisect_right(bounds, day)]
        return m

    g.ns["_settle"] = settled
    g.ns["_cache"] = cache
    g.ns["_masks"] = masks
    g.ns["_in_force"] = in_force
    dated = any(r.dated() for r in compiled_rules)
    period = "    m = _masks.get(day)\n    if m is None:\n        m = _in_force(day)\n    fired &= m\n" if dated else ""
    src = (
        group_src
        + "def _judge(facts, day):\n    try:\n"
        + ("\n".join(main_reads) or "        pass")
        + (f"\n        day = {g.facts['date']}" if own_day else "")
        + "\n    except KeyError:\n        return None"
        + f"\n    if {guard}:\n        return None\n    fired = 0\n"
        + "\n".join(body)
        + "\n"
        + period
        + "    hit = _cache.get(fired)\n    return hit if hit is not None else _settle(fired)\n"
    )
    exec(compile(src, f"<rules {cj.code} {role.value}>", "exec"), g.ns)  # noqa: S102 - generated, see _Gen
    g.ns["_groups"] = {f"_g{n}": g.ns[f"_g{n}"] for n, _ in group_defs}
    fn = g.ns["_judge"]
    fn.__source__ = src
    return fn  # type: ignore[no-any-return]

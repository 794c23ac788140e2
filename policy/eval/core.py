"""The semantic core: what the rules mean, each point defined once, for every backend.

The explained engine (``engine.py``: conditions tested three-valued with a trace) and the fast
path (``compiled.py``: closures and generated code) both consume the compiled form built here
(``CompiledJurisdiction`` holding ``CompiledRule``s indexed by role) and call these functions for
every semantic decision. They differ only in how they test a condition and what they record.

Each point and its one home (``docs/architecture.md`` keeps this table, checkable with grep):

- who has a say in one item's transfer, in which role and order: ``parties``
- which states besides the exporter may claim a say (producer, licensor, earlier exporters):
  ``consent_claimants``
- a claimant has a say only if one of its rules of that role may apply: ``claims_say``
  (``claims_say_in`` asks it of closures, for the fast path and the diff)
- a state with a say but no encoded rules: its say is unknown: ``NO_RULES``
- a regime that does not bind the exporter has no say (in ``parties``); whether it binds is
  unknown: undetermined: ``regime_say``
- which rules a role applies (regimes apply their exporter rules): ``rule_role``
- the period a rule is in force: ``CompiledRule.in_force`` (the rule's own ``Rule.in_force``)
- unknown facts: every combination of the rules whose condition is unknown, up to
  ``MAX_UNKNOWN_RULES``: ``settle``; one verdict from the possible ones: ``settled_verdict``
- default logic (exceptions, defaults, conflicts, severity): ``logic.resolve``, called by ``settle``
- how an applicable rule enters default logic (a consent test with the direct export's verdict):
  ``candidate``
- the consent test, as a direct export from the consenting state: ``direct_transfer``
- the overall verdict: ``overall_verdict``; the deciding rules: ``deciding_rules``
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from policy.eval.conditions import Explained, Pred, compile_condition, explained
from policy.eval.logic import Candidate, resolve
from policy.model import Effect, Role, Rule, RuleFile, ScenarioItem, Verdict
from policy.model.rulebase import RuleBase, paused_gc

MAX_UNKNOWN_RULES = 10
"""Rules with unknown conditions whose combinations are checked exactly; beyond, undetermined."""

NO_RULES = Verdict.undetermined
"""The verdict of a state with a say but no encoded rules: its say is unknown."""

ALWAYS_HEARD = frozenset({Role.exporter, Role.regime})
"""Roles with a say whether or not one of their rules applies (see ``claims_say``)."""


# ---------------------------------------------------------------- the compiled form

Resolution = tuple[list[str], list[tuple[str, str]], dict[str, list[str]]]
"""Determining rule ids, conflicting pairs, and which rules defeated which (read-only: shared)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as every backend reads it: its logic fields, period, and its condition in both forms."""

    id: str
    effect: Effect
    default: bool
    exception_to: tuple[str, ...]
    yields_to: tuple[str, ...]
    from_: dt.date | None
    until: dt.date | None
    pred: Pred  # the condition as a closure over fact values (fast path)
    test: Explained  # the condition for explained evaluation (with a trace)
    rule: Rule
    candidate: Candidate | None  # how default logic sees it when it applies; None: a consent test
    always: bool  # in force on every day (no start, no end): ``in_force`` need not be asked

    def in_force(self, day: dt.date) -> bool:
        """Whether the rule is in force on ``day``: the rule's own period test."""
        return self.always or self.rule.in_force(day)

    def dated(self) -> bool:
        """Whether some day falls outside the rule's period."""
        return not self.always

    def consent_test(self) -> bool:
        return self.candidate is None


@dataclass
class CompiledJurisdiction:
    """One rule file compiled once: its rules indexed by the role they apply in."""

    code: str
    kind: str
    if_no_rule_applies: Verdict
    binds: Pred | None
    by_role: dict[Role, tuple[CompiledRule, ...]] = field(default_factory=dict)
    fast: Any = None  # generated evaluators by role, attached by the fast path (compiled.py)
    file: RuleFile | None = None
    binds_test: Explained | None = None
    groups: dict[str, str] = field(default_factory=dict)
    settled: dict[Any, dict[Verdict, Resolution]] = field(default_factory=dict)  # ``settle``'s memo
    views: bool = False  # the file states views of its own (``derive.view_values``)

    def rules_for(self, role: Role) -> tuple[CompiledRule, ...]:
        """The rules a party in ``role`` applies, in file order."""
        return self.by_role.get(rule_role(role), ())


def rule_role(role: Role) -> Role:
    """The role whose rules a party applies: a regime applies its rules written for the exporter."""
    return Role.exporter if role is Role.regime else role


def compile_rule(r: Rule, groups: dict[str, str]) -> CompiledRule:
    consent = r.effect is Effect.as_direct_export
    cand = (
        None
        if consent
        else Candidate(r.id, r.default, tuple(r.exception_to), Verdict(r.effect.value), False, tuple(r.yields_to))
    )
    return CompiledRule(
        r.id,
        r.effect,
        r.default,
        tuple(r.exception_to),
        tuple(r.yields_to),
        r.from_,
        r.until,
        compile_condition(r.when, groups),
        explained(r.when),
        r,
        cand,
        r.from_ is None and r.until is None,
    )


def compile_jurisdiction(jf: RuleFile, groups: dict[str, str]) -> CompiledJurisdiction:
    """Compile one rule file: each rule once, indexed by role."""
    by_role: dict[Role, list[CompiledRule]] = {}
    for r in jf.rules:
        by_role.setdefault(r.role, []).append(compile_rule(r, groups))
    return CompiledJurisdiction(
        jf.jurisdiction,
        jf.kind,
        Verdict(jf.if_no_rule_applies),
        compile_condition(jf.binds, groups) if jf.binds is not None else None,
        {role: tuple(rules) for role, rules in by_role.items()},
        None,
        jf,
        explained(jf.binds) if jf.binds is not None else None,
        groups,
        {},
        bool(jf.views),
    )


def compile_rulebase(base: RuleBase) -> dict[str, CompiledJurisdiction]:
    """Every jurisdiction of a rulebase compiled, once per rulebase (kept with it)."""

    def build() -> dict[str, CompiledJurisdiction]:
        groups = base.world.group_kinds()
        with paused_gc():
            return {code: compile_jurisdiction(jf, groups) for code, jf in sorted(base.jurisdictions.items())}

    out: dict[str, CompiledJurisdiction] = base.memo("core.compiled", build)
    return out


def candidate(r: CompiledRule, verdict: Verdict | None = None) -> Candidate:
    """How default logic sees an applicable rule; a consent test's ``verdict`` is the direct export's."""
    if r.candidate is not None:
        return r.candidate
    return Candidate(r.id, r.default, r.exception_to, verdict or Verdict.undetermined, True, r.yields_to)


# ---------------------------------------------------------------- who has a say


Say = tuple[str, Role, Role, Any, Any, bool, bool, "bool | None"]
"""A state with a say in one item's transfer, as a plain tuple (built per item, so kept cheap):

``(state, role, shown, scenario, item, main, claim, binds)``: the state; the role whose rules it
applies; the role reported (a via holder applies its exporter rules as re-exporter); the transfer
and item as it judges them (a via holder: its onward re-export; a component's origin: the
component); whether that is the item's own transfer (else its facts are its own); whether it is
heard only if its rules claim a say (``claims_say``); for a regime, whether it binds the exporter
(None: unknown; ``regime_say``), True for the others.
"""


def consent_claimants(sc: Any, item: Any) -> list[tuple[Role, str]]:
    """The states besides the exporter that may claim a say in this item's transfer, and why: the
    producer, the licensor and every earlier exporter in the item's history (end-use undertakings).
    Each is asked only if its own rules claim that role.
    """
    history = getattr(sc, "history", ())
    if not (item.origin or item.licence_origin or history):
        return []
    out: list[tuple[Role, str]] = []
    candidates = [(Role.original_producer, item.origin), (Role.licence_origin, item.licence_origin)]
    candidates += [(Role.earlier_exporter, h.from_) for h in history]
    for role, state in candidates:
        if state and state != sc.exporter and (role, state) not in out:
            out.append((role, state))
    return out


def item_label(item: Any) -> str:
    """How an item is named in a decision."""
    return str(item.name or item.id or item.category or "item")


def parties(
    sc: Any,
    item: Any,
    regimes: Iterable[CompiledJurisdiction],
    binds: Callable[[CompiledJurisdiction], bool | None],
) -> list[Say]:
    """Everyone with a say in one item's transfer, in the order decisions list them: the exporter;
    the consent claimants; the origins of components made elsewhere; each transit state; each
    intermediate holder (its own re-export to the final recipient); each regime that may bind the
    exporter (``binds`` tests a regime's ``binds`` condition on the item's facts).
    """
    exporter = sc.exporter
    out: list[Say] = [(exporter, _EXPORTER, _EXPORTER, sc, item, True, False, True)]
    for role, state in consent_claimants(sc, item):
        out.append((state, role, role, sc, item, True, True, True))
    for comp in item.components:
        if comp.origin == exporter:
            continue
        comp_item = ScenarioItem.model_validate(
            {
                "name": f"{comp.name} (in {item_label(item)})",
                "category": comp.category or item.category,
                "lethal": item.lethal if comp.lethal is None else comp.lethal,
                "origin": comp.origin,
            }
        )
        out.append((comp.origin, Role.component_origin, Role.component_origin, sc, comp_item, False, True, True))
    for state in getattr(sc, "transit", ()):
        # a transit state's own rules for goods crossing its territory (e.g. Poland's transit licence)
        out.append((state, Role.transit, Role.transit, sc, item, True, True, True))
    for holder in sc.via:
        # an intermediate holder passes the item on: its own rules for a re-export to the final recipient
        onward = sc.model_copy(update={"exporter": holder, "via": [], "transfer": "re-export"})
        held = item.model_copy(update={"origin": item.origin or exporter})
        out.append((holder, _EXPORTER, Role.re_exporter, onward, held, False, False, True))
    for cj in regimes:
        b = binds(cj) if cj.binds is not None else True
        if b is not False:
            out.append((cj.code, _REGIME, _REGIME, sc, item, True, False, b))
    return out


_EXPORTER, _REGIME = Role.exporter, Role.regime


def regimes_of(compiled: dict[str, CompiledJurisdiction]) -> list[CompiledJurisdiction]:
    """The regimes among compiled jurisdictions, in code order."""
    return [compiled[c] for c in sorted(compiled) if compiled[c].kind == "regime"]


def regime_say(binds: bool | None) -> str | None:
    """Why a regime's verdict is undetermined whatever its rules say (whether it binds is unknown), or None."""
    return "whether this regime binds the exporter is unknown" if binds is None else None


def claims_say(role: Role, statuses: Iterable[bool | None]) -> bool:
    """Whether a party in ``role`` has a say, from the statuses of its rules in force for that role:
    the exporter and regimes always do; any other state only if one of its rules may apply
    (its condition is true or unknown)."""
    return role in ALWAYS_HEARD or any(s is not False for s in statuses)


def _statuses(
    cj: CompiledJurisdiction, role: Role, facts: Any, day: dt.date
) -> Iterator[tuple[CompiledRule, bool | None]]:
    for r in cj.rules_for(role):
        if r.always or r.in_force(day):
            st = r.pred(facts)
            if st is not False:
                yield r, st


def active_rules(
    cj: CompiledJurisdiction, role: Role, facts: Any, day: dt.date
) -> list[tuple[CompiledRule, bool | None]]:
    """The rules of ``role`` in force on ``day`` whose condition (closures over ``facts``) may hold."""
    return list(_statuses(cj, role, facts, day))


def claims_say_in(cj: CompiledJurisdiction | None, role: Role, facts: Any, day: dt.date) -> bool:
    """``claims_say`` for one jurisdiction's rules tested as closures over ``facts`` on ``day`` (rules
    are tested only until one may apply). A state without rules claims nothing through them
    (its say, where it has one, is ``NO_RULES``)."""
    if cj is None:
        return False
    if claims_say(role, ()):  # a say whatever its rules say: nothing to test
        return True
    return claims_say(role, (st for _, st in _statuses(cj, role, facts, day)))


# ---------------------------------------------------------------- one jurisdiction's verdict


def settle(
    if_none: Verdict,
    active: Sequence[tuple[Candidate, bool | None]],
    memo: dict[Any, dict[Verdict, Resolution]] | None = None,
) -> dict[Verdict, Resolution]:
    """Every verdict the rules that may apply can give, with the first resolution giving each.

    ``active`` holds each rule that may apply (status True: applies; None: unknown) as default
    logic sees it. Every combination of the unknown ones is resolved; with more than
    ``MAX_UNKNOWN_RULES`` unknown, none is, and the result is empty (undetermined). With a
    ``memo`` (one per jurisdiction, since ``if_none`` is its own), results are kept per ``active``.
    """
    if memo is not None:
        key = tuple(active)
        hit = memo.get(key)
        if hit is None:
            if len(memo) > 4096:
                memo.clear()
            hit = memo[key] = settle(if_none, active)
        return hit
    unknown = [i for i, (_, st) in enumerate(active) if st is None]
    if not unknown:
        v, det, conflicts, defeats = resolve([c for c, _ in active], if_none)
        return {v: (det, conflicts, defeats)}
    if len(unknown) > MAX_UNKNOWN_RULES:
        return {}
    outcomes: dict[Verdict, Resolution] = {}
    for combo in itertools.product((False, True), repeat=len(unknown)):
        off = {i for i, on in zip(unknown, combo) if not on}
        applicable = [c for i, (c, _) in enumerate(active) if i not in off]
        v, det, conflicts, defeats = resolve(applicable, if_none)
        outcomes.setdefault(v, (det, conflicts, defeats))
    return outcomes


def settled_verdict(outcomes: dict[Verdict, Resolution]) -> tuple[Verdict, Resolution | None]:
    """The verdict when the unknown facts cannot change it; otherwise undetermined (and None)."""
    if len(outcomes) == 1:
        return next(iter(outcomes.items()))
    return Verdict.undetermined, None


# ---------------------------------------------------------------- the consent test


def direct_transfer(sc: Any, item: Any, state: str) -> tuple[Any, Any]:
    """The consent test's question: the hypothetical direct transfer of the item from ``state`` to
    the final recipient on the same date (a re-export becomes a sale; no via, origin, licence or
    components). A consent rule (``as_direct_export``) gives that transfer's verdict."""
    kind = "sale" if sc.transfer == "re-export" else sc.transfer
    direct = sc.model_copy(
        update={
            "exporter": state,
            "via": [],
            "transfer": kind,
            "id": sc.id + "-direct",
            "title": f"direct transfer from {state}",
        }
    )
    return direct, item.model_copy(update={"origin": None, "licence_origin": None, "components": []})


# ---------------------------------------------------------------- the transfer's verdict


def overall_verdict(verdicts: Iterable[Verdict]) -> Verdict:
    """The transfer's verdict: the most severe of its parties' (``Verdict.severity``; undetermined for none)."""
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.undetermined)


_SEVERITY = {v: v.severity for v in Verdict}


def deciding_rules(results: Iterable[tuple[Verdict, Sequence[str]]], verdict: Verdict) -> tuple[str, ...]:
    """The rules deciding a transfer: those determining each party verdict equal to the overall one."""
    return tuple(sorted({rid for v, det in results if v is verdict for rid in det}))

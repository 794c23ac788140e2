"""Evaluating a transfer: who has a say, which rules apply, and the verdict of each.

Pure: no files, no clock, no printing. Default logic as in Catala: a rule is defeated by an
applicable exception to it; a ``default`` rule by any other applicable rule of its file.
Restrictive effects accumulate (the most severe holds); a permission that meets a
restriction with no exception between them is a conflict, reported and never silently
resolved. An unknown fact that could change a verdict makes it ``undetermined``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from policy import __version__
from policy.eval.conditions import LeafResult
from policy.eval.core import (
    NO_RULES,
    CompiledJurisdiction,
    CompiledRule,
    candidate,
    claims_say,
    compile_rulebase,
    deciding_rules,
    direct_transfer,
    item_label,
    overall_verdict,
    parties,
    regime_say,
    regimes_of,
    settle,
    settled_verdict,
)
from policy.eval.derive import Facts, FactValue
from policy.eval.logic import Candidate
from policy.model import Role, Rule, Scenario, ScenarioItem, Verdict
from policy.model.countries import country_name
from policy.model.errors import PolicyError
from policy.model.facts import CONFLICT_FACTS
from policy.model.rulebase import RuleBase


class EvaluationError(PolicyError):
    """The transfer cannot be evaluated as given (e.g. a consent chain loops)."""


@dataclass
class RuleFinding:
    """What one rule did in one evaluation, and why."""

    rule: Rule
    status: str  # fired | defeated | not_applicable | not_in_force | unknown | conflict
    trace: list[LeafResult] = field(default_factory=list)
    defeated_by: list[str] = field(default_factory=list)
    nested: "JurisdictionVerdict | None" = None
    effect_verdict: Verdict | None = None  # the verdict this rule gives when it fires


@dataclass
class JurisdictionVerdict:
    """One jurisdiction's verdict on one item, with the rules behind it."""

    jurisdiction: str
    name: str
    kind: str  # state | regime | missing
    role: Role
    item: str
    verdict: Verdict
    reason: str
    findings: list[RuleFinding] = field(default_factory=list)
    missing_facts: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, FactValue] = field(default_factory=dict)
    determining: list[str] = field(default_factory=list)  # the rules giving the verdict (default logic)

    @property
    def fired(self) -> list[RuleFinding]:
        return [f for f in self.findings if f.status == "fired"]


@dataclass
class Decision:
    """The verdict on a transfer: overall, per item and per jurisdiction, reproducibly."""

    scenario: Scenario
    verdict: Verdict
    jurisdictions: list[JurisdictionVerdict]
    facts: dict[str, FactValue]
    record: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def deciding(self) -> list[JurisdictionVerdict]:
        return [j for j in self.jurisdictions if j.verdict == self.verdict]

    @property
    def deciding_rules(self) -> tuple[str, ...]:
        """The rules deciding the transfer (``core.deciding_rules``), as the fast path reports them."""
        return deciding_rules(((j.verdict, j.determining) for j in self.jurisdictions), self.verdict)


def rulebase_digest(base: RuleBase) -> str:
    """A digest of the rule files' contents, independent of their order and paths (once per rulebase)."""
    return base.digest()


def evaluate(base: RuleBase, scenario: Scenario) -> Decision:
    """Evaluate a transfer under every jurisdiction with a say, on the scenario's date."""
    ctx = base.memo("engine.context", lambda: _Context(base))
    results: list[JurisdictionVerdict] = []
    facts: dict[str, FactValue] = {}
    items = scenario.items
    for item in items:
        jvs = _item_verdicts(ctx, scenario, item)
        results += jvs
        for jv in jvs:
            for name, fv in jv.facts.items():
                if fv.origin == "view":
                    shown = f"{name} [{jv.jurisdiction}'s view]"
                elif len(items) == 1 or not name.startswith("item."):
                    shown = name
                else:
                    shown = f"{name}[{item_label(item)}]"
                if shown not in facts:
                    facts[shown] = fv
    verdict = overall_verdict([j.verdict for j in results])
    record = {
        "date": scenario.date.isoformat(),
        "policy_version": __version__,
        "rules_digest": ctx.digest,
        "rule_files": len(base.files),
    }
    if base.overlays:
        record["overlays"] = list(base.overlays)
    warnings = []
    if scenario.assume:
        read = _read_facts(results)
        warnings = [
            f"the assumption {name}={json.dumps(scenario.assume[name], default=str)} changed nothing: "
            "no rule that applies reads it"
            for name in sorted(scenario.assume)
            if name not in read
        ]
    return Decision(scenario, verdict, results, dict(sorted(facts.items())), record, warnings)


def _read_facts(results: list[JurisdictionVerdict]) -> set[str]:
    """Every fact any rule read, nested consent tests included; an assumed summary fact counts as
    read when a fact that follows from it was."""
    names: set[str] = set()
    todo = list(results)
    while todo:
        jv = todo.pop()
        names.update(jv.facts)
        for f in jv.findings:
            names.update(r.fact for r in f.trace)
            if f.nested is not None:
                todo.append(f.nested)
    if names & set(CONFLICT_FACTS[1:]):
        names.add(CONFLICT_FACTS[0])
    return names


class _Context:
    """What every evaluation on one rulebase reads besides the facts, built once per rulebase."""

    __slots__ = ("base", "compiled", "regimes", "lethality", "digest", "plans")

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.compiled = compile_rulebase(base)
        self.regimes = regimes_of(self.compiled)
        self.lethality = base.lethality()
        self.digest = base.digest()
        self.plans: dict[tuple[str, Role], _Plan] = {}

    def plan(self, cj: CompiledJurisdiction, role: Role) -> "_Plan":
        key = (cj.code, role)
        p = self.plans.get(key)
        if p is None:
            p = self.plans[key] = _Plan(cj.rules_for(role))
        return p

    def facts(self, sc: Scenario, item: ScenarioItem) -> Facts:
        return Facts(sc, item, self.base.world, self.lethality, self.base.assume)


def _item_verdicts(ctx: _Context, sc: Scenario, item: ScenarioItem) -> list[JurisdictionVerdict]:
    facts = ctx.facts(sc, item)

    def binds(cj: CompiledJurisdiction) -> bool | None:
        assert cj.binds_test is not None
        return cj.binds_test.explain(facts)

    compiled = ctx.compiled
    label = item_label(item)
    out: list[JurisdictionVerdict] = []
    for state, role, shown, psc, pitem, main, _, b in parties(sc, item, ctx.regimes, binds):
        cj = compiled.get(state)
        here = label if main else item_label(pitem)
        if cj is None:
            out.append(_missing(state, role, shown, here))
            continue
        jv = _judge(ctx, cj, role, facts if main else ctx.facts(psc, pitem), here, ())
        if jv is None:  # a claimant whose rules claim no say
            continue
        jv.role = shown
        why = regime_say(b)
        if why is not None:
            jv.verdict, jv.reason, jv.determining = Verdict.undetermined, why, []
        out.append(jv)
    return out


_ROLE_WORDS = {
    Role.exporter: "as exporter",
    Role.original_producer: "as original producer (its consent to re-export)",
    Role.earlier_exporter: "as an earlier exporter (its end-use undertaking)",
    Role.licence_origin: "as licensor",
    Role.component_origin: "as origin of a component",
    Role.transit: "as transit state",
}


def _missing(state: str, role: Role, shown: Role, label: str) -> JurisdictionVerdict:
    """A party with no encoded rules: its say is unknown (``core.NO_RULES``)."""
    return JurisdictionVerdict(
        state,
        country_name(state),
        "missing",
        shown,
        label,
        NO_RULES,
        f"no rules are encoded for {country_name(state)} ({state}); its say {_ROLE_WORDS.get(role, '')} is unknown",
    )


def _judge(
    ctx: _Context,
    cj: CompiledJurisdiction,
    role: Role,
    facts: Facts,
    label: str,
    stack: tuple[tuple[str, Role], ...],
) -> JurisdictionVerdict | None:
    """Apply one jurisdiction's rules of one role to one item; None when it claims no say."""
    key = (cj.code, role)
    if key in stack:
        chain = " -> ".join(f"{j} ({r.value})" for j, r in stack + (key,))
        raise EvaluationError(f"consent chain loops: {chain}")
    stack = stack + (key,)
    if cj.views:
        assert cj.file is not None  # INVARIANT: compiled from a rule file
        facts = facts.seen_by(cj.file)
    plan = ctx.plans.get(key) or ctx.plan(cj, role)
    if not plan.kept:
        return _judged(ctx, cj, role, plan.rules, facts, label, stack)[0]
    shape = plan.shape(facts.scenario.date)
    names, made = shape.names, shape.made
    if names is not None:
        get = facts.get
        values = tuple([get(n).value for n in names])
        vkey = (values, tuple(map(type, values)))
        try:
            hit = made.get(vkey, _UNMADE)
        except TypeError:  # an unhashable value: judged each time
            return _judged(ctx, cj, role, plan.rules, facts, label, stack)[0]
        if hit is not _UNMADE:
            return None if hit is None else hit.make(label, facts.used)
    jv, findings = _judged(ctx, cj, role, plan.rules, facts, label, stack)
    if names is None:
        shape.names = names = tuple(dict.fromkeys(x.fact for f in findings for x in f.trace))
        values = tuple([facts.get(n).value for n in names])
        vkey = (values, tuple(map(type, values)))
    if len(made) > 1024:
        made.clear()
    kept = None if jv is None else _Kept(jv)
    try:
        made[vkey] = kept
    except TypeError:  # an unhashable value: not kept
        return jv
    return None if kept is None else kept.make(label, facts.used)


_UNMADE: Any = object()


class _Shape:
    """The judgements made with one pattern of rules in force: the facts their conditions read
    (known after the first), and per tuple of those facts' values (with their types, so that
    ``1`` and ``true`` stay apart) the judgement made (None: no say)."""

    __slots__ = ("names", "made")

    def __init__(self) -> None:
        self.names: tuple[str, ...] | None = None
        self.made: dict[Any, _Kept | None] = {}


class _Plan:
    """One jurisdiction's rules of one role, and the judgements already made with them.

    Without a consent test (which judges another transfer), a judgement is a function of the rules
    in force and of the values of the facts their conditions read; with a trace every leaf is
    tested, so the same rules in force read the same facts. Judgements are kept per pattern of the
    dated rules in force (a ``_Shape``, found per day); each decision gets its own copy, with its
    own facts' provenance.
    """

    __slots__ = ("rules", "dated", "kept", "shapes", "days", "always")

    def __init__(self, rules: tuple[CompiledRule, ...]) -> None:
        self.rules = rules
        self.dated = tuple(r for r in rules if not r.always)
        self.kept = all(r.candidate is not None for r in rules)
        self.shapes: dict[tuple[bool, ...], _Shape] = {}
        self.days: dict[dt.date, _Shape] = {}
        self.always = None if self.dated else _Shape()  # every rule in force on every day

    def shape(self, day: dt.date) -> _Shape:
        """The shape of the rules in force on ``day`` (``CompiledRule.in_force``)."""
        if self.always is not None:
            return self.always
        shape = self.days.get(day)
        if shape is None:
            period = tuple([r.in_force(day) for r in self.dated])
            shape = self.shapes.get(period)
            if shape is None:
                shape = self.shapes[period] = _Shape()
            if len(self.days) > 20_000:
                self.days.clear()
            self.days[day] = shape
        return shape


class _Kept:
    """A judgement kept for later decisions, read into a new ``JurisdictionVerdict`` for each (``make``)."""

    __slots__ = ("head", "findings", "missing", "conflicts", "facts", "determining")

    def __init__(self, jv: JurisdictionVerdict) -> None:
        self.head = (jv.jurisdiction, jv.name, jv.kind, jv.role, jv.verdict, jv.reason)
        self.findings = tuple((f.rule, f.status, f.trace, f.defeated_by, f.effect_verdict) for f in jv.findings)
        self.missing, self.conflicts, self.determining = jv.missing_facts, jv.conflicts, jv.determining
        self.facts = tuple(jv.facts)  # the facts its conditions read, in order

    def make(self, label: str, used: dict[str, FactValue]) -> JurisdictionVerdict:
        """The judgement for one decision: its own findings and lists, its own facts' values."""
        code, name, kind, role, verdict, reason = self.head
        return JurisdictionVerdict(
            code,
            name,
            kind,
            role,
            label,
            verdict,
            reason,
            [RuleFinding(r, s, t[:], d[:], None, e) for r, s, t, d, e in self.findings],
            self.missing[:],
            self.conflicts[:],
            {k: used[k] for k in self.facts},
            self.determining[:],
        )


def _judged(
    ctx: _Context,
    cj: CompiledJurisdiction,
    role: Role,
    rules: tuple[CompiledRule, ...],
    facts: Facts,
    label: str,
    stack: tuple[tuple[str, Role], ...],
) -> tuple[JurisdictionVerdict | None, list[RuleFinding]]:
    """``_judge`` worked out: the verdict (None: no say) and the findings behind it."""
    jf = cj.file
    assert jf is not None  # INVARIANT: compiled from a rule file
    day = facts.scenario.date
    findings: list[RuleFinding] = []
    active: list[tuple[CompiledRule, RuleFinding, bool | None]] = []
    for r in rules:
        if not r.always and not r.in_force(day):
            findings.append(RuleFinding(r.rule, "not_in_force"))
            continue
        trace: list[LeafResult] = []
        status = r.test.explain(facts, trace)
        f = RuleFinding(r.rule, _STATUS[status], trace)
        findings.append(f)
        if status is not False:
            active.append((r, f, status))
    if not claims_say(role, (st for _, _, st in active)):
        return None, findings
    cands: list[tuple[Candidate, bool | None]] = []
    for r, f, st in active:
        c = r.candidate
        if c is None:  # a consent test: the verdict on the direct transfer
            f.nested = _direct(ctx, cj, facts, label, stack)
            f.effect_verdict = f.nested.verdict
            c = candidate(r, f.effect_verdict)
        else:
            f.effect_verdict = c.verdict
        cands.append((c, st))
    outcomes = settle(cj.if_no_rule_applies, cands, cj.settled)
    unknown = [f for _, f, st in active if st is None]
    missing = (
        sorted({x.fact for f in unknown for x in f.trace if x.result is None and x.actual is None}) if unknown else []
    )
    used = facts.used
    fact_values = {k: used[k] for k in sorted({x.fact for f in findings for x in f.trace}) if k in used}
    verdict, settled = settled_verdict(outcomes)
    if settled is not None:
        determining, conflicts, defeats = settled
        if defeats or conflicts:
            for f in findings:
                if f.rule.id in defeats:
                    f.status, f.defeated_by = "defeated", list(defeats[f.rule.id])
                elif f.status == "fired" and conflicts and any(f.rule.id in pair for pair in conflicts):
                    f.status = "conflict"
        if conflicts:
            pairs = "; ".join(f"`{a}` and `{b}`" for a, b in conflicts)
            reason = f"rules conflict: {pairs} apply with different effects and neither is an exception to the other"
        elif determining:
            reason = "decided by " + ", ".join(f"`{d}`" for d in determining)
        else:
            reason = (
                "no rule applies; this regime does not object"
                if verdict is Verdict.permitted
                else "no encoded rule decides this transfer"
            )
        if unknown:
            reason += f" (unknown facts {', '.join(missing)} do not change it)"
        jv = JurisdictionVerdict(
            cj.code,
            jf.name,
            jf.kind,
            role,
            label,
            verdict,
            reason,
            findings,
            [],
            list(conflicts),
            fact_values,
            list(determining),
        )
        return jv, findings
    possible = sorted(outcomes, key=lambda v: -v.severity) if outcomes else []
    could = " or ".join(f"`{v.value}`" for v in possible) or "anything"
    reason = f"depends on unknown facts {', '.join(f'`{m}`' for m in missing) or '(too many)'}: could be {could}"
    jv = JurisdictionVerdict(
        cj.code, jf.name, jf.kind, role, label, Verdict.undetermined, reason, findings, missing, [], fact_values
    )
    return jv, findings


_STATUS = {True: "fired", False: "not_applicable", None: "unknown"}


def _direct(
    ctx: _Context, cj: CompiledJurisdiction, facts: Facts, label: str, stack: tuple[tuple[str, Role], ...]
) -> JurisdictionVerdict:
    """The consent test: the verdict of ``cj``'s state on the direct transfer (``core.direct_transfer``)."""
    direct, item = direct_transfer(facts.scenario, facts.item, cj.code)
    jv = _judge(ctx, cj, Role.exporter, ctx.facts(direct, item), label, stack)
    assert jv is not None  # INVARIANT: the exporter always has a say
    return jv

"""Evaluating a transfer: who has a say, which rules apply, and the verdict of each.

Pure: no files, no clock, no printing. Default logic as in Catala: a rule is defeated by an
applicable exception to it; a ``default`` rule by any other applicable rule of its file.
Restrictive effects accumulate (the most severe holds); a permission that meets a
restriction with no exception between them is a conflict, reported and never silently
resolved. An unknown fact that could change a verdict makes it ``undetermined``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from policy import __version__
from policy.eval.conditions import LeafResult
from policy.eval.conditions import evaluate as eval_condition
from policy.eval.derive import Facts, FactValue, consent_claimants
from policy.eval.logic import Candidate, resolve
from policy.model import Effect, Role, Rule, RuleFile, Scenario, ScenarioItem, Verdict
from policy.model.countries import country_name
from policy.model.errors import PolicyError
from policy.model.facts import CONFLICT_FACTS
from policy.model.rulebase import RuleBase

MAX_UNKNOWN_RULES = 10
"""Rules with unknown conditions whose combinations are checked exactly; beyond, undetermined."""


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


def rulebase_digest(base: RuleBase) -> str:
    """A digest of the rule files' contents, independent of their order and paths."""
    h = hashlib.sha256()
    for digest in sorted(base.files.values()):
        h.update(digest.encode())
    return h.hexdigest()


def evaluate(base: RuleBase, scenario: Scenario) -> Decision:
    """Evaluate a transfer under every jurisdiction with a say, on the scenario's date."""
    results: list[JurisdictionVerdict] = []
    facts: dict[str, FactValue] = {}
    for item in scenario.items:
        for jv in _item_verdicts(base, scenario, item):
            results.append(jv)
            for name, fv in jv.facts.items():
                shown = (
                    name if not name.startswith("item.") or len(scenario.items) == 1 else f"{name}[{_item_label(item)}]"
                )
                if fv.origin == "view":
                    shown = f"{name} [{jv.jurisdiction}'s view]"
                facts.setdefault(shown, fv)
    verdict = Verdict.most_severe([j.verdict for j in results])
    record = {
        "date": scenario.date.isoformat(),
        "policy_version": __version__,
        "rules_digest": rulebase_digest(base),
        "rule_files": len(base.files),
    }
    if base.overlays:
        record["overlays"] = list(base.overlays)
    warnings = [
        f"the assumption {name}={json.dumps(scenario.assume[name], default=str)} changed nothing: "
        "no rule that applies reads it"
        for name in sorted(scenario.assume)
        if name not in _read_facts(results)
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


def _lethality(base: RuleBase) -> dict[str, bool]:
    return {code: c.lethal for code, c in base.categories.items()}


def _item_label(item: ScenarioItem) -> str:
    return item.name or item.id or item.category or "item"


def _item_verdicts(base: RuleBase, sc: Scenario, item: ScenarioItem) -> list[JurisdictionVerdict]:
    label = _item_label(item)
    out: list[JurisdictionVerdict] = []
    facts = Facts(sc, item, base.world, _lethality(base), base.assume)
    out.append(_judge_party(base, sc.exporter, Role.exporter, facts, label, ()))
    for role, state in consent_claimants(sc, item):
        jv = _judge_party(base, state, role, facts, label, ())
        if jv is not None and (jv.findings or jv.kind == "missing"):
            out.append(jv)
    for comp in item.components:
        if comp.origin == sc.exporter:
            continue
        comp_item = ScenarioItem.model_validate(
            {
                "name": f"{comp.name} (in {label})",
                "category": comp.category or item.category,
                "lethal": item.lethal if comp.lethal is None else comp.lethal,
                "origin": comp.origin,
            }
        )
        jv = _judge_party(
            base,
            comp.origin,
            Role.component_origin,
            Facts(sc, comp_item, base.world, _lethality(base), base.assume),
            comp_item.name or label,
            (),
        )
        if jv is not None and (jv.findings or jv.kind == "missing"):
            out.append(jv)
    for state in sc.transit:
        # A transit state's own rules for goods crossing its territory (e.g. Poland's transit licence).
        jv = _judge_party(base, state, Role.transit, facts, label, ())
        if jv.findings or jv.kind == "missing":
            out.append(jv)
    for holder in sc.via:
        # An intermediate holder passes the item on: its own rules for a re-export to the final recipient.
        onward = sc.model_copy(update={"exporter": holder, "via": [], "transfer": "re-export"})
        held = item.model_copy(update={"origin": item.origin or sc.exporter})
        jv = _judge_party(
            base, holder, Role.exporter, Facts(onward, held, base.world, _lethality(base), base.assume), label, ()
        )
        jv.role = Role.re_exporter
        out.append(jv)
    for code in sorted(base.jurisdictions):
        jf = base.jurisdictions[code]
        if jf.kind != "regime":
            continue
        binds = eval_condition(jf.binds, facts) if jf.binds is not None else True
        if binds is False:
            continue
        jv = _judge(base, jf, Role.regime, facts, label, ())
        if binds is None:
            jv.verdict, jv.reason = Verdict.undetermined, "whether this regime binds the exporter is unknown"
        out.append(jv)
    return out


def _judge_party(
    base: RuleBase, state: str, role: Role, facts: Facts, label: str, stack: tuple[tuple[str, str], ...]
) -> JurisdictionVerdict:
    jf = base.jurisdictions.get(state)
    if jf is None:
        what = {
            Role.exporter: "as exporter",
            Role.original_producer: "as original producer (its consent to re-export)",
            Role.earlier_exporter: "as an earlier exporter (its end-use undertaking)",
            Role.licence_origin: "as licensor",
            Role.component_origin: "as origin of a component",
            Role.transit: "as transit state",
        }
        return JurisdictionVerdict(
            state,
            country_name(state),
            "missing",
            role,
            label,
            Verdict.undetermined,
            f"no rules are encoded for {country_name(state)} ({state}); its say {what.get(role, '')} is unknown",
        )
    return _judge(base, jf, role, facts, label, stack)


def _judge(
    base: RuleBase, jf: RuleFile, role: Role, facts: Facts, label: str, stack: tuple[tuple[str, str], ...]
) -> JurisdictionVerdict:
    """Apply one jurisdiction's rules of one role to one item."""
    key = (jf.jurisdiction, role.value)
    if key in stack:
        chain = " -> ".join(f"{j} ({r})" for j, r in stack + (key,))
        raise EvaluationError(f"consent chain loops: {chain}")
    stack = stack + (key,)
    facts = facts.seen_by(jf)
    rule_role = Role.exporter if role is Role.regime else role
    day = facts.scenario.date
    findings: list[RuleFinding] = []
    active: list[RuleFinding] = []
    before = set(facts.used)
    for rule in jf.rules:
        if rule.role != rule_role:
            continue
        if not rule.in_force(day):
            findings.append(RuleFinding(rule, "not_in_force"))
            continue
        trace: list[LeafResult] = []
        status = eval_condition(rule.when, facts, trace)
        f = RuleFinding(rule, {True: "fired", False: "not_applicable", None: "unknown"}[status], trace)
        findings.append(f)
        if status is not False:
            active.append(f)
    if role is not Role.exporter and role is not Role.regime and not active:
        used = {k: v for k, v in facts.used.items() if k not in before or k in _facts_of(findings)}
        return JurisdictionVerdict(
            jf.jurisdiction,
            jf.name,
            jf.kind,
            role,
            label,
            Verdict.permitted,
            "no rule of this role applies: no claim to a say",
            [],
            facts=used,
        )
    for f in active:
        if f.rule.effect is Effect.as_direct_export:
            f.nested = _direct(base, jf, facts, label, stack)
            f.effect_verdict = f.nested.verdict
        else:
            f.effect_verdict = Verdict(f.rule.effect.value)

    unknown = [f for f in active if f.status == "unknown"]
    outcomes: dict[Verdict, tuple[list[str], list[tuple[str, str]], dict[str, list[str]]]] = {}
    if len(unknown) > MAX_UNKNOWN_RULES:
        combos: list[tuple[bool, ...]] = []
    else:
        combos = list(itertools.product((False, True), repeat=len(unknown)))
    for combo in combos:
        assumed = {id(f): v for f, v in zip(unknown, combo)}
        applicable = [f for f in active if f.status == "fired" or assumed.get(id(f))]
        outcome = _resolve(jf, applicable)
        outcomes.setdefault(outcome[0], outcome[1:])  # type: ignore[arg-type]
    missing = sorted({r.fact for f in unknown for r in f.trace if r.result is None and r.actual is None})
    used_facts = _facts_of(findings)
    fact_values = {k: facts.used[k] for k in sorted(used_facts) if k in facts.used}
    if len(outcomes) == 1:
        verdict, (determining, conflicts, defeats) = next(iter(outcomes.items()))
        for f in findings:
            if f.rule.id in defeats:
                f.status, f.defeated_by = "defeated", defeats[f.rule.id]
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
        return JurisdictionVerdict(
            jf.jurisdiction, jf.name, jf.kind, role, label, verdict, reason, findings, [], list(conflicts), fact_values
        )
    possible = sorted(outcomes, key=lambda v: -v.severity) if outcomes else []
    could = " or ".join(f"`{v.value}`" for v in possible) or "anything"
    reason = f"depends on unknown facts {', '.join(f'`{m}`' for m in missing) or '(too many)'}: could be {could}"
    return JurisdictionVerdict(
        jf.jurisdiction, jf.name, jf.kind, role, label, Verdict.undetermined, reason, findings, missing, [], fact_values
    )


def _facts_of(findings: list[RuleFinding]) -> set[str]:
    return {r.fact for f in findings for r in f.trace}


def _resolve(
    jf: RuleFile, applicable: list[RuleFinding]
) -> tuple[Verdict, list[str], list[tuple[str, str]], dict[str, list[str]]]:
    cands = [
        Candidate(
            f.rule.id,
            f.rule.default,
            tuple(f.rule.exception_to),
            f.effect_verdict or Verdict.undetermined,
            f.rule.effect is Effect.as_direct_export,
            tuple(f.rule.yields_to),
        )
        for f in applicable
    ]
    return resolve(cands, Verdict(jf.if_no_rule_applies))


def _direct(
    base: RuleBase, jf: RuleFile, facts: Facts, label: str, stack: tuple[tuple[str, str], ...]
) -> JurisdictionVerdict:
    """The hypothetical direct transfer from ``jf``'s state to the final recipient, same date."""
    sc = facts.scenario
    kind = "sale" if sc.transfer == "re-export" else sc.transfer
    direct = sc.model_copy(
        update={
            "exporter": jf.jurisdiction,
            "via": [],
            "transfer": kind,
            "id": sc.id + "-direct",
            "title": f"direct transfer from {jf.jurisdiction}",
        }
    )
    item = facts.item.model_copy(update={"origin": None, "licence_origin": None, "components": []})
    return _judge(base, jf, Role.exporter, Facts(direct, item, base.world, _lethality(base), base.assume), label, stack)

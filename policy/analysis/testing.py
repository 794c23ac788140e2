"""Scenario files as tests: evaluate each scenario that has an ``expect`` and compare."""

from __future__ import annotations

from dataclasses import dataclass, field

from policy.eval.engine import Decision, JurisdictionVerdict, evaluate
from policy.model import Scenario
from policy.model.rulebase import RuleBase


@dataclass
class TestResult:
    """One scenario checked against its expectations."""

    file: str
    scenario: Scenario
    decision: Decision
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def deciding_rules(self) -> list[str]:
        ids = set()
        for j in self.decision.deciding:
            for f in j.fired:
                ids.add(f.rule.id)
        return sorted(ids)


def check(base: RuleBase, file: str, scenario: Scenario) -> TestResult:
    """Evaluate a scenario and list every way the result differs from its expectations."""
    d = evaluate(base, scenario)
    problems = []
    if scenario.expect is not None and d.verdict != scenario.expect:
        problems.append(f"expected `{scenario.expect.value}`, got `{d.verdict.value}`")
    fired = {f.rule.id for j in d.jurisdictions for f in j.fired}
    for rid in scenario.expect_rules:
        if rid not in fired:
            problems.append(f"expected rule `{rid}` to apply; it did not")
    deciding = {j.jurisdiction for j in d.deciding}
    for code in scenario.expect_deciding:
        if code not in deciding:
            problems.append(f"expected `{code}` to decide; deciding: {', '.join(sorted(deciding))}")
    return TestResult(file, scenario, d, problems)


def fired_rules(decision: Decision) -> set[str]:
    """Every rule that applied anywhere in a decision, nested consent evaluations included."""
    out: set[str] = set()

    def walk(jv: "JurisdictionVerdict") -> None:
        for f in jv.findings:
            if f.status in ("fired", "conflict"):
                out.add(f.rule.id)
            if f.nested is not None:
                walk(f.nested)

    for j in decision.jurisdictions:
        walk(j)
    return out


def coverage(base: RuleBase, results: list[TestResult]) -> dict[str, int]:
    """For each rule of the rulebase, how many scenarios made it apply (sorted by rule id)."""
    counts = {rid: 0 for _, r in base.all_rules() for rid in [r.id]}
    for res in results:
        for rid in fired_rules(res.decision):
            if rid in counts:
                counts[rid] += 1
    return dict(sorted(counts.items()))


@dataclass
class Agreement:
    """How many documented scenarios of one exporter the rules agree with."""

    jurisdiction: str
    passed: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def percent(self) -> float:
        return round(100.0 * self.passed / self.total, 1) if self.total else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "jurisdiction": self.jurisdiction,
            "passed": self.passed,
            "failed": self.failed,
            "total": self.total,
            "percent": self.percent,
        }


def documented_agreement(results: list[TestResult]) -> list[Agreement]:
    """Agreement with documented scenarios (``kind: documented``) per exporter, weakest first
    (lowest percentage, then most failures, then code). Hypothetical scenarios are ignored."""
    by: dict[str, Agreement] = {}
    for res in results:
        if res.scenario.kind != "documented":
            continue
        a = by.setdefault(res.scenario.exporter, Agreement(res.scenario.exporter))
        if res.passed:
            a.passed += 1
        else:
            a.failed += 1
    return sorted(by.values(), key=lambda a: (a.percent, -a.failed, a.jurisdiction))

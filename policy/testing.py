"""Scenario files as tests: evaluate each scenario that has an ``expect`` and compare."""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import Decision, evaluate
from .models import Scenario
from .rulebase import RuleBase


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

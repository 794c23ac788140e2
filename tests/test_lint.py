"""`policy lint`: planted mistakes are found with an example; the shipped rulebase is clean."""

import datetime as dt

from policy.analysis.lint import lint
from policy.cli import app
from policy.load.loader import load_rulebase

from .conftest import ROOT, WORLD, write

PLANTED = """
format: policy-rules/v1
jurisdiction: FR
name: France
sources: [{id: s, title: t, url: "https://example.org/law"}]
rules:
  - id: fr.general.licence
    title: licence
    effect: licence_required
    binding: statute
    default: true
    citations: [{source: s, instrument: Code, article: L1}]
  - id: fr.war.ban
    title: no arms to states at war
    effect: restricted
    binding: political_guideline
    when: {fact: recipient.in_armed_conflict, eq: true}
    citations: [{source: s, instrument: Guideline, article: "1"}]
  - id: fr.ukraine.aid
    title: aid to Ukraine allowed
    effect: permitted
    binding: government_decision
    when: {fact: recipient, eq: UA}
    citations: [{source: s, instrument: Decision, article: "2"}]
  - id: fr.dead.rule
    title: can never fire
    effect: restricted
    binding: stated_policy
    when: [{fact: item.lethal, eq: true}, {fact: item.lethal, eq: false}]
    citations: [{source: s, instrument: Policy}]
  - id: fr.old.rule
    title: expired
    effect: restricted
    binding: stated_policy
    until: 2001-01-01
    when: {fact: recipient, eq: IQ}
    citations: [{source: s, instrument: Policy, article: "3"}]
"""


def test_planted_conflict_dead_rule_and_expiry(tmp_path):
    write(tmp_path, "rules/fr.yaml", PLANTED)
    write(tmp_path, "rules/world.yaml", WORLD)
    found = {
        (d.code, d.message.split("`")[1]) for d in lint(load_rulebase([str(tmp_path / "rules")]), dt.date(2026, 1, 1))
    }
    assert ("conflict", "fr.ukraine.aid") in found or ("conflict", "fr.war.ban") in found
    assert ("never-fires", "fr.dead.rule") in found
    assert ("expired", "fr.old.rule") in found
    conflict = next(
        d for d in lint(load_rulebase([str(tmp_path / "rules")]), dt.date(2026, 1, 1)) if d.code == "conflict"
    )
    assert "recipient=UA" in conflict.message and "recipient.in_armed_conflict=True" in conflict.message
    assert conflict.span is not None and conflict.span.line > 0


def test_exception_silences_the_conflict(tmp_path):
    fixed = PLANTED.replace(
        "    binding: government_decision\n", "    binding: government_decision\n    exception_to: [fr.war.ban]\n"
    )
    write(tmp_path, "rules/fr.yaml", fixed)
    write(tmp_path, "rules/world.yaml", WORLD)
    codes = {d.code for d in lint(load_rulebase([str(tmp_path / "rules")]), dt.date(2026, 1, 1))}
    assert "conflict" not in codes


def test_shipped_rulebase_lints_clean_in_strict_mode(runner):
    res = runner.invoke(app, ["lint", str(ROOT / "rules"), "--strict"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[-1].startswith("0 warnings")


def test_strict_exits_1_on_warnings(runner, tmp_path):
    write(tmp_path, "rules/fr.yaml", PLANTED)
    write(tmp_path, "rules/world.yaml", WORLD)
    assert runner.invoke(app, ["lint", str(tmp_path / "rules"), "--strict"]).exit_code == 1
    assert runner.invoke(app, ["lint", str(tmp_path / "rules")]).exit_code == 0

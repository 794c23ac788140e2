"""Default logic, conflicts, unknown facts and dates, on tiny rule sets (one behaviour each)."""

import datetime as dt

from policy.eval.engine import evaluate
from policy.load.loader import load_rulebase
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document
from policy.model import Verdict

from .conftest import WORLD, write

HEAD = """
format: policy-rules/v1
jurisdiction: XX
name: Testland
sources: [{id: law, title: The Law}]
rules:
"""


def make(tmp_path, rules_yaml: str, code: str = "DE"):
    text = HEAD.replace("XX", code) + rules_yaml.replace("xx.", code.lower() + ".")
    write(tmp_path, "rules/x.yaml", text)
    write(tmp_path, "rules/world.yaml", WORLD)
    return load_rulebase([str(tmp_path / "rules")])


def run(base, **kw):
    data = {
        "id": "t",
        "title": "t",
        "date": "2023-01-30",
        "exporter": "DE",
        "recipient": "UA",
        "items": [{"category": "ML3", "lethal": True}],
    }
    data.update(kw)
    return evaluate(base, scenario_from_data(Document("test", data, None), base))


GENERAL = """
  - id: xx.general.licence
    title: licence
    effect: licence_required
    binding: statute
    default: true
    citations: [{source: law, instrument: Act, article: "1"}]
"""
CONFLICT_BAN = """
  - id: xx.conflict.ban
    title: no arms to states at war
    effect: restricted
    binding: political_guideline
    when: [{fact: recipient.in_armed_conflict, eq: true}]
    citations: [{source: law, instrument: Principles}]
"""
SELF_DEFENCE = """
  - id: xx.decision.self-defence
    title: self-defence exception
    effect: licence_required
    binding: government_decision
    from: 2022-02-26
    exception_to: [xx.conflict.ban]
    when: {fact: recipient.self_defence, eq: true}
    citations: [{source: law, instrument: Decision}]
"""


def test_default_rule_gives_way_to_a_specific_rule(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN)
    d = run(base)
    [jv] = d.jurisdictions
    assert d.verdict is Verdict.restricted
    statuses = {f.rule.id: f.status for f in jv.findings}
    assert statuses == {"de.general.licence": "defeated", "de.conflict.ban": "fired"}


def test_exception_defeats_its_rule_only_from_its_start_date(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN + SELF_DEFENCE)
    assert run(base, date="2022-03-15").verdict is Verdict.licence_required
    assert run(base, date="2022-02-26").verdict is Verdict.licence_required  # 'from' is inclusive
    assert run(base, date="2022-02-25").verdict is Verdict.restricted
    d = run(base, date="2022-03-15")
    defeated = {f.rule.id: f.defeated_by for f in d.jurisdictions[0].findings if f.status == "defeated"}
    assert defeated["de.conflict.ban"] == ["de.decision.self-defence"]


def test_until_is_inclusive(tmp_path):
    base = make(
        tmp_path,
        CONFLICT_BAN.replace("binding: political_guideline", "binding: political_guideline\n    until: 2023-01-30"),
    )
    assert run(base, date="2023-01-30").verdict is Verdict.restricted
    assert run(base, date="2023-01-31").verdict is Verdict.undetermined


def test_permission_meeting_a_restriction_is_a_conflict_naming_both(tmp_path):
    permit = """
  - id: xx.aid.permitted
    title: aid to Ukraine permitted
    effect: permitted
    binding: government_decision
    when: {fact: recipient, eq: UA}
    citations: [{source: law, instrument: Decision}]
"""
    base = make(tmp_path, CONFLICT_BAN + permit)
    d = run(base)
    [jv] = d.jurisdictions
    assert d.verdict is Verdict.undetermined
    assert jv.conflicts == [("de.aid.permitted", "de.conflict.ban")]
    assert "conflict" in jv.reason


def test_restrictions_accumulate_without_conflict(tmp_path):
    ban = """
  - id: xx.statute.ban
    title: statutory ban
    effect: prohibited
    binding: statute
    when: {fact: recipient.in_armed_conflict, eq: true}
    citations: [{source: law, instrument: Act}]
"""
    base = make(tmp_path, CONFLICT_BAN + ban)
    d = run(base)
    assert d.verdict is Verdict.prohibited and d.jurisdictions[0].conflicts == []


def test_no_rule_applies_is_undetermined_never_permitted(tmp_path):
    base = make(tmp_path, CONFLICT_BAN)
    d = run(base, recipient="PL")
    assert d.verdict is Verdict.undetermined


def test_unknown_fact_that_matters_makes_the_verdict_undetermined_and_names_it(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN.replace("recipient.in_armed_conflict", "item.lethal"))
    d = run(base, items=[{"category": "ML3", "name": "x"}])  # lethality unknown: no category table
    [jv] = d.jurisdictions
    assert d.verdict is Verdict.undetermined
    assert jv.missing_facts == ["item.lethal"]
    assert "`restricted` or `licence_required`" in jv.reason


def test_unknown_fact_that_cannot_change_the_verdict_is_ignored(tmp_path):
    other = CONFLICT_BAN.replace("xx.conflict.ban", "xx.conflict.other").replace(
        "recipient.in_armed_conflict", "item.lethal"
    )
    base = make(tmp_path, CONFLICT_BAN + other)
    d = run(base, items=[{"category": "ML3", "name": "x"}])
    assert d.verdict is Verdict.restricted


def test_exporter_without_rules_is_undetermined_and_named(tmp_path):
    base = make(tmp_path, GENERAL)
    d = run(base, exporter="FR")
    assert d.verdict is Verdict.undetermined
    assert d.jurisdictions[0].kind == "missing" and "France" in d.jurisdictions[0].reason


def test_assumed_fact_overrides_world_data_and_says_so(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN)
    d = run(base, assume={"recipient.in_armed_conflict": False})
    assert d.verdict is Verdict.licence_required
    assert d.facts["recipient.in_armed_conflict"].origin == "assumed"
    d2 = run(base)
    assert d2.facts["recipient.in_armed_conflict"].origin == "derived"


def test_category_hierarchy(tmp_path):
    rule = """
  - id: xx.aircraft.ban
    title: no aircraft
    effect: restricted
    binding: stated_policy
    when: {fact: item.category, within: [ML10]}
    citations: [{source: law, instrument: Policy}]
"""
    base = make(tmp_path, GENERAL + rule)
    assert run(base, items=[{"category": "ML10.a.1", "lethal": True}]).verdict is Verdict.restricted
    assert run(base, items=[{"category": "ML1", "lethal": True}]).verdict is Verdict.licence_required


def test_most_severe_item_decides(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN.replace("recipient.in_armed_conflict", "item.lethal"))
    d = run(base, recipient="PL", items=[{"category": "ML13", "lethal": False}, {"category": "ML3", "lethal": True}])
    assert d.verdict is Verdict.restricted
    assert [j.verdict for j in d.jurisdictions] == [Verdict.licence_required, Verdict.restricted]


def test_date_is_from_the_scenario_not_the_clock(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN)
    d = run(base, date="2013-06-01")
    assert d.verdict is Verdict.licence_required
    assert d.record["date"] == dt.date(2013, 6, 1).isoformat()

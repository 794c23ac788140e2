"""Judgements the explained engine keeps between decisions: each decision still owns its explanation,
and what it shows depends on its own facts only, never on what was asked before."""

import datetime as dt

from policy.eval.engine import evaluate
from policy.load.loader import load_rulebase
from policy.load.scenarios import load_scenario, scenario_from_data
from policy.load.yamlio import Document
from policy.render.report import decision_json, render_json, render_text

from .conftest import ROOT
from .test_engine import CONFLICT_BAN, GENERAL, SELF_DEFENCE, make, run


def shown(base, d):
    return render_json(decision_json(base, d)) + render_text(base, d)


def test_changing_a_decision_changes_no_later_one(shipped):
    sc = load_scenario(str(sorted((ROOT / "scenarios" / "kr").glob("*.yaml"))[0]), shipped)
    first = shown(shipped, evaluate(shipped, sc))
    d = evaluate(shipped, sc)
    for jv in d.jurisdictions:
        jv.reason = "changed"
        jv.facts.clear()
        jv.determining.append("changed")
        for f in jv.findings:
            f.status = "changed"
            f.trace.clear()
            f.defeated_by.append("changed")
    assert shown(shipped, evaluate(shipped, sc)) == first


def test_the_same_rules_on_other_facts_are_judged_anew(tmp_path):
    base = make(tmp_path, GENERAL + CONFLICT_BAN + SELF_DEFENCE)
    derived = run(base)  # the world data makes UA a party to the war, in self-defence
    assumed = run(base, assume={"recipient.in_armed_conflict": True})
    refused = run(base, assume={"recipient.self_defence": False})
    again = run(base)
    assert derived.facts["recipient.in_armed_conflict"].origin == "derived"
    assert assumed.facts["recipient.in_armed_conflict"].origin == "assumed"
    assert derived.jurisdictions[0].verdict.value == "licence_required"
    assert refused.jurisdictions[0].verdict.value == "restricted"
    assert [f.status for f in refused.jurisdictions[0].findings] == ["defeated", "fired", "not_applicable"]
    assert shown(base, again) == shown(base, derived)
    assert run(base, recipient="FI").jurisdictions[0].findings[1].status == "not_applicable"


def test_decisions_do_not_depend_on_what_was_asked_before(shipped):
    paths = [p for p in sorted((ROOT / "scenarios").rglob("*.yaml")) if p.parent.name != "what-if"][::7]
    scenarios = []
    for p in paths:
        sc = load_scenario(str(p), shipped)
        scenarios += [sc, sc.model_copy(update={"date": sc.date - dt.timedelta(days=400)})]
    assert len(scenarios) > 80
    fresh = load_rulebase([str(ROOT / "rules")])
    forward = [shown(shipped, evaluate(shipped, sc)) for sc in scenarios]
    backward = [shown(fresh, evaluate(fresh, sc)) for sc in reversed(scenarios)]
    assert forward == backward[::-1]


def test_an_embargo_fact_turns_on_each_transfer_s_own_contract_date(shipped):
    def ask(**extra):
        data = {"id": "t", "title": "t", "date": "2015-06-01", "exporter": "IT", "recipient": "RU"}
        data |= {"items": [{"category": "ML4"}], **extra}
        sc = scenario_from_data(Document("t", data, None), shipped)
        return evaluate(shipped, sc).facts["recipient.under_embargo.EU"]

    old, new, old_again = ask(contract_date="2013-05-01"), ask(), ask(contract_date="2013-05-01")
    assert (old.value, new.value) == (False, True)
    assert "this one: 2013-05-01" in old.basis and old_again == old

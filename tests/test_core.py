"""The semantic core: one definition each backend calls, and the caches kept with a rulebase."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

from policy.eval.compiled import Screener
from policy.eval.core import (
    MAX_UNKNOWN_RULES,
    candidate,
    claims_say,
    compile_rulebase,
    direct_transfer,
    parties,
    regimes_of,
    settle,
    settled_verdict,
)
from policy.eval.engine import evaluate
from policy.eval.logic import Candidate
from policy.load.asked import WhatIf, build
from policy.model import Effect, Leaf, Role, Verdict
from policy.model.rulebase import World


def _question(base, **kw):
    data = {"exporter": "KR", "recipient": "UA", "item": ["ML3"], "date": "2023-01-30", **kw}
    return build(base, WhatIf(**data))


def test_both_backends_list_the_parties_core_names_in_its_order(shipped):
    sc = _question(shipped, via=["PL"], transit=["DE"], origin="US")
    compiled = compile_rulebase(shipped)
    listed = [(s[0], s[2].value) for s in parties(sc, sc.items[0], regimes_of(compiled), lambda cj: True)]
    assert listed[:4] == [("KR", "exporter"), ("US", "original-producer"), ("DE", "transit"), ("PL", "re-exporter")]
    assert [code for code, kind in listed[4:]] == [cj.code for cj in regimes_of(compiled)]
    d = evaluate(shipped, sc)
    s = Screener(shipped).screen(sc)
    shown = [(j.jurisdiction, j.role.value) for j in d.jurisdictions]
    assert shown == [(code, role) for code, role, _ in s.jurisdictions]
    assert set(shown) <= set(listed)  # claimants without a claim and regimes that do not bind are left out
    assert d.deciding_rules == s.deciding_rules


def test_claimants_need_a_rule_that_may_apply_the_exporter_and_regimes_do_not():
    assert claims_say(Role.exporter, []) and claims_say(Role.regime, [False])
    assert not claims_say(Role.transit, []) and not claims_say(Role.original_producer, [False, False])
    assert claims_say(Role.transit, [False, None]) and claims_say(Role.licence_origin, [True])


def test_too_many_unknown_rules_leave_the_verdict_undetermined():
    def rule(i: int) -> tuple[Candidate, bool | None]:
        return Candidate(f"x.r.r{i}", False, (), Verdict.licence_required, False), None

    fits = settle(Verdict.permitted, [rule(i) for i in range(MAX_UNKNOWN_RULES)])
    assert set(fits) == {Verdict.permitted, Verdict.licence_required}
    assert settled_verdict(fits) == (Verdict.undetermined, None)
    assert settle(Verdict.permitted, [rule(i) for i in range(MAX_UNKNOWN_RULES + 1)]) == {}
    certain = settle(Verdict.permitted, [(rule(0)[0], True)])
    assert settled_verdict(certain)[0] is Verdict.licence_required


def test_settle_memo_gives_what_settle_gives(shipped):
    cj = compile_rulebase(shipped)["ATT"]
    active = [(candidate(r), True) for r in cj.rules_for(Role.regime)]
    memo: dict = {}
    first = settle(cj.if_no_rule_applies, active, memo)
    assert first == settle(cj.if_no_rule_applies, active) and settle(cj.if_no_rule_applies, active, memo) is first


def test_the_consent_test_is_a_direct_sale_without_history(shipped):
    sc = _question(shipped, transfer="re-export", origin="US", via=["PL"])
    direct, item = direct_transfer(sc, sc.items[0], "US")
    assert (direct.exporter, direct.transfer, direct.via, direct.date) == ("US", "sale", [], sc.date)
    assert (item.origin, item.licence_origin, item.components) == (None, None, [])


def test_a_regime_consent_rule_asks_the_same_direct_export_on_both_paths(shipped):
    """The consent test is one definition: a regime's as_direct_export rule is judged alike by the
    explained engine and the Screener (which once left it undetermined)."""
    att = shipped.jurisdictions["ATT"]
    kr_only = Leaf.model_validate({"fact": "exporter", "eq": "KR"})  # not the direct export's exporter: no loop
    consent = att.rules[0].model_copy(update={"effect": Effect.as_direct_export, "when": kr_only})
    rules = [consent, *att.rules[1:]]
    base = dataclasses.replace(
        shipped, jurisdictions={**shipped.jurisdictions, "ATT": att.model_copy(update={"rules": rules})}
    )
    sc = _question(base)
    d = evaluate(base, sc)
    s = Screener(base).screen(sc)
    explained = next(j for j in d.jurisdictions if j.jurisdiction == "ATT")
    assert any(f.nested is not None for f in explained.findings)
    assert ("ATT", "regime", explained.verdict) in s.jurisdictions
    assert (d.verdict, d.deciding_rules) == (s.verdict, s.deciding_rules)


def test_compiled_rules_are_kept_with_the_rulebase_and_survive_pickling(shipped):
    assert compile_rulebase(shipped) is compile_rulebase(shipped)
    assert shipped.lethality() is shipped.lethality() and shipped.digest() == shipped.digest()
    sc = _question(shipped)
    want = evaluate(shipped, sc)
    again = pickle.loads(pickle.dumps(shipped))
    got = evaluate(again, sc)
    assert (got.verdict, got.record) == (want.verdict, want.record)
    assert Screener(again).screen(sc) == Screener(shipped).screen(sc)


def test_world_indexes_follow_entries_added_after_a_lookup(shipped):
    day = dt.date(2023, 1, 30)
    world = World(dict(shipped.world.groups), list(shipped.world.conflicts), list(shipped.world.embargoes))
    assert world.embargoes_on("UA", "UN", day) == []
    assert world.remember(("x", "UA", day), lambda: 1) == 1
    e = shipped.world.embargoes[0].model_copy(
        update={"id": "test-ua", "target": "UA", "imposed_by": "UN", "from_": dt.date(2023, 1, 1), "until": None}
    )
    world.embargoes.append(e)
    assert world.embargoes_on("UA", "UN", day) == [e]
    assert world.remember(("x", "UA", day), lambda: 2) == 2  # the world changed: nothing remembered survives
    assert [m.country for m in shipped.world.groups["NATO"].members if m.country == "PL"] == ["PL"]
    assert shipped.world.membership("PL", "NATO", day) is not None
    assert shipped.world.membership("UA", "NATO", day) is None


def test_a_leaf_result_is_kept_per_value_and_type():
    from policy.eval.conditions import explained

    test = explained(Leaf.model_validate({"fact": "x", "eq": 1}))

    class Seen:
        def __init__(self, value):
            self.value = value

        def get(self, name):
            return self

    one, true = [], []
    assert test.explain(Seen(1), one) is True
    assert test.explain(Seen(True), true) is True  # 1 == True, but the trace shows what was seen
    assert (repr(one[0].actual), repr(true[0].actual)) == ("1", "True")
    again: list = []
    test.explain(Seen(1), again)
    assert again[0] is one[0]
    assert test.explain(Seen([1]), []) is False  # an unhashable value is tested, not kept

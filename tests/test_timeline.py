"""`policy timeline` against the explained engine, day by day.

For each transfer: every step the timeline reports has the verdict, deciding jurisdictions and
deciding rules `evaluate` gives on that day, the day before differs, and no day on which `evaluate`
changes between consecutive days is missed. The dates come from one place
(`policy.eval.changes.change_dates`), so the atlas and why-not's date search see the same ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from policy.analysis.atlas import build_atlas
from policy.analysis.diff import timeline_steps
from policy.analysis.whynot import why_not
from policy.eval.compiled import FactBuilder
from policy.eval.engine import Decision, evaluate
from policy.load.asked import WhatIf, build
from policy.load.loader import load_rulebase
from policy.model import Scenario, Verdict
from policy.model.rulebase import RuleBase

from .conftest import write

DAY = dt.timedelta(days=1)


def outcome(d: Decision) -> tuple[str, list[str], list[str]]:
    """What what-if reports as deciding: the verdict, the jurisdictions giving it, and their rules
    whose effect is that verdict (the definition the screener and the atlas use)."""
    rules = sorted(
        {
            f.rule.id
            for j in d.deciding
            for f in j.findings
            if f.status in ("fired", "conflict") and f.effect_verdict == j.verdict
        }
    )
    return d.verdict.value, sorted({j.jurisdiction for j in d.deciding}), rules


def day_by_day(base: RuleBase, sc: Scenario, start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    prev = None
    day = start
    while day <= end:
        o = outcome(evaluate(base, sc.model_copy(update={"date": day})))
        if o != prev:
            out.append((day, *o))
        prev, day = o, day + DAY
    return out


def steps_of(base: RuleBase, sc: Scenario, start: dt.date, end: dt.date) -> list[tuple[Any, ...]]:
    return [(s.date, s.verdict.value, s.deciding, s.deciding_rules) for s in timeline_steps(base, sc, start, end)]


def ask(base: RuleBase, exporter: str, recipient: str, item: str, day: str, **kw: Any) -> Scenario:
    extra = {k: kw.pop(k) for k in ("contract_date",) if k in kw}
    sc = build(base, WhatIf(exporter=exporter, recipient=recipient, item=[item], date=day, **kw))
    return sc.model_copy(update=extra) if extra else sc


D = dt.date.fromisoformat
SHIPPED = {
    # Germany's view that Israel acts in self-defence begins on 12 Oct 2023
    "de-il-view": (("DE", "IL", "ML3"), {}, "2023-01-01", "2024-12-31"),
    "kr-ua": (("KR", "UA", "ML3"), {}, "2021-01-01", "2024-12-31"),
    # the Yemen truce of 2 Apr 2022 (yemen-coalition-2019)
    "kr-ye-truce": (("KR", "YE", "ML3"), {}, "2021-06-01", "2022-12-31"),
    "de-ye-truce": (("DE", "YE", "ML3"), {}, "2021-06-01", "2022-12-31"),
    # eu-russia-2014 spares contracts concluded before 1 Aug 2014 until 7 Apr 2022 (exemption_until)
    "fr-ru-grandfathered": (("FR", "RU", "ML3"), {"contract_date": D("2010-01-01")}, "2021-06-01", "2022-12-31"),
    # an intermediate holder, and a producer asked for consent to a re-export
    "de-ua-via-pl": (("DE", "UA", "ML3"), {"via": ["PL"]}, "2021-01-01", "2024-12-31"),
    "pl-ua-origin-de": (("PL", "UA", "ML3"), {"origin": "DE"}, "2021-01-01", "2024-12-31"),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_timeline_equals_evaluate_day_by_day(shipped, name):
    (e, r, item), kw, d1, d2 = SHIPPED[name]
    sc = ask(shipped, e, r, item, d1, **kw)
    start, end = D(d1), D(d2)
    assert steps_of(shipped, sc, start, end) == day_by_day(shipped, sc, start, end)


def test_germany_israel_returns_to_licence_required_on_the_view_date(shipped):
    sc = ask(shipped, "DE", "IL", "ML3", "2023-01-01")
    steps = timeline_steps(shipped, sc, D("2023-01-01"), D("2024-12-31"))
    assert [(s.date.isoformat(), s.verdict.value) for s in steps] == [
        ("2023-01-01", "licence_required"),
        ("2023-10-07", "undetermined"),
        ("2023-10-12", "licence_required"),
    ]
    assert steps[2].rule_events == ["de.view.israel-self-defence-2023 starts"]
    # what-if says DE decides the undetermined period, with no rule giving that verdict
    assert (steps[1].deciding, steps[1].deciding_rules) == (["DE"], [])
    # only what can change this transfer is named: not Spain's or Italy's rules of 7 Oct 2023
    assert steps[1].rule_events == []
    assert steps[1].world_events == ["conflict israel-hamas-2023 begins"]


def test_truce_and_grandfather_clause_are_named(shipped):
    sc = ask(shipped, "KR", "YE", "ML3", "2021-06-01")
    [_, truce] = timeline_steps(shipped, sc, D("2021-06-01"), D("2022-12-31"))
    assert truce.date == D("2022-04-02") and truce.world_events == ["truce in conflict yemen-coalition-2019 begins"]
    sc = ask(shipped, "FR", "RU", "ML3", "2021-06-01", contract_date=D("2010-01-01"))
    steps = timeline_steps(shipped, sc, D("2021-06-01"), D("2022-12-31"))
    assert [(s.date, s.verdict) for s in steps][-1] == (D("2022-04-08"), Verdict.prohibited)
    assert "embargo eu-russia-2014: grandfather clause ends" in steps[-1].world_events


# ------------------------------------------------------------------ a small world with every kind of date

WORLD = """
format: policy-world/v1
conflicts:
  - id: war
    name: A war
    kind: international
    from: 2022-02-24
    territory: [UA, RU]
    parties:
      - {country: UA, self_defence: true}
      - {country: RU}
      - {country: BY, role: belligerent_abroad, self_defence: false, from: 2022-06-01, until: 2022-09-30}
    truces:
      - {kind: ceasefire, from: 2022-07-01, until: 2022-07-10}
    sources: [{id: s, title: a source}]
embargoes:
  - id: eu-md
    imposed_by: EU
    target: MD
    scope: full
    from: 2022-03-01
    exempt_contracts_before: 2022-03-15
    exemption_until: 2022-12-31
    instrument: Decision
    sources: [{id: s, title: a source}]
"""
RULES = """
format: policy-rules/v1
jurisdiction: DE
name: Testland
sources: [{id: law, title: The Law}]
views:
  - id: de.view.by-self-defence
    fact: recipient.self_defence
    country: BY
    value: true
    from: 2022-08-15
    until: 2022-08-31
    citations: [{source: law, instrument: Statement}]
rules:
  - id: de.general.licence
    title: licence
    effect: licence_required
    binding: statute
    default: true
    citations: [{source: law, instrument: Act, article: "1"}]
  - id: de.policy.early
    title: an early licence practice
    effect: licence_required
    binding: political_guideline
    when: {fact: date, lt: 2022-05-01}
    citations: [{source: law, instrument: Practice}]
  - id: de.conflict.ban
    title: no arms to states at war
    effect: restricted
    binding: political_guideline
    when: {fact: recipient.in_armed_conflict, eq: true}
    citations: [{source: law, instrument: Principles}]
  - id: de.decision.self-defence
    title: self-defence exception
    effect: licence_required
    binding: government_decision
    exception_to: [de.conflict.ban]
    when: {fact: recipient.self_defence, eq: true}
    citations: [{source: law, instrument: Decision}]
  - id: de.embargo.eu
    title: EU embargoes
    effect: prohibited
    binding: statute
    when: {fact: recipient.under_embargo.EU, eq: true}
    citations: [{source: law, instrument: Act, article: "2"}]
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> RuleBase:
    tmp = tmp_path_factory.mktemp("small")
    write(tmp, "rules/de.yaml", RULES)
    write(tmp, "rules/world.yaml", WORLD)
    return load_rulebase([str(tmp / "rules")])


SMALL = {
    # a date test, a party joining and leaving, a ceasefire, a view
    "by": (
        "BY",
        {},
        [
            "2022-01-01",
            "2022-05-01",
            "2022-06-01",
            "2022-07-01",
            "2022-07-11",
            "2022-08-15",
            "2022-09-01",
            "2022-10-01",
        ],
    ),
    # without a contract date the contract is taken as concluded on the transfer date: from the
    # day the grandfather clause stops sparing new contracts, the embargo covers the transfer
    "md": ("MD", {}, ["2022-01-01", "2022-03-15"]),
    # an older contract is spared until the clause ends (exemption_until)
    "md-old-contract": ("MD", {"contract_date": D("2020-01-01")}, ["2022-01-01", "2022-05-01", "2023-01-01"]),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_kind_of_date_is_a_change_date(small, name):
    recipient, kw, expected = SMALL[name]
    sc = ask(small, "DE", recipient, "ML3", "2022-01-01", **kw)
    start, end = D("2022-01-01"), D("2023-06-30")
    from policy.eval.changes import change_dates, change_events

    got = steps_of(small, sc, start, end)
    assert got == day_by_day(small, sc, start, end)
    assert [d for d, *_ in got] == [D(x) for x in expected]
    for day in change_dates(small, sc, start, end):
        assert change_events(small, sc, day) != ([], []), f"{day}: a change date with nothing named"


def test_party_truce_and_view_events_are_named(small):
    sc = ask(small, "DE", "BY", "ML3", "2022-01-01")
    events = {
        s.date.isoformat(): s.rule_events + s.world_events
        for s in timeline_steps(small, sc, D("2022-01-01"), D("2022-12-31"))
    }
    assert events["2022-05-01"] == ["de.policy.early date test (date lt 2022-05-01)"]
    assert events["2022-06-01"] == ["BY joins conflict war"]
    assert events["2022-07-01"] == ["ceasefire in conflict war begins"]
    assert events["2022-07-11"] == ["ceasefire in conflict war ends"]
    assert events["2022-08-15"] == ["de.view.by-self-defence starts"]
    assert events["2022-09-01"] == ["de.view.by-self-defence ends"]
    assert events["2022-10-01"] == ["BY leaves conflict war"]


# ------------------------------------------------------------------ one list of dates: atlas, why-not, screener


def test_world_breaks_are_the_screeners_and_include_the_grandfather_dates(shipped, small):
    from policy.eval.changes import world_breaks

    for base in (shipped, small):
        fb = FactBuilder(base).breaks
        assert world_breaks(base) == dict(sorted(fb.items()))
        for e in base.world.embargoes:
            if e.exempt_contracts_before is not None:
                assert e.exempt_contracts_before in fb[e.target], e.id


@pytest.mark.parametrize("pair", [("DE", "IL"), ("KR", "YE"), ("DE", "UA")])
def test_atlas_intervals_start_on_timeline_steps(shipped, pair):
    e, r = pair
    start, end = D("2021-01-01"), D("2024-12-31")
    atlas = build_atlas(
        shipped,
        start,
        end,
        exporters=[e],
        recipients=[r],
        categories=["ML3"],
        transfers=["sale"],
        end_users=["military"],
    )
    rows = [atlas.row(i) for i in range(atlas.rows)]
    sc = ask(shipped, e, r, "ML3", start.isoformat())
    lethal = sc.items[0].lethal
    cells = [
        (x["from"], x["verdict"], x["deciding"], x["deciding_rules"])
        for x in rows
        if lethal is None or x["lethal"] == lethal
    ]
    assert cells == steps_of(shipped, sc, start, end)


def test_why_not_finds_the_last_day_of_the_grandfather_clause(shipped):
    sc = ask(shipped, "FR", "RU", "ML3", "2022-06-01", contract_date=D("2010-01-01"))
    w = why_not(shipped, sc, target=Verdict.licence_required, kinds="date")
    dates = [a.changes[0].value for a in w.answers if a.kinds == ["date"]]
    assert "2022-04-07" in dates


def test_screener_sees_the_grandfather_clause_stop_sparing_new_contracts(small):
    from policy.eval.compiled import Screener

    s = Screener(small)
    sc = ask(small, "DE", "MD", "ML3", "2022-03-10")
    got = [s.screen(sc.model_copy(update={"date": D(d)})).verdict for d in ("2022-03-10", "2022-03-20")]
    assert got == [Verdict.licence_required, Verdict.prohibited]

"""Properties of the shipped rulebase: sources, coverage of jurisdictions, embargoes binding everyone."""

import datetime as dt

import pytest

from policy.eval.engine import evaluate
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document
from policy.model import Verdict


def test_every_rule_cites_an_instrument_with_article_or_url(shipped):
    missing = []
    for code, rule in shipped.all_rules():
        ok = False
        for c in rule.citations:
            src = shipped.source_index[(code, c.source)]
            if c.instrument and (c.article or c.url or src.url or src.seed):
                ok = True
        if not ok:
            missing.append(rule.id)
    assert missing == []


def test_at_least_twenty_national_jurisdictions_and_the_regimes(shipped):
    states = [c for c, j in shipped.jurisdictions.items() if j.kind == "state"]
    regimes = {c for c, j in shipped.jurisdictions.items() if j.kind == "regime"}
    assert len(states) >= 20
    assert {"ATT", "EU-CP", "UN", "EU-EMB"} <= regimes


def _verdict(base, exporter, recipient, date, category="ML1"):
    data = {
        "id": "t",
        "title": "t",
        "date": date,
        "exporter": exporter,
        "recipient": recipient,
        "end_user": "military",
        "items": [{"category": category, "lethal": True}],
    }
    return evaluate(base, scenario_from_data(Document("t", data, None), base))


def test_un_embargoed_destination_prohibited_for_every_exporter_inside_not_outside(shipped):
    states = sorted(c for c, j in shipped.jurisdictions.items() if j.kind == "state")
    full = [
        e
        for e in shipped.world.embargoes
        if e.imposed_by == "UN" and e.scope == "full" and e.direction != "procurement"
    ]
    assert any(e.target == "KP" for e in full)
    for e in full:
        inside = e.from_ + dt.timedelta(days=1)
        for exporter in states:
            if exporter == e.target:
                continue
            d = _verdict(shipped, exporter, e.target, inside.isoformat())
            assert d.verdict is Verdict.prohibited, (exporter, e.id)
            un = next(j for j in d.jurisdictions if j.jurisdiction == "UN")
            assert un.verdict is Verdict.prohibited
            assert d.facts["recipient.under_embargo.UN"].sources  # the resolution is cited
    # Outside: Iran between the termination of 18 Oct 2020 and the snapback of Sep 2025
    lapse = [e for e in shipped.world.embargoes if e.target == "IR" and e.imposed_by == "UN"]
    assert lapse
    d = _verdict(shipped, "KR", "IR", "2022-06-01")
    un = next(j for j in d.jurisdictions if j.jurisdiction == "UN")
    assert un.verdict is Verdict.permitted
    assert d.facts["recipient.under_embargo.UN"].value is False


@pytest.mark.parametrize("date,expected", [("2005-06-01", False), ("2010-06-01", True)])
def test_dprk_embargo_dates(shipped, date, expected):
    d = _verdict(shipped, "FR", "KP", date)
    assert d.facts["recipient.under_embargo.UN"].value is expected


def test_un_procurement_ban_prohibits_buying_from_the_target_inside_not_outside(shipped):
    bans = [e for e in shipped.world.embargoes if e.imposed_by == "UN" and e.direction != "supply"]
    assert {e.target for e in bans} >= {"KP", "IR"}
    for e in bans:
        inside = e.from_ + dt.timedelta(days=1)
        d = _verdict(shipped, e.target, "BR", inside.isoformat())
        un = next(j for j in d.jurisdictions if j.jurisdiction == "UN")
        assert un.verdict is Verdict.prohibited, e.id
        if e.until:
            after = _verdict(shipped, e.target, "BR", (e.until + dt.timedelta(days=1)).isoformat())
            later = [x for x in bans if x.target == e.target and x.covers(e.until + dt.timedelta(days=1))]
            if not later:
                assert next(j for j in after.jurisdictions if j.jurisdiction == "UN").verdict is not Verdict.prohibited

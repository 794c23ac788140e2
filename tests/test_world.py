"""Dated world facts: memberships, conflicts, provenance, and bad datasets."""

import json

import pytest

from policy.cli import app
from policy.load.loader import load_rulebase
from policy.model.errors import LoadError

from .conftest import ROOT, write


def facts_json(runner, *args):
    res = runner.invoke(app, ["facts", "--rules", str(ROOT / "rules"), "-f", "json", *args])
    assert res.exit_code == 0, res.output
    return {row["fact"]: row for row in json.loads(res.stdout)["facts"]}


def test_finland_joins_nato_on_2023_04_04(runner):
    assert facts_json(runner, "FI", "--date", "2023-04-03")["member_of.NATO"]["value"] is False
    after = facts_json(runner, "finland", "--date", "2023-04-05")["member_of.NATO"]
    assert after["value"] is True and after["sources"]


def test_ukraine_in_conflict_and_self_defence_with_sources_only_after_2014(runner):
    now = facts_json(runner, "UA", "--date", "2023-01-30")
    for fact in ("in_armed_conflict", "self_defence"):
        assert now[fact]["value"] is True and now[fact]["sources"][0]["url"]
    before = facts_json(runner, "UA", "--date", "2013-06-01")
    assert before["in_armed_conflict"]["value"] is False and before["self_defence"]["value"] is False


def test_att_parties_are_bound_only_from_the_treaty_s_entry_into_force(shipped):
    """ATT Art. 22: nobody is a party before 24 Dec 2014; later joiners 90 days after deposit."""
    import datetime as dt

    members = {m.country: m for m in shipped.world.groups["ATT"].members}
    assert len(members) >= 100 and not {"US", "IL", "RU", "UA", "TR"} & set(members)
    assert min(m.from_ for m in members.values()) == dt.date(2014, 12, 24)


def test_ghana_becomes_an_att_party_90_days_after_its_deposit(runner):
    # deposit 22 Dec 2015 (Control Arms) -> in force for Ghana on 21 Mar 2016
    assert facts_json(runner, "GH", "--date", "2016-03-20")["party_to.ATT"]["value"] is False
    assert facts_json(runner, "GH", "--date", "2016-03-21")["party_to.ATT"]["value"] is True


def test_facts_without_country_lists_datasets(runner):
    res = runner.invoke(app, ["facts", "--rules", str(ROOT / "rules"), "-f", "json"])
    rows = {r["dataset"]: r["entries"] for r in json.loads(res.stdout)}
    assert rows["group NATO"] >= 32 and rows["group EU"] >= 27


BAD = {
    "end-before-start": (
        """
        format: policy-world/v1
        groups:
          - id: G
            name: g
            kind: list
            members:
              - {country: FR, from: 2020-01-01, until: 2019-01-01}
        """,
        "invalid-value",
        7,
    ),
    "unknown-country": (
        """
        format: policy-world/v1
        groups:
          - id: G
            name: g
            kind: list
            members:
              - {country: XY, from: 2020-01-01}
        """,
        "invalid-value",
        7,
    ),
    "overlap": (
        """
        format: policy-world/v1
        groups:
          - id: G
            name: g
            kind: list
            members:
              - {country: FR, from: 2000-01-01}
              - {country: FR, from: 2010-01-01}
        """,
        "overlapping-periods",
        8,
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_world_data_is_a_load_error_with_line(tmp_path, name):
    text, code, line = BAD[name]
    write(tmp_path, "w.yaml", text)
    with pytest.raises(LoadError) as e:
        load_rulebase([str(tmp_path / "w.yaml")])
    [d] = e.value.diagnostics
    assert d.code == code and d.span.line == line, d.render()


def test_rule_naming_an_undefined_fact_is_a_load_error(tmp_path):
    write(
        tmp_path,
        "x.yaml",
        """
        format: policy-rules/v1
        jurisdiction: FR
        name: France
        sources: [{id: s, title: t}]
        rules:
          - id: fr.a.b
            title: t
            effect: restricted
            binding: stated_policy
            when: {fact: recipient.member_of.NAT0, eq: true}
            citations: [{source: s, instrument: i}]
        """,
    )
    with pytest.raises(LoadError) as e:
        load_rulebase([str(tmp_path / "x.yaml"), str(ROOT / "rules" / "world")])
    [d] = e.value.diagnostics
    assert d.code == "unknown-fact" and d.span.line == 10 and "NATO" in (d.help or "")

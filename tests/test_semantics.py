"""The distinctions real decisions turn on: kinds of conflict, whose view of a fact, unknown stays unknown."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from policy.cli import app
from policy.eval.compiled import Screener
from policy.eval.derive import conflict_fact
from policy.eval.engine import evaluate
from policy.load.loader import load_rulebase
from policy.load.overlays import apply_overlays
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document

from .conftest import ROOT, write

OVERLAY = str(ROOT / "scenarios/what-if/de-no-view-on-israel.yaml")


def ask(runner, *args):
    res = runner.invoke(app, ["what-if", *args, "--rules", str(ROOT / "rules"), "-f", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.parametrize(
    "exporter,recipient,item,day,verdict",
    [
        ("KR", "AE", "ML4", "2022-01-16", "licence_required"),  # Cheongung-II to the UAE (Yemen intervention)
        ("KR", "SA", "ML4", "2024-02-06", "licence_required"),  # Cheongung-II to Saudi Arabia
        ("KR", "UA", "ML3", "2023-01-30", "restricted"),  # war on Ukraine's territory
        ("DE", "US", "ML3", "2025-06-23", "licence_required"),  # a NATO ally striking Iran
        ("NO", "US", "ML3", "2025-06-23", "licence_required"),
        ("DE", "UA", "ML3", "2022-01-15", "restricted"),
        ("DE", "UA", "ML3", "2022-03-15", "licence_required"),
    ],
)
def test_conflict_rules_read_the_distinction_their_policy_draws(runner, exporter, recipient, item, day, verdict):
    d = ask(runner, "--exporter", exporter, "--recipient", recipient, "--item", item, "--date", day)
    assert d["verdict"] == verdict


def test_germany_decides_israel_by_its_own_cited_view(runner):
    d = ask(runner, "--exporter", "DE", "--recipient", "IL", "--item", "ML3", "--date", "2023-10-20")
    de = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "DE")
    assert de["verdict"] == "licence_required"
    view = d["facts"]["recipient.self_defence [DE's view]"]
    assert view["origin"] == "view" and view["value"] is True
    assert "de.view.israel-self-defence-2023" in view["basis"] and view["sources"][0]["url"].startswith(
        "https://www.bundesregierung.de/"
    )
    text = CliRunnerText(runner, "--exporter", "DE", "--recipient", "IL", "--item", "ML3", "--date", "2023-10-20")
    assert "view of the government of" in text


def CliRunnerText(runner, *args):
    res = runner.invoke(app, ["what-if", *args, "--rules", str(ROOT / "rules")])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_without_germany_s_view_the_answer_waits_on_the_contested_fact(runner):
    res = runner.invoke(
        app,
        [
            "what-if",
            "--exporter",
            "DE",
            "--recipient",
            "IL",
            "--item",
            "ML3",
            "--date",
            "2023-10-20",
            "--with",
            OVERLAY,
            "--rules",
            str(ROOT / "rules"),
            "-f",
            "json",
        ],
    )
    d = json.loads(res.stdout)
    de = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "DE")
    assert d["verdict"] == de["verdict"] == "undetermined"
    assert "recipient.self_defence" in de["missing_facts"]
    assert d["facts"]["recipient.self_defence"]["value"] is None


def test_other_jurisdictions_keep_the_neutral_value(shipped):
    """Italy states its own view; the UK has none, so its rules would see Israel's self-defence as unknown."""
    fv = conflict_fact(shipped.world, "IL", dt.date(2023, 10, 20), "recipient.self_defence")
    assert fv.value is None and fv.origin == "unknown" and "contested" in fv.basis


def test_unset_self_defence_is_unknown_and_aggression_finding_is_false(shipped):
    day = dt.date(2023, 1, 30)
    assert conflict_fact(shipped.world, "UA", day, "recipient.self_defence").value is True
    assert conflict_fact(shipped.world, "RU", day, "recipient.self_defence").value is False
    # Saudi Arabia in Yemen before the 2022 truce: fighting abroad by invitation, no war at home
    sa = dt.date(2019, 6, 1)
    assert conflict_fact(shipped.world, "SA", sa, "recipient.intervening_abroad").value is True
    assert conflict_fact(shipped.world, "SA", sa, "recipient.war_on_territory").value is False
    assert conflict_fact(shipped.world, "YE", sa, "recipient.internal_armed_conflict").value is True
    assert conflict_fact(shipped.world, "SA", sa, "recipient.belligerent_in_international_conflict").value is False
    # the truce of 2 Apr 2022: the conflict is not active
    assert conflict_fact(shipped.world, "SA", dt.date(2023, 1, 1), "recipient.in_armed_conflict").value is False


def test_contested_party_makes_the_fact_unknown(tmp_path):
    write(
        tmp_path,
        "rules/x.yaml",
        """
        format: policy-rules/v1
        jurisdiction: DE
        name: Germany
        sources: [{id: s, title: t}]
        rules:
          - id: de.a.b
            title: t
            effect: restricted
            binding: statute
            when: {fact: recipient.in_armed_conflict, eq: true}
            citations: [{source: s, instrument: i}]
    """,
    )
    write(
        tmp_path,
        "rules/w.yaml",
        """
        format: policy-world/v1
        conflicts:
          - id: c
            name: c
            kind: international
            from: 2020-01-01
            territory: [AM]
            parties: [{country: AM}, {country: TR, contested: true, role: supporter}, {country: AZ, contested: true}]
            sources: [{id: s, title: t}]
    """,
    )
    base = load_rulebase([str(tmp_path / "rules")])
    day = dt.date(2021, 1, 1)
    assert conflict_fact(base.world, "AZ", day, "recipient.in_armed_conflict").value is None
    # a supporter does not fight
    assert conflict_fact(base.world, "TR", day, "recipient.in_armed_conflict").value is False
    assert conflict_fact(base.world, "AM", day, "recipient.war_on_territory").value is True


def test_assuming_no_armed_conflict_carries_to_every_finer_fact_and_unused_assumptions_warn(runner):
    d = ask(
        runner,
        "--exporter",
        "DE",
        "--recipient",
        "IL",
        "--item",
        "ML3",
        "--date",
        "2023-10-20",
        "--assume",
        "recipient.in_armed_conflict=false",
    )
    for name in ("recipient.war_on_territory", "recipient.belligerent_in_international_conflict"):
        assert d["facts"][name]["value"] is False and d["facts"][name]["origin"] == "assumed"
    assert d["warnings"] == []
    res = runner.invoke(
        app,
        [
            "what-if",
            "--exporter",
            "KR",
            "--recipient",
            "PL",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
            "--assume",
            "risk.diversion=true",
            "--rules",
            str(ROOT / "rules"),
        ],
    )
    assert res.exit_code == 0 and "warning: the assumption risk.diversion=true changed nothing" in res.stderr


@pytest.mark.parametrize("with_overlay", [False, True])
def test_fast_path_applies_views_like_the_explained_engine(shipped, with_overlay):
    base = apply_overlays(shipped, [OVERLAY]) if with_overlay else shipped
    screener = Screener(base)
    for recipient in ("IL", "UA", "SA", "US", "AE"):
        for day in ("2023-10-11", "2023-10-12", "2024-06-01", "2025-06-23"):
            sc = scenario_from_data(
                Document(
                    "t",
                    {
                        "id": "t",
                        "title": "t",
                        "date": day,
                        "exporter": "DE",
                        "recipient": recipient,
                        "items": [{"category": "ML3"}],
                    },
                    None,
                ),
                base,
            )
            d, s = evaluate(base, sc), screener.screen(sc)
            assert s.verdict == d.verdict, (recipient, day)
            assert [(c, v) for c, _, v in s.jurisdictions] == [(j.jurisdiction, j.verdict) for j in d.jurisdictions]


@pytest.mark.parametrize("day,verdict", [("2012-06-01", "prohibited"), ("2021-06-01", "licence_required")])
def test_un_embargo_forbids_procurement_from_iran_while_in_force(runner, day, verdict):
    d = ask(runner, "--exporter", "IR", "--recipient", "SY", "--item", "ML4", "--date", day)
    un = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "UN")
    assert d["verdict"] == verdict
    assert (un["verdict"] == "prohibited") == (verdict == "prohibited")
    if verdict == "prohibited":
        assert "1747 (2007), para. 5" in d["facts"]["exporter.under_embargo.UN"]["basis"]


def test_catalogue_commands_list_what_the_engine_knows(runner):
    rules = ["--rules", str(ROOT / "rules")]
    items = runner.invoke(app, ["items", *rules, "-f", "json"])
    assert items.exit_code == 0 and any(i["id"] == "155mm-shell" for i in json.loads(items.stdout)["items"])
    juris = runner.invoke(app, ["jurisdictions", *rules])
    states = int(juris.stdout.strip().splitlines()[-1].split()[0])
    assert juris.exit_code == 0 and states >= 30
    countries = runner.invoke(app, ["countries", *rules, "-f", "json"])
    kr = next(c for c in json.loads(countries.stdout) if c["code"] == "KR")
    assert kr["has_rules"] is True
    hint = runner.invoke(app, ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "nothing-like-it", *rules])
    assert hint.exit_code == 2 and "policy items" in hint.stderr


def _scenario(base, **fields):
    data = {"id": "t", "title": "t", "end_user": "military", "items": [{"category": "ML4"}], **fields}
    return scenario_from_data(Document("t", data, None), base)


@pytest.mark.parametrize(
    "contract,eu_emb", [("2013-05-01", "permitted"), ("2015-01-01", "prohibited"), (None, "prohibited")]
)
def test_eu_russia_embargo_spares_contracts_concluded_before_it(shipped, contract, eu_emb):
    extra = {"contract_date": contract} if contract else {}
    sc = _scenario(shipped, date="2015-06-01", exporter="IT", recipient="RU", **extra)
    d = evaluate(shipped, sc)
    assert next(j for j in d.jurisdictions if j.jurisdiction == "EU-EMB").verdict.value == eu_emb
    s = Screener(shipped).screen(sc)
    assert [(c, v) for c, _, v in s.jurisdictions] == [(j.jurisdiction, j.verdict) for j in d.jurisdictions]


@pytest.mark.parametrize(
    "exporter,day,licence,verdict",
    [
        ("DK", "2019-06-01", None, "restricted"),  # Denmark stopped new approvals for Saudi Arabia
        ("DK", "2019-06-01", {"granted": "2018-01-10"}, "licence_required"),  # an earlier permit still covers it
        ("DE", "2018-11-01", {"granted": "2018-01-10"}, "licence_required"),  # Germany: no new licences first
        ("DE", "2018-12-01", {"granted": "2018-01-10"}, "restricted"),  # then existing ones suspended too
        ("DK", "2019-06-01", {"granted": "2018-01-10", "revoked": "2019-02-01"}, "restricted"),
    ],
)
def test_new_licence_stops_differ_from_suspensions_of_existing_ones(shipped, exporter, day, licence, verdict):
    extra = {"existing_licence": licence} if licence else {}
    sc = _scenario(shipped, date=day, exporter=exporter, recipient="SA", **extra)
    d = evaluate(shipped, sc)
    assert next(j for j in d.jurisdictions if j.jurisdiction == exporter).verdict.value == verdict
    assert Screener(shipped).screen(sc).verdict == d.verdict


def test_an_earlier_german_export_gives_germany_a_say_in_the_re_export(shipped):
    fields = dict(
        date="2023-02-01",
        exporter="FI",
        recipient="UA",
        transfer="re-export",
        items=[{"name": "rifles", "category": "ML1", "lethal": True, "origin": "US"}],
    )
    without = evaluate(shipped, _scenario(shipped, **fields))
    assert all(j.jurisdiction != "DE" for j in without.jurisdictions)
    sc = _scenario(shipped, **fields, history=[{"from": "DE", "to": "FI", "date": "2015-03-01"}])
    d = evaluate(shipped, sc)
    de = next(j for j in d.jurisdictions if j.jurisdiction == "DE")
    assert de.role.value == "earlier-exporter"
    assert [f.rule.id for f in de.findings if f.status == "fired"] == ["de.reexport.end-use-undertaking"]
    assert de.findings[0].nested is not None or any(f.nested for f in de.findings)  # Germany's direct export, nested
    s = Screener(shipped).screen(sc)
    assert [(c, r, v) for c, r, v in s.jurisdictions] == [
        (j.jurisdiction, j.role.value, j.verdict) for j in d.jurisdictions
    ]


def test_end_user_may_name_a_unit_that_rules_can_test(shipped, tmp_path):
    sc = _scenario(
        shipped, date="2023-02-01", exporter="DE", recipient="PL", end_user={"kind": "police", "unit": "Border Guard"}
    )
    assert sc.end_user == "police" and sc.end_user_unit == "Border Guard"
    from policy.eval.derive import Facts

    assert Facts(sc, sc.items[0], shipped.world).value("end_user.unit") == "Border Guard"


def test_facts_and_sources_write_their_report_with_o(runner, tmp_path):
    rules = ["--rules", str(ROOT / "rules")]
    out = tmp_path / "facts.md"
    res = runner.invoke(app, ["facts", "UA", "--date", "2023-01-30", "-f", "markdown", "-o", str(out), *rules])
    assert res.exit_code == 0 and res.stdout == "" and "war_on_territory" in out.read_text(encoding="utf-8")
    src = tmp_path / "sources.json"
    res = runner.invoke(app, ["sources", str(ROOT / "rules"), "-f", "json", "-o", str(src)])
    assert res.exit_code == 0 and json.loads(src.read_text(encoding="utf-8"))


def test_documented_agreement_and_lint_render_to_files(runner, tmp_path):
    rules = ["--rules", str(ROOT / "rules")]
    md = tmp_path / "documented.md"
    res = runner.invoke(
        app, ["test", str(ROOT / "scenarios" / "kr"), "--documented", "-f", "markdown", "-o", str(md), *rules]
    )
    assert res.exit_code == 0 and "| KR |" in md.read_text(encoding="utf-8")
    lint = tmp_path / "lint.txt"
    res = runner.invoke(app, ["lint", str(ROOT / "rules"), "-o", str(lint)])
    assert res.exit_code == 0 and res.stdout == "" and "rules checked" in lint.read_text(encoding="utf-8")

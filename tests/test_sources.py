"""Source tiers (rules/sources.yaml): lint warnings, the `policy sources` report, `test --documented`."""

import datetime as dt
import json

from policy.analysis.lint import Tiers, host_of, lint
from policy.analysis.lint import sources_report as report
from policy.cli import app
from policy.load.loader import load_rulebase
from policy.load.publishers import load_source_tiers

from .conftest import ROOT, WORLD, write

TIERS = """
format: policy-sources/v1
publishers:
  - {host: legifrance.gouv.fr, tier: official, reason: official legislation database}
  - {host: reuters.com, tier: reputable, reason: wire agency}
  - {host: afp.com, tier: reputable, reason: wire agency, names: [AFP]}
  - {host: lexology.com, tier: other, reason: law-firm notes}
content_farms:
  - {host: pledgetimes.com, reason: copies others' articles}
  - {host: "blogspot.*", reason: personal blogs}
"""

RULES = """
format: policy-rules/v1
jurisdiction: FR
name: France
sources:
  - {id: code, title: Code de la défense, url: "https://www.legifrance.gouv.fr/codes/article_lc/X"}
  - {id: wire, title: a Reuters report, url: "https://www.reuters.com/world/x"}
  - {id: note, title: a law-firm note, url: "https://www.lexology.com/library/x"}
  - id: farm
    title: a copy of an AFP story
    url: "https://pledgetimes.com/britain-suspends/"
  - {id: seed, title: an AFP wire kept as a seed copy, publisher: AFP}
rules:
  - id: fr.general.licence
    title: licence
    effect: licence_required
    binding: statute
    default: true
    citations: [{source: code, instrument: Code de la défense, article: L2335-3}]
  - id: fr.war.stop
    title: a halt reported by the press
    effect: restricted
    binding: government_decision
    when: {fact: recipient, eq: UA}
    citations: [{source: wire, instrument: Decision, article: "1"}]
  - id: fr.thin.rule
    title: only thin sources
    effect: restricted
    binding: stated_policy
    when: {fact: recipient, eq: RU}
    citations:
      - {source: note, instrument: Policy, article: "2"}
      - {source: farm, instrument: Policy, article: "2"}
  - id: fr.seed.rule
    title: cited from a seed copy of an AFP wire
    effect: restricted
    binding: stated_policy
    when: {fact: recipient, eq: BY}
    citations: [{source: seed, instrument: Policy, article: "3"}]
"""


def rulebase(tmp_path, rules=RULES, tiers=TIERS):
    write(tmp_path, "rules/fr.yaml", rules)
    write(tmp_path, "rules/world.yaml", WORLD)
    if tiers is not None:
        write(tmp_path, "rules/sources.yaml", tiers)
    return load_rulebase([str(tmp_path / "rules")])


def found(base):
    return [d for d in lint(base, dt.date(2026, 1, 1)) if d.code in ("content-farm-link", "only-other-sources")]


def test_hosts_match_sub_domains_the_most_specific_entry_and_any_ending():
    tiers = Tiers(load_source_tiers([str(ROOT / "rules" / "sources.yaml")]))
    assert tiers.host_tier(host_of("https://press.un.org/en/2022/sc14803.doc.htm")).value == "official"
    assert tiers.host_tier(host_of("https://studies.aljazeera.net/en/x")).value == "reputable"
    assert tiers.host_tier(host_of("https://unknown.example/x")).value == "other"
    assert tiers.farm(host_of("http://lecorvettedellelba.blogspot.it/2016/x.html")) is not None
    assert tiers.farm(host_of("https://de.news-front.su/2022/x")) is not None
    assert tiers.farm(host_of("https://www.reuters.com/x")) is None


def test_content_farm_link_warns_at_its_line(tmp_path):
    base = rulebase(tmp_path)
    farm = [d for d in found(base) if d.code == "content-farm-link"]
    assert len(farm) == 1
    assert farm[0].severity == "warning" and "pledgetimes.com" in farm[0].message
    line = next(i for i, t in enumerate(RULES.strip("\n").splitlines(), 1) if "pledgetimes.com" in t)
    assert farm[0].span.file.endswith("fr.yaml") and farm[0].span.line == line
    assert farm[0].help and "original publisher" in farm[0].help


def test_rule_citing_only_other_tier_sources_warns(tmp_path):
    base = rulebase(tmp_path)
    other = [d for d in found(base) if d.code == "only-other-sources"]
    assert [d.message.split("`")[1] for d in other] == ["fr.thin.rule"]
    assert other[0].span == base.spans["fr.thin.rule"] and other[0].span.line > 0
    assert "lexology.com" in other[0].message and "pledgetimes.com" in other[0].message
    assert "uncertain" in other[0].help


def test_uncertain_silences_the_tier_warning_but_not_the_farm_link(tmp_path):
    text = RULES.replace(
        "    binding: stated_policy\n    when: {fact: recipient, eq: RU}\n",
        "    binding: stated_policy\n    uncertain: no official text or press report was found\n"
        "    when: {fact: recipient, eq: RU}\n",
    )
    codes = [d.code for d in found(rulebase(tmp_path, text))]
    assert codes == ["content-farm-link"]


def test_cli_strict_fails_on_the_new_warnings(runner, tmp_path):
    rulebase(tmp_path)
    res = runner.invoke(app, ["lint", str(tmp_path / "rules"), "--strict", "-f", "json"])
    assert res.exit_code == 1
    codes = {d["code"] for d in json.loads(res.stdout)}
    assert {"content-farm-link", "only-other-sources"} <= codes


def test_without_a_tiers_file_only_a_note(tmp_path):
    diags = lint(rulebase(tmp_path, tiers=None), dt.date(2026, 1, 1))
    assert [d.severity for d in diags if d.code == "no-source-tiers"] == ["info"]
    assert not [d for d in diags if d.code in ("content-farm-link", "only-other-sources")]


def test_a_host_listed_twice_is_a_validation_error(runner, tmp_path):
    rulebase(tmp_path)
    write(tmp_path, "rules/more.yaml", "format: policy-sources/v1\ncontent_farms: [{host: reuters.com, reason: x}]\n")
    res = runner.invoke(app, ["validate", str(tmp_path / "rules")])
    assert res.exit_code == 2 and "duplicate-host" in res.stderr and "more.yaml:2" in res.stderr


def test_report_counts_per_tier_and_jurisdiction(tmp_path):
    base = rulebase(tmp_path)
    scen = write(
        tmp_path,
        "scenarios/s.yaml",
        """
        id: s
        title: t
        date: 2023-01-01
        exporter: FR
        recipient: UA
        items: [{category: ML3, lethal: true}]
        sources: [{title: a copy, url: "https://pledgetimes.com/other/"}]
        """,
    )
    rep = report(base, [str(scen)])
    fr = rep.by_jurisdiction["FR"]
    # the seed copy without a URL counts by its publisher (AFP: reputable); the farm copy is `other`
    assert fr.sources == {"official": 1, "reputable": 2, "other": 2}
    assert fr.rules == {"official": 1, "reputable": 2, "other": 1}
    assert rep.total.rules == fr.rules
    assert [(w.rule, w.uncertain) for w in rep.weak_rules] == [("fr.thin.rule", False)]
    assert [(f.host, f.span.file.endswith(("fr.yaml", "s.yaml"))) for f in rep.farm_links] == [
        ("pledgetimes.com", True),
        ("pledgetimes.com", True),
    ]
    assert {f.span.line for f in rep.farm_links if f.span.file.endswith("s.yaml")} == {7}


def test_sources_command_text_and_json(runner, tmp_path):
    rulebase(tmp_path)
    res = runner.invoke(app, ["sources", str(tmp_path / "rules"), "-f", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["jurisdictions"]["FR"]["rules"]["other"] == 1
    assert data["rules_without_official_or_reputable_source"][0]["rule"] == "fr.thin.rule"
    assert data["content_farm_links"][0]["host"] == "pledgetimes.com"
    text = runner.invoke(app, ["sources", str(tmp_path / "rules")]).stdout
    assert "1 rules with no official or reputable source" in text and "1 links to content farms" in text


SCENARIO = """
id: {id}
title: t
kind: {kind}
date: 2023-01-01
exporter: {exporter}
recipient: {recipient}
items: [{{category: ML3, lethal: true}}]
expect: {expect}
"""


def test_documented_agreement_per_exporter_weakest_first(runner, tmp_path):
    rulebase(tmp_path)
    de_rules = RULES.replace("jurisdiction: FR", "jurisdiction: DE").replace("name: France", "name: Germany")
    write(tmp_path, "rules/de.yaml", de_rules.replace("fr.", "de."))
    cases = [
        ("fr-ok", "documented", "FR", "UA", "restricted"),
        ("fr-bad", "documented", "FR", "UA", "permitted"),
        ("de-ok", "documented", "DE", "UA", "restricted"),
        ("de-ok2", "documented", "DE", "PL", "licence_required"),
        ("fr-hyp", "hypothetical", "FR", "UA", "permitted"),
    ]
    for sid, kind, exp, rec, verdict in cases:
        write(
            tmp_path,
            f"scenarios/{sid}.yaml",
            SCENARIO.format(id=sid, kind=kind, exporter=exp, recipient=rec, expect=verdict),
        )
    args = ["test", str(tmp_path / "scenarios"), "--rules", str(tmp_path / "rules"), "--documented"]
    res = runner.invoke(app, [*args, "-f", "json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert data["jurisdictions"] == [
        {"jurisdiction": "FR", "passed": 1, "failed": 1, "total": 2, "percent": 50.0},
        {"jurisdiction": "DE", "passed": 2, "failed": 0, "total": 2, "percent": 100.0},
    ]
    assert (data["passed"], data["failed"], data["total"]) == (3, 1, 4)
    assert [f["scenario"] for f in data["failed_scenarios"]] == ["fr-bad"]
    text = runner.invoke(app, args).stdout.splitlines()
    assert text[1].split() == ["FR", "1", "1", "2", "50.0%"] and text[2].split() == ["DE", "2", "0", "2", "100.0%"]
    assert text[-1] == "3 passed, 1 failed of 4 documented scenarios"

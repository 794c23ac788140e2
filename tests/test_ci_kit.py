"""The kit for rule repositories: JUnit, SARIF and GitHub annotations, the pre-commit hooks; and the
command line's help and completion."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import typer
import yaml

from policy import model as models
from policy.cli import app
from policy.cli import common as cli_common

from .conftest import ROOT, write

WRONG = """
id: kr-ua-wrong
title: A scenario whose expectation is wrong
date: 2023-01-30
exporter: KR
recipient: UA
items:
  - {category: ML3}
expect: permitted
"""


def test_test_junit_parses_and_reports_each_scenario_and_failure(runner, tmp_path: Path):
    shutil.copytree(ROOT / "scenarios" / "kr", tmp_path / "kr")
    write(tmp_path, "kr/wrong.yaml", WRONG)
    res = runner.invoke(app, ["test", str(tmp_path), "--rules", str(ROOT / "rules"), "--format", "junit"])
    assert res.exit_code == 1
    root = ET.fromstring(res.stdout.encode())
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    n = len(list((ROOT / "scenarios" / "kr").glob("*.yaml"))) + 1
    assert len(cases) == n and suite.get("tests") == str(n) and suite.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["kr-ua-wrong"]
    assert "expected `permitted`, got `restricted`" in failed[0].find("failure").get("message")
    ok = runner.invoke(app, ["test", str(ROOT / "scenarios" / "kr"), "--rules", str(ROOT / "rules"), "-f", "junit"])
    assert ok.exit_code == 0 and ET.fromstring(ok.stdout.encode()).get("failures") == "0"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "rules/xx.yaml",
        """
        format: policy-rules/v1
        jurisdiction: KR
        name: Korea
        sources: [{id: s, title: S}]
        rules:
          - id: kr.x
            title: X
            effect: restricted
            binding: stated_policy
            from: 2023-13-01
            citations: [{source: s, instrument: I}]
        """,
    )


def test_validate_sarif_github_and_json_point_at_file_and_line(runner, broken: Path):
    sarif = runner.invoke(app, ["validate", str(broken.parent), "--format", "sarif"])
    assert sarif.exit_code == 2
    log = json.loads(sarif.stdout)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "policy validate"
    assert run["results"] and all(r["level"] == "error" for r in run["results"])
    codes = {r["ruleId"] for r in run["results"]}
    assert codes <= {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    loc = run["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("rules/xx.yaml") and loc["region"]["startLine"] >= 1

    gh = runner.invoke(app, ["validate", str(broken.parent), "--format", "github"])
    assert gh.exit_code == 2
    lines = gh.stdout.splitlines()
    assert lines and all(
        re.match(r"^::error file=[^,]+xx\.yaml,line=\d+,col=\d+,title=policy [a-z-]+::\S", ln) for ln in lines
    )
    assert "line=10,col=11" in gh.stdout and "not a day of the calendar" in gh.stdout

    js = runner.invoke(app, ["validate", str(broken.parent), "--format", "json"])
    assert js.exit_code == 2 and {d["code"] for d in json.loads(js.stdout)} == codes


def test_clean_rules_give_empty_reports_and_exit_0(runner):
    for fmt in ("sarif", "github", "json"):
        res = runner.invoke(app, ["validate", str(ROOT / "rules"), "--format", fmt])
        assert res.exit_code == 0, res.output
    assert (
        json.loads(runner.invoke(app, ["validate", str(ROOT / "rules"), "-f", "sarif"]).stdout)["runs"][0]["results"]
        == []
    )
    assert runner.invoke(app, ["validate", str(ROOT / "rules"), "-f", "github"]).stdout == ""


def test_lint_github_and_sarif_carry_warnings(runner, tmp_path: Path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    kr = tmp_path / "rules" / "kr.yaml"
    # A rule that can never apply: in force only before it starts
    dead = (
        "rules:\n  - id: kr.dead\n    title: Dead\n    effect: restricted\n    binding: stated_policy\n"
        "    from: 2023-01-01\n    when: {fact: date, lt: 2022-01-01}\n"
        "    citations: [{source: lexology-dapa, instrument: I, article: A}]\n"
    )
    text = kr.read_text(encoding="utf-8").replace("rules:\n", dead, 1)
    kr.write_text(text, encoding="utf-8")
    gh = runner.invoke(app, ["lint", str(tmp_path / "rules"), "--strict", "--format", "github"])
    assert gh.exit_code == 1
    warnings = [ln for ln in gh.stdout.splitlines() if ln.startswith("::warning ")]
    assert any("title=policy never-fires::" in ln and "kr.yaml" in ln for ln in warnings), gh.stdout
    sarif = json.loads(runner.invoke(app, ["lint", str(tmp_path / "rules"), "-f", "sarif"]).stdout)
    assert any(r["ruleId"] == "never-fires" and r["level"] == "warning" for r in sarif["runs"][0]["results"])


def _rule_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "rule-repo"
    for name in ("rules", "seeds", "schema"):
        shutil.copytree(ROOT / name, repo / name)
    shutil.copytree(ROOT / "scenarios" / "kr", repo / "scenarios" / "kr")
    return repo


def _run_hook(hook: dict, repo: Path) -> subprocess.CompletedProcess[str]:
    """Run a hook as pre-commit does (entry, then args; no file names: pass_filenames is false)."""
    entry = hook["entry"].split()
    assert entry[0] == "policy"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("POLICY_RULES", None)
    cmd = [sys.executable, "-m", "policy", *entry[1:], *hook.get("args", [])]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_pre_commit_hooks_pass_on_a_good_rule_repository_and_catch_each_kind_of_mistake(tmp_path: Path):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"policy-validate", "policy-lint", "policy-test", "policy-schema"}
    for h in hooks.values():
        assert h["language"] == "python" and h["pass_filenames"] is False and h["name"]
    repo = _rule_repo(tmp_path)
    for hid, h in hooks.items():
        res = _run_hook(h, repo)
        assert res.returncode == 0, (hid, res.stdout, res.stderr)

    write(repo, "scenarios/kr/wrong.yaml", WRONG)
    res = _run_hook(hooks["policy-test"], repo)
    assert res.returncode == 1 and "kr-ua-wrong" in res.stdout
    (repo / "scenarios/kr/wrong.yaml").unlink()

    (repo / "schema" / "rules.schema.json").write_text("{}", encoding="utf-8")
    res = _run_hook(hooks["policy-schema"], repo)
    assert res.returncode == 1 and "rules.schema.json" in res.stderr

    kr = repo / "rules" / "kr.yaml"
    kr.write_text(
        kr.read_text(encoding="utf-8").replace("effect: restricted", "effect: forbidden", 1), encoding="utf-8"
    )
    res = _run_hook(hooks["policy-validate"], repo)
    assert res.returncode == 2 and "rules/kr.yaml:" in res.stderr and "Traceback" not in res.stderr


def test_what_if_help_at_80_columns_shows_every_choice(runner):
    res = runner.invoke(app, ["what-if", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0
    text = res.stdout
    for choice in typing.get_args(models.EndUser) + typing.get_args(models.TransferKind):
        assert choice in text, choice
    assert "<government|military|police|private|humanitarian|non-state>" in text
    assert "<sale|donation|loan|re-export>" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("command", sorted(typer.main.get_command(app).commands) + [None])
def test_every_help_is_readable_at_80_columns_without_python_types(runner, command):
    name = command or ""
    args = [name, "--help"] if name else ["--help"]
    res = runner.invoke(app, args, env={"COLUMNS": "80"}, terminal_width=80)
    assert res.exit_code == 0, res.output
    assert not re.search(r"<(str|int|float|bool|list\[\w+\]|Path)>", res.stdout), res.stdout
    assert max(len(line) for line in res.stdout.splitlines()) <= 80, res.stdout


def test_fixed_value_options_are_enums_matching_the_models():
    assert [e.value for e in cli_common.EndUser] == list(typing.get_args(models.EndUser))
    assert [e.value for e in cli_common.TransferKind] == list(typing.get_args(models.TransferKind))


def test_bad_choice_is_a_one_line_usage_error(runner):
    res = runner.invoke(
        app, ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--end-user", "army"]
    )
    assert res.exit_code == 2
    assert "army" in res.output and "government" in res.output and "Traceback" not in res.output


def test_shell_completion_is_available_and_completes_choices(runner):
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout
    res = runner.invoke(app, ["--show-completion", "bash"], prog_name="policy")
    assert res.exit_code == 0 and "complete -o default -F _policy_completion policy" in res.stdout
    env = {"_POLICY_COMPLETE": "complete_bash", "COMP_WORDS": "policy what-if --transfer ", "COMP_CWORD": "3"}
    res = runner.invoke(app, [], prog_name="policy", env=env)
    assert res.stdout.split() == ["sale", "donation", "loan", "re-export"]

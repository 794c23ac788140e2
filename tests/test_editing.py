"""Editing tools: `policy fmt`, `policy rename`, `policy new jurisdiction`, `what-if --save`."""

from __future__ import annotations

import os
import re
import shutil
import stat

import pytest

from policy.cli import app
from policy.edit.fmt import format_text, load_model
from policy.load.discover import yaml_files

from .conftest import ROOT, write


@pytest.fixture
def copy(tmp_path, monkeypatch):
    """The shipped rules and scenarios copied to a temp folder, which becomes the working directory."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _models(folder) -> dict[str, dict]:
    out = {}
    for f in yaml_files([str(folder)]):
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        out[os.path.relpath(f, folder)] = load_model(text, f).model_dump(mode="json", by_alias=True)
    return out


# ------------------------------------------------------------------ fmt


def test_fmt_every_shipped_file_keeps_its_model_and_is_idempotent(copy, runner):
    before = {**_models(copy / "rules"), **_models(copy / "scenarios")}
    res = runner.invoke(app, ["fmt", "rules", "scenarios"])
    assert res.exit_code == 0, res.output
    after = {**_models(copy / "rules"), **_models(copy / "scenarios")}
    assert after.keys() == before.keys() and len(after) > 200
    for name in before:
        assert after[name] == before[name], name
    check = runner.invoke(app, ["fmt", "--check", "rules/", "scenarios/"])
    assert check.exit_code == 0, check.output
    assert "0 files would be reformatted" in check.stderr
    # the formatted rules still answer every scenario as expected
    assert runner.invoke(app, ["test", "scenarios"]).exit_code == 0


RULES = """
# yaml-language-server: $schema=../schema/rules.schema.json
format: policy-rules/v1
jurisdiction: "NO"
name: Norway
sources:
  - {id: act, title: Export Control Act, url: "https://example.org/act", date: '2020-01-01'}
rules:
  - id: no.general.licence
    title: Every export needs a licence

    # the author's comment, inside the rule, above `effect`
    effect: licence_required   # end-of-line comment
    default: true
    binding: statute
    when: {fact: item.category, within: ML}
    citations:
      - {source: act, instrument: Export Control Act, article: § 1}
    explanation: LONG
  - id: no.war.areas
    title: No arms to war areas
    effect: restricted
    binding: political_guideline
    exception_to: []
    when:
      all:
        - {fact: recipient.in_armed_conflict, eq: true}
        - {fact: recipient, ne: NO}   # plain NO: Norway, but YAML 1.1 readers see false
    from: "2022-01-01"
    citations: [{source: act, instrument: Guidelines, article: "Art. 2: scope"}]
""".replace(
    "LONG",
    "This explanation is long enough that, written on one line after its key, it would run past the "
    "one hundred and twenty column limit.",
)


def test_fmt_canonical_style_keeps_comments_and_blank_lines(tmp_path, runner):
    f = write(tmp_path / "rules", "no.yaml", RULES)
    res = runner.invoke(app, ["fmt", str(f)])
    assert res.exit_code == 0, res.output
    out = f.read_text()
    assert (
        "    # the author's comment, inside the rule, above `effect`\n"
        "    effect: licence_required   # end-of-line comment\n" in out
    )
    assert "licence\n\n    # the author's" in out  # blank line kept
    assert "    binding: statute\n    default: true\n    when:" in out  # key order as documented
    assert '{fact: recipient, ne: "NO"} # plain NO' in out  # quoting that keeps NO a country
    assert 'jurisdiction: "NO"' in out
    assert "    from: 2022-01-01\n    when:" in out  # dates unquoted, `from` before `when`
    assert "date: 2020-01-01" in out
    assert "    explanation: >-\n      This explanation is long enough" in out  # block style for long text
    assert all(len(line) <= 120 for line in out.splitlines())
    assert 'article: "Art. 2: scope"' in out and 'url: "https://example.org/act"' in out  # author's quotes kept
    assert load_model(out, "x").model_dump() == load_model(f.read_text(), "x").model_dump()
    assert format_text(out, "x") == out  # idempotent
    again = runner.invoke(app, ["fmt", "--check", str(f)])
    assert again.exit_code == 0 and again.stdout == ""


def test_fmt_check_lists_files_and_exits_1_without_writing(tmp_path, runner):
    f = write(tmp_path, "no.yaml", RULES)
    good = write(tmp_path, "ok.yaml", format_text(f.read_text(), "no.yaml"))
    res = runner.invoke(app, ["fmt", "--check", str(tmp_path)])
    assert res.exit_code == 1
    assert res.stdout.strip() == f"would reformat {f}"
    assert "exception_to: []\n    when" in f.read_text()  # not written
    assert good.read_text() == format_text(good.read_text(), "ok.yaml")


def test_fmt_refuses_a_file_it_cannot_load(tmp_path, runner):
    bad = write(tmp_path, "bad.yaml", RULES.replace("effect: restricted", "effect: forbidden"))
    text = bad.read_text()
    res = runner.invoke(app, ["fmt", str(bad)])
    assert res.exit_code == 2
    line = text.splitlines().index("    effect: forbidden") + 1
    assert f"{bad}:{line}:13: error[invalid-value]" in res.stderr
    assert "Traceback" not in res.output
    assert bad.read_text() == text
    broken = write(tmp_path, "broken.yaml", "format: policy-rules/v1\nrules: [\n")
    res = runner.invoke(app, ["fmt", str(broken)])
    assert res.exit_code == 2 and "error[yaml-syntax]" in res.stderr


def test_fmt_writes_atomically_keeping_permissions(tmp_path, runner):
    f = write(tmp_path, "no.yaml", RULES)
    os.chmod(f, 0o640)
    assert runner.invoke(app, ["fmt", str(f)]).exit_code == 0
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["no.yaml"]  # no temp file left behind


def test_fmt_keeps_a_comment_ruamel_would_drop():
    text = (
        "format: policy-world/v1\ngroups:\n  - id: ATT\n    name: Arms Trade Treaty\n    kind: treaty\n"
        "    members:\n      - {country: SE, from: 2014-12-24}\n      # --- deposited in December ---\n"
        "      - {country: LI, from: 2014-12-24}   # deposit 16 Dec\n"
    )
    assert format_text(text, "w.yaml") == text


def test_fmt_reorders_scenario_keys_and_indents_lists(tmp_path):
    text = (
        "id: s\ntitle: t\ndate: 2023-01-30\nexporter: KR\nrecipient: UA\nexpect: restricted\n"
        "items:\n- {id: 155mm-shell}\nsources:\n- title: a source\n"
    )
    out = format_text(text, "s.yaml")
    assert out == (
        "id: s\ntitle: t\ndate: 2023-01-30\nexporter: KR\nrecipient: UA\n"
        "items:\n  - {id: 155mm-shell}\nexpect: restricted\nsources:\n  - title: a source\n"
    )


# ------------------------------------------------------------------ rename


def test_rename_updates_rule_overlay_and_scenarios_keeping_comments(copy, runner):
    old, new = "kr.conflict.no-lethal-to-belligerents", "kr.conflict.no-lethal-to-war-parties"
    kr = copy / "rules" / "kr.yaml"
    kr.write_text(kr.read_text().replace(f"  - id: {old}\n", f"  - id: {old}   # a comment kept\n"))
    before = {p: p.read_text() for p in [kr, *(copy / "scenarios").rglob("*.yaml")]}
    # the files that name the rule as an id (the rule itself, an overlay, expect_rules, calibrates)
    naming = {p for p, t in before.items() if re.search(rf"(?<![\w.-]){re.escape(old)}(?![\w.-])", t)}
    res = runner.invoke(app, ["rename", old, new])
    assert res.exit_code == 0, res.output
    assert "renamed" in res.stdout and f"{len(naming)} files" in res.stdout
    changed = {p for p, t in before.items() if p.read_text() != t}
    assert changed == naming
    assert {
        "rules/kr.yaml",
        "scenarios/what-if/kr-self-defence-exception.yaml",
        "scenarios/kr/kr-ua-155mm-2023.yaml",
        "scenarios/consent/kr-us-ua-155mm-2023.yaml",
    } <= {str(p.relative_to(copy)) for p in changed}
    for p in changed:  # only the id changed, byte for byte
        assert p.read_text() == before[p].replace(old, new)
    assert f"  - id: {new}   # a comment kept\n" in kr.read_text()
    assert runner.invoke(app, ["validate"]).exit_code == 0
    res = runner.invoke(app, ["test", "scenarios"])
    assert res.exit_code == 0, res.output
    assert "kr-ua-155mm-2023" in res.stdout and new in res.stdout


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("kr.conflict.nope", "kr.conflict.x", "error[unknown-rule]: no rule `kr.conflict.nope`"),
        ("kr.conflict.non-lethal-aid", "us.conflict.x", "error[wrong-id-prefix]"),
        ("kr.conflict.non-lethal-aid", "kr.Conflict", "error[bad-rule-id]"),
        ("kr.conflict.non-lethal-aid", "kr.conflict.no-lethal-to-belligerents", "error[duplicate-rule-id]"),
    ],
)
def test_rename_refuses_bad_requests(copy, runner, old, new, message):
    before = (copy / "rules" / "kr.yaml").read_text()
    res = runner.invoke(app, ["rename", old, new])
    assert res.exit_code == 2
    assert message in res.stderr and "Traceback" not in res.output
    assert (copy / "rules" / "kr.yaml").read_text() == before


# ------------------------------------------------------------------ scaffolding


def test_new_jurisdiction_writes_a_valid_file_to_fill_in(copy, runner):
    res = runner.invoke(app, ["new", "jurisdiction", "mx"])
    assert res.exit_code == 0, res.output
    text = (copy / "rules" / "mx.yaml").read_text()
    for part in ("jurisdiction: MX", "name: Mexico", "# Legal basis", "summary:", "sources:", "not_encoded:"):
        assert part in text
    assert "  - id: mx.general.export-licence\n" in text and "default: true" in text
    assert format_text(text, "mx.yaml") == text  # already in the canonical style
    assert runner.invoke(app, ["validate", "rules/mx.yaml"]).exit_code == 0
    assert runner.invoke(app, ["validate"]).exit_code == 0
    again = runner.invoke(app, ["new", "jurisdiction", "MX"])
    assert again.exit_code == 2 and "already exists" in again.stderr
    bad = runner.invoke(app, ["new", "jurisdiction", "QQ"])
    assert bad.exit_code == 2 and "not an ISO 3166-1 alpha-2" in bad.stderr
    norway = runner.invoke(app, ["new", "jurisdiction", "NO", "--rules", str(copy)])
    assert norway.exit_code == 0 and 'jurisdiction: "NO"' in (copy / "no.yaml").read_text()


def test_what_if_save_writes_a_scenario_that_lint_flags_until_sourced(copy, runner):
    args = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "155mm-shell", "--date", "2023-01-30"]
    res = runner.invoke(app, [*args, "--save", "scenarios/kr/saved.yaml"])
    assert res.exit_code == 0, res.output
    text = (copy / "scenarios" / "kr" / "saved.yaml").read_text()
    assert "expect: restricted" in text and "sources: []" in text and "- {id: 155mm-shell}" in text
    assert format_text(text, "saved.yaml") == text
    res = runner.invoke(app, ["test", "scenarios/kr/saved.yaml"])
    assert res.exit_code == 0 and "1 passed, 0 failed" in res.stdout
    lint = runner.invoke(app, ["lint", "--strict", "rules", "scenarios/kr/saved.yaml"])
    assert lint.exit_code == 1
    line = text.splitlines().index("sources: []") + 1
    assert f"scenarios/kr/saved.yaml:{line}:1: warning[no-scenario-sources]" in lint.stdout
    filled = text.replace("sources: []", "sources:\n  - {title: AFP, 30 Jan 2023}")
    (copy / "scenarios" / "kr" / "saved.yaml").write_text(filled)
    assert "no-scenario-sources" not in runner.invoke(app, ["lint", "scenarios/kr/saved.yaml"]).stdout
    again = runner.invoke(app, [*args, "--save", "scenarios/kr/saved.yaml"])
    assert again.exit_code == 2 and "already exists" in again.stderr

"""The `policy` command end to end: the issue's must-show cases, exit codes, error messages."""

import json
import shutil

import pytest

from policy.cli import app

from .conftest import ROOT, write


def what_if(runner, *args, fmt="json"):
    res = runner.invoke(app, ["what-if", "--rules", str(ROOT / "rules"), "-f", fmt, *args])
    return res


def verdict(runner, *args):
    res = what_if(runner, *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_korea_ukraine_shells_restricted_as_stated_policy_with_sources(runner):
    d = verdict(runner, "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30")
    assert d["verdict"] == "restricted"
    kr = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "KR")
    [rule] = kr["rules"]
    assert rule["id"] == "kr.conflict.no-lethal-to-belligerents"
    assert rule["binding"] == "stated_policy"
    assert any(c["url"] and "kbs.co.kr" in c["url"] for c in rule["citations"])
    args = ("--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30", "--explain")
    text = what_if(runner, *args, fmt="text").stdout
    assert "stated policy (not a statute)" in text and "Verdict: RESTRICTED" in text


def test_korea_ukraine_helmets_licence_required(runner):
    d = verdict(runner, "--exporter", "KR", "--recipient", "UA", "--item", "ML13", "--date", "2023-01-30")
    assert d["verdict"] == "licence_required"


@pytest.mark.parametrize("date,expected", [("2022-01-15", "restricted"), ("2022-03-15", "licence_required")])
def test_germany_ukraine_flips_on_the_2022_decision(runner, date, expected):
    d = verdict(runner, "--exporter", "DE", "--recipient", "UA", "--item", "ML3", "--date", date)
    assert d["verdict"] == expected
    if expected == "licence_required":
        de = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "DE")
        defeated = {r["id"]: r["defeated_by"] for r in de["defeated"]}
        assert defeated["de.principles.no-exports-to-armed-conflict"] == ["de.decision.2022-02-26-ukraine-self-defence"]


@pytest.mark.parametrize(
    "date,transfer,expected",
    [
        ("2022-01-15", "sale", "restricted"),
        ("2022-03-15", "donation", "licence_required"),
        ("2022-03-15", "sale", "restricted"),
        ("2024-02-01", "sale", "licence_required"),
    ],
)
def test_norway_ukraine(runner, date, transfer, expected):
    d = verdict(
        runner, "--exporter", "NO", "--recipient", "UA", "--item", "ML3", "--date", date, "--transfer", transfer
    )
    assert d["verdict"] == expected


def test_korea_poland_k2(runner):
    d = verdict(runner, "--exporter", "KR", "--recipient", "PL", "--item", "k2-tank", "--date", "2022-08-27")
    assert d["verdict"] == "licence_required"


def test_assumption_flips_verdict_and_is_marked_assumed(runner):
    d = verdict(
        runner,
        "--exporter",
        "KR",
        "--recipient",
        "UA",
        "--item",
        "ML3",
        "--date",
        "2023-01-30",
        "--assume",
        "recipient.in_armed_conflict=false",
    )
    assert d["verdict"] == "licence_required"
    # Korea's rule reads the finer fact; it follows from the assumed summary and says so
    fact = d["facts"]["recipient.war_on_territory"]
    assert fact["origin"] == "assumed" and "recipient.in_armed_conflict=false" in fact["basis"]
    assert d["warnings"] == []


def test_exporter_without_rules_is_undetermined_never_permitted(runner):
    d = verdict(runner, "--exporter", "MX", "--recipient", "AR", "--item", "ML3", "--date", "2023-01-30")
    assert d["verdict"] == "undetermined"
    assert any(j["jurisdiction"] == "MX" and "no rules are encoded" in j["reason"] for j in d["jurisdictions"])


def test_json_has_record_and_is_identical_whatever_the_file_order(runner, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(ROOT / "rules", a)
    b.mkdir()
    # same files, other names and nesting: discovery order differs
    for i, f in enumerate(sorted((ROOT / "rules").rglob("*.yaml"), reverse=True)):
        (b / f"z{i:02d}_{f.name}").write_bytes(f.read_bytes())
    args = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30", "-f", "json"]
    out_a = runner.invoke(app, [*args, "--rules", str(a)]).stdout
    out_b = runner.invoke(app, [*args, "--rules", str(b)]).stdout
    assert out_a == out_b
    rec = json.loads(out_a)["record"]
    assert rec["date"] == "2023-01-30" and len(rec["rules_digest"]) == 64 and rec["policy_version"]


def test_fail_on_exits_1_when_severe_enough(runner):
    args = ["--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]
    assert what_if(runner, *args, "--fail-on", "restricted").exit_code == 1
    assert what_if(runner, *args, "--fail-on", "prohibited").exit_code == 0


@pytest.mark.parametrize(
    "text,code,line",
    [
        ("format: policy-rules/v1\njurisdiction: DE\nname: x\n  bad: [\n", "yaml-syntax", 4),
        (
            "format: policy-rules/v1\njurisdiction: DE\nname: x\nname: y\nsources: [{id: a, title: b}]\n",
            "duplicate-key",
            4,
        ),
        (
            "format: policy-rules/v1\njurisdiction: DE\nname: x\nsources: [{id: a, title: b}]\nsummery: typo\n",
            "unknown-field",
            5,
        ),
    ],
)
def test_bad_rule_file_exit_2_one_line_with_file_and_line(runner, tmp_path, text, code, line):
    write(tmp_path, "rules/de.yaml", text)
    res = runner.invoke(
        app,
        [
            "what-if",
            "--rules",
            str(tmp_path / "rules"),
            "--exporter",
            "DE",
            "--recipient",
            "UA",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
        ],
    )
    assert res.exit_code == 2
    first = res.stderr.splitlines()[0]
    assert f"de.yaml:{line}:" in first and f"[{code}]" in first
    assert "Traceback" not in res.output


def test_norway_code_works_unquoted_in_rules_and_scenarios(runner, tmp_path):
    write(
        tmp_path,
        "s.yaml",
        """
        id: no-test
        title: t
        date: 2022-01-15
        exporter: NO
        recipient: UA
        items: [{category: ML3, lethal: true}]
        expect: restricted
    """,
    )
    res = runner.invoke(app, ["evaluate", str(tmp_path / "s.yaml"), "--rules", str(ROOT / "rules"), "-f", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["scenario"]["exporter"] == "NO"


@pytest.mark.parametrize(
    "args,code",
    [
        (["--exporter", "Ukrane", "--recipient", "UA", "--item", "ML3"], "unknown-country"),
        (["--exporter", "KR", "--recipient", "UA", "--item", "155mm"], "unknown-item"),
        (["--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-02-30"], "bad-date"),
        (
            ["--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--assume", "recipient.in_war=true"],
            "unknown-fact",
        ),
    ],
)
def test_user_errors_on_the_command_line(runner, args, code):
    res = what_if(runner, *args)
    assert res.exit_code == 2
    assert f"[{code}]" in res.stderr and "Traceback" not in res.output


def test_scenario_with_unknown_field_and_bad_country(runner, tmp_path):
    write(
        tmp_path,
        "s.yaml",
        """
        id: bad
        title: t
        date: 2023-01-30
        exporter: XY
        recipient: UA
        items: [{category: ML3}]
        expekt: restricted
    """,
    )
    res = runner.invoke(app, ["evaluate", str(tmp_path / "s.yaml"), "--rules", str(ROOT / "rules")])
    assert res.exit_code == 2
    assert "s.yaml:4:" in res.stderr and "s.yaml:7:1" in res.stderr and "did you mean `expect`" in res.stderr


def test_chain_visiting_a_holder_twice_is_rejected(runner):
    res = what_if(
        runner,
        "--exporter",
        "KR",
        "--recipient",
        "UA",
        "--via",
        "US",
        "--via",
        "KR",
        "--item",
        "ML3",
        "--date",
        "2023-06-01",
    )
    assert res.exit_code == 2 and "[cyclic-chain]" in res.stderr and "KR -> US -> KR -> UA" in res.stderr


def test_chain_drawn_in_text_and_roles_in_json(runner):
    args = [
        "--exporter",
        "DE",
        "--recipient",
        "UA",
        "--item",
        "35mm-ammunition",
        "--origin",
        "CH",
        "--transfer",
        "re-export",
        "--date",
        "2022-06-01",
    ]
    text = what_if(runner, *args, fmt="text").stdout
    assert "CH (original producer: prohibited) -> DE (exporter: licence_required) -> UA (recipient)" in text
    d = json.loads(what_if(runner, *args).stdout)
    roles = {(j["jurisdiction"], j["role"]): j["verdict"] for j in d["jurisdictions"]}
    assert roles[("CH", "original-producer")] == "prohibited" and roles[("DE", "exporter")] == "licence_required"
    assert d["verdict"] == "prohibited" and d["deciding"] == ["CH"]
    ch = next(j for j in d["jurisdictions"] if j["jurisdiction"] == "CH")
    assert any("nested" in r for r in ch["rules"])


@pytest.mark.parametrize(
    "command",
    [
        ["batch", "IN", "-o", "/nonexistent-dir/out.jsonl"],
        ["diff", str(ROOT / "rules"), str(ROOT / "rules"), "-o", "/nonexistent-dir/report.md"],
    ],
)
def test_unwritable_output_is_a_user_error(runner, tmp_path, command):
    src = tmp_path / "in.jsonl"
    src.write_text('{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}\n', encoding="utf-8")
    args = [str(src) if a == "IN" else a for a in command]
    res = runner.invoke(
        app,
        [
            *args,
            "--rules" if command[0] == "batch" else "--scenarios",
            str(ROOT / "rules") if command[0] == "batch" else str(tmp_path),
        ],
    )
    assert res.exit_code == 2, res.output
    assert "[unwritable-file]" in res.stderr and "internal error" not in res.stderr


# ---------------------------------------------------------------- one verb built per run (cli/__init__.py)

LAZY_CASES = [
    [],
    ["--help"],
    *([verb, "--help"] for verb in __import__("policy.cli", fromlist=["VERBS"]).VERBS),
    ["new", "jurisdiction", "--help"],
    ["new"],
    ["--lang", "de", "what-if", "--help"],
    ["--no-cache", "--debug", "where", "--help"],
    ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30", "--rules", "rules"],
    ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--end-user", "army"],
    ["what-if", "--exporter", "KR", "--bogus"],
    ["what-if"],
    ["bogus-verb"],
    ["--lang", "xx", "countries"],
]


@pytest.mark.parametrize("args", LAZY_CASES, ids=[" ".join(a) or "(none)" for a in LAZY_CASES])
def test_the_command_built_for_one_verb_answers_as_the_whole_command(runner, monkeypatch, args):
    from policy.cli import app_for

    monkeypatch.chdir(ROOT)
    whole = runner.invoke(app, args, prog_name="policy")
    one = runner.invoke(app_for(args), args, prog_name="policy")
    assert (one.exit_code, one.stdout, one.stderr) == (whole.exit_code, whole.stdout, whole.stderr)


def test_a_run_builds_only_the_verb_it_runs():
    from policy.cli import app_for, asked_verb

    assert asked_verb(["what-if", "--exporter", "KR"]) == "what-if"
    assert asked_verb(["--no-cache", "--lang", "de", "--debug", "what-if"]) == "what-if"
    assert asked_verb(["--lang=de", "new", "jurisdiction"]) == "new"
    for whole in ([], ["--help"], ["--version"], ["--help", "what-if"], ["bogus"], ["--bogus", "what-if"], ["--lang"]):
        assert asked_verb(whole) is None, whole
    assert [c.name for c in app_for(["what-if"]).registered_commands] == ["what-if"]
    assert [g.name for g in app_for(["new"]).registered_groups] == ["new"]
    assert len(app_for(["--help"]).registered_commands) == len(app.registered_commands) > 20


def test_the_options_a_verb_may_follow_are_the_groups_own(monkeypatch):
    import typer.main

    from policy.cli import GROUP_FLAGS, GROUP_OPTIONS_WITH_VALUES, asked_verb

    group = typer.main.get_command(app)
    whole = {"--version", "--install-completion", "--show-completion"}  # these ask for the whole command
    flags = {o for p in group.params if getattr(p, "is_flag", False) for o in p.opts} - whole
    with_values = {o for p in group.params if not getattr(p, "is_flag", False) for o in p.opts}
    assert (flags, with_values) == (set(GROUP_FLAGS), set(GROUP_OPTIONS_WITH_VALUES))
    monkeypatch.setenv("_POLICY_COMPLETE", "complete_bash")
    assert asked_verb(["what-if"]) is None, "shell completion lists every verb"


@pytest.mark.parametrize(
    "args",
    [
        ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30", "--explain"],
        ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML99", "--date", "2023-01-30"],
        ["--lang", "de", "what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"],
    ],
    ids=["answer", "bad-item", "lang"],
)
def test_python_m_policy_prints_and_exits_as_the_command(runner, monkeypatch, args):
    """The process entry (`python -m policy`, the `policy` script) builds one verb and freezes the
    collector before exiting: the same output and exit code as the whole command in process."""
    import os
    import subprocess
    import sys

    monkeypatch.chdir(ROOT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "policy", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    whole = runner.invoke(app, args, prog_name="python -m policy")
    assert (proc.returncode, proc.stdout, proc.stderr) == (whole.exit_code, whole.stdout, whole.stderr)


def test_the_collector_paused_at_start_runs_again_when_the_verb_begins(runner, monkeypatch):
    import gc

    from policy.cli import app_for, paused_at_start, started

    monkeypatch.chdir(ROOT)
    assert gc.isenabled()
    try:
        paused_at_start()
        assert not gc.isenabled()
        runner.invoke(app_for(["--help"]), ["--help"])
        assert not gc.isenabled(), "no verb began"
        res = runner.invoke(app_for(["where"]), ["where"])
        assert res.exit_code == 0, res.output
        assert gc.isenabled(), "the verb ended the pause"
        started()
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


@pytest.mark.parametrize("given, expected", [(None, "1"), ("4", "4")])
def test_command_line_starts_numpy_with_one_blas_thread_unless_told(given, expected):
    """policy does no linear algebra: the command line keeps numpy's BLAS to one thread (a user's value wins)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys\nsys.argv = ['policy', '--version']\nfrom policy.cli import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == expected

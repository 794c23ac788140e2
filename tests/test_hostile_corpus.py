"""The attack corpus (tests/hostile/cases.yaml) and a property test over every command.

Each corpus case runs through the CLI in a folder the test owns and must give its exit code and
error code, with no traceback, and leave the files it names as they were.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.cli import app

from .conftest import ROOT

# Every scalar as text (BaseLoader): arguments are strings, as a shell passes them.
CASES = yaml.load((Path(__file__).parent / "hostile" / "cases.yaml").read_text(encoding="utf-8"), yaml.BaseLoader)
for _case in CASES:
    _case["exit"] = int(_case["exit"])
    _case["code"] = None if _case["code"] == "null" else _case["code"]


def _fill(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp)).replace("{rules}", str(ROOT / "rules"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(case, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICY_RULES", str(ROOT / "rules"))
    for name, text in (case.get("files") or {}).items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    for name, hexbytes in (case.get("bytes") or {}).items():
        (tmp_path / name).write_bytes(bytes.fromhex(hexbytes))
    for name in case.get("dirs") or []:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    before = {name: (tmp_path / name).read_text(encoding="utf-8") for name in case.get("unchanged") or []}
    res = runner.invoke(app, [_fill(a, tmp_path) for a in case["args"]])
    assert res.exit_code == case["exit"], res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    if case["code"]:
        assert f"error[{case['code']}]" in res.stderr, res.stderr
    for name, text in before.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
    for name in case.get("absent") or []:
        assert not (tmp_path / name).exists()
    leftovers = [p.name for p in tmp_path.rglob(".*") if p.is_file()]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_git_revision_cannot_truncate_a_file_and_leaves_no_temp_folder(tmp_path):
    """Run as a user would, from the repository: the revision never reaches git as an option."""
    victim = tmp_path / "victim"
    victim.write_text("precious", encoding="utf-8")
    tmp_root = tmp_path / "tmproot"
    tmp_root.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_root)}
    cmd = [sys.executable, "-m", "policy", "diff", f"git:--output={victim}", "rules/"]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "error[bad-revision]" in res.stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    res = subprocess.run(
        [sys.executable, "-m", "policy", "diff", "git:HEAD", "rules/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert list(tmp_root.iterdir()) == []


def test_written_files_honour_the_umask(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        res = runner.invoke(app, ["diff", str(ROOT / "rules"), str(ROOT / "rules"), "-o", "report.txt"])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report.txt").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- property test over every command

COMMANDS = ["what-if", "evaluate", "test", "validate", "lint", "facts", "diff", "timeline", "batch", "matrix", "schema"]
OPTIONS = [
    "--exporter",
    "--recipient",
    "--item",
    "--date",
    "--end-user",
    "--transfer",
    "--origin",
    "--via",
    "--transit",
    "--assume",
    "--format",
    "--with",
    "--rules",
    "--from",
    "--to",
    "--at",
    "--vs",
    "--exporters",
    "--recipients",
    "--workers",
    "--lethal",
    "--non-lethal",
    "--strict",
    "--output",
    "--check",
    "--fail-on",
    "--today",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "KR",
            "UA",
            "ML3",
            "ml3",
            "Germany",
            "2023-01-30",
            "2023-W05-1",
            "",
            "-",
            "json",
            "html",
            "-1",
            "0",
            "155mm-shell",
            "recipient.in_armed_conflict=false",
            "nope",
            "ML99",
            "x.yaml",
            "git:HEAD",
            "restricted",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\\"), max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(COMMANDS),
    words=st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=8),
)
def test_every_command_with_generated_arguments(command, words, runner, tmp_path, monkeypatch, repo_before):
    """Any arguments: exit 0, 1 or 2, no traceback, nothing written outside the test's folder."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("POLICY_RULES", str(ROOT / "rules"))
    res = runner.invoke(app, [command, *words], input="")
    assert res.exit_code in (0, 1, 2), (command, words, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output, (command, words, res.output)


def _repo_state() -> str:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True
    )
    return "\n".join(ln for ln in out.stdout.splitlines() if ".hypothesis" not in ln and ".venv" not in ln)


@pytest.fixture(scope="module")
def repo_before() -> str:
    return _repo_state()


def test_property_test_wrote_nothing_in_the_repository(repo_before):
    """Runs after the property test (same module): the working tree is as it was before it."""
    assert _repo_state() == repo_before

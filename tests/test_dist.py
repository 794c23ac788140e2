"""The package installs anywhere: a wheel carries the rules, `policy --version` and `policy where`
say which rules are in use, and a what-if runs from any folder."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from policy.cli import app
from policy.load.loader import load_rulebase
from policy.load.rulesource import RulesOrigin, bundled_rules_path, choose_rules, rulebase_digest, rules_info

from .conftest import ROOT

KR_UA = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built, without network, from a copy of the repository's packaged files."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, src / name)
    for name in ("policy", "rules", "seeds", "schema"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheelhouse")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps", "--no-index", "-w", out, src],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert res.returncode == 0, res.stderr
    [whl] = out.glob("policy-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies are those of the running interpreter."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    res = subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index", wheel],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert res.returncode == 0 and "Successfully installed policy" in res.stdout, res.stdout + res.stderr
    purelib = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # Dependencies (pydantic, typer...) come from this interpreter's site-packages, appended after the
    # venv's own, so the wheel's `policy` is the one imported.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    (purelib / "_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return venv


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POLICY_RULES", "PYTHONPATH")}
    env["COLUMNS"] = "80"
    return env


def test_wheel_contains_the_rules_world_data_items_and_seeds(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (ROOT / "rules").rglob("*.yaml"):
        assert f"policy/_data/rules/{f.relative_to(ROOT / 'rules').as_posix()}" in names
    assert "policy/_data/rules/items.yaml" in names and "policy/_data/rules/world/conflicts.yaml" in names
    assert "policy/py.typed" in names and "policy/cli/__init__.py" in names and "policy/eval/engine.py" in names
    for f in (ROOT / "seeds").iterdir():
        assert f"policy/_data/seeds/{f.name}" in names


def test_installed_wheel_answers_a_what_if_from_any_folder(installed: Path, tmp_path: Path):
    policy = installed / "bin" / "policy"
    res = subprocess.run([policy, *KR_UA], capture_output=True, text=True, cwd=tmp_path, env=_env())
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].startswith("RESTRICTED")  # the short answer opens with the verdict
    res = subprocess.run([policy, *KR_UA, "-f", "json"], capture_output=True, text=True, cwd=tmp_path, env=_env())
    data = json.loads(res.stdout)
    assert data["verdict"] == "restricted"
    assert data["record"]["rules_digest"] == rulebase_digest(load_rulebase([str(ROOT / "rules")]))
    where = subprocess.run([policy, "where", "-f", "json"], capture_output=True, text=True, cwd=tmp_path, env=_env())
    info = json.loads(where.stdout)
    assert info["origin"] == "bundled"
    assert all(Path(p).is_relative_to(installed) for p in info["paths"]), info["paths"]
    version = subprocess.run([policy, "--version"], capture_output=True, text=True, cwd=tmp_path, env=_env())
    assert version.returncode == 0 and version.stdout.startswith("policy 0.1.0\nrules ")
    assert data["record"]["rules_digest"][:16] in version.stdout and "[bundled]" in version.stdout


def test_policy_rules_variable_and_local_rules_take_precedence(installed: Path, tmp_path: Path):
    policy = installed / "bin" / "policy"
    mine = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "rules", mine)
    env = {**_env(), "POLICY_RULES": str(mine)}
    info = json.loads(
        subprocess.run([policy, "where", "-f", "json"], capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    )
    assert info["origin"] == "POLICY_RULES" and info["paths"] == [str(mine.resolve())]
    (tmp_path / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "items.yaml", tmp_path / "rules" / "items.yaml")
    shutil.copy(ROOT / "rules" / "kr.yaml", tmp_path / "rules" / "kr.yaml")  # a rules path needs a rule file
    shutil.copytree(ROOT / "rules" / "world", tmp_path / "rules" / "world")
    info = json.loads(
        subprocess.run([policy, "where", "-f", "json"], capture_output=True, text=True, cwd=tmp_path, env=_env()).stdout
    )
    assert info["origin"] == "./rules" and info["jurisdictions"] == 1
    bad = {**_env(), "POLICY_RULES": str(tmp_path / "missing")}
    res = subprocess.run([policy, *KR_UA], capture_output=True, text=True, cwd=tmp_path, env=bad)
    assert res.returncode == 2 and "no file or folder" in res.stderr and "Traceback" not in res.stderr


def test_rules_are_chosen_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICY_RULES", raising=False)
    assert choose_rules(None) == ([str(bundled_rules_path())], RulesOrigin.bundled)
    assert bundled_rules_path() == ROOT / "rules"  # a source checkout uses the repository's rules
    (tmp_path / "rules").mkdir()
    assert choose_rules(None) == (["rules"], RulesOrigin.cwd)
    monkeypatch.setenv("POLICY_RULES", "/x")
    assert choose_rules(None) == (["/x"], RulesOrigin.env)
    assert choose_rules(["a", "b"]) == (["a", "b"], RulesOrigin.option)


def test_rules_info_lists_every_file_with_kind_and_jurisdiction(shipped):
    from policy.eval.engine import rulebase_digest as engine_digest

    info = rules_info(shipped, [str(ROOT / "rules")], RulesOrigin.option)
    assert info.digest == engine_digest(shipped)
    kinds = {f.path.rsplit("/", 1)[-1]: (f.kind, f.jurisdiction) for f in info.files}
    assert kinds["kr.yaml"] == ("rules", "KR") and kinds["items.yaml"] == ("items", None)
    assert kinds["conflicts.yaml"] == ("world", None)
    assert info.rule_count == sum(f.rules for f in info.files) and info.date is not None


def test_version_alone_prints_version_and_rules(runner, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("POLICY_RULES", str(ROOT / "rules"))
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    first, second = res.stdout.splitlines()
    assert first == "policy 0.1.0"
    assert second.startswith("rules ") and "[POLICY_RULES]" in second and "sources up to 20" in second
    monkeypatch.setenv("POLICY_RULES", "/nonexistent/rules")
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 2 and "no file or folder" in res.stderr

"""Shared helpers: the shipped rulebase, tiny rule sets written on the fly, a CLI runner."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policy.load.loader import load_rulebase
from policy.model.rulebase import RuleBase

ROOT = Path(__file__).resolve().parent.parent

# The rulebase cache (policy/load/cache.py) of the tests, and of the commands they run, lives in a
# folder of this run, never in the user's ~/.cache.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="policy-test-cache-")


@pytest.fixture(scope="session")
def shipped() -> RuleBase:
    return load_rulebase([str(ROOT / "rules")])


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


WORLD = """
format: policy-world/v1
groups:
  - id: NATO
    name: NATO
    kind: alliance
    members:
      - {country: "NO", from: 1949-08-24}
      - {country: FI, from: 2023-04-04}
conflicts:
  - id: war
    name: A war
    kind: international
    from: 2022-02-24
    parties:
      - {country: UA, self_defence: true}
      - {country: RU}
    sources: [{id: s, title: a source}]
"""

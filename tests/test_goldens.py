"""Golden files pin the text and Markdown renderings of a few reports, byte for byte.

After an intended change to the reports (or to the shipped rules they read), regenerate with

    UPDATE_GOLDEN=1 python -m pytest tests/test_goldens.py

and review the diff of tests/golden/ like any other change. The rules digest is masked, so an
edit to any rule file that leaves these reports alone does not touch them.
"""

import os
import re

import pytest

from policy.cli import app

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
KR_UA = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]
DE_UA = [
    "timeline",
    "--exporter",
    "DE",
    "--recipient",
    "UA",
    "--item",
    "ML6",
    "--from",
    "2021-01-01",
    "--to",
    "2024-12-31",
]
KR_OVERLAY_DIFF = [
    "diff",
    "rules",
    "rules",
    "--with",
    "scenarios/what-if/kr-self-defence-exception.yaml",
    "--on",
    "2023-06-01",
    "--scenarios",
    "scenarios/kr",
]

CASES = {
    "what-if-kr-ua.txt": KR_UA,
    "what-if-kr-ua.md": [*KR_UA, "-f", "markdown"],
    "what-if-kr-ua-explain.txt": [*KR_UA, "--explain"],
    "timeline-de-ua.txt": DE_UA,
    "timeline-de-ua.md": [*DE_UA, "-f", "markdown"],
    "diff-kr-overlay.txt": KR_OVERLAY_DIFF,
    "diff-kr-overlay.md": [*KR_OVERLAY_DIFF, "-f", "markdown"],
}


def _mask(text: str) -> str:
    return re.sub(r"(rules digest `?)[0-9a-f]{16}", r"\1<digest>", text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(runner, monkeypatch, name):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    args = CASES[name]
    if args[0] != "diff":
        args = [*args, "--rules", "rules"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    got = _mask(res.stdout)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run UPDATE_GOLDEN=1 python -m pytest tests/test_goldens.py"
    assert got == path.read_text(encoding="utf-8"), f"{name} differs from tests/golden/{name}"

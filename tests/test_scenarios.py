"""The scenario library is a test suite: every scenario with `expect` must pass."""

from pathlib import Path

import pytest

from policy.analysis.testing import check
from policy.load.discover import classify
from policy.load.scenarios import load_scenario

from .conftest import ROOT

FILES = [Path(f) for f in classify([str(ROOT / "scenarios")])[2]]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT / "scenarios")) for p in FILES])
def test_scenario(shipped, path: Path):
    sc = load_scenario(str(path), shipped)
    assert sc.sources, "every scenario names its sources"
    assert sc.expect is not None, "every scenario in the library states its expected verdict"
    result = check(shipped, str(path), sc)
    assert result.passed, "; ".join(result.problems)

"""The shipped JSON Schema is current and accepts every shipped YAML file; modelines point at it."""

import json
import os
from pathlib import Path

import jsonschema
import pytest

from policy.load.loader import classify
from policy.load.yamlio import load
from policy.render.schema import schemas

from .conftest import ROOT

RULES, OVERLAYS, SCENARIOS = classify([str(ROOT / "rules"), str(ROOT / "scenarios")])


def test_shipped_schema_is_up_to_date():
    for name, text in schemas().items():
        assert (ROOT / "schema" / name).read_text(encoding="utf-8") == text, f"run `policy schema` ({name})"


@pytest.mark.parametrize("path", RULES + OVERLAYS + SCENARIOS, ids=lambda p: os.path.relpath(p, ROOT))
def test_schema_validates_shipped_file_and_modeline_points_to_it(path):
    first = Path(path).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema_path = (Path(path).parent / first.split("=", 1)[1]).resolve()
    assert schema_path.parent == (ROOT / "schema").resolve()
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.validate(load(path).data, schema)


def test_schema_rejects_a_misspelt_field():
    schema = json.loads(schemas()["rules.schema.json"])
    data = load(str(ROOT / "rules" / "kr.yaml")).data
    data["rules"][0]["untill"] = "2020-01-01"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)

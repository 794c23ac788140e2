"""The shipped JSON Schema is current and accepts every shipped YAML file; modelines point at it."""

import json
import os
from pathlib import Path

import jsonschema
import pytest

from policy.load.discover import classify
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


def _run_json(*args: str, rules: bool = True) -> object:
    import subprocess
    import sys

    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "policy",
            *args,
            "--format",
            "json",
            *(["--rules", str(ROOT / "rules")] if rules else []),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.mark.parametrize(
    "transfer",
    [
        ["--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"],
        ["--exporter", "CH", "--recipient", "UA", "--item", "ML3", "--via", "DE", "--date", "2023-06-01"],
    ],
)
def test_decision_json_follows_the_published_output_schema(transfer):
    data = _run_json("what-if", *transfer)
    jsonschema.validate(data, json.loads((ROOT / "schema" / "decision.schema.json").read_text(encoding="utf-8")))
    del data["verdict"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(schemas()["decision.schema.json"]))


def test_diff_json_follows_the_published_output_schema():
    res = _run_json(
        "diff",
        str(ROOT / "rules"),
        "--at",
        "2022-02-20",
        "--vs",
        "2022-03-01",
        "--scenarios",
        str(ROOT / "scenarios" / "kr"),
        rules=False,
    )
    jsonschema.validate(res, json.loads((ROOT / "schema" / "diff.schema.json").read_text(encoding="utf-8")))


def test_schema_accepts_the_end_user_mapping_the_docs_describe():
    schema = json.loads(schemas()["scenario.schema.json"])
    data = {
        "id": "x",
        "title": "x",
        "date": "2024-01-01",
        "exporter": "DE",
        "recipient": "PL",
        "items": [{"category": "ML3"}],
    }
    jsonschema.validate({**data, "end_user": {"kind": "police", "unit": "Border Guard"}}, schema)
    jsonschema.validate({**data, "end_user": "police"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "end_user": {"unit": "Border Guard"}}, schema)

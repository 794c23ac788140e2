"""JSON Schema for every file kind and every JSON report, generated from the pydantic models (never
hand-written): input files are validated against the first, `--format json` output follows the second."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from policy.model import ItemCatalogue, Overlay, RuleFile, Scenario, SourceTiers, WorldFile
from policy.model.results import OUTPUTS

KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "rules.schema.json": (RuleFile, "policy rule file (rules/<code>.yaml)"),
    "world.schema.json": (WorldFile, "policy world data (rules/world/*.yaml)"),
    "items.schema.json": (ItemCatalogue, "policy item catalogue (rules/items.yaml)"),
    "scenario.schema.json": (Scenario, "policy transfer scenario (scenarios/**.yaml)"),
    "overlay.schema.json": (Overlay, "policy overlay: a what-if on the law"),
    "sources.schema.json": (SourceTiers, "policy publishers by tier and content farms (rules/sources.yaml)"),
}


def _outputs() -> dict[str, tuple[type[BaseModel], str]]:
    from policy.analysis.whynot import WhyNot

    return {**OUTPUTS, "why-not.schema.json": (WhyNot, "policy why-not answer (why-not --format json)")}


def schemas() -> dict[str, str]:
    """File name -> JSON text, stable byte for byte."""
    out = {}
    for name, (model, title) in KINDS.items():
        out[name] = _text(model.model_json_schema(by_alias=True), title)
    for name, (model, title) in _outputs().items():
        out[name] = _text(model.model_json_schema(by_alias=True, mode="serialization"), title)
    return out


def _text(data: dict[str, Any], title: str) -> str:
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["title"] = title
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

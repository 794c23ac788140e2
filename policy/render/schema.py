"""JSON Schema for every file kind, generated from the pydantic models (never hand-written)."""

from __future__ import annotations

import json

from pydantic import BaseModel

from policy.model import ItemCatalogue, Overlay, RuleFile, Scenario, SourceTiers, WorldFile

KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "rules.schema.json": (RuleFile, "policy rule file (rules/<code>.yaml)"),
    "world.schema.json": (WorldFile, "policy world data (rules/world/*.yaml)"),
    "items.schema.json": (ItemCatalogue, "policy item catalogue (rules/items.yaml)"),
    "scenario.schema.json": (Scenario, "policy transfer scenario (scenarios/**.yaml)"),
    "overlay.schema.json": (Overlay, "policy overlay: a what-if on the law"),
    "sources.schema.json": (SourceTiers, "policy publishers by tier and content farms (rules/sources.yaml)"),
}


def schemas() -> dict[str, str]:
    """File name -> JSON text, stable byte for byte."""
    out = {}
    for name, (model, title) in KINDS.items():
        data = model.model_json_schema(by_alias=True)
        data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        data["title"] = title
        out[name] = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out

"""The data model: rule files, world data, items and scenarios, as pydantic v2 models.

Models validate shape and types only. Cross-references (rule ids, facts, groups, items) are
checked by the loader, which knows every file at once. No I/O and no evaluation here. Each
submodule holds one kind of file; this package re-exports their public names.

The names are imported on first use (PEP 562): a module that needs only a pydantic-free part of
the model (``policy.model.errors``, ``contract``, ``countries``) does not import pydantic and build
every model with it. A warm ``policy batch`` needs none of them (``policy.eval.batch_memo``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policy.model.base import (
        BINDING_WORDS,
        ID_RE,
        KEBAB_RE,
        RESTRICTIVE,
        Binding,
        Citation,
        Confidence,
        Day,
        Effect,
        Flag,
        Role,
        Source,
        Strict,
        Verdict,
    )
    from policy.model.conditions import OPS, All, Any_, Condition, Leaf, Not, iter_leaves
    from policy.model.items import CatalogueItem, CategoryEntry, ItemCatalogue, category_within
    from policy.model.rules import Rule, RuleFile, View
    from policy.model.scenario import (
        Calibration,
        Component,
        EarlierExport,
        EndUser,
        ExistingLicence,
        JurisdictionChange,
        Overlay,
        Scenario,
        ScenarioItem,
        ScenarioSource,
        TransferCategory,
        TransferCountry,
        TransferKind,
    )
    from policy.model.sources import HOST_RE, ContentFarm, Publisher, SourceTiers, Tier
    from policy.model.world import (
        FIGHTING_ROLES,
        Conflict,
        ConflictRole,
        Embargo,
        Group,
        Membership,
        Party,
        Truce,
        WorldFile,
    )

_WHERE: dict[str, str] = {
    "BINDING_WORDS": "policy.model.base",
    "ID_RE": "policy.model.base",
    "KEBAB_RE": "policy.model.base",
    "RESTRICTIVE": "policy.model.base",
    "Binding": "policy.model.base",
    "Citation": "policy.model.base",
    "Confidence": "policy.model.base",
    "Day": "policy.model.base",
    "Effect": "policy.model.base",
    "Flag": "policy.model.base",
    "Role": "policy.model.base",
    "Source": "policy.model.base",
    "Strict": "policy.model.base",
    "Verdict": "policy.model.base",
    "OPS": "policy.model.conditions",
    "All": "policy.model.conditions",
    "Any_": "policy.model.conditions",
    "Condition": "policy.model.conditions",
    "Leaf": "policy.model.conditions",
    "Not": "policy.model.conditions",
    "iter_leaves": "policy.model.conditions",
    "CatalogueItem": "policy.model.items",
    "CategoryEntry": "policy.model.items",
    "ItemCatalogue": "policy.model.items",
    "category_within": "policy.model.items",
    "Rule": "policy.model.rules",
    "RuleFile": "policy.model.rules",
    "View": "policy.model.rules",
    "Calibration": "policy.model.scenario",
    "Component": "policy.model.scenario",
    "EarlierExport": "policy.model.scenario",
    "EndUser": "policy.model.scenario",
    "ExistingLicence": "policy.model.scenario",
    "JurisdictionChange": "policy.model.scenario",
    "Overlay": "policy.model.scenario",
    "Scenario": "policy.model.scenario",
    "ScenarioItem": "policy.model.scenario",
    "ScenarioSource": "policy.model.scenario",
    "TransferCategory": "policy.model.scenario",
    "TransferCountry": "policy.model.scenario",
    "TransferKind": "policy.model.scenario",
    "HOST_RE": "policy.model.sources",
    "ContentFarm": "policy.model.sources",
    "Publisher": "policy.model.sources",
    "SourceTiers": "policy.model.sources",
    "Tier": "policy.model.sources",
    "FIGHTING_ROLES": "policy.model.world",
    "Conflict": "policy.model.world",
    "ConflictRole": "policy.model.world",
    "Embargo": "policy.model.world",
    "Group": "policy.model.world",
    "Membership": "policy.model.world",
    "Party": "policy.model.world",
    "Truce": "policy.model.world",
    "WorldFile": "policy.model.world",
}
"""Each public name and the submodule that defines it."""


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Day",
    "Flag",
    "Verdict",
    "RESTRICTIVE",
    "Effect",
    "Binding",
    "BINDING_WORDS",
    "Role",
    "Confidence",
    "Strict",
    "ID_RE",
    "KEBAB_RE",
    "Source",
    "Citation",
    "OPS",
    "Leaf",
    "All",
    "Any_",
    "Not",
    "Condition",
    "iter_leaves",
    "Rule",
    "View",
    "RuleFile",
    "Membership",
    "Group",
    "ConflictRole",
    "FIGHTING_ROLES",
    "Party",
    "Truce",
    "Conflict",
    "Embargo",
    "WorldFile",
    "category_within",
    "CatalogueItem",
    "CategoryEntry",
    "ItemCatalogue",
    "EndUser",
    "TransferKind",
    "TransferCountry",
    "TransferCategory",
    "Component",
    "ScenarioItem",
    "ScenarioSource",
    "EarlierExport",
    "ExistingLicence",
    "Calibration",
    "Scenario",
    "JurisdictionChange",
    "Overlay",
    "HOST_RE",
    "Tier",
    "Publisher",
    "ContentFarm",
    "SourceTiers",
]

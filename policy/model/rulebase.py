"""A loaded rulebase: every jurisdiction's rules, the world data and the item catalogue.

Plain data built by the loader and read by the engine; it never reads files itself.
"""

from __future__ import annotations

import datetime as dt
import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from policy.model import CatalogueItem, CategoryEntry, Conflict, Embargo, Group, Membership, Rule, RuleFile, Source
from policy.model.errors import SourceSpan


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived objects.

    Loading and compiling a large rulebase creates objects that all stay alive; the collector
    would rescan them over and over (seen: 2.6 s instead of 0.7 s for 10,000 rules).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class World:
    """Dated facts about states: group memberships, armed conflicts, arms embargoes."""

    groups: dict[str, Group] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    embargoes: list[Embargo] = field(default_factory=list)

    def group_kinds(self) -> dict[str, str]:
        return {gid: g.kind for gid, g in self.groups.items()}

    def membership(self, country: str, group: str, day: dt.date) -> Membership | None:
        """The membership entry that covers ``day``, if any."""
        for m in self.groups[group].members:
            if m.country == country and m.covers(day):
                return m
        return None

    def embargoes_on(self, country: str, imposed_by: str, day: dt.date) -> list[Embargo]:
        return [e for e in self.embargoes if e.target == country and e.imposed_by == imposed_by and e.covers(day)]


@dataclass
class RuleBase:
    """Everything the engine needs, already validated."""

    jurisdictions: dict[str, RuleFile] = field(default_factory=dict)
    world: World = field(default_factory=World)
    items: dict[str, CatalogueItem] = field(default_factory=dict)
    categories: dict[str, CategoryEntry] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # display path -> sha256 of content
    spans: dict[str, SourceSpan] = field(default_factory=dict)  # rule id -> where it is written
    source_index: dict[tuple[str, str], Source] = field(default_factory=dict)  # (jurisdiction, source id)
    assume: dict[str, Any] = field(default_factory=dict)  # facts assumed by overlays, for every transfer
    overlays: list[str] = field(default_factory=list)  # ids of the overlays applied, in order

    def category(self, code: str) -> CategoryEntry | None:
        """The catalogue entry for a category or its nearest listed parent (ML10.a.1 -> ML10)."""
        while code:
            if code in self.categories:
                return self.categories[code]
            code = code.rpartition(".")[0]
        return None

    def rule(self, rule_id: str) -> Rule | None:
        for jf in self.jurisdictions.values():
            for r in jf.rules:
                if r.id == rule_id:
                    return r
        return None

    def all_rules(self) -> list[tuple[str, Rule]]:
        return [(code, r) for code in sorted(self.jurisdictions) for r in self.jurisdictions[code].rules]

"""A loaded rulebase: every jurisdiction's rules, the world data and the item catalogue.

Plain data built by the loader and read by the engine; it never reads files itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, TypeVar

from policy.model import CatalogueItem, CategoryEntry, Conflict, Embargo, Group, Membership, Rule, RuleFile, Source
from policy.model.errors import SourceSpan

T = TypeVar("T")


def listed_category(code: str | None, listed: Mapping[str, Any]) -> str | None:
    """The category itself or its nearest parent present in ``listed`` (ML10.a.1 -> ML10), or None.

    The one walk up the category hierarchy (the catalogue, the lethality table).
    """
    while code:
        if code in listed:
            return code
        code = code.rpartition(".")[0]
    return None


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
    """Dated facts about states: group memberships, armed conflicts, arms embargoes.

    Lookups go through indexes by country, built on first use and rebuilt if an entry list is
    replaced or grows (the loader fills a world before anything reads it).
    """

    groups: dict[str, Group] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    embargoes: list[Embargo] = field(default_factory=list)
    _index: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its indexes and remembered facts (rebuilt on first use)."""
        return {**self.__dict__, "_index": {}}

    def group_kinds(self) -> dict[str, str]:
        return {gid: g.kind for gid, g in self.groups.items()}

    def _by(self, name: str, entries: list[Any], key: Callable[[Any], list[Any]]) -> dict[Any, list[Any]]:
        """An index of ``entries`` (kept in order under each key), rebuilt if the list was replaced or grew."""
        hit = self._index.get(name)
        if hit is not None and hit[0] is entries and hit[1] == len(entries):
            found: dict[Any, list[Any]] = hit[2]
            return found
        index: dict[Any, list[Any]] = {}
        for e in entries:
            for k in key(e):
                index.setdefault(k, []).append(e)
        self._index[name] = (entries, len(entries), index)
        return index

    def remember(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """A value derived from this world data (a fact about one country on one day), computed once
        and kept while the entry lists stay the same (at most 50,000 values)."""
        values = self.remembered()
        if key in values:
            hit: T = values[key]
            return hit
        value = values[key] = build()
        return value

    def remembered(self) -> dict[tuple[Any, ...], Any]:
        """The values ``remember`` keeps for the entry lists as they are now (read-only: one
        evaluation may read it for all its facts, and ``remember`` what it does not find)."""
        memo = self._index.get("remembered")
        if (
            memo is None
            or memo[0] is not self.groups
            or memo[1] is not self.conflicts
            or memo[2] is not self.embargoes
            or memo[3] != (len(self.groups), len(self.conflicts), len(self.embargoes))
            or len(memo[4]) > 50_000
        ):
            sizes = (len(self.groups), len(self.conflicts), len(self.embargoes))
            memo = self._index["remembered"] = (self.groups, self.conflicts, self.embargoes, sizes, {})
        values: dict[tuple[Any, ...], Any] = memo[4]
        return values

    def membership(self, country: str, group: str, day: dt.date) -> Membership | None:
        """The membership entry that covers ``day``, if any."""
        members = self.groups[group].members
        for m in self._by(f"group {group}", members, lambda m: [m.country]).get(country, ()):
            if m.covers(day):
                return m  # type: ignore[no-any-return]
        return None

    def embargoes_on(self, country: str, imposed_by: str, day: dt.date) -> list[Embargo]:
        index = self._by("embargoes", self.embargoes, lambda e: [(e.target, e.imposed_by)])
        return [e for e in index.get((country, imposed_by), ()) if e.covers(day)]

    def conflicts_about(self, country: str) -> list[Conflict]:
        """The conflicts, in their order, in which ``country`` is a party or on whose territory they are
        fought: the only ones that can make a conflict fact true of it."""
        index = self._by("conflicts", self.conflicts, lambda c: sorted({p.country for p in c.parties} | c.fought_on()))
        return index.get(country, [])


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
    _memo: dict[str, tuple[Any, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what it computed (compiled rules hold generated code; rebuilt on first use)."""
        return {**self.__dict__, "_memo": {}}

    def memo(self, name: str, build: Callable[[], T]) -> T:
        """A value computed from this rulebase once (the digest, the lethality table, the compiled
        rules), computed again only if its jurisdictions, files or categories were replaced or
        added to since (the loader and overlays build a rulebase before anything reads it)."""
        stamp = (
            id(self.jurisdictions),
            len(self.jurisdictions),
            id(self.files),
            len(self.files),
            id(self.categories),
            len(self.categories),
            id(self.world),
            len(self.assume),
        )
        hit = self._memo.get(name)
        if hit is not None and hit[0] == stamp:
            value: T = hit[1]
            return value
        value = build()
        self._memo[name] = (stamp, value)
        return value

    def digest(self) -> str:
        """A digest of the rule files' contents, independent of their order and paths."""

        def build() -> str:
            h = hashlib.sha256()
            for digest in sorted(self.files.values()):
                h.update(digest.encode())
            return h.hexdigest()

        return self.memo("digest", build)

    def lethality(self) -> dict[str, bool]:
        """Whether items of each listed category are taken as lethal unless a transfer says otherwise."""
        return self.memo("lethality", lambda: {code: c.lethal for code, c in self.categories.items()})

    def category(self, code: str) -> CategoryEntry | None:
        """The catalogue entry for a category or its nearest listed parent (ML10.a.1 -> ML10)."""
        found = listed_category(code, self.categories)
        return None if found is None else self.categories[found]

    def rule(self, rule_id: str) -> Rule | None:
        for jf in self.jurisdictions.values():
            for r in jf.rules:
                if r.id == rule_id:
                    return r
        return None

    def all_rules(self) -> list[tuple[str, Rule]]:
        return [(code, r) for code in sorted(self.jurisdictions) for r in self.jurisdictions[code].rules]

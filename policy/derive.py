"""Facts for one evaluation: from the scenario, derived from dated world data, or assumed.

Each value keeps its provenance, so an explanation can say where every fact came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .facts import STATIC_FACTS, fact_spec
from .models import Scenario, ScenarioItem, Source, category_within
from .rulebase import World


@dataclass(frozen=True)
class FactValue:
    """A fact's value (None when unknown) and where it came from."""

    name: str
    value: Any
    origin: str  # scenario | derived | assumed | default | unknown
    basis: str = ""
    sources: tuple[tuple[str, str | None], ...] = ()  # (title, url)

    @property
    def known(self) -> bool:
        return self.value is not None

    def to_json(self) -> dict[str, Any]:
        v = self.value
        if isinstance(v, dt.date):
            v = v.isoformat()
        elif isinstance(v, tuple):
            v = list(v)
        return {
            "value": v,
            "origin": self.origin,
            "basis": self.basis,
            "sources": [{"title": t, "url": u} for t, u in self.sources],
        }


def _cite(sources: list[Source]) -> tuple[tuple[str, str | None], ...]:
    return tuple((s.title, s.url) for s in sources)


@dataclass
class Facts:
    """Lazily computed facts about one item of one transfer, with a record of those used."""

    scenario: Scenario
    item: ScenarioItem
    world: World
    lethality: dict[str, bool] = field(default_factory=dict)  # category -> assumed lethality
    assumed: dict[str, Any] = field(default_factory=dict)  # facts assumed by overlays
    used: dict[str, FactValue] = field(default_factory=dict)

    def get(self, name: str) -> FactValue:
        fv = self.used.get(name)
        if fv is None:
            fv = self._compute(name)
            self.used[name] = fv
        return fv

    def value(self, name: str) -> Any:
        return self.get(name).value

    def _compute(self, name: str) -> FactValue:
        sc = self.scenario
        if name in sc.assume:
            return FactValue(name, sc.assume[name], "assumed", "assumed by the user (what-if)")
        if name in self.assumed:
            return FactValue(name, self.assumed[name], "assumed", "assumed by an overlay (what-if on the law)")
        if name in ("date", "exporter", "recipient", "end_user", "transfer"):
            return FactValue(name, getattr(sc, name), "scenario", "stated in the scenario")
        if name == "via":
            return FactValue(name, tuple(sc.via), "scenario", "stated in the scenario")
        if name.startswith("item."):
            attr = name[5:]
            value = getattr(self.item, attr, None)
            if attr == "lethal" and value is None and self.item.category:
                cat = self.item.category
                while cat and cat not in self.lethality:
                    cat = cat.rpartition(".")[0]
                if cat:
                    word = "lethal" if self.lethality[cat] else "non-lethal"
                    return FactValue(
                        name,
                        self.lethality[cat],
                        "default",
                        f"items of category {cat} are taken as {word} unless the transfer says "
                        "otherwise (rules/items.yaml); use --lethal/--non-lethal to state it",
                    )
            if value is None:
                return FactValue(name, None, "unknown", "the scenario does not say")
            if self.item.id and attr in ("category", "lethal"):
                return FactValue(name, value, "scenario", f"item catalogue entry `{self.item.id}`")
            return FactValue(name, value, "scenario", "stated in the scenario")
        spec = STATIC_FACTS.get(name)
        if spec is not None and spec.origin == "assessment":
            return FactValue(
                name,
                spec.default,
                "default",
                "not established: an assessment fact is taken as absent unless assumed "
                f"(use --assume {name}=true to test it)",
            )
        return self._derive(name)

    def _derive(self, name: str) -> FactValue:
        day = self.scenario.date
        world = self.world
        recipient = self.scenario.recipient
        if name in (
            "recipient.in_armed_conflict",
            "recipient.in_international_armed_conflict",
            "recipient.self_defence",
        ):
            found = world.conflicts_of(recipient, day)
            if name == "recipient.in_international_armed_conflict":
                found = [(c, sd) for c, sd in found if c.kind == "international"]
            if name == "recipient.self_defence":
                found = [(c, sd) for c, sd in found if sd]
            if found:
                c = found[0][0]
                what = "acting in self-defence in" if name == "recipient.self_defence" else "a party to"
                return FactValue(
                    name,
                    True,
                    "derived",
                    f"world data: {recipient} is {what} `{c.id}` ({c.name})" + (f" since {c.from_}" if c.from_ else ""),
                    _cite(c.sources),
                )
            return FactValue(
                name, False, "derived", f"world data: no encoded conflict lists {recipient} as such a party on {day}"
            )
        parts = name.split(".")
        if len(parts) == 3 and parts[1] in ("member_of", "party_to"):
            country = getattr(self.scenario, parts[0])
            group = world.groups[parts[2]]
            m = world.membership(country, parts[2], day)
            if m is not None:
                since = f" since {m.from_}" if m.from_ else ""
                srcs = [s for s in group.sources if s.id == m.source] or group.sources
                return FactValue(name, True, "derived", f"world data: {country} in `{group.id}`{since}", _cite(srcs))
            return FactValue(name, False, "derived", f"world data: {country} not in `{group.id}` on {day}")
        if len(parts) == 3 and parts[1] == "under_embargo":
            by = parts[2]
            cat = self.item.category or ""
            hits = [
                e
                for e in world.embargoes_on(recipient, by, day)
                if _covers_end_user(e.scope, self.scenario.end_user) or any(category_within(cat, c) for c in e.full_for)
            ]
            if hits:
                e = hits[0]
                return FactValue(
                    name,
                    True,
                    "derived",
                    f"world data: `{e.id}`, {e.instrument}, since {e.from_} (scope: {e.scope})",
                    _cite(e.sources),
                )
            return FactValue(
                name,
                False,
                "derived",
                f"world data: no {by} arms embargo covers {recipient} ({self.scenario.end_user}) on {day}",
            )
        if fact_spec(name, world.group_kinds()) is None:  # pragma: no cover - the loader rejects these
            raise KeyError(name)
        return FactValue(name, None, "unknown", "no data")  # pragma: no cover


def _covers_end_user(scope: str, end_user: str) -> bool:
    if scope == "full":
        return True
    if scope == "non_state_actors":
        return end_user == "non-state"
    return end_user not in ("government", "military", "police")  # non_government

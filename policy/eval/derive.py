"""Facts for one evaluation: from the scenario, derived from dated world data, or assumed.

Each value keeps its provenance, so an explanation can say where every fact came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from policy.model import FIGHTING_ROLES, Conflict, RuleFile, Scenario, ScenarioItem, Source, category_within
from policy.model.facts import CONFLICT_FACTS, STATIC_FACTS, fact_spec
from policy.model.rulebase import World, listed_category


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


_ASSESSED: dict[str, FactValue] = {}
"""The default of each assessment fact (the same for every transfer), made once."""


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
    views: dict[str, FactValue] = field(default_factory=dict)  # one jurisdiction's own positions
    remembered: dict[tuple[Any, ...], Any] | None = field(default=None, init=False, repr=False, compare=False)

    def seen_by(self, jf: RuleFile) -> "Facts":
        """These facts as jurisdiction ``jf`` sees them: its `views` replace the neutral values.

        Returns ``self`` when no view applies, so most evaluations share one set of facts.
        """
        views = view_values(jf, self.scenario, self.assumed)
        if not views:
            return self
        return Facts(self.scenario, self.item, self.world, self.lethality, self.assumed, {}, views)

    def get(self, name: str) -> FactValue:
        fv = self.used.get(name)
        if fv is None:
            fv = self._compute(name)
            self.used[name] = fv
        return fv

    def value(self, name: str) -> Any:
        return self.get(name).value

    def _spared(self, e: Any) -> bool:
        if e.exempt_contracts_before is None:
            return False
        self.get("contract_date")  # recorded: the explanation shows the contract date it turned on
        return spared_by_grandfather(e, self.scenario)

    def _compute(self, name: str) -> FactValue:
        sc = self.scenario
        assume, assumed = sc.assume, self.assumed
        if assume or assumed:
            if name in assume:
                return FactValue(name, assume[name], "assumed", "assumed by the user (what-if)")
            if name in assumed:
                return FactValue(name, assumed[name], "assumed", "assumed by an overlay (what-if on the law)")
            implied = implied_assumptions(assume) or implied_assumptions(assumed)
            if name in implied:
                return FactValue(
                    name, implied[name], "assumed", f"follows from the assumption {CONFLICT_FACTS[0]}=false"
                )
        if name in self.views:
            return self.views[name]
        kind, part = _ROUTES.get(name) or _route(name)
        if kind is _SCENARIO:
            return FactValue(name, getattr(sc, name), "scenario", "stated in the scenario")
        if kind is _VIA:
            return FactValue(name, tuple(sc.via), "scenario", "stated in the scenario")
        if kind is _UNIT:
            unit = getattr(sc, "end_user_unit", None)
            if unit is None:
                return FactValue(name, None, "unknown", "the scenario names no unit or agency of the end user")
            return FactValue(name, unit, "scenario", "stated in the scenario")
        if kind is _CONTRACT:
            value, origin, basis = contract_fact(sc, name)
            return FactValue(name, value, origin, basis)
        if kind is _ITEM:
            return self._item_fact(name, part)
        if kind is _ASSESSMENT:
            fv = _ASSESSED.get(name)
            if fv is None:
                spec = STATIC_FACTS[name]
                fv = _ASSESSED[name] = FactValue(
                    name,
                    spec.default,
                    "default",
                    "not established: an assessment fact is taken as absent unless assumed "
                    f"(use --assume {name}=true to test it)",
                )
            return fv
        world, day = self.world, sc.date
        if kind is _CONFLICT:
            recipient = sc.recipient
            key = (name, recipient, day)
            return self._known(key) or world.remember(key, lambda: conflict_fact(world, recipient, day, name))
        if kind is _MEMBERSHIP:
            country = getattr(sc, part)
            key = (name, country, day)
            return self._known(key) or world.remember(key, lambda: _membership_fact(world, name, country, day))
        if kind is _PROCUREMENT:
            exporter = sc.exporter
            key = (name, exporter, day)
            return self._known(key) or world.remember(key, lambda: _procurement_fact(world, name, exporter, day))
        return self._derive(name, part)

    def _known(self, key: tuple[Any, ...]) -> Any:
        """What the world data already remembers under ``key`` (``World.remember``), or None."""
        known = self.remembered
        if known is None:
            known = self.remembered = self.world.remembered()
        return known.get(key)

    def _item_fact(self, name: str, part: str) -> FactValue:
        """``item.<part>``: stated, from the catalogue, or (lethality) the category's default.

        Made once per value, catalogue entry and default (``_ITEM_FACTS``): the same for every transfer.
        """
        item = self.item
        value = getattr(item, part, None)
        lethal = self.lethality[cat] if (cat := _lethal_default(part, value, item, self.lethality)) else None
        key = (name, type(value), value, item.id, cat, type(lethal), lethal)
        try:
            fv = _ITEM_FACTS.get(key)
        except TypeError:  # an unhashable value: made each time
            return _item_fact(name, part, value, item.id, cat, lethal)
        if fv is None:
            if len(_ITEM_FACTS) > 4096:
                _ITEM_FACTS.clear()
            fv = _ITEM_FACTS[key] = _item_fact(name, part, value, item.id, cat, lethal)
        return fv

    def _derive(self, name: str, by: str) -> FactValue:
        """``<recipient>.under_embargo.<by>`` (the embargoes covering this item and end user), else unknown.

        Remembered per recipient, day, end user and category where no covering embargo spares
        earlier contracts (then the contract date, and what it is taken as, matter too).
        """
        if by:
            sc = self.scenario
            key = (name, sc.recipient, sc.date, sc.end_user, self.item.category)
            fv = self._known(key) or self.world.remember(key, lambda: self._embargoed(name, by, True))
            if fv is None:
                fv = self._embargoed(name, by, False)
                assert fv is not None  # INVARIANT: None only when ``plain``
            return fv
        if fact_spec(name, self.world.group_kinds()) is None:  # pragma: no cover - the loader rejects these
            raise KeyError(name)
        return FactValue(name, None, "unknown", "no data")  # pragma: no cover

    def _embargoed(self, name: str, by: str, plain: bool) -> FactValue | None:
        """``<recipient>.under_embargo.<by>``; None if ``plain`` and a covering embargo spares earlier contracts."""
        day = self.scenario.date
        world = self.world
        recipient = self.scenario.recipient
        cat = self.item.category or ""
        hits = [
            e
            for e in world.embargoes_on(recipient, by, day)
            if e.direction != "procurement"
            and (_covers_end_user(e.scope, self.scenario.end_user) or any(category_within(cat, c) for c in e.full_for))
        ]
        if plain and any(e.exempt_contracts_before is not None for e in hits):
            return None
        spared = [e for e in hits if self._spared(e)]
        hits = [e for e in hits if e not in spared]
        if hits:
            e = hits[0]
            return FactValue(
                name,
                True,
                "derived",
                f"world data: `{e.id}`, {e.instrument}, since {e.from_} (scope: {e.scope})",
                _cite(e.sources),
            )
        if spared:
            e = spared[0]
            return FactValue(
                name,
                False,
                "derived",
                f"world data: `{e.id}` spares contracts concluded before {e.exempt_contracts_before} "
                f"(this one: {self.value('contract_date')})",
                _cite(e.sources),
            )
        return FactValue(
            name,
            False,
            "derived",
            f"world data: no {by} arms embargo covers {recipient} ({self.scenario.end_user}) on {day}",
        )


CONTRACT_FACTS = ("contract_date", "licence.existing")

_ITEM_FACTS: dict[tuple[Any, ...], FactValue] = {}
"""Item facts already made, per (name, type and value, catalogue entry, default category and lethality)."""


def _lethal_default(part: str, value: Any, item: ScenarioItem, lethality: dict[str, bool]) -> str | None:
    """The category whose default lethality ``item.lethal`` takes (the item does not say), or None."""
    if part == "lethal" and value is None and item.category:
        return listed_category(item.category, lethality)
    return None


def _item_fact(name: str, part: str, value: Any, entry: str | None, cat: str | None, lethal: bool | None) -> FactValue:
    if cat:
        word = "lethal" if lethal else "non-lethal"
        return FactValue(
            name,
            lethal,
            "default",
            f"items of category {cat} are taken as {word} unless the transfer says "
            "otherwise (rules/items.yaml); use --lethal/--non-lethal to state it",
        )
    if value is None:
        return FactValue(name, None, "unknown", "the scenario does not say")
    if entry and part in ("category", "lethal"):
        return FactValue(name, value, "scenario", f"item catalogue entry `{entry}`")
    return FactValue(name, value, "scenario", "stated in the scenario")


_SCENARIO, _VIA, _UNIT, _CONTRACT, _ITEM, _ASSESSMENT, _CONFLICT, _MEMBERSHIP, _PROCUREMENT, _OTHER = (
    "scenario",
    "via",
    "unit",
    "contract",
    "item",
    "assessment",
    "conflict",
    "membership",
    "procurement",
    "other",
)
_ROUTES: dict[str, tuple[str, str]] = {}


def _route(name: str) -> tuple[str, str]:
    """Where ``Facts`` finds a fact, and the part of its name it turns on: read once per name."""
    route = (_OTHER, "")
    parts = name.split(".")
    if name in ("date", "exporter", "recipient", "end_user", "transfer"):
        route = (_SCENARIO, "")
    elif name == "via":
        route = (_VIA, "")
    elif name == "end_user.unit":
        route = (_UNIT, "")
    elif name in CONTRACT_FACTS:
        route = (_CONTRACT, "")
    elif name.startswith("item."):
        route = (_ITEM, name[5:])
    elif name in _ASSESSED or ((spec := STATIC_FACTS.get(name)) is not None and spec.origin == "assessment"):
        route = (_ASSESSMENT, "")
    elif name in CONFLICT_FACTS:
        route = (_CONFLICT, "")
    elif len(parts) == 3 and parts[1] in ("member_of", "party_to"):
        route = (_MEMBERSHIP, parts[0])
    elif len(parts) == 3 and parts[1] == "under_embargo" and parts[0] == "exporter":
        route = (_PROCUREMENT, "")
    elif len(parts) == 3 and parts[1] == "under_embargo":
        route = (_OTHER, parts[2])  # the recipient's embargoes (``Facts._derive``)
    _ROUTES[name] = route
    return route


def contract_fact(sc: Any, name: str) -> tuple[Any, str, str]:
    """(value, origin, basis) of a contract or licence fact: their one definition, for every backend."""
    day = sc.date
    if name == "contract_date":
        given = getattr(sc, "contract_date", None)
        if given is not None:
            return given, "scenario", "stated in the scenario"
        return day, "default", "no contract date given: taken as concluded on the transfer date"
    lic = getattr(sc, "existing_licence", None)
    if lic is None:
        return False, "default", "no existing licence stated: the transfer needs a new licence"
    if lic.granted > day:
        return False, "scenario", f"the licence stated was granted on {lic.granted}, after the transfer date"
    for event in ("revoked", "suspended"):
        when = getattr(lic, event)
        if when is not None and when <= day:
            return False, "scenario", f"the licence granted on {lic.granted} was {event} on {when}"
    return True, "scenario", f"a licence granted on {lic.granted} covers the transfer"


def view_values(jf: RuleFile, sc: Any, assumed: Any = None) -> dict[str, FactValue]:
    """The facts on which jurisdiction ``jf`` states its own view for this transfer's recipient and date.

    An assumption (the user's or an overlay's, and what follows from it) overrides a view.
    """
    if not jf.views:
        return {}
    overridden = {*sc.assume, *(assumed or ()), *implied_assumptions(sc.assume), *implied_assumptions(assumed)}
    out: dict[str, FactValue] = {}
    for v in jf.views:
        if v.fact not in out and v.fact not in overridden and v.applies(sc.recipient, sc.date):
            cite = v.citations[0]
            basis = f"view of the government of {jf.name} (`{v.id}`): {cite.instrument}" + (
                f", {cite.article}" if cite.article else ""
            )
            out[v.fact] = FactValue(
                v.fact, v.value, "view", basis, _cite([s for s in jf.sources if s.id == cite.source])
            )
    return out


def _membership_fact(world: World, name: str, country: str, day: dt.date) -> FactValue:
    """``<party>.member_of.<group>`` / ``party_to``: whether ``country`` is in the group on ``day``."""
    gid = name.split(".")[2]
    group = world.groups[gid]
    m = world.membership(country, gid, day)
    if m is not None:
        since = f" since {m.from_}" if m.from_ else ""
        srcs = [s for s in group.sources if s.id == m.source] or group.sources
        return FactValue(name, True, "derived", f"world data: {country} in `{group.id}`{since}", _cite(srcs))
    return FactValue(name, False, "derived", f"world data: {country} not in `{group.id}` on {day}")


def _procurement_fact(world: World, name: str, exporter: str, day: dt.date) -> FactValue:
    """``exporter.under_embargo.<by>``: whether an embargo forbids procuring arms from ``exporter``."""
    by = name.split(".")[2]
    found = [e for e in world.embargoes_on(exporter, by, day) if e.direction != "supply"]
    if found:
        e = found[0]
        return FactValue(
            name,
            True,
            "derived",
            f"world data: `{e.id}`, {e.instrument}, since {e.from_} (procurement ban)",
            _cite(e.sources),
        )
    return FactValue(
        name, False, "derived", f"world data: no {by} embargo forbids procuring arms from {exporter} on {day}"
    )


def implied_assumptions(assume: Any) -> dict[str, Any]:
    """Facts that follow from assumed ones: a recipient assumed in no armed conflict is in none of
    the finer kinds either (fought on its territory, international, internal, abroad, self-defence).
    """
    if not assume or assume.get(CONFLICT_FACTS[0], True) is not False:
        return {}
    return {name: False for name in CONFLICT_FACTS[1:] if name not in assume}


def spared_by_grandfather(e: Any, sc: Any) -> bool:
    """Whether embargo ``e``'s grandfather clause spares this transfer's contract on its date."""
    if e.exempt_contracts_before is None or (e.exemption_until is not None and sc.date > e.exemption_until):
        return False
    return bool(contract_fact(sc, "contract_date")[0] < e.exempt_contracts_before)


def _covers_end_user(scope: str, end_user: str) -> bool:
    if scope == "full":
        return True
    if scope == "non_state_actors":
        return end_user == "non-state"
    return end_user not in ("government", "military", "police")  # non_government


# ---------------------------------------------------------------- conflict facts (their one definition)


def _conflict_holds(c: Conflict, country: str, day: dt.date, name: str) -> tuple[bool, bool | None]:
    """(whether this conflict makes ``name`` hold for ``country``, certainty): the certainty is
    None where the state's part is contested or, for self-defence, where the data does not decide it.
    """
    on_territory = country in c.fought_on()
    if name == "recipient.war_on_territory":
        return on_territory, True
    if name == "recipient.internal_armed_conflict":
        return on_territory and c.kind == "internal", True
    best: tuple[bool, bool | None] = (False, True)
    if name == "recipient.in_armed_conflict" and on_territory:
        best = (True, True)
    for p in c.parties_on(country, day):
        fighting = c.role_of(p) in FIGHTING_ROLES
        if name == "recipient.in_armed_conflict":
            holds = fighting or on_territory
        elif name in ("recipient.belligerent_in_international_conflict", "recipient.in_international_armed_conflict"):
            holds = fighting and c.kind == "international"
        elif name == "recipient.intervening_abroad":
            holds = fighting and not on_territory
        else:  # recipient.self_defence
            if not fighting or p.self_defence is False:
                continue
            if p.self_defence is True and not p.contested:
                return True, True
            best = (True, None)
            continue
        if holds and not p.contested:
            return True, True
        if holds:
            best = (True, None)
    return best


def conflict_fact(world: World, country: str, day: dt.date, name: str) -> FactValue:
    """A conflict fact about ``country`` on ``day``: true, false, or unknown where the data does not decide."""
    unsure: Conflict | None = None
    involved = world.conflicts_about(country)
    for c in involved:
        if not c.active(day):
            continue
        holds, certain = _conflict_holds(c, country, day, name)
        if holds and certain:
            since = f" since {c.from_}" if c.from_ else ""
            return FactValue(name, True, "derived", f"world data: `{c.id}` ({c.name}){since}", _cite(c.sources))
        if holds and unsure is None:
            unsure = c
    if unsure is not None:
        what = "acts in self-defence in" if name == "recipient.self_defence" else "is a party to"
        return FactValue(
            name,
            None,
            "unknown",
            f"world data does not decide whether {country} {what} `{unsure.id}` ({unsure.name}): contested",
            _cite(unsure.sources),
        )
    truce = [c for c in involved if c.covers(day) and not c.active(day) and c.parties_on(country, day)]
    note = f" (`{truce[0].id}` is in a truce or ceasefire)" if truce else ""
    return FactValue(
        name, False, "derived", f"world data: no encoded conflict makes this true for {country} on {day}{note}"
    )

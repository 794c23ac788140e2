"""Why not, and what would it take: the smallest sets of changes that flip a verdict.

Given a transfer and a target verdict (by default the next less severe one that is not
``undetermined``), the search tries every set of up to ``max_changes`` changes drawn from a finite
space and keeps the *minimal* ones: sets that give the target or a less severe verdict while no
proper subset does. Five kinds of change, in this order of preference:

- ``transfer``: facts of the transfer itself (the item or its category, its lethality, the kind of
  transfer, the end user, the intermediate holders, the transit states, the item's origin or licensor);
- ``date``: another date, from the days on which a rule or world entry bearing on the transfer
  changes; only the earliest after the given date and the latest before it are reported;
- ``world``: a fact of the world assumed otherwise (not in armed conflict, not under embargo, a
  membership), each an ``--assume``;
- ``law``: a rule of a jurisdiction with a say disabled, or given an exception like an existing one
  of another jurisdiction, or a government's view withdrawn; each marked by how binding the rule is;
- ``recipient``: a different final destination (tried alone).

Candidates are screened with the compiled rules (:class:`policy.compiled.Screener`); every reported
set is confirmed with the explained engine (:func:`policy.engine.evaluate`), which also gives the
rule that would then decide, with its citations. No new evaluator: both paths are the project's own.

Over 500 lines because the search, the space it searches and the words of its answers are one
algorithm: every change kind is defined by its dimension, its application and its sentence, and
the minimality filter reads all three. The answer models (pydantic) are at the top, the matrix at
the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

import pycountry
from pydantic import BaseModel, Field, PrivateAttr

from policy.eval.changes import world_change_dates
from policy.eval.compiled import Screener, Screening, compile_file
from policy.eval.derive import Facts
from policy.eval.engine import Decision, JurisdictionVerdict, evaluate
from policy.model import (
    BINDING_WORDS,
    Binding,
    Effect,
    Role,
    Rule,
    RuleFile,
    Scenario,
    ScenarioItem,
    Source,
    Verdict,
    iter_leaves,
)
from policy.model.contract import END_USERS, TRANSFERS
from policy.model.countries import country_name
from policy.model.errors import Diagnostic, LoadError, PolicyError, SourceSpan
from policy.model.facts import CONFLICT_FACTS, STATIC_FACTS, fact_spec
from policy.model.rulebase import RuleBase

KINDS = ("transfer", "date", "world", "law", "recipient")
"""Kinds of change, in the order answers of one size are listed."""

KIND_WORDS = {
    "transfer": "transfer fact",
    "date": "date",
    "world": "world fact",
    "law": "law",
    "recipient": "recipient",
}

MAX_CHANGES = 3
"""The largest bound accepted for ``max_changes``."""

WHO_CAN_CHANGE = {
    Binding.stated_policy: "a stated policy: the government can change it",
    Binding.political_guideline: "a political guideline: the government can change it",
    Binding.government_decision: "a government decision: the government can change it",
    Binding.regulation: "a regulation: the executive can amend it, within its statute",
    Binding.statute: "a statute: only the legislature can change it",
    Binding.treaty: "a treaty obligation: needs the parties to amend the treaty, or the state to leave it",
    Binding.eu_legal_act: "an EU legal act: only the EU institutions can change it",
    Binding.court_ruling: "a court ruling: needs a higher court or new legislation",
    Binding.un_security_council: "a UN Security Council decision: it binds every state; only the Council can lift it",
}
VIEW_CHANGE = "a government's stated view: the government can change it"

_GENERIC_FACTS = frozenset({"item.category", "item.id", "recipient", "exporter", "date"})
_CONFLICT = frozenset(CONFLICT_FACTS)
_ADDED = ".whynot."  # infix of the ids of rules a law change adds


class WhyNotError(PolicyError):
    """The question cannot be answered as asked (bad target, bound or kinds)."""


# ------------------------------------------------------------------ the answer (pydantic, for the API and JSON)


class CitationRef(BaseModel):
    instrument: str
    article: str | None = None
    title: str | None = None
    url: str | None = None
    seed: str | None = None
    quote: str | None = None


class RuleRef(BaseModel):
    """A rule that decides (or stands in the way), with how binding it is and its citations."""

    id: str
    jurisdiction: str
    title: str
    effect: str
    binding: str
    binding_text: str
    who_can_change: str
    hypothetical: bool = Field(False, description="added by the change (an exception like another's)")
    citations: list[CitationRef] = Field(default_factory=list)


class Change(BaseModel):
    """One change: to a fact of the transfer, the date, a fact of the world, the law or the recipient."""

    kind: Literal["transfer", "date", "world", "law", "recipient"]
    fact: str = Field(description="what changes: item.lethal, transfer, date, recipient.in_armed_conflict, law...")
    value: Any = None
    text: str = Field(description="the change in words, to follow 'if'")
    option: str = Field(description="how to ask `policy what-if` for it")
    action: str | None = Field(None, description="law: disable | exception | withdraw-view")
    jurisdiction: str | None = None
    rule: str | None = Field(None, description="law: the rule (or view) disabled or given an exception")
    like: str | None = Field(None, description="law: the rule of another jurisdiction the exception is modelled on")
    binding: str | None = None
    who_can_change: str | None = None


class Alternative(BaseModel):
    """One concrete set of changes, with how to check it with `policy what-if`."""

    changes: list[Change]
    verdict: Verdict
    deciding: list[str]
    confirmed: bool = Field(description="the explained engine gives the same verdict")
    what_if: list[str] | None = Field(None, description="arguments of `policy what-if` that apply the changes")
    overlay: dict[str, Any] | None = Field(None, description="law changes as an overlay (what-if on the law)")
    overlay_file: str | None = None
    _scenario: Any = PrivateAttr(None)  # the transfer with the changes other than law (to check an overlay)


class Answer(BaseModel):
    """A minimal set of changes (or several alike, differing in one value) and what it gives."""

    size: int
    kinds: list[str]
    changes: list[Change]
    verdict: Verdict
    deciding: list[RuleRef]
    reasons: list[str]
    sentence: str
    alternatives: list[Alternative]


class Blocked(BaseModel):
    """A kind of change that reaches nothing within the bound, and the rules that stand in the way."""

    kind: str
    text: str
    rules: list[RuleRef]
    facts: list[str]


class Searched(BaseModel):
    """The finite space searched, and how much of it."""

    max_changes: int
    kinds: list[str]
    dimensions: list[dict[str, Any]]
    sets: int = Field(description="every set of changes within the bound")
    evaluated: int = Field(description="sets screened")
    skipped: int = Field(description="sets containing a smaller set that already reaches the target (not minimal)")
    contradictory: int = Field(description="sets that contradict themselves (e.g. not in conflict yet in self-defence)")
    inferred: int = Field(
        0,
        description="sets of law changes to different jurisdictions, one of which changes no verdict alone: "
        "they give what the others give (each jurisdiction judges by its own rules)",
    )
    exhaustive: bool
    note: str


class WhyNot(BaseModel):
    """The answer to `policy why-not`: the minimal change sets that give the target verdict or less."""

    transfer: dict[str, Any]
    verdict: Verdict
    deciding: list[RuleRef]
    target: Verdict
    already: bool
    answers: list[Answer]
    blocked: list[Blocked]
    summary: str
    searched: Searched
    overlays: list[str]
    warnings: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------ reading the question


def read_target(value: str | Verdict | None, option: str = "--target") -> Verdict | None:
    if value is None or isinstance(value, Verdict):
        return value
    try:
        return Verdict(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise LoadError(
            [
                Diagnostic(
                    "bad-target",
                    f"`{value}` is not a verdict",
                    SourceSpan(option),
                    "use one of " + ", ".join(v.value for v in Verdict),
                )
            ]
        ) from None


def read_kinds(value: str | Iterable[str] | None, option: str = "--kinds") -> tuple[str, ...]:
    if value is None:
        return KINDS
    words = [w.strip().lower() for w in (value.split(",") if isinstance(value, str) else value) if w.strip()]
    bad = [w for w in words if w not in KINDS]
    if bad or not words:
        raise LoadError(
            [
                Diagnostic(
                    "bad-kinds",
                    f"`{', '.join(bad) or value}` is not a kind of change",
                    SourceSpan(option),
                    "use a comma-separated list of " + ", ".join(KINDS),
                )
            ]
        )
    return tuple(k for k in KINDS if k in words)


def default_target(verdict: Verdict) -> Verdict | None:
    """The next less severe verdict that is not `undetermined` (None below `permitted`).

    >>> default_target(Verdict.restricted).value, default_target(Verdict.undetermined).value
    ('licence_required', 'licence_required')
    >>> default_target(Verdict.permitted) is None
    True
    """
    lower = [v for v in Verdict if v.severity < verdict.severity and v is not Verdict.undetermined]
    return max(lower, key=lambda v: v.severity) if lower else None


# ------------------------------------------------------------------ the space


@dataclass(frozen=True)
class LawChange:
    """One change of the law: disable a rule, add an exception like another's, or withdraw a view."""

    action: str  # disable | exception | withdraw-view
    code: str
    rule: str
    model_code: str = ""
    model: str = ""


@dataclass(frozen=True)
class Dim:
    """One thing that can change, with the values it can take instead of its present one."""

    name: str
    kind: str
    values: tuple[Any, ...]
    group: bool = False  # answers differing only in this value are listed as one, with alternatives
    alone: bool = False  # tried only alone (a different recipient)


Combo = tuple[tuple[int, Any], ...]  # (dimension index, value), sorted by index


def _rule_role(role: str) -> Role | None:
    return {
        "exporter": Role.exporter,
        "regime": Role.exporter,
        "re-exporter": Role.exporter,
        "original-producer": Role.original_producer,
        "licence-origin": Role.licence_origin,
        "component-origin": Role.component_origin,
        "transit": Role.transit,
    }.get(role)


def _facts_read(jf: RuleFile) -> set[str]:
    conds = [r.when for r in jf.rules] + ([jf.binds] if jf.binds is not None else [])
    return {leaf.fact for c in conds for leaf, _ in iter_leaves(c)}


def _named(base: RuleBase, codes: Iterable[str], fact: str) -> set[Any]:
    out: set[Any] = set()
    for code in codes:
        jf = base.jurisdictions.get(code)
        for r in jf.rules if jf else []:
            for leaf, _ in iter_leaves(r.when):
                if leaf.fact == fact and leaf.op != "exists":
                    v = leaf.value
                    out.update(v if isinstance(v, list) else [v])
    return out


def _meaningful(facts: set[str]) -> set[str]:
    """Facts that say what a rule is about, the conflict facts counted as one."""
    return {"conflict" if f in _CONFLICT else f for f in facts if f not in _GENERIC_FACTS}


def _exception_models(base: RuleBase, code: str, rule: Rule) -> list[tuple[str, Rule]]:
    """Rules of other jurisdictions that are exceptions, less severe than ``rule``, to a rule about the same facts."""
    mine = _meaningful({leaf.fact for leaf, _ in iter_leaves(rule.when)})
    if not mine or rule.effect is Effect.as_direct_export:
        return []
    severity = Verdict(rule.effect.value).severity
    out = []
    for k in sorted(base.jurisdictions):
        if k == code:
            continue
        jf = base.jurisdictions[k]
        by_id = {r.id: r for r in jf.rules}
        for e in jf.rules:
            if e.role != rule.role or e.effect is Effect.as_direct_export or e.default:
                continue
            if Verdict(e.effect.value).severity >= severity:
                continue
            targets = [by_id[t] for t in e.exception_to if t in by_id]
            targets += [r for r in jf.rules if e.id in r.yields_to]
            if any(_meaningful({leaf.fact for leaf, _ in iter_leaves(t.when)}) & mine for t in targets):
                out.append((k, e))
    return out


def _recipients(base: RuleBase) -> list[str]:
    """Every state, those with encoded rules first (the likelier partners), each part by name."""
    codes = [c.alpha_2 for c in pycountry.countries]
    return sorted(codes, key=lambda c: (c not in base.jurisdictions, country_name(c)))


def _world_dates(base: RuleBase, countries: set[str]) -> set[dt.date]:
    """The days a world fact about one of ``countries`` can change: the one list timeline and atlas use."""
    return world_change_dates(base, countries)


# ------------------------------------------------------------------ the search


class _Search:
    def __init__(
        self,
        base: RuleBase,
        sc: Scenario,
        target: Verdict,
        kinds: tuple[str, ...],
        max_changes: int,
        smallest_only: bool,
    ) -> None:
        self.base, self.sc, self.target = base, sc, target
        self.kinds, self.max_changes, self.smallest_only = kinds, max_changes, smallest_only
        self.screener = Screener(base)
        self.law_cache: dict[tuple[LawChange, ...], tuple[RuleBase, Screener]] = {(): (base, self.screener)}
        self.original = self.screener.screen(sc)
        self.dims = self._dimensions()
        self.reached: dict[Combo, Screening] = {}
        self.found: list[tuple[Combo, Screening]] = []
        self.failing: dict[str, set[str] | None] = {}  # kind -> rules deciding in every failing set of that kind
        self.sets = self.evaluated = self.skipped = self.contradictory = self.inferred = 0
        self.inert: set[tuple[int, Any]] = set()  # single law changes that change no verdict

    # -- the dimensions

    def _dimensions(self) -> list[Dim]:
        base, sc = self.base, self.sc
        dims: list[Dim] = []
        say = sorted({code for code, _, _ in self.original.jurisdictions if code in base.jurisdictions})
        # states that could get a say through another holder, origin or licensor
        holders = sorted({x for x in _named(base, say, "via") if isinstance(x, str)} - {sc.exporter, sc.recipient})
        producers = sorted(
            {
                code
                for code, jf in base.jurisdictions.items()
                if jf.kind == "state" and any(r.role is Role.original_producer for r in jf.rules)
            }
            | {x for x in _named(base, say, "item.origin") if isinstance(x, str)}
        )
        licensors = sorted(
            {
                code
                for code, jf in base.jurisdictions.items()
                if jf.kind == "state" and any(r.role is Role.licence_origin for r in jf.rules)
            }
            | {x for x in _named(base, say, "item.licence_origin") if isinstance(x, str)}
        )
        relevant = sorted(set(say) | {c for c in holders + producers + licensors if c in base.jurisdictions})
        items = sc.items
        if "transfer" in self.kinds:
            cats = sorted(
                {f"ML{i}" for i in range(1, 23)}
                | {c for c in _named(base, relevant, "item.category") if isinstance(c, str) and c != "ML"}
                | {c for e in base.world.embargoes for c in e.full_for},
                key=_category_key,
            )
            lethal = {self._lethal(it) for it in items}
            dims.append(Dim("item.lethal", "transfer", tuple(v for v in (False, True) if {v} != lethal)))
            now = {it.category for it in items}
            dims.append(Dim("item", "transfer", tuple(c for c in cats if {c} != now), group=True))
            dims.append(Dim("transfer", "transfer", tuple(t for t in TRANSFERS if t != sc.transfer)))
            dims.append(Dim("end_user", "transfer", tuple(u for u in END_USERS if u != sc.end_user)))
            vias: list[tuple[str, ...]] = [()] if sc.via else []
            vias += [(h,) for h in holders if (h,) != tuple(sc.via)]
            dims.append(Dim("via", "transfer", tuple(vias)))
            dims.append(Dim("transit", "transfer", ((),) if sc.transit else ()))
            for name, attr, states in (
                ("item.origin", "origin", producers),
                ("item.licence_origin", "licence_origin", licensors),
            ):
                now_s = {getattr(it, attr) for it in items}
                vals: list[str | None] = [None] if now_s != {None} else []
                vals += [s for s in states if s not in (sc.exporter, sc.recipient) and {s} != now_s]
                dims.append(Dim(name, "transfer", tuple(vals)))
        if "date" in self.kinds:
            countries = {sc.exporter, sc.recipient, *sc.via, *sc.transit, *holders}
            countries |= {x for it in items for x in (it.origin, it.licence_origin) if x}
            days: set[dt.date] = _world_dates(base, countries)
            for code in relevant:
                days |= base.jurisdictions[code].change_dates()
            values = {d for d in days if d > sc.date}
            values |= {d - dt.timedelta(days=1) for d in days if d - dt.timedelta(days=1) < sc.date and d > dt.date.min}
            dims.append(Dim("date", "date", tuple(sorted(values, key=self._date_key))))
        if "world" in self.kinds:
            read: set[str] = set()
            for code in relevant:
                read |= _facts_read(base.jurisdictions[code])
            groups = base.world.group_kinds()
            names = sorted(
                n
                for n in read
                if (spec := fact_spec(n, groups)) is not None and spec.origin in ("derived", "assessment")
            )
            if read & _CONFLICT and CONFLICT_FACTS[0] not in names:
                names.insert(0, CONFLICT_FACTS[0])
            names.sort(key=lambda n: (n not in _CONFLICT, CONFLICT_FACTS.index(n) if n in _CONFLICT else 0, n))
            facts = Facts(sc, items[0], base.world, base.lethality(), base.assume)
            for n in names:
                now_v = facts.value(n)
                dims.append(Dim(n, "world", tuple(v for v in (False, True) if v is not now_v)))
        if "law" in self.kinds:
            seen: set[tuple[str, str]] = set()
            for code, role, _ in self.original.jurisdictions:
                jf = base.jurisdictions.get(code)
                rrole = _rule_role(role)
                if jf is None or rrole is None or (code, role) in seen:
                    continue
                seen.add((code, role))
                for r in jf.rules:
                    if r.role is not rrole:
                        continue
                    if r.effect in (Effect.permitted, Effect.as_direct_export) or (
                        Verdict(r.effect.value).severity > self.target.severity
                    ):
                        # only a rule that can make a verdict worse than the target (or a conflict) matters
                        dims.append(Dim(f"law:{code}:disable:{r.id}", "law", (LawChange("disable", code, r.id),)))
                    if (
                        not r.default
                        and r.effect is not Effect.as_direct_export
                        and Verdict(r.effect.value).severity > self.target.severity
                    ):
                        models = _exception_models(base, code, r)
                        if models:
                            options = tuple(LawChange("exception", code, r.id, k, e.id) for k, e in models)
                            dims.append(Dim(f"law:{code}:exception:{r.id}", "law", options, group=True))
                read = _facts_read(jf)
                for v in jf.views:
                    if v.country == sc.recipient and v.fact in read:
                        dims.append(Dim(f"law:{code}:view:{v.id}", "law", (LawChange("withdraw-view", code, v.id),)))
        if "recipient" in self.kinds:
            taken = {sc.exporter, sc.recipient, *sc.via, *sc.transit}
            dims.append(
                Dim("recipient", "recipient", tuple(c for c in _recipients(base) if c not in taken), True, True)
            )
        unique: dict[str, Dim] = {}
        for d in dims:  # a jurisdiction in two roles with the same rules (exporter and re-exporter) counts once
            if d.values:
                unique.setdefault(d.name, d)
        return list(unique.values())

    def _lethal(self, it: ScenarioItem) -> bool | None:
        if it.lethal is not None:
            return it.lethal
        cat = self.base.category(it.category or "")
        return cat.lethal if cat else None

    def _date_key(self, d: dt.date) -> tuple[int, int]:
        return (0, d.toordinal()) if d > self.sc.date else (1, -d.toordinal())

    # -- applying changes

    def apply(self, combo: Combo) -> tuple[Scenario, tuple[LawChange, ...]]:
        return _changed(self.base, self.sc, [(self.dims[i].name, self.dims[i].kind, v) for i, v in combo])

    def law(self, laws: tuple[LawChange, ...]) -> tuple[RuleBase, Screener]:
        hit = self.law_cache.get(laws)
        if hit is None:
            b = law_base(self.base, laws)
            hit = self.law_cache[laws] = (b, _screener_for(self.screener, b, {c.code for c in laws}))
        return hit

    def screen(self, combo: Combo) -> Screening:
        sc, laws = self.apply(combo)
        return self.law(laws)[1].screen(sc)

    def reaches(self, s: Screening) -> bool:
        return s.verdict.severity <= self.target.severity

    # -- which sets make sense

    def contradicts(self, combo: Combo) -> bool:
        """A set that assumes no armed conflict yet some finer conflict fact, or disables a rule it
        also gives an exception."""
        world = {self.dims[i].name: v for i, v in combo if self.dims[i].kind == "world"}
        if world.get(CONFLICT_FACTS[0]) is False and any(world.get(n) is True for n in CONFLICT_FACTS[1:]):
            return True
        laws = [v for i, v in combo if self.dims[i].kind == "law"]
        disabled = {(c.code, c.rule) for c in laws if c.action == "disable"}
        return any(c.action == "exception" and (c.code, c.rule) in disabled for c in laws)

    # -- the search itself

    def run(self) -> None:
        n = len(self.dims)
        for size in range(1, self.max_changes + 1):
            for idx in itertools.combinations(range(n), size):
                if size > 1 and any(self.dims[i].alone for i in idx):
                    continue
                for values in itertools.product(*(self.dims[i].values for i in idx)):
                    combo: Combo = tuple(zip(idx, values))
                    self.sets += 1
                    if size > 1 and self._has_reaching_subset(combo):
                        self.skipped += 1
                        continue
                    if self.contradicts(combo):
                        self.contradictory += 1
                        continue
                    if size > 1 and self._independent_inert(combo):
                        self.inferred += 1
                        continue
                    res = self.screen(combo)
                    self.evaluated += 1
                    if size == 1 and self.dims[idx[0]].kind == "law":
                        if res == self.original:
                            self.inert.add(combo[0])
                    if self.reaches(res):
                        self.reached[combo] = res
                        self.found.append((combo, res))
                    else:
                        kinds = {self.dims[i].kind for i in idx}
                        if len(kinds) == 1 and res.deciding_rules:
                            k = next(iter(kinds))
                            now = set(res.deciding_rules)
                            prev = self.failing.get(k)
                            self.failing[k] = now if prev is None else prev & now
            if self.smallest_only and self.found:
                break

    def _independent_inert(self, combo: Combo) -> bool:
        """Law changes to different jurisdictions are independent (each judges by its own rules): a set of
        them in which one changes nothing alone gives what the others give, already screened."""
        laws = [(i, v) for i, v in combo if self.dims[i].kind == "law"]
        if len(laws) != len(combo):
            return False
        codes = [v.code for _, v in laws]
        return any(c in self.inert and codes.count(c[1].code) == 1 for c in laws)

    def _has_reaching_subset(self, combo: Combo) -> bool:
        for k in range(1, len(combo)):
            for sub in itertools.combinations(combo, k):
                if sub in self.reached:
                    return True
        return False


def _changed(
    base: RuleBase, sc: Scenario, changes: Sequence[tuple[str, str, Any]]
) -> tuple[Scenario, tuple[LawChange, ...]]:
    """``sc`` with changes (what, kind, value) applied, and the law changes among them (sorted)."""
    items = list(sc.items)
    update: dict[str, Any] = {}
    assume = dict(sc.assume)
    laws: list[LawChange] = []
    for name, kind, v in sorted(changes, key=lambda c: c[0] != "item"):  # the item before its lethality
        if kind == "law":
            laws.append(v)
        elif kind == "world":
            assume[name] = v
        elif name == "item":
            items = [_item_as(base, it, v) for it in items]
        elif name == "item.lethal":
            items = [it.model_copy(update={"lethal": v}) for it in items]
        elif name == "item.origin":
            items = [it.model_copy(update={"origin": v}) for it in items]
        elif name == "item.licence_origin":
            items = [it.model_copy(update={"licence_origin": v}) for it in items]
        elif name in ("via", "transit"):
            update[name] = list(v)
        else:  # transfer, end_user, date, recipient
            update[name] = v
    update["items"] = items
    update["assume"] = assume
    return sc.model_copy(update=update), tuple(sorted(laws, key=dataclasses.astuple))


def _item_as(base: RuleBase, it: ScenarioItem, category: str) -> ScenarioItem:
    """An item of another category, keeping a lethality the transfer stated (not a catalogue entry's)."""
    entry = base.category(category)
    return ScenarioItem.model_validate(
        {
            "name": f"{category} item" + (f" ({entry.title})" if entry else ""),
            "category": category,
            "lethal": it.lethal if it.id is None else None,
            "origin": it.origin,
            "licence": it.licence_origin,
        }
    )


def apply_changes(base: RuleBase, scenario: Scenario, changes: Sequence[Change]) -> tuple[RuleBase, Scenario]:
    """The rulebase and transfer with an answer's changes applied (law changes in memory, as the
    overlay that :func:`overlay_for` writes would apply them)."""
    triples: list[tuple[str, str, Any]] = []
    for c in changes:
        v = c.value
        if c.kind == "law":
            v = LawChange(**v)
        elif c.fact == "date":
            v = dt.date.fromisoformat(v)
        elif c.fact in ("via", "transit"):
            v = tuple(v)
        triples.append((c.fact if c.kind != "law" else "law", c.kind, v))
    sc, laws = _changed(base, scenario, triples)
    return law_base(base, laws), sc


def _screener_for(screener: Screener, base: RuleBase, codes: set[str]) -> Screener:
    """A screener for ``base``, which differs from ``screener``'s rulebase only in the rules of ``codes``:
    the other jurisdictions' compiled rules and the memoised world facts are shared."""
    try:
        s = object.__new__(Screener)
        s.__dict__.update(screener.__dict__)
        groups = base.world.group_kinds()
        s.base = base
        s.compiled = {**screener.compiled, **{c: compile_file(base.jurisdictions[c], groups) for c in codes}}
        s.regimes = [cj for cj in s.compiled.values() if cj.kind == "regime"]
        return s
    except (AttributeError, TypeError):  # pragma: no cover - the screener's layout changed: build it whole
        return Screener(base)


def _category_key(c: str) -> tuple[Any, ...]:
    parts = c[2:].split(".")
    return (int(parts[0]) if parts[0].isdigit() else 99, *parts[1:])


# ------------------------------------------------------------------ law changes as data


def _source_id(model_code: str, sid: str, taken: set[str]) -> str:
    new = f"{model_code.lower()}-{sid}"
    while new in taken:
        new += "-like"
    return new


def exception_rule(base: RuleBase, change: LawChange) -> tuple[Rule, list[Source]]:
    """The rule a law change of action ``exception`` adds, with the sources it cites (renamed)."""
    jf = base.jurisdictions[change.code]
    model_file = base.jurisdictions[change.model_code]
    model = next(r for r in model_file.rules if r.id == change.model)
    taken = {s.id for s in jf.sources}
    renamed: dict[str, str] = {}
    sources: list[Source] = []
    for c in model.citations:
        if c.source in renamed:
            continue
        src = base.source_index.get((change.model_code, c.source))
        new_id = _source_id(change.model_code, c.source, taken)
        taken.add(new_id)
        renamed[c.source] = new_id
        if src is not None:
            sources.append(src.model_copy(update={"id": new_id}))
        else:  # pragma: no cover - the loader checks every citation's source
            sources.append(Source.model_validate({"id": new_id, "title": c.instrument}))
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    for key in ("from", "until", "yields_to", "default", "uncertain"):
        data.pop(key, None)
    data["id"] = f"{change.code.lower()}{_ADDED}like-{change.model.replace('.', '-')}"
    data["title"] = f"Hypothetical: an exception like {change.model_code}'s `{change.model}` ({model.title})"
    data["exception_to"] = [change.rule]
    data["citations"] = [{**c, "source": renamed[c["source"]]} for c in data["citations"]]
    data["explanation"] = (
        f"Written by `policy why-not`: what if {_state(base, change.code)} gave `{change.rule}` an exception "
        f"modelled on {_state(base, change.model_code)}'s `{change.model}`, with the same condition and effect. "
        "The citations are those of the model rule; no such decision exists."
    )
    return Rule.model_validate(data), sources


def _cleaned(rule: Rule, disabled: set[str]) -> Rule | None:
    """``rule`` without relations to disabled rules, or None if it names none."""
    if not (set(rule.exception_to) | set(rule.yields_to)) & disabled:
        return None
    return rule.model_copy(
        update={
            "exception_to": [t for t in rule.exception_to if t not in disabled],
            "yields_to": [t for t in rule.yields_to if t not in disabled],
        }
    )


def law_base(base: RuleBase, laws: Sequence[LawChange]) -> RuleBase:
    """``base`` with the law changes applied in memory (as the overlay from :func:`overlay_for` would)."""
    if not laws:
        return base
    jurisdictions = dict(base.jurisdictions)
    source_index = dict(base.source_index)
    for code in sorted({c.code for c in laws}):
        mine = [c for c in laws if c.code == code]
        jf = jurisdictions[code]
        disabled = {c.rule for c in mine if c.action == "disable"}
        views = {c.rule for c in mine if c.action == "withdraw-view"}
        rules = []
        for r in jf.rules:
            if r.id in disabled:
                continue
            rules.append(_cleaned(r, disabled) or r)
        sources = list(jf.sources)
        for c in mine:
            if c.action == "exception":
                rule, srcs = exception_rule(base, c)
                rules.append(rule)
                for s in srcs:
                    if s.id not in {x.id for x in sources}:
                        sources.append(s)
                        source_index[(code, s.id)] = s
        jurisdictions[code] = jf.model_copy(
            update={"rules": rules, "sources": sources, "views": [v for v in jf.views if v.id not in views]}
        )
    return dataclasses.replace(
        base,
        jurisdictions=jurisdictions,
        source_index=source_index,
        overlays=[*base.overlays, overlay_id(laws)],
    )


def overlay_id(laws: Sequence[LawChange]) -> str:
    parts = []
    for c in laws:
        what = {"disable": "disable", "exception": "exception", "withdraw-view": "withdraw"}[c.action]
        part = f"{c.code.lower()}-{what}-{c.rule}"
        if c.action == "exception":
            part += f"-like-{c.model}"
        parts.append(part)
    return "whynot-" + "-and-".join(parts).replace(".", "-").replace("_", "-").lower()


def overlay_for(base: RuleBase, laws: Sequence[LawChange]) -> dict[str, Any]:
    """The law changes as an overlay file's data (``policy-overlay/v1``), for `what-if --with`."""
    changes: dict[str, dict[str, list[Any]]] = {}
    sources: list[dict[str, Any]] = []
    titles = []
    for code in sorted({c.code for c in laws}):
        mine = [c for c in laws if c.code == code]
        jf = base.jurisdictions[code]
        disabled = {c.rule for c in mine if c.action == "disable"}
        entry: dict[str, list[Any]] = {}
        off = sorted(disabled | {c.rule for c in mine if c.action == "withdraw-view"})
        if off:
            entry["disable"] = off
        replaced = [x for r in jf.rules if r.id not in disabled and (x := _cleaned(r, disabled)) is not None]
        if replaced:
            entry["replace"] = [_rule_data(r) for r in replaced]
        added = []
        for c in mine:
            if c.action == "exception":
                rule, srcs = exception_rule(base, c)
                added.append(_rule_data(rule))
                for s in srcs:
                    if s.id not in {x["id"] for x in sources}:
                        sources.append(s.model_dump(mode="json", by_alias=True, exclude_none=True))
        if added:
            entry["add"] = added
        changes[code] = entry
    for c in laws:
        titles.append(_law_text(base, c))
    data: dict[str, Any] = {
        "format": "policy-overlay/v1",
        "id": overlay_id(laws),
        "title": "What if " + " and ".join(titles),
        "description": "Written by `policy why-not`: a hypothetical change of the law, not a decision anyone took.",
    }
    if sources:
        data["sources"] = sources
    data["changes"] = changes
    return data


def _rule_data(rule: Rule) -> dict[str, Any]:
    return rule.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


# ------------------------------------------------------------------ words


def _state(base: RuleBase, code: str) -> str:
    jf = base.jurisdictions.get(code)
    if jf is not None and jf.kind == "regime":
        return jf.name
    return country_name(code)


_TRANSFER_WORDS = {"sale": "a sale", "donation": "a donation", "loan": "a loan", "re-export": "a re-export"}
_END_USER_WORDS = {
    "government": "the government",
    "military": "the armed forces",
    "police": "the police",
    "private": "a private end user",
    "humanitarian": "a humanitarian organisation",
    "non-state": "a non-state actor",
}
_CONFLICT_WORDS = {
    "recipient.in_armed_conflict": ("{who} were in an armed conflict", "{who} were not in armed conflict"),
    "recipient.war_on_territory": (
        "an armed conflict were fought on {who}'s territory",
        "no armed conflict were fought on {who}'s territory",
    ),
    "recipient.belligerent_in_international_conflict": (
        "{who} were a belligerent in an international armed conflict",
        "{who} were not a belligerent in any international armed conflict",
    ),
    "recipient.in_international_armed_conflict": (
        "{who} were in an international armed conflict",
        "{who} were not in any international armed conflict",
    ),
    "recipient.internal_armed_conflict": (
        "an internal armed conflict were fought in {who}",
        "no internal armed conflict were fought in {who}",
    ),
    "recipient.intervening_abroad": ("{who} were fighting abroad", "{who} were not fighting abroad"),
    "recipient.self_defence": (
        "{who} were acting in self-defence (UN Charter Art. 51)",
        "{who} were not acting in self-defence",
    ),
}


def _world_text(base: RuleBase, name: str, value: bool, sc: Scenario) -> str:
    party = name.split(".")[0]
    who = country_name(sc.exporter if party == "exporter" else sc.recipient)
    if name in _CONFLICT_WORDS:
        return _CONFLICT_WORDS[name][0 if value else 1].format(who=who)
    parts = name.split(".")
    group = base.world.groups.get(parts[2]) if len(parts) == 3 else None
    called = f"the {group.name} ({parts[-1]})" if group is not None and group.name != parts[-1] else parts[-1]
    if len(parts) == 3 and parts[1] == "member_of":
        return f"{who} were {'' if value else 'not '}a member of {called}"
    if len(parts) == 3 and parts[1] == "party_to":
        return f"{who} were {'' if value else 'not '}a party to {called}"
    if len(parts) == 3 and parts[1] == "under_embargo":
        return f"{'a' if value else 'no'} {parts[2]} arms embargo covered {who}"
    spec = STATIC_FACTS.get(name)
    what = f" ({spec.description})" if spec else ""
    return f"`{name}` were {'true' if value else 'false'}{what}"


def _law_text(base: RuleBase, c: LawChange, like: str | None = None) -> str:
    jf = base.jurisdictions.get(c.code)
    regime = jf is not None and jf.kind == "regime"
    who = _state(base, c.code)
    if c.action == "disable":
        return f"`{c.rule}` ({who}) no longer applied" if regime else f"{who} dropped `{c.rule}`"
    if c.action == "exception":
        model = like or f"{c.model_code}'s `{c.model}`"
        if regime:
            return f"`{c.rule}` ({who}) had an exception like {model}"
        return f"{who} adopted an exception to `{c.rule}` like {model}"
    return f"{who} withdrew its view `{c.rule}`"


def _option(name: str, value: Any) -> str:
    if name == "item.lethal":
        return "--lethal" if value else "--non-lethal"
    if name == "item":
        return f"--item {value}"
    if name == "transfer":
        return f"--transfer {value}"
    if name == "end_user":
        return f"--end-user {value}"
    if name == "via":
        return " ".join(f"--via {v}" for v in value) or "(no --via)"
    if name == "transit":
        return "(no --transit)"
    if name == "item.origin":
        return f"--origin {value}" if value else "(no --origin)"
    if name == "item.licence_origin":
        return f"--licence {value}" if value else "(no --licence)"
    if name == "date":
        return f"--date {value.isoformat()}"
    if name == "recipient":
        return f"--recipient {value}"
    return f"--assume {name}={json.dumps(value)}"


def _change(base: RuleBase, sc: Scenario, dim: Dim, value: Any) -> Change:
    name = dim.name
    if dim.kind == "law":
        c: LawChange = value
        jf = base.jurisdictions[c.code]
        if c.action == "withdraw-view":
            binding, who = None, VIEW_CHANGE
        else:
            rule = next(r for r in jf.rules if r.id == c.rule)
            binding, who = rule.binding.value, WHO_CAN_CHANGE[rule.binding]
        return Change(
            kind="law",
            fact="law",
            value=dataclasses.asdict(c),
            text=f"{_law_text(base, c)} ({who})",
            option="--with OVERLAY (see --emit-overlay)",
            action=c.action,
            jurisdiction=c.code,
            rule=c.rule,
            like=c.model or None,
            binding=binding,
            who_can_change=who,
        )
    if dim.kind == "world":
        text = _world_text(base, name, value, sc)
        shown: Any = value
    elif name == "date":
        text = (
            f"it took place on {value} (the earliest such date after {sc.date})"
            if value > sc.date
            else f"it had taken place on {value} (the latest such date before {sc.date})"
        )
        shown = value.isoformat()
    elif name == "recipient":
        text = f"the recipient were {country_name(value)} ({value}) instead"
        shown = value
    else:
        text, shown = _transfer_text(base, sc, name, value), value
        if isinstance(value, tuple):
            shown = list(value)
    return Change(kind=dim.kind, fact=name, value=shown, text=text, option=_option(name, value))


def _transfer_text(base: RuleBase, sc: Scenario, name: str, value: Any) -> str:
    if name == "item.lethal":
        return "the item were lethal" if value else "the item were non-lethal"
    if name == "item":
        entry = base.category(value)
        kind = "" if entry is None else f", {entry.title}" + ("" if entry.lethal else ", non-lethal by default")
        return f"the item were of category {value}{kind}"
    if name == "transfer":
        return f"it were {_TRANSFER_WORDS.get(value, value)}"
    if name == "end_user":
        return f"the end user were {_END_USER_WORDS.get(value, value)}"
    if name == "via":
        if not value:
            return "it went directly, not through " + ", ".join(country_name(v) for v in sc.via)
        return "it went through " + ", ".join(country_name(v) for v in value) + " (as intermediate holder)"
    if name == "transit":
        return "it did not cross " + ", ".join(country_name(v) for v in sc.transit)
    if name == "item.origin":
        return f"the item had been produced in {country_name(value)}" if value else "the item were the exporter's own"
    if name == "item.licence_origin":
        return (
            f"the item were made under licence from {country_name(value)}"
            if value
            else "the item were not made under another state's licence"
        )
    return f"{name} were {value}"  # pragma: no cover


_VERDICT_PHRASE = {
    Verdict.permitted: "would raise no objection",
    Verdict.licence_required: "could license it",
    Verdict.undetermined: "would leave it undetermined",
    Verdict.restricted: "would restrict it (licences only exceptionally)",
    Verdict.prohibited: "would prohibit it",
}


# ------------------------------------------------------------------ explanation


def _citations(base: RuleBase, code: str, rule: Rule) -> list[CitationRef]:
    out = []
    for c in rule.citations:
        src = base.source_index.get((code, c.source))
        out.append(
            CitationRef(
                instrument=c.instrument,
                article=c.article,
                title=src.title if src else None,
                url=c.url or (src.url if src else None),
                seed=src.seed if src else None,
                quote=c.quote,
            )
        )
    return out


def _rule_ref(base: RuleBase, code: str, rule: Rule, effect: Verdict | None = None) -> RuleRef:
    return RuleRef(
        id=rule.id,
        jurisdiction=code,
        title=rule.title,
        effect=(effect.value if effect else rule.effect.value),
        binding=rule.binding.value,
        binding_text=BINDING_WORDS[rule.binding],
        who_can_change=WHO_CAN_CHANGE[rule.binding],
        hypothetical=_ADDED in rule.id,
        citations=_citations(base, code, rule),
    )


def _deciding(base: RuleBase, d: Decision) -> tuple[list[RuleRef], list[str]]:
    """The rules that decide a decision (exporter first), and the deciding jurisdictions' reasons."""
    refs: list[RuleRef] = []
    reasons: list[str] = []
    seen: set[str] = set()
    for jv in sorted(d.deciding, key=lambda j: j.role is not Role.exporter):
        reasons.append(f"{jv.jurisdiction} [{jv.role.value}]: {jv.reason}")
        for f in jv.findings:
            live = f.status == "fired" and (f.effect_verdict or Verdict(f.rule.effect.value)) == jv.verdict
            if (live or f.status == "conflict") and f.rule.id not in seen:
                seen.add(f.rule.id)
                refs.append(_rule_ref(base, jv.jurisdiction, f.rule, f.effect_verdict))
    return refs, reasons


def _facts_of_rules(d: Decision, rule_ids: set[str]) -> list[str]:
    out: list[str] = []
    todo: list[JurisdictionVerdict] = list(d.jurisdictions)
    while todo:
        jv = todo.pop(0)
        for f in jv.findings:
            if f.nested is not None:
                todo.append(f.nested)
            if f.rule.id not in rule_ids:
                continue
            for leaf in f.trace:
                fv = jv.facts.get(leaf.fact)
                if fv is None or fv.origin not in ("derived", "view", "assumed"):
                    continue
                line = f"{leaf.fact} = {json.dumps(fv.to_json()['value'])} ({fv.basis})"
                if line not in out:
                    out.append(line)
    return out


# ------------------------------------------------------------------ from a scenario back to `what-if` arguments


def what_if_args(sc: Scenario) -> list[str] | None:
    """`policy what-if` arguments that ask for ``sc``, or None where the options cannot say it
    (components, items differing in origin or lethality)."""
    items = sc.items
    if any(it.components for it in items):
        return None
    if len({it.origin for it in items}) > 1 or len({it.licence_origin for it in items}) > 1:
        return None
    lethal = {it.lethal for it in items}
    if len(lethal) > 1:
        return None
    args = ["--exporter", sc.exporter, "--recipient", sc.recipient]
    for it in items:
        args += ["--item", it.id or it.category or ""]
    args += ["--date", sc.date.isoformat()]
    flag = next(iter(lethal))
    if flag is not None:
        args.append("--lethal" if flag else "--non-lethal")
    if sc.end_user != "military":
        args += ["--end-user", sc.end_user]
    if sc.transfer != "sale":
        args += ["--transfer", sc.transfer]
    if items[0].origin:
        args += ["--origin", items[0].origin]
    if items[0].licence_origin:
        args += ["--licence", items[0].licence_origin]
    for v in sc.via:
        args += ["--via", v]
    for t in sc.transit:
        args += ["--transit", t]
    for k, v in sc.assume.items():
        shown = v.isoformat() if isinstance(v, dt.date) else json.dumps(v) if not isinstance(v, str) else v
        args += ["--assume", f"{k}={shown}"]
    return args


# ------------------------------------------------------------------ the answer


def why_not(
    base: RuleBase,
    scenario: Scenario,
    target: Verdict | str | None = None,
    max_changes: int = 2,
    kinds: Iterable[str] | str | None = None,
    what_if_prefix: Sequence[str] = (),
    smallest_only: bool = False,
) -> WhyNot:
    """The minimal sets of changes (within ``max_changes``) that give ``target`` or a less severe verdict.

    ``what_if_prefix``: arguments put before each answer's `what-if` arguments (``--rules``,
    ``--with`` for the overlays ``base`` was built with). ``smallest_only`` stops at the first size
    that has an answer (for a matrix).
    """
    if not 1 <= max_changes <= MAX_CHANGES:
        raise WhyNotError(f"--max-changes must be between 1 and {MAX_CHANGES}, not {max_changes}")
    kinds_t = read_kinds(kinds)
    tgt = read_target(target)
    decision = evaluate(base, scenario)
    now = decision.verdict
    deciding, _ = _deciding(base, decision)
    if tgt is None:
        tgt = default_target(now)
    transfer = _transfer_json(scenario)
    if tgt is None or now.severity <= tgt.severity:
        shown = tgt or now
        return WhyNot(
            transfer=transfer,
            verdict=now,
            deciding=deciding,
            target=shown,
            already=True,
            answers=[],
            blocked=[],
            summary=(
                f"The verdict is already `{now.value}`"
                + (f", as good as `{shown.value}` or better" if tgt is not None else ", the least severe")
                + ": nothing needs to change."
            ),
            searched=Searched(
                max_changes=max_changes,
                kinds=list(kinds_t),
                dimensions=[],
                sets=0,
                evaluated=0,
                skipped=0,
                contradictory=0,
                exhaustive=True,
                note="nothing to search",
            ),
            overlays=list(base.overlays),
        )
    search = _Search(base, scenario, tgt, kinds_t, max_changes, smallest_only)
    search.run()
    warnings: list[str] = []
    found = _keep_dates(search, search.found)
    found = _prefer_summary(search, found)
    found.sort(key=lambda cr: _order(search, cr[0]))
    answers = _answers(search, found, list(what_if_prefix), warnings)
    blocked = _blocked(search, decision, answers)
    return WhyNot(
        transfer=transfer,
        verdict=now,
        deciding=deciding,
        target=tgt,
        already=False,
        answers=answers,
        blocked=blocked,
        summary=_summary(base, scenario, tgt, answers, max_changes),
        searched=_searched(search),
        overlays=list(base.overlays),
        warnings=warnings,
    )


def _transfer_json(sc: Scenario) -> dict[str, Any]:
    return {
        "title": sc.title,
        "date": sc.date.isoformat(),
        "exporter": sc.exporter,
        "recipient": sc.recipient,
        "end_user": sc.end_user,
        "transfer": sc.transfer,
        "items": [i.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True) for i in sc.items],
        "via": list(sc.via),
        "transit": list(sc.transit),
        "assume": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in sc.assume.items()},
    }


def _keep_dates(s: _Search, found: list[tuple[Combo, Screening]]) -> list[tuple[Combo, Screening]]:
    """Of the sets that change the date, only the earliest date after the given one and the latest before."""
    best: dict[tuple[Combo, bool], tuple[dt.date, Combo]] = {}
    for combo, _ in found:
        day = next((v for i, v in combo if s.dims[i].name == "date"), None)
        if day is None:
            continue
        rest = tuple((i, v) for i, v in combo if s.dims[i].name != "date")
        after = day > s.sc.date
        key = (rest, after)
        prev = best.get(key)
        if prev is None or (day < prev[0] if after else day > prev[0]):
            best[key] = (day, combo)
    keep = {c for _, c in best.values()}
    return [(c, r) for c, r in found if c in keep or all(s.dims[i].name != "date" for i, _ in c)]


def _prefer_summary(s: _Search, found: list[tuple[Combo, Screening]]) -> list[tuple[Combo, Screening]]:
    """Drop a set assuming finer conflict facts false where the summary fact alone does the same."""
    summary = next((i for i, d in enumerate(s.dims) if d.name == CONFLICT_FACTS[0]), None)
    if summary is None:
        return found
    results = {c: r for c, r in found}
    out = []
    for combo, res in found:
        finer = [(i, v) for i, v in combo if s.dims[i].name in CONFLICT_FACTS[1:] and v is False]
        if finer:
            rest = [(i, v) for i, v in combo if (i, v) not in finer]
            reduced = set(rest) | {(summary, False)}
            if any(
                (summary, False) in c
                and set(c) <= reduced
                and r.verdict == res.verdict
                and r.deciding_rules == res.deciding_rules
                for c, r in results.items()
            ):
                continue
        out.append((combo, res))
    return out


def _order(s: _Search, combo: Combo) -> tuple[Any, ...]:
    ranks = sorted(KINDS.index(s.dims[i].kind) for i, _ in combo)
    return (len(combo), ranks, [(i, _value_key(s, i, v)) for i, v in combo])


def _value_key(s: _Search, i: int, v: Any) -> Any:
    d = s.dims[i]
    if d.name == "date":
        return s._date_key(v)
    return d.values.index(v)


def _norm(rules: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted("<added>" if _ADDED in r else r for r in rules))


def _answers(s: _Search, found: list[tuple[Combo, Screening]], prefix: list[str], warnings: list[str]) -> list[Answer]:
    groups: dict[Any, list[tuple[Combo, Screening]]] = {}
    order: list[Any] = []
    for combo, res in found:
        g = next((i for i, _ in combo if s.dims[i].group), None)
        fixed = tuple((i, v) for i, v in combo if i != g)
        key = (g, fixed, res.verdict, _norm(res.deciding_rules))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((combo, res))
    answers = []
    for key in order:
        alts: list[Alternative] = []
        first: tuple[Combo, Decision, RuleBase] | None = None
        for combo, res in groups[key]:
            sc2, laws = s.apply(combo)
            lb = s.law(laws)[0]
            dec = evaluate(lb, sc2)
            ok = dec.verdict == res.verdict
            if not ok:  # pragma: no cover - the screener and the engine agree (tests check it)
                warnings.append(
                    f"dropped {_combo_text(s, combo)}: screened {res.verdict.value}, explained {dec.verdict.value}"
                )
                continue
            args = what_if_args(sc2)
            alt = Alternative(
                changes=[_change(s.base, s.sc, s.dims[i], v) for i, v in combo],
                verdict=dec.verdict,
                deciding=sorted(res.deciding_rules),
                confirmed=True,
                what_if=None if args is None else prefix + args,
                overlay=overlay_for(s.base, laws) if laws else None,
            )
            alt._scenario = sc2
            alts.append(alt)
            if first is None:
                first = (combo, dec, lb)
        if first is None:  # pragma: no cover
            continue
        combo, dec, lb = first
        refs, reasons = _deciding(lb, dec)
        changes = alts[0].changes
        answers.append(
            Answer(
                size=len(combo),
                kinds=sorted({c.kind for c in changes}, key=KINDS.index),
                changes=changes,
                verdict=dec.verdict,
                deciding=refs,
                reasons=reasons,
                sentence=_sentence(s, alts, dec.verdict, refs),
                alternatives=alts,
            )
        )
    return answers


def _combo_text(s: _Search, combo: Combo) -> str:
    return " and ".join(_change(s.base, s.sc, s.dims[i], v).text for i, v in combo)


def _alt_words(base: RuleBase, alts: list[Alternative], limit: int = 6) -> str:
    """The varying change of several alternatives, e.g. `the recipient were one of: A, B (and 3 more)`."""
    first = alts[0].changes
    varying = [i for i, c in enumerate(first) if any(a.changes[i].value != c.value for a in alts[1:])]
    if not varying:
        return " and ".join(c.text for c in first)
    k = varying[0]
    fixed = [c.text for i, c in enumerate(first) if i != k]
    ch = first[k]
    if ch.kind == "recipient":
        vals = [country_name(a.changes[k].value) for a in alts]
        head = "the recipient were another state instead: "
    elif ch.fact == "item":
        vals = [a.changes[k].value for a in alts]
        head = "the item were of another category: "
    elif ch.kind == "law" and ch.action == "exception":
        models = [f"{a.changes[k].value['model_code']}'s `{a.changes[k].like}`" for a in alts]
        shown = ", ".join(models[:limit]) + (f" (and {len(models) - limit} more)" if len(models) > limit else "")
        law = LawChange(**ch.value)
        return " and ".join(fixed + [f"{_law_text(base, law, 'one of ' + shown)} ({ch.who_can_change})"])
    else:
        vals = [str(a.changes[k].value) for a in alts]
        head = f"{ch.fact} were one of: "
    shown = ", ".join(vals[:limit]) + (f" (and {len(vals) - limit} more)" if len(vals) > limit else "")
    return " and ".join(fixed + [head + shown])


def _sentence(s: _Search, alts: list[Alternative], verdict: Verdict, refs: list[RuleRef]) -> str:
    who = country_name(s.sc.exporter)
    cond = _alt_words(s.base, alts) if len(alts) > 1 else " and ".join(c.text for c in alts[0].changes)
    marks = "".join(f" [{KIND_WORDS[c.kind]}]" for c in alts[0].changes if c.kind in ("world", "law"))
    lead = refs[0] if refs else None
    by = f": decided by `{lead.id}` ({lead.who_can_change.split(':')[0]})" if lead else ""
    return f"{who} {_VERDICT_PHRASE[verdict]} (`{verdict.value}`) if {cond}{marks}{by}"


def _blocked(s: _Search, decision: Decision, answers: list[Answer]) -> list[Blocked]:
    """Each kind searched that reaches nothing alone, with the rules in its way."""
    out: list[Blocked] = []
    have = {a.kinds[0] for a in answers if len(a.kinds) == 1}
    now = {r.id for r in _deciding(s.base, decision)[0]}
    searched = {d.kind for d in s.dims}
    scope = {
        "transfer": "No change to the transfer itself (item, lethality, kind of transfer, end user, holders, "
        "transit, origin, licensor)",
        "date": "No other date",
        "world": "No fact of the world assumed otherwise",
        "law": "No change of the law of the jurisdictions with a say",
        "recipient": "No other recipient",
    }
    bound = "alone" if s.max_changes == 1 else f"alone or up to {s.max_changes} at once"
    for kind in s.kinds:
        if kind in have:
            continue
        if kind not in searched:
            continue
        stuck = s.failing.get(kind) or set()
        ids = stuck or now
        refs = []
        for code, r in s.base.all_rules():
            if r.id in ids:
                refs.append(_rule_ref(s.base, code, r))
        facts = _facts_of_rules(decision, ids)
        why = "; ".join(f"`{r.id}` ({r.jurisdiction}: {r.who_can_change})" for r in refs)
        text = f"{scope[kind]}, {'alone' if kind == 'recipient' else bound}, gives `{s.target.value}` or less"
        if why:
            text += f": in the way {'in every case ' if stuck else ''}" + why
        if facts:
            text += ", on " + "; ".join(facts)
        out.append(Blocked(kind=kind, text=text + ".", rules=refs, facts=facts))
    return out


def _summary(base: RuleBase, sc: Scenario, target: Verdict, answers: list[Answer], bound: int) -> str:
    if not answers:
        return (
            f"Nothing within {bound} change{'s' if bound != 1 else ''} gives `{target.value}` or a less severe verdict."
        )
    size = answers[0].size
    parts = []
    for a in answers:
        if a.size != size:
            break
        cond = (
            _alt_words(base, a.alternatives, 3) if len(a.alternatives) > 1 else " and ".join(c.text for c in a.changes)
        )
        lead = f" (`{a.deciding[0].id}`)" if a.deciding else ""
        marks = "".join(f" [{KIND_WORDS[c.kind]}]" for c in a.changes if c.kind in ("world", "law"))
        parts.append(f"if {cond}{marks}{lead}")
    n = "one change" if size == 1 else f"{size} changes"
    return (
        f"With {n}, {country_name(sc.exporter)}'s transfer would give `{target.value}` or less "
        + ", or ".join(parts)
        + "."
    )


def _searched(s: _Search) -> Searched:
    dims = [{"fact": d.name, "kind": d.kind, "values": len(d.values)} for d in s.dims]
    kinds = sorted({d.kind for d in s.dims}, key=KINDS.index)
    note = (
        f"every set of up to {s.max_changes} change{'s' if s.max_changes != 1 else ''} over {len(s.dims)} "
        f"things that can change ({sum(len(d.values) for d in s.dims)} values; kinds: {', '.join(kinds)}) "
        f"was considered: {s.sets:,} sets, {s.evaluated:,} screened, {s.skipped:,} skipped as they contain a "
        f"smaller set that already gives the target, {s.contradictory:,} contradictory"
        + (
            f", {s.inferred:,} known without screening (law changes to different jurisdictions, one of which "
            "changes nothing alone)"
            if s.inferred
            else ""
        )
    )
    if s.smallest_only and s.found:
        note += f"; the search stopped at the smallest size with an answer ({len(s.found[0][0])})"
    extras = []
    if any(d.name == "recipient" for d in s.dims):
        extras.append("another recipient is tried alone")
    if any(d.name == "date" for d in s.dims):
        extras.append("dates are the days on which a rule or world entry bearing on the transfer changes")
    if any(d.kind == "law" for d in s.dims):
        extras.append(
            "law changes are to the rules of the jurisdictions with a say; exceptions are modelled on "
            "other jurisdictions' exceptions to rules about the same facts"
        )
    if extras:
        note += "; " + "; ".join(extras)
    return Searched(
        max_changes=s.max_changes,
        kinds=list(s.kinds),
        dimensions=dims,
        sets=s.sets,
        evaluated=s.evaluated,
        skipped=s.skipped,
        contradictory=s.contradictory,
        inferred=s.inferred,
        exhaustive=not (s.smallest_only and s.found),
        note=note + ".",
    )


# ------------------------------------------------------------------ overlays written out


def emit_overlays(result: WhyNot, base: RuleBase, folder: str) -> list[str]:
    """Write each law answer's overlay into ``folder`` and check it: loaded as `what-if --with` loads it,
    it gives the verdict the answer claims. Returns the files written; sets each alternative's
    ``overlay_file`` and adds ``--with FILE`` to its `what-if` arguments."""
    import yaml

    from policy.load.atomic import output_folder, write_text
    from policy.load.overlays import apply_overlay

    output_folder(folder)
    written: list[str] = []
    for a in result.answers:
        for alt in a.alternatives:
            if alt.overlay is None:
                continue
            oid = alt.overlay["id"]
            if len(oid) > 120:  # long ids (two law changes) keep a readable start and a digest of the rest
                oid = oid[:100] + "-" + hashlib.sha256(oid.encode()).hexdigest()[:10]
            path = str(Path(folder) / f"{oid}.yaml")
            text = "# Written by `policy why-not`; use with `policy what-if --with`.\n" + yaml.safe_dump(
                alt.overlay, sort_keys=False, allow_unicode=True, width=100
            )
            write_text(path, text)
            written.append(path)
            alt.overlay_file = path
            if alt.what_if is not None:
                alt.what_if = alt.what_if + ["--with", path]
            got = evaluate(apply_overlay(base, path), alt._scenario).verdict
            if got != alt.verdict:  # pragma: no cover - law_base and the overlay mean the same
                raise WhyNotError(f"{path}: the overlay gives {got.value}, not {alt.verdict.value}")
    return written


# ------------------------------------------------------------------ a matrix: what stands in the way, per cell


class MatrixCell(BaseModel):
    exporter: str
    recipient: str
    verdict: Verdict
    target: Verdict | None
    deciding: list[str]
    smallest: list[Answer] = Field(default_factory=list, description="the answers of the smallest size")
    size: int | None = None
    note: str = ""


class WhyNotMatrix(BaseModel):
    date: str
    item: str
    max_changes: int
    kinds: list[str]
    cells: list[MatrixCell]


def why_not_matrix(
    base: RuleBase,
    scenarios: Sequence[Scenario],
    item: str,
    max_changes: int = 2,
    kinds: Iterable[str] | str | None = ("transfer", "date", "world", "law"),
    what_if_prefix: Sequence[str] = (),
) -> WhyNotMatrix:
    """For each transfer that is `restricted` or `prohibited`, the smallest changes that lift it one step."""
    kinds_t = read_kinds(kinds)
    screener = Screener(base)
    cells = []
    for sc in scenarios:
        res = screener.screen(sc)
        cell = MatrixCell(
            exporter=sc.exporter,
            recipient=sc.recipient,
            verdict=res.verdict,
            target=None,
            deciding=list(res.deciding_rules),
        )
        if res.verdict in (Verdict.restricted, Verdict.prohibited):
            w = why_not(base, sc, None, max_changes, kinds_t, what_if_prefix, smallest_only=True)
            cell.target = w.target
            cell.smallest = w.answers
            cell.size = w.answers[0].size if w.answers else None
            cell.note = w.summary if w.answers else (w.blocked[0].text if w.blocked else w.summary)
        cells.append(cell)
    day = scenarios[0].date.isoformat() if scenarios else ""
    return WhyNotMatrix(date=day, item=item, max_changes=max_changes, kinds=list(kinds_t), cells=cells)


__all__ = [
    "WhyNot",
    "WhyNotMatrix",
    "Answer",
    "Change",
    "why_not",
    "why_not_matrix",
    "emit_overlays",
    "apply_changes",
    "what_if_args",
    "default_target",
]

"""Policy diff: what changes between two versions of the rules (or two dates), and which transfers flip.

Three parts, as an analyst needs them:
- *rules*: rules added, removed and changed field by field, per jurisdiction; world-data changes
  listed apart, so a change of law is never mistaken for a change of facts;
- *scenarios*: every library scenario whose verdict changes, with the rules responsible;
- *exhaustive*: for each jurisdiction whose rules differ, every combination of the facts its
  rules test (values taken from the rules themselves, dates cut where rules start or stop) is
  evaluated on both sides; the combinations that change are merged into short regions.

Over 500 lines because the three comparisons a diff report makes (rules and world entries, the
exhaustive grid, the real pairs in the world as it was) share their fact dimensions, their
judging of one side and their region words; the timeline, the same judging over dates, ends it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from policy.eval.changes import change_dates, change_events
from policy.eval.columnar import Column, distinct_rows, rule_states
from policy.eval.compiled import CompiledJurisdiction, FactBuilder, compile_file, judge
from policy.eval.core import claims_say_in
from policy.eval.engine import Decision, evaluate
from policy.model import Role, RuleFile, Scenario, Verdict, iter_leaves
from policy.model.facts import fact_spec
from policy.model.rulebase import RuleBase

OTHER = "*"
"""Stands for 'any value the rules do not name' in a dimension."""
NO_SAY = "no say"


@dataclass
class Side:
    """One side of a diff: a rulebase, and optionally a fixed evaluation date (``--at``/``--vs``)."""

    label: str
    base: RuleBase
    date: dt.date | None = None


@dataclass
class RuleChange:
    jurisdiction: str
    rule: str
    change: str  # added | removed | changed
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    title: str = ""
    effect: str = ""  # the new effect (the old one for a removed rule)
    binding: str = ""
    period: str = ""  # "from 2022-02-26", "from 2014-12-24 until 2022-02-23", "" (always)
    citation: dict[str, Any] | None = None  # the first: instrument, article, url
    direction: str = "none"  # tightening | loosening | mixed | none (no verdict changes anywhere)
    in_force: bool = False  # a date diff: added means "came into force", removed "ceased to be in force"


@dataclass
class WorldChange:
    dataset: str  # group NATO | conflicts | embargoes
    entry: str
    change: str
    detail: str = ""


@dataclass
class ScenarioChange:
    scenario: str
    title: str
    old: Verdict
    new: Verdict
    old_rules: list[str]
    new_rules: list[str]


@dataclass
class DiffReport:
    old: str
    new: str
    rule_changes: list[RuleChange]
    world_changes: list[WorldChange]
    scenario_changes: list[ScenarioChange]
    scenarios_checked: int
    regions: list["Region"]
    combinations: int
    jurisdictions_enumerated: list[str]
    space: str = "world"
    grounded: list["GroundedRow"] = field(default_factory=list)
    grounded_checked: int = 0
    grounded_dates: tuple[dt.date, dt.date] | None = None
    dated: bool = False  # the sides are two dates (--at/--vs), not two versions of the rules

    @property
    def changed(self) -> bool:
        return bool(self.scenario_changes or self.regions)


# ------------------------------------------------------------------ rules and world


RULE_FIELDS = ("title", "effect", "binding", "role", "default", "from", "until", "when", "exception_to", "citations")


def _rules_at(jf: RuleFile | None, day: dt.date | None) -> dict[str, dict[str, Any]]:
    if jf is None:
        return {}
    return {
        r.id: r.model_dump(mode="json", by_alias=True, exclude_none=True)
        for r in jf.rules
        if day is None or r.in_force(day)
    }


def rule_changes(old: Side, new: Side) -> list[RuleChange]:
    out: list[RuleChange] = []
    codes = sorted(set(old.base.jurisdictions) | set(new.base.jurisdictions))
    dated = old.date is not None and new.date is not None
    for code in codes:
        a = _rules_at(old.base.jurisdictions.get(code), old.date)
        b = _rules_at(new.base.jurisdictions.get(code), new.date)
        for rid in sorted(set(a) | set(b)):
            if rid not in a:
                change = RuleChange(code, rid, "added")
            elif rid not in b:
                change = RuleChange(code, rid, "removed")
            else:
                fields = {k: (a[rid].get(k), b[rid].get(k)) for k in RULE_FIELDS if a[rid].get(k) != b[rid].get(k)}
                if not fields:
                    continue
                change = RuleChange(code, rid, "changed", fields)
            side = new if rid in b else old
            _describe_rule(change, side.base, code, rid)
            change.in_force = dated
            out.append(change)
    return out


def _describe_rule(change: RuleChange, base: RuleBase, code: str, rid: str) -> None:
    """Title, effect, binding, period and first citation of the rule, for people."""
    from policy.model import BINDING_WORDS

    jf = base.jurisdictions[code]
    rule = next(r for r in jf.rules if r.id == rid)
    change.title = rule.title
    change.effect = rule.effect.value
    change.binding = BINDING_WORDS[rule.binding]
    change.period = " ".join(
        x for x in (f"from {rule.from_}" if rule.from_ else "", f"until {rule.until}" if rule.until else "") if x
    )
    if rule.citations:
        c = rule.citations[0]
        src = base.source_index.get((code, c.source))
        change.citation = {
            "instrument": c.instrument,
            "article": c.article,
            "url": c.url or (src.url if src else None),
        }


def _rule_directions(changes: list[RuleChange], regions: list["Region"], rows: list["GroundedRow"]) -> None:
    """Each changed rule tightens or loosens as the regions it decides do (exhaustive, so a rule that
    decides no changed region changes no verdict)."""
    for c in changes:
        dirs = {
            g.direction for g in regions if g.jurisdiction == c.jurisdiction and c.rule in (*g.old_rules, *g.new_rules)
        }
        if not dirs:
            dirs = {
                k.direction
                for g in rows
                if g.jurisdiction == c.jurisdiction
                for k in g.clauses
                if c.rule in (*k.old_rules, *k.new_rules)
            }
        c.direction = "none" if not dirs else dirs.pop() if len(dirs) == 1 else "mixed"


def world_changes(old: Side, new: Side) -> list[WorldChange]:
    out: list[WorldChange] = []
    wo, wn = old.base.world, new.base.world
    if old.date is not None and new.date is not None:
        return _world_changes_between(wo, old.date, new.date)
    for gid in sorted(set(wo.groups) | set(wn.groups)):
        ma = {(m.country, str(m.from_), str(m.until)) for m in (wo.groups[gid].members if gid in wo.groups else [])}
        mb = {(m.country, str(m.from_), str(m.until)) for m in (wn.groups[gid].members if gid in wn.groups else [])}
        for c, f, u in sorted(mb - ma):
            out.append(WorldChange(f"group {gid}", c, "added", f"member from {f} until {u}"))
        for c, f, u in sorted(ma - mb):
            out.append(WorldChange(f"group {gid}", c, "removed", f"member from {f} until {u}"))
    for name in ("conflicts", "embargoes"):
        a = {e.id: e.model_dump(mode="json", by_alias=True) for e in getattr(wo, name)}
        b = {e.id: e.model_dump(mode="json", by_alias=True) for e in getattr(wn, name)}
        for eid in sorted(set(a) | set(b)):
            if eid not in a:
                out.append(WorldChange(name, eid, "added", b[eid].get("name") or b[eid].get("instrument", "")))
            elif eid not in b:
                out.append(WorldChange(name, eid, "removed"))
            elif a[eid] != b[eid]:
                keys = sorted(k for k in set(a[eid]) | set(b[eid]) if a[eid].get(k) != b[eid].get(k))
                out.append(WorldChange(name, eid, "changed", ", ".join(keys)))
    return out


def _world_changes_between(w: Any, d1: dt.date, d2: dt.date) -> list[WorldChange]:
    lo, hi = min(d1, d2), max(d1, d2)
    out = []

    def starts(x: dt.date | None) -> bool:
        return x is not None and lo < x <= hi

    def ends(x: dt.date | None) -> bool:
        return x is not None and lo <= x < hi

    for gid, g in sorted(w.groups.items()):
        for m in g.members:
            if starts(m.from_):
                out.append(WorldChange(f"group {gid}", m.country, "joined", str(m.from_)))
            if ends(m.until):
                out.append(WorldChange(f"group {gid}", m.country, "left", str(m.until)))
    for name in ("conflicts", "embargoes"):
        for e in getattr(w, name):
            if starts(e.from_):
                out.append(WorldChange(name, e.id, "began", str(e.from_)))
            if ends(e.until):
                out.append(WorldChange(name, e.id, "ended", str(e.until)))
    return out


# ------------------------------------------------------------------ scenarios


def scenario_changes(old: Side, new: Side, scenarios: list[Scenario]) -> list[ScenarioChange]:
    out = []
    for sc in scenarios:
        a = evaluate(old.base, sc.model_copy(update={"date": old.date}) if old.date else sc)
        b = evaluate(new.base, sc.model_copy(update={"date": new.date}) if new.date else sc)
        if a.verdict != b.verdict:
            out.append(ScenarioChange(sc.id, sc.title, a.verdict, b.verdict, _deciding_rules(a), _deciding_rules(b)))
    return sorted(out, key=lambda c: c.scenario)


def _deciding_rules(d: Any) -> list[str]:
    return sorted({f.rule.id for j in d.deciding for f in j.findings if f.status in ("fired", "conflict")})


# ------------------------------------------------------------------ exhaustive


@dataclass
class Dim:
    fact: str
    values: list[Any]
    kind: str  # bool | date | value


def fact_dims(files: list[RuleFile], groups: dict[str, str], with_date: bool) -> list[Dim]:
    """The facts the rules test, each with one representative value per class the rules distinguish."""
    named: dict[str, set[Any]] = {}
    dates: set[dt.date] = set()
    for jf in files:
        dates |= jf.change_dates()
        conds = [r.when for r in jf.rules] + ([jf.binds] if jf.binds is not None else [])
        for cond in conds:
            for leaf, _ in iter_leaves(cond):
                vals = named.setdefault(leaf.fact, set())
                v = leaf.value
                if leaf.op == "exists":
                    vals.add(None)
                elif isinstance(v, list):
                    vals.update(v)
                elif v is not None:
                    vals.add(v)
    dims: list[Dim] = []
    for name in sorted(named):
        spec = fact_spec(name, groups)
        assert spec is not None
        if spec.type == "bool":
            dims.append(Dim(name, [False, True], "bool"))
        elif spec.type == "enum":
            dims.append(Dim(name, list(spec.values), "value"))
        elif spec.type == "date":
            if name != "date":  # another date (a contract's): a day on each side of every day the rules name
                days = sorted({v for v in named[name] if isinstance(v, dt.date)})
                classes = sorted({d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)})
                dims.append(Dim(name, classes, "value"))
            # the transfer date's classes come from change_dates() above
        elif spec.type == "countries":
            dims.append(Dim(name, [()] + [(c,) for c in sorted(x for x in named[name] if x)], "value"))
        else:
            ordered_values: list[Any] = sorted((x for x in named[name] if x is not None), key=str)
            if spec.type == "category":
                dims.append(Dim(name, _category_classes(ordered_values), "value"))
                continue
            dims.append(Dim(name, ([None] if None in named[name] else []) + ordered_values + [OTHER], "value"))
    if with_date and dates:
        ordered = sorted(dates)
        dims.append(Dim("date", [ordered[0] - dt.timedelta(days=1)] + ordered, "date"))
    return dims


def combinations(
    dims: list[Dim], state: str | None
) -> "itertools.chain[tuple[tuple[int, ...], dict[str, Any], dt.date]] | Any":
    """Every possible combination of the dimensions: (indexes, fact values, date).

    'Any other' values become a value no rule names; a state's own code is its `exporter`.
    """
    date_i = next((i for i, d in enumerate(dims) if d.kind == "date"), None)
    for idx in itertools.product(*[range(len(d.values)) for d in dims]):
        facts = {d.fact: d.values[i] for d, i in zip(dims, idx) if d.kind != "date"}
        if not _possible(facts):
            continue
        for k, v in list(facts.items()):
            if v == OTHER:
                facts[k] = "\x00other"
        if state is not None and "exporter" not in facts:
            facts["exporter"] = state
        day = dims[date_i].values[idx[date_i]] if date_i is not None else dt.date(2000, 1, 1)
        facts["date"] = day
        yield idx, facts, day


def _category_classes(named: list[str]) -> list[str]:
    """One category per class the rules can tell apart: each named one, plus one named by none."""
    from policy.model import category_within

    parents = [c for c in named if c != "ML"]
    other = next(
        (
            f"ML{i}"
            for i in range(1, 23)
            if not any(category_within(f"ML{i}", p) or category_within(p, f"ML{i}") for p in parents)
        ),
        None,
    )
    return parents + ([other] if other else [])


def _possible(facts: dict[str, Any]) -> bool:
    """False for combinations the world cannot produce (self-defence without an armed conflict)."""
    for a, b in IMPLIES:
        if facts.get(a) is True and facts.get(b) is False:
            return False
    return True


IMPLIES = (
    ("recipient.self_defence", "recipient.in_armed_conflict"),
    ("recipient.in_international_armed_conflict", "recipient.in_armed_conflict"),
)


def _roles(files: list[RuleFile]) -> list[Role]:
    roles = set()
    for jf in files:
        if jf.kind == "regime":
            roles.add(Role.regime)
        else:
            roles.update(r.role for r in jf.rules)
            roles.add(Role.exporter)
    return sorted(roles, key=lambda r: r.value)


def _judged(
    cj: CompiledJurisdiction | None, role: Role, facts: dict[str, Any], day: dt.date
) -> tuple[str, tuple[str, ...]]:
    """A jurisdiction's verdict in one role (``no say`` where it has none) and the rules that decide it."""
    if cj is None:
        return (Verdict.undetermined.value if role is Role.exporter else NO_SAY), ()
    if cj.kind == "regime" and cj.binds is not None:
        b = cj.binds(facts)
        if b is False:
            return NO_SAY, ()
    if not claims_say_in(cj, role, facts, day):
        return NO_SAY, ()
    v, det = judge(cj, role, facts, day, lambda j: judge(j, Role.exporter, facts, day)[0])
    return v.value, tuple(det)


def _affected(old: Side, new: Side) -> list[str]:
    codes = sorted(set(old.base.jurisdictions) | set(new.base.jurisdictions))
    out = []
    for code in codes:
        a = _rules_at(old.base.jurisdictions.get(code), old.date)
        b = _rules_at(new.base.jurisdictions.get(code), new.date)
        ja, jb = old.base.jurisdictions.get(code), new.base.jurisdictions.get(code)
        meta_a = ja.model_dump(mode="json", include={"binds", "if_no_rule_applies"}) if ja else None
        meta_b = jb.model_dump(mode="json", include={"binds", "if_no_rule_applies"}) if jb else None
        if a != b or meta_a != meta_b:
            out.append(code)
    return out


SPACES = ("world", "all")
"""``world``: combinations the world data can produce on the compared dates (the default);
``all``: every combination of the facts' classes, as if any state could be in any situation."""


def _is_derived(name: str, groups: dict[str, str]) -> bool:
    spec = fact_spec(name, groups)
    return spec is not None and spec.origin == "derived"


def _world_change_dates(world: Any) -> list[dt.date]:
    days: set[dt.date] = set()
    for g in world.groups.values():
        for m in g.members:
            if m.from_:
                days.add(m.from_)
            if m.until:
                days.add(m.until + dt.timedelta(days=1))
    for c in world.conflicts:
        days |= c.change_dates()
    for e in world.embargoes:
        if e.from_:
            days.add(e.from_)
        if e.until:
            days.add(e.until + dt.timedelta(days=1))
    return sorted(days)


class WorldValues:
    """World-derived facts (conflicts, memberships, embargoes, a jurisdiction's views) per country and
    date, memoised: what ``derive.Facts`` would give a transfer to that country on that day."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.lethality = {code: c.lethal for code, c in base.categories.items()}
        self.memo: dict[tuple[Any, ...], Any] = {}
        self.breaks = _world_change_dates(base.world)
        # A country's world facts change only on the days its own entries start or end (the
        # screening path's memo key, ``FactBuilder.breaks``): one derivation per interval.
        self.country_breaks: dict[str, list[dt.date]] = FactBuilder(base).breaks
        self.view_breaks: dict[tuple[str, str], list[dt.date]] = {}
        for code, jf in base.jurisdictions.items():
            for v in jf.views:
                b = self.view_breaks.setdefault((code, v.country), [])
                b += [d for d in (v.from_, v.until and v.until + dt.timedelta(days=1)) if d is not None]
        for b in self.view_breaks.values():
            b.sort()
        self.merged: dict[tuple[Any, ...], list[dt.date]] = {}

    def _slot(self, breaks: list[dt.date] | None, day: dt.date) -> int:
        return bisect_right(breaks, day) if breaks else 0

    def over(
        self,
        names: tuple[str, ...],
        jf: RuleFile | None,
        exporter: str,
        recipient: str,
        days: list[dt.date],
        end_user: str = "military",
        category: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """The distinct ``values`` on the given days (in order of first appearance); days between
        the same two changes of the parties' world entries are derived once."""
        code = jf.jurisdiction if jf else None
        key = (code, exporter, recipient)
        merged = self.merged.get(key)
        if merged is None:
            merged = sorted(
                {
                    *self.country_breaks.get(exporter, ()),
                    *self.country_breaks.get(recipient, ()),
                    *(self.view_breaks.get((code, recipient), ()) if code else ()),
                }
            )
            self.merged[key] = merged
        seen: set[int] = set()
        out: list[tuple[Any, ...]] = []
        for day in days:
            slot = bisect_right(merged, day)
            if slot not in seen:
                seen.add(slot)
                got = self.values(names, jf, exporter, recipient, day, end_user, category)
                if got not in out:
                    out.append(got)
        return out

    def values(
        self,
        names: tuple[str, ...],
        jf: RuleFile | None,
        exporter: str,
        recipient: str,
        day: dt.date,
        end_user: str = "military",
        category: str | None = None,
    ) -> tuple[Any, ...]:
        code = jf.jurisdiction if jf else None
        rslot = self._slot(self.country_breaks.get(recipient), day)
        vslot = self._slot(self.view_breaks.get((code, recipient)) if code else None, day)
        eslot = self._slot(self.country_breaks.get(exporter), day)
        out = []
        for n in names:
            # what each fact depends on, as the screening path's memo keys have it (FactBuilder.build)
            if n.startswith("exporter."):
                key: tuple[Any, ...] = (n, code, exporter, eslot)
            elif ".under_embargo." in n:
                key = (n, code, recipient, rslot, vslot, end_user, category)
            elif n.startswith("recipient."):
                key = (n, code, recipient, rslot, vslot)
            else:
                key = (n, code, exporter, eslot, recipient, rslot, vslot, end_user, category)
            hit = self.memo.get(key, self.memo)
            if hit is self.memo:
                hit = self._derive(n, jf, exporter, recipient, day, end_user, category)
                self.memo[key] = hit
            out.append(hit)
        return tuple(out)

    def _derive(
        self,
        name: str,
        jf: RuleFile | None,
        exporter: str,
        recipient: str,
        day: dt.date,
        end_user: str,
        category: str | None,
    ) -> Any:
        from types import SimpleNamespace

        from policy.eval.derive import Facts

        sc = SimpleNamespace(
            assume={}, date=day, exporter=exporter, recipient=recipient, end_user=end_user, transfer="sale", via=[]
        )
        item = SimpleNamespace(category=category, lethal=None, id=None, origin=None, licence_origin=None)
        f = Facts(sc, item, self.base.world, self.lethality, self.base.assume)  # type: ignore[arg-type]
        if jf is not None:
            f = f.seen_by(jf)
        return f.get(name).value

    def days_between(self, start: dt.date, end: dt.date | None) -> list[dt.date]:
        """``start`` and every day in (start, end) on which some world entry starts or stops."""
        lo = bisect_right(self.breaks, start)
        hi = len(self.breaks) if end is None else bisect_left(self.breaks, end)
        return [start, *self.breaks[lo:hi]]


@dataclass
class Region:
    """A conjunction of fact classes over which a jurisdiction's verdict changes the same way."""

    jurisdiction: str
    role: str  # the roles, joined: "exporter" or "exporter, original-producer"
    old: str  # "prohibited or licence_required"
    new: str
    condition: str
    count: int
    example: dict[str, Any]
    roles: list[str] = field(default_factory=list)
    olds: list[str] = field(default_factory=list)
    news: list[str] = field(default_factory=list)
    direction: str = "mixed"  # tightening | loosening | mixed
    terms: list[dict[str, Any]] = field(default_factory=list)
    old_rules: list[str] = field(default_factory=list)
    new_rules: list[str] = field(default_factory=list)


@dataclass
class _Point:
    old: str
    new: str
    old_rules: tuple[str, ...]
    new_rules: tuple[str, ...]


def direction(old: str | list[str], new: str | list[str]) -> str:
    """``tightening`` when every new verdict is more severe than every old one, ``loosening`` for
    the reverse, ``mixed`` otherwise; verdicts are words, ``no say`` counts as ``permitted``.

    >>> direction("licence_required", "restricted"), direction(["prohibited", "licence_required"], "permitted")
    ('tightening', 'loosening')
    """

    def sev(v: str) -> int:
        return Verdict(v).severity if v in Verdict._value2member_map_ else Verdict.permitted.severity

    olds = [old] if isinstance(old, str) else old
    news = [new] if isinstance(new, str) else new
    if all(sev(b) > sev(a) for a in olds for b in news):
        return "tightening"
    if all(sev(b) < sev(a) for a in olds for b in news):
        return "loosening"
    return "mixed"


def _direction(olds: Any, news: Any) -> str:
    return direction(sorted(olds), sorted(news))


def _minimise(
    code: str,
    roles: list[str],
    dims: list[Dim],
    changed: dict[tuple[int, ...], _Point],
    dc: set[tuple[int, ...]],
) -> list[Region]:
    """The fewest regions covering the changed points (see ``_minimise_changes``)."""
    from policy.analysis.cover import grid

    sizes = [len(d.values) for d in dims]
    points = sorted(changed)
    words: dict[str, int] = {}
    rules: dict[tuple[str, ...], int] = {}

    def wid(w: str) -> int:
        return words.setdefault(w, len(words))

    def rid(r: tuple[str, ...]) -> int:
        return rules.setdefault(r, len(rules))

    ch = _Changes(
        np.array([np.ravel_multi_index(p, sizes) for p in points], dtype=np.int64)
        if sizes
        else np.zeros(len(points), dtype=np.int64),
        np.array([wid(changed[p].old) for p in points], dtype=np.int64),
        np.array([wid(changed[p].new) for p in points], dtype=np.int64),
        np.array([rid(changed[p].old_rules) for p in points], dtype=np.int64),
        np.array([rid(changed[p].new_rules) for p in points], dtype=np.int64),
        list(words),
        list(rules),
    )
    return _minimise_changes(code, roles, dims, ch, grid(dc, sizes))


@dataclass
class _Changes:
    """The points where a verdict changes, as arrays: flat grid index (increasing), the old and new
    verdict words and deciding rules as numbers into ``words`` and ``rules``."""

    flat: np.ndarray
    old: np.ndarray
    new: np.ndarray
    old_rules: np.ndarray
    new_rules: np.ndarray
    words: list[str]
    rules: list[tuple[str, ...]]


def _minimise_changes(code: str, roles: list[str], dims: list[Dim], ch: _Changes, dc: np.ndarray) -> list[Region]:
    """The fewest regions covering the changed points: grouped by the new verdict (old verdicts
    listed) or by the old one, whichever needs fewer regions; each region changes one way."""
    from policy.analysis.cover import literals, minimum_cover_grid

    sizes = [len(d.values) for d in dims]
    coords = np.unravel_index(ch.flat, sizes) if sizes else ()
    pairs = sorted(set(zip(ch.old.tolist(), ch.new.tolist())))
    pair_dir = {(o, n): _direction([ch.words[o]], [ch.words[n]]) for o, n in pairs}
    covers: dict[bytes, list[Any]] = {}
    options = []
    for side in ("new", "old"):
        groups: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for o, n in pairs:
            groups.setdefault((pair_dir[(o, n)], ch.words[n] if side == "new" else ch.words[o]), []).append((o, n))
        cubes = []
        for key in sorted(groups):
            member = np.zeros(len(ch.flat), dtype=bool)
            for o, n in groups[key]:
                member |= (ch.old == o) & (ch.new == n)
            on = np.zeros(tuple(sizes), dtype=bool)
            on.reshape(-1)[ch.flat[member]] = True
            key_ = on.tobytes()
            if key_ not in covers:  # the same points may form a group on both sides
                covers[key_] = minimum_cover_grid(on, dc)
            cubes += [(key, cube, member) for cube in covers[key_]]
        score = (len(cubes), sum(literals(c, sizes) for _, c, _ in cubes))
        conds = sorted(_describe(dims, [set(c) for c in cube], sizes) for _, cube, _ in cubes)
        options.append((score, conds, side, cubes))
    options.sort(key=lambda o: (o[0], o[1], o[2] == "old"))
    regions = []
    for _key, cube, member in options[0][3]:
        points = np.flatnonzero(member)  # the group's changed points, then those in the cube
        for axis, sel in enumerate(cube):
            if len(sel) < sizes[axis]:
                table = np.zeros(sizes[axis], dtype=bool)
                table[sorted(sel)] = True
                points = points[table[coords[axis][points]]]
        olds = sorted({ch.words[i] for i in np.unique(ch.old[points])}, key=_severity_order)
        news = sorted({ch.words[i] for i in np.unique(ch.new[points])}, key=_severity_order)
        first = tuple(int(c[points[0]]) for c in coords)
        regions.append(
            Region(
                code,
                ", ".join(roles),
                " or ".join(olds),
                " or ".join(news),
                _describe(dims, [set(c) for c in cube], sizes),
                len(points),
                _example(dims, first, code, Role(roles[0])) | ({"roles": roles} if len(roles) > 1 else {}),
                list(roles),
                olds,
                news,
                _direction(olds, news),
                _terms(dims, [set(c) for c in cube], sizes),
                sorted({r for i in np.unique(ch.old_rules[points]) for r in ch.rules[i]}),
                sorted({r for i in np.unique(ch.new_rules[points]) for r in ch.rules[i]}),
            )
        )
    return regions


def _severity_order(v: str) -> tuple[int, str]:
    return (-(Verdict(v).severity if v in Verdict._value2member_map_ else -1), v)


def _world_facts(
    wv: list[tuple[WorldValues, RuleFile | None, list[dt.date]]], names: tuple[str, ...], facts: dict[str, Any]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The world facts among ``names`` that the named parties of ``facts`` fix, and the values they
    take on each side's days (``None``: any value); every fact is possible without a named party."""
    recipient = facts.get("recipient")
    exporter = facts.get("exporter")
    r_named = isinstance(recipient, str) and not recipient.startswith("\x00")
    e_named = isinstance(exporter, str) and not exporter.startswith("\x00")
    check = tuple(
        n for n in names if (n.startswith("recipient.") and r_named) or (n.startswith("exporter.") and e_named)
    )
    if not check:
        return check, [()]
    cat = facts.get("item.category")
    gots: list[tuple[Any, ...]] = []
    for w, jf, days in wv:
        for got in w.over(
            check,
            jf,
            str(exporter) if e_named else "\x00other",
            str(recipient) if r_named else "\x00other",
            days,
            facts.get("end_user", "military"),
            cat if isinstance(cat, str) and not cat.startswith("\x00") else None,
        ):
            if got not in gots:
                gots.append(got)
    return check, gots


class _Grid:
    """Every combination of the dimensions, as columns of value numbers (row ``i`` is the
    ``i``-th combination ``itertools.product`` gives), and the facts a combination stands for."""

    def __init__(self, dims: list[Dim], state: str | None) -> None:
        self.dims = dims
        self.sizes = [len(d.values) for d in dims]
        self.n = int(np.prod(self.sizes, dtype=np.int64)) if dims else 1
        self.codes = (
            np.indices(self.sizes, dtype=np.int32).reshape(len(dims), -1) if dims else np.zeros((0, 1), dtype=np.int32)
        )
        self.date_i = next((i for i, d in enumerate(dims) if d.kind == "date"), None)
        self.state = state
        # a fact's values as the rules see them: "any other" becomes a value no rule names
        self.shown = [["\x00other" if v == OTHER else v for v in d.values] for d in dims]

    def possible(self) -> np.ndarray:
        """False for combinations the world cannot produce (see ``_possible``)."""
        ok = np.ones(self.n, dtype=bool)
        at = {d.fact: i for i, d in enumerate(self.dims) if d.kind != "date"}
        for a, b in IMPLIES:
            if a in at and b in at:
                ta = np.array([v is True for v in self.dims[at[a]].values], dtype=bool)
                tb = np.array([v is False for v in self.dims[at[b]].values], dtype=bool)
                ok &= ~(ta[self.codes[at[a]]] & tb[self.codes[at[b]]])
        return ok

    def columns(self, rows: np.ndarray, fixed: dt.date) -> dict[str, Column]:
        """The facts of the given rows as columns; ``fixed`` is the date without a date dimension."""
        cols: dict[str, Column] = {}
        for i, d in enumerate(self.dims):
            if d.kind != "date":
                cols[d.fact] = Column(self.codes[i][rows], self.shown[i])
        zeros = np.zeros(len(rows), dtype=np.int32)
        if self.state is not None and "exporter" not in cols:
            cols["exporter"] = Column(zeros, [self.state])
        if self.date_i is not None:
            cols["date"] = Column(self.codes[self.date_i][rows], self.dims[self.date_i].values)
        else:
            cols["date"] = Column(zeros, [fixed])
        return cols

    def facts(self, row: int) -> dict[str, Any]:
        """The facts of one combination (the date as its dimension gives it, else 2000-01-01)."""
        out = {d.fact: self.shown[i][self.codes[i][row]] for i, d in enumerate(self.dims) if d.kind != "date"}
        if self.state is not None and "exporter" not in out:
            out["exporter"] = self.state
        out["date"] = (
            self.dims[self.date_i].values[self.codes[self.date_i][row]]
            if self.date_i is not None
            else dt.date(2000, 1, 1)
        )
        return out


def _in_world(
    g: _Grid,
    rows: np.ndarray,
    derived: tuple[str, ...],
    sides: Any,
) -> np.ndarray:
    """For the given rows, whether some side's world can produce their world facts (see
    ``_world_facts``): computed once per combination of the parties, end user, category
    and date, then compared by column."""
    at = {d.fact: i for i, d in enumerate(g.dims)}
    context = [at[f] for f in ("recipient", "exporter", "end_user", "item.category") if f in at]
    if g.date_i is not None:
        context.append(g.date_i)
    key = np.zeros(len(rows), dtype=np.int64)
    for i in context:
        key = key * g.sizes[i] + g.codes[i][rows]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(first) + 1))
    ok = np.zeros(len(rows), dtype=bool)
    for k, f in enumerate(first):
        members = order[bounds[k] : bounds[k + 1]]
        facts = g.facts(int(rows[f]))
        check, gots = _world_facts(sides(g, int(rows[f]), facts["date"]), derived, facts)
        if not check:
            ok[members] = True
            continue
        cols = [g.codes[at[n]][rows[members]] for n in check]
        hit = np.zeros(len(members), dtype=bool)
        for got in gots:
            m = np.ones(len(members), dtype=bool)
            for n, col, v in zip(check, cols, got):
                if v is not None:
                    target = next((j for j, x in enumerate(g.shown[at[n]]) if v == x), -1)
                    m &= col == target
            hit |= m
        ok[members] = hit
    return ok


def _side_verdicts(
    g: _Grid,
    rows: np.ndarray,
    cj: CompiledJurisdiction | None,
    jf: RuleFile | None,
    fixed: dt.date,
    roles: list[Role],
    groups: dict[str, str],
) -> tuple[np.ndarray, dict[Role, list[tuple[str, tuple[str, ...]]]]]:
    """One side's verdict and deciding rules in every role for the given rows: the rows are
    told apart by the state of every rule (columnar), and each distinct state is judged once by
    the scalar path. Returns each row's number among the distinct states, and per role the
    (verdict, rules) of each."""
    if cj is None or jf is None:
        return np.zeros(len(rows), dtype=np.int64), {r: [_judged(None, r, {}, fixed)] for r in roles}
    cols = g.columns(rows, fixed)
    first, which = distinct_rows(rule_states(jf, groups, cols, len(rows)))
    out: dict[Role, list[tuple[str, tuple[str, ...]]]] = {r: [] for r in roles}
    for f in first:
        facts = g.facts(int(rows[f]))
        day = facts["date"] if g.date_i is not None else fixed
        facts["date"] = day
        for r in roles:
            out[r].append(_judged(cj, r, facts, day))
    return which, out


def exhaustive(old: Side, new: Side, space: str = "world") -> tuple[list[Region], int, list[str]]:
    """Every combination of the facts that the changed jurisdictions' rules test, on both sides,
    merged into the fewest regions (see ``policy.cover``).

    With ``space="world"``, combinations the world data cannot produce for a named country on the
    compared dates (Ukraine under a UN embargo) are not counted; they may still round a region off.

    The combinations are a grid of columns: the logically and worldly impossible ones are found
    by column, each side's rules are evaluated by column (``policy.eval.columnar``), and only the
    distinct states of the rules are judged one by one.
    """
    regions: list[Region] = []
    total = 0
    affected = _affected(old, new)
    groups = {**old.base.world.group_kinds(), **new.base.world.group_kinds()}
    w_old, w_new = WorldValues(old.base), WorldValues(new.base)
    fixed_a = old.date or dt.date(2000, 1, 1)
    fixed_b = new.date or dt.date(2000, 1, 1)
    for code in affected:
        ja, jb = old.base.jurisdictions.get(code), new.base.jurisdictions.get(code)
        files = [f for f in (ja, jb) if f is not None]
        dims = fact_dims(files, groups, with_date=old.date is None)
        ca = compile_file(ja, old.base.world.group_kinds()) if ja else None
        cb = compile_file(jb, new.base.world.group_kinds()) if jb else None
        state = code if any(f.kind == "state" for f in files) else None
        g = _Grid(dims, state)
        derived = tuple(d.fact for d in dims if _is_derived(d.fact, groups))
        role_list = _roles(files)
        ok = g.possible()
        if space == "world" and derived:

            def sides(g: _Grid, row: int, day: dt.date, ja: RuleFile | None = ja, jb: RuleFile | None = jb) -> Any:
                if g.date_i is None:
                    return [(w_old, ja, [fixed_a]), (w_new, jb, [fixed_b])]
                values = g.dims[g.date_i].values
                i = int(g.codes[g.date_i][row])
                nxt = values[i + 1] if i + 1 < len(values) else None
                start = day if i > 0 else dt.date(1900, 1, 1)
                return [(w_old, ja, w_old.days_between(start, nxt)), (w_new, jb, w_new.days_between(start, nxt))]

            cand = np.flatnonzero(ok)
            ok[cand] = _in_world(g, cand, derived, sides)
        live = np.flatnonzero(ok)
        dc = np.zeros(tuple(g.sizes), dtype=bool)
        dc.reshape(-1)[~ok] = True
        total += len(live) * len(role_list)
        ua, va = _side_verdicts(g, live, ca, ja, fixed_a, role_list, groups)
        ub, vb = _side_verdicts(g, live, cb, jb, fixed_b, role_list, groups)
        words: dict[str, int] = {}
        rules: dict[tuple[str, ...], int] = {}

        by_role: dict[Role, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for role in role_list:
            (wa, ra), (wb, rb) = _numbers(va[role], words, rules), _numbers(vb[role], words, rules)
            old_w, new_w = wa[ua], wb[ub]
            flip = np.flatnonzero(old_w != new_w)
            if len(flip):
                by_role[role] = (live[flip], old_w[flip], new_w[flip], ra[ua][flip], rb[ub][flip])
        table = list(rules)
        # Roles whose verdicts change identically are one region.
        merged: list[tuple[list[str], list[Any]]] = []
        for role in role_list:
            if role not in by_role:
                continue
            flat, o, n, ro, rn = by_role[role]
            for names_, other in merged:
                if np.array_equal(other[0], flat) and np.array_equal(other[1], o) and np.array_equal(other[2], n):
                    names_.append(role.value)
                    other[3] = _union_rules(table, other[3], ro)
                    other[4] = _union_rules(table, other[4], rn)
                    break
            else:
                merged.append(([role.value], [flat, o, n, ro, rn]))
        vocab = list(words)
        for names_, (flat, o, n, ro, rn) in merged:
            ch = _Changes(flat, o, n, ro, rn, vocab, table)
            regions.extend(_minimise_changes(code, names_, dims, ch, dc))
    return regions, total, affected


def _numbers(
    results: list[tuple[str, tuple[str, ...]]], words: dict[str, int], rules: dict[tuple[str, ...], int]
) -> tuple[np.ndarray, np.ndarray]:
    """Verdict words and rule lists as numbers (``words`` and ``rules`` grow)."""
    return (
        np.array([words.setdefault(v, len(words)) for v, _ in results], dtype=np.int64),
        np.array([rules.setdefault(r, len(rules)) for _, r in results], dtype=np.int64),
    )


def _union_rules(table: list[tuple[str, ...]], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per point, the sorted union of two rule lists (numbers into ``table``, which grows)."""
    known = {r: i for i, r in enumerate(table)}
    pairs, inverse = np.unique(np.stack([a, b]), axis=1, return_inverse=True)
    out = []
    for x, y in pairs.T:
        u = tuple(sorted({*table[x], *table[y]}))
        if u not in known:
            known[u] = len(table)
            table.append(u)
        out.append(known[u])
    return np.array(out, dtype=np.int64)[inverse.reshape(-1)]


def _show(v: Any) -> str:
    if v == OTHER:
        return "any other"
    if v is None:
        return "none"
    if isinstance(v, tuple):
        return "+".join(v) if v else "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _terms(dims: list[Dim], cube: list[set[int]], sizes: list[int]) -> list[dict[str, Any]]:
    """The region's condition as data: one term per constrained fact."""
    out = []
    for d, sel, n in zip(dims, cube, sizes):
        if len(sel) == n:
            continue
        if d.kind == "date":
            lo, hi = min(sel), max(sel)
            start = d.values[lo].isoformat() if lo > 0 else None
            end = (d.values[hi + 1] - dt.timedelta(days=1)).isoformat() if hi + 1 < n else None
            out.append({"fact": "date", "op": "between", "from": start, "until": end})
            continue
        chosen = [_show(d.values[i]) for i in sorted(sel)]
        if d.kind == "bool":
            out.append({"fact": d.fact, "op": "eq", "value": d.values[next(iter(sel))]})
        elif len(chosen) == 1:
            out.append({"fact": d.fact, "op": "eq", "value": chosen[0]})
        else:
            rest = [_show(d.values[i]) for i in range(n) if i not in sel]
            if len(rest) < len(chosen):
                out.append({"fact": d.fact, "op": "not_in", "value": rest})
            else:
                out.append({"fact": d.fact, "op": "in", "value": chosen})
    return out


def _describe(dims: list[Dim], cube: list[set[int]], sizes: list[int]) -> str:
    parts = []
    for d, sel, n in zip(dims, cube, sizes):
        if len(sel) == n:
            continue
        if d.kind == "bool":
            parts.append(d.fact if d.values[next(iter(sel))] else f"not {d.fact}")
        elif d.kind == "date":
            lo, hi = min(sel), max(sel)
            if sorted(sel) == list(range(lo, hi + 1)):
                start = d.values[lo] if lo > 0 else None
                end = d.values[hi + 1] - dt.timedelta(days=1) if hi + 1 < n else None
                text = (f"from {start}" if start else "") + (f" until {end}" if end else "")
                parts.append(f"date {text.strip()}" if text else "any date")
            else:
                parts.append("date in " + ", ".join(str(d.values[i]) for i in sorted(sel)))
        else:
            chosen = [_show(d.values[i]) for i in sorted(sel)]
            rest = [_show(d.values[i]) for i in range(n) if i not in sel]
            if len(chosen) == 1:
                parts.append(f"{d.fact} = {chosen[0]}")
            elif len(rest) < len(chosen):
                parts.append(f"{d.fact} not in {{{', '.join(rest)}}}")
            else:
                parts.append(f"{d.fact} in {{{', '.join(chosen)}}}")
    return ", ".join(parts) if parts else "every combination"


def _example(dims: list[Dim], idx: tuple[int, ...], code: str, role: Role) -> dict[str, Any]:
    ex: dict[str, Any] = {"jurisdiction": code, "role": role.value}
    for d, i in zip(dims, idx):
        v = d.values[i]
        ex[d.fact] = (
            v.isoformat()
            if isinstance(v, dt.date)
            else ("any other" if v == OTHER else list(v) if isinstance(v, tuple) else v)
        )
    return ex


# ------------------------------------------------------------------ grounded: the world as it was


@dataclass
class Clause:
    """One class of items and transfers (a conjunction over the free facts) and how its verdict flips."""

    condition: str
    terms: list[dict[str, Any]]
    old: str
    new: str
    olds: list[str]
    news: list[str]
    count: int
    direction: str
    example: dict[str, Any]
    old_rules: list[str]
    new_rules: list[str]


@dataclass
class GroundedRow:
    """Concrete exporter -> recipient pairs whose verdict flips, world facts taken from the world data
    on each side's date; the clauses say for which items and transfers."""

    jurisdiction: str
    roles: list[str]
    exporters: list[str]  # country codes; "*" stands for any other exporter
    recipients: list[str]  # country codes; "*" stands for any other country
    cause: str  # law: the law's change flips it on the new date's world; world: the world's change alone
    clauses: list[Clause]
    count: int  # combinations of the free facts that flip, per pair
    total: int  # combinations of the free facts, per pair
    direction: str
    every_recipient: bool = False


ANY = "*"


def _world_countries(base: RuleBase) -> set[str]:
    w = base.world
    out: set[str] = set()
    for g in w.groups.values():
        out |= {m.country for m in g.members}
    for c in w.conflicts:
        out |= {p.country for p in c.parties} | c.fought_on()
    out |= {e.target for e in w.embargoes}
    for jf in base.jurisdictions.values():
        out |= {v.country for v in jf.views}
    return out


def grounded(
    old: Side, new: Side, day_old: dt.date, day_new: dt.date, affected: list[str] | None = None
) -> tuple[list[GroundedRow], int]:
    """What changes between the two sides in the world as it was on their dates.

    For each changed jurisdiction and role, real exporter and recipient states take their world
    facts (conflicts, memberships, embargoes, views) from the data on each side's date; only the
    free facts (item, transfer, end user, risk assessments) are enumerated. States with the same
    world facts and the same treatment by the rules are evaluated once. Returns the rows and the
    number of (pair class, free combination, role) evaluations.
    """
    groups = {**old.base.world.group_kinds(), **new.base.world.group_kinds()}
    affected = _affected(old, new) if affected is None else affected
    w_old, w_new = WorldValues(old.base), WorldValues(new.base)
    countries = sorted(_world_countries(old.base) | _world_countries(new.base))
    states = sorted(
        c
        for c in set(old.base.jurisdictions) | set(new.base.jurisdictions)
        if (old.base.jurisdictions.get(c) or new.base.jurisdictions[c]).kind == "state"
    )
    rows: list[GroundedRow] = []
    checked = 0
    for code in affected:
        ja, jb = old.base.jurisdictions.get(code), new.base.jurisdictions.get(code)
        files = [f for f in (ja, jb) if f is not None]
        dims = fact_dims(files, groups, with_date=False)
        ca = compile_file(ja, old.base.world.group_kinds()) if ja else None
        cb = compile_file(jb, new.base.world.group_kinds()) if jb else None
        r_derived = tuple(d.fact for d in dims if d.fact.startswith("recipient.") and _is_derived(d.fact, groups))
        e_derived = tuple(d.fact for d in dims if d.fact.startswith("exporter.") and _is_derived(d.fact, groups))
        free = [d for d in dims if d.fact not in ("recipient", "exporter") and not _is_derived(d.fact, groups)]
        r_dim = next((d for d in dims if d.fact == "recipient"), None)
        e_dim = next((d for d in dims if d.fact == "exporter"), None)
        eu_vals = next((d.values for d in free if d.fact == "end_user"), ["military"])
        cat_vals = next((d.values for d in free if d.fact == "item.category"), [None])
        free_combos = [
            (idx, {d.fact: d.values[i] for d, i in zip(free, idx)})
            for idx in itertools.product(*[range(len(d.values)) for d in free])
        ]
        impossible = {idx for idx, f in free_combos if not _possible(f)}
        state = any(f.kind == "state" for f in files)

        def cls(dim: Dim | None, c: str) -> Any:
            return None if dim is None else (c if c in dim.values else OTHER)

        def signature(
            party: str,
            names: tuple[str, ...],
            dim: Dim | None,
            country: str,
            other: str,
            ja: RuleFile | None = ja,
            jb: RuleFile | None = jb,
            eu_vals: list[Any] = eu_vals,
            cat_vals: list[Any] = cat_vals,
        ) -> Any:
            sig: list[Any] = [cls(dim, country)]
            if names:
                for w, jf, day in ((w_old, ja, day_old), (w_new, jb, day_new)):
                    for eu in eu_vals:
                        for cat in cat_vals:
                            cat_ = cat if isinstance(cat, str) and cat != OTHER else None
                            ex, rc = (country, other) if party == "exporter" else (other, country)
                            sig.append(w.values(names, jf, ex, rc, day, eu, cat_))
            return tuple(sig)

        by_role: dict[str, list[Any]] = {}
        for role in _roles(files):
            if role is Role.exporter and state:
                exporters = [code]
            elif e_derived or e_dim is not None:
                exporters = states + ["\x00other"]
            else:
                exporters = ["\x00other"]
            e_classes: dict[Any, list[str]] = {}
            for e in exporters:
                e_classes.setdefault(signature("exporter", e_derived, e_dim, e, "\x00other"), []).append(e)
            patterns: list[Any] = []
            for e_members in e_classes.values():
                ex = e_members[0]
                r_classes: dict[Any, list[str]] = {}
                for r in countries + ["\x00other"]:
                    if r == ex or (role is Role.exporter and state and r == code):
                        continue
                    r_classes.setdefault(signature("recipient", r_derived, r_dim, r, ex), []).append(r)
                found: dict[Any, tuple[list[str], dict[tuple[int, ...], _Point]]] = {}
                n_candidates = sum(len(m) for m in r_classes.values())
                for r_members in r_classes.values():
                    rc = r_members[0]
                    changed: dict[tuple[int, ...], _Point] = {}
                    by_world: dict[tuple[int, ...], _Point] = {}
                    for idx, f in free_combos:
                        if idx in impossible:
                            continue
                        facts = {k: ("\x00other" if v == OTHER else v) for k, v in f.items()}
                        facts["recipient"], facts["exporter"] = rc, ex
                        eu = f.get("end_user", "military")
                        cat = f.get("item.category")
                        cat_ = cat if isinstance(cat, str) and cat != OTHER else None
                        fa = dict(facts, date=day_old)
                        fb = dict(facts, date=day_new)
                        fa.update(zip(r_derived, w_old.values(r_derived, ja, ex, rc, day_old, eu, cat_)))
                        fb.update(zip(r_derived, w_new.values(r_derived, jb, ex, rc, day_new, eu, cat_)))
                        fa.update(zip(e_derived, w_old.values(e_derived, ja, ex, rc, day_old, eu, cat_)))
                        fb.update(zip(e_derived, w_new.values(e_derived, jb, ex, rc, day_new, eu, cat_)))
                        if not (_possible(fa) or _possible(fb)):
                            continue
                        va, ra = _judged(ca, role, fa, day_old)
                        vb, rb = _judged(cb, role, fb, day_new)
                        checked += 1
                        if va != vb:
                            # Would the old law, in the new date's world, already give the new verdict?
                            law = _judged(ca, role, fb, day_old)[0] != vb
                            (changed if law else by_world)[idx] = _Point(va, vb, ra, rb)
                    for cause, points in (("law", changed), ("world", by_world)):
                        if not points:
                            continue
                        key = (cause, tuple(sorted((k, p.old, p.new) for k, p in points.items())))
                        if key in found:
                            found[key][0].extend(r_members)
                            have = found[key][1]
                            for k, p in points.items():
                                o = have[k]
                                have[k] = _Point(
                                    o.old,
                                    o.new,
                                    tuple(sorted({*o.old_rules, *p.old_rules})),
                                    tuple(sorted({*o.new_rules, *p.new_rules})),
                                )
                        else:
                            found[key] = (list(r_members), points)
                for (cause, _), (recips, points) in found.items():
                    patterns.append((cause, tuple(e_members), tuple(sorted(recips)), points, n_candidates))
            by_role[role.value] = patterns
        # Roles with identical patterns are one row.
        seen: list[list[Any]] = []
        for role_name, patterns in by_role.items():
            for cause, exps, recs, points, n in patterns:
                sig = {k: (p.old, p.new) for k, p in points.items()}
                for entry in seen:
                    if (
                        entry[1] == cause
                        and entry[3] == recs
                        and {k: (p.old, p.new) for k, p in entry[4].items()} == sig
                    ):
                        entry[0].append(role_name)
                        entry[2] = tuple(sorted(set(entry[2]) | set(exps)))
                        break
                else:
                    seen.append([[role_name], cause, exps, recs, points, n])
        total = len(free_combos) - len(impossible)
        for role_names, cause, exps, recs, points, n in seen:
            clauses = [
                Clause(
                    g.condition,
                    g.terms,
                    g.old,
                    g.new,
                    g.olds,
                    g.news,
                    g.count,
                    g.direction,
                    {k: v for k, v in g.example.items() if k not in ("jurisdiction", "role", "roles")},
                    g.old_rules,
                    g.new_rules,
                )
                for g in _minimise(code, role_names, free, points, impossible)
            ]
            dirs = {c.direction for c in clauses}
            rows.append(
                GroundedRow(
                    code,
                    role_names,
                    sorted(ANY if e.startswith("\x00") else e for e in exps),
                    sorted(ANY if r.startswith("\x00") else r for r in recs),
                    cause,
                    clauses,
                    len(points),
                    total,
                    dirs.pop() if len(dirs) == 1 else "mixed",
                    len(recs) >= n,
                )
            )
    rows.sort(key=lambda g: (g.cause, g.jurisdiction, g.roles, g.recipients, g.exporters))
    return rows, checked


# ------------------------------------------------------------------ the report


def diff(
    old: Side, new: Side, scenarios: list[Scenario], space: str = "world", on: dt.date | None = None
) -> DiffReport:
    """Compare two sides: rules, world data, scenario verdicts, the regions that change, and (with
    ``space="world"``) the real exporter -> recipient pairs that flip on the sides' dates (``on``
    for a side without a date)."""
    regions, total, affected = exhaustive(old, new, space)
    rows: list[GroundedRow] = []
    checked = 0
    dates = None
    d1, d2 = old.date or on, new.date or on
    if space == "world" and d1 is not None and d2 is not None:
        rows, checked = grounded(old, new, d1, d2, affected)
        dates = (d1, d2)
    changes = rule_changes(old, new)
    _rule_directions(changes, regions, rows)
    return DiffReport(
        old.label,
        new.label,
        changes,
        world_changes(old, new),
        scenario_changes(old, new, scenarios),
        len(scenarios),
        regions,
        total,
        affected,
        space,
        rows,
        checked,
        dates,
        old.date is not None,
    )


@dataclass
class TimelineStep:
    """A date on which a transfer's verdict (or the rules deciding it) changes."""

    date: dt.date
    verdict: Verdict
    rule_events: list[str]  # "de.decision.2022-02-26-ukraine-self-defence starts"
    world_events: list[str]  # "conflict russia-ukraine-2022 begins"
    deciding_rules: list[str]
    deciding: list[str]  # jurisdictions whose verdict is the overall one
    titles: dict[str, str] = field(default_factory=dict)  # rule id -> title, for the rules named above


def timeline(
    base: RuleBase, scenario: Scenario, start: dt.date, end: dt.date
) -> list[tuple[dt.date, Verdict, list[str], list[str]]]:
    """Dates in [start, end] where the verdict changes, with the rules and world entries that change there.

    Returns (date, verdict, rule events, world events); the first row is the verdict at ``start``.
    """
    return [(s.date, s.verdict, s.rule_events, s.world_events) for s in timeline_steps(base, scenario, start, end)]


def timeline_json(steps: list[TimelineStep]) -> list[dict[str, Any]]:
    """A timeline as JSON-ready rows: the CLI's `-f json` and the HTTP API give the same."""
    return [
        {
            "date": s.date.isoformat(),
            "verdict": s.verdict.value,
            "rules": s.rule_events,
            "world": s.world_events,
            "deciding": s.deciding,
            "deciding_rules": s.deciding_rules,
        }
        for s in steps
    ]


def timeline_steps(base: RuleBase, scenario: Scenario, start: dt.date, end: dt.date) -> list[TimelineStep]:
    """The timeline with the deciding rules (and their titles) at each step.

    Only the dates of ``changes.change_dates`` are evaluated: between two of them nothing the
    transfer depends on changes. A step is a date where the verdict, the deciding jurisdictions or
    the deciding rules (the rules giving a deciding jurisdiction its verdict, as in what-if and the
    atlas) change.
    """
    titles = {r.id: r.title for _code, r in base.all_rules()}
    rows: list[TimelineStep] = []
    prev: tuple[Verdict, list[str], list[str]] | None = None
    for day in [start, *change_dates(base, scenario, start, end)]:
        dec = evaluate(base, scenario.model_copy(update={"date": day}))
        key = _timeline_outcome(dec)
        if prev is None or key != prev:
            ev, world = change_events(base, scenario, day) if prev else ([], [])
            verdict, deciding, rules = key
            named = set(rules) | {e.split(" ", 1)[0] for e in ev}
            rows.append(
                TimelineStep(
                    day,
                    verdict,
                    ev,
                    world,
                    rules,
                    deciding,
                    {rid: titles[rid] for rid in sorted(named) if rid in titles},
                )
            )
        prev = key
    return rows


def _timeline_outcome(d: Decision) -> tuple[Verdict, list[str], list[str]]:
    """The verdict, the jurisdictions giving it, and their rules whose effect is that verdict: what
    what-if shows as deciding, and what the screener (so the atlas) gives as deciding rules
    (``core.deciding_rules``)."""
    return d.verdict, sorted({j.jurisdiction for j in d.deciding}), list(d.deciding_rules)


__all__ = [
    "Side",
    "DiffReport",
    "diff",
    "timeline",
    "timeline_steps",
    "timeline_json",
    "exhaustive",
    "grounded",
    "SPACES",
]

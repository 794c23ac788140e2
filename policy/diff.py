"""Policy diff: what changes between two versions of the rules (or two dates), and which transfers flip.

Three parts, as an analyst needs them:
- *rules*: rules added, removed and changed field by field, per jurisdiction; world-data changes
  listed apart, so a change of law is never mistaken for a change of facts;
- *scenarios*: every library scenario whose verdict changes, with the rules responsible;
- *exhaustive*: for each jurisdiction whose rules differ, every combination of the facts its
  rules test (values taken from the rules themselves, dates cut where rules start or stop) is
  evaluated on both sides; the combinations that change are merged into short regions.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from .compiled import CompiledJurisdiction, compile_file, judge
from .engine import evaluate
from .facts import fact_spec
from .models import Role, RuleFile, Scenario, Verdict, iter_leaves
from .rulebase import RuleBase

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
class Region:
    jurisdiction: str
    role: str
    old: str
    new: str
    condition: str
    count: int
    example: dict[str, Any]


@dataclass
class DiffReport:
    old: str
    new: str
    rule_changes: list[RuleChange]
    world_changes: list[WorldChange]
    scenario_changes: list[ScenarioChange]
    scenarios_checked: int
    regions: list[Region]
    combinations: int
    jurisdictions_enumerated: list[str]

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
    for code in codes:
        a = _rules_at(old.base.jurisdictions.get(code), old.date)
        b = _rules_at(new.base.jurisdictions.get(code), new.date)
        for rid in sorted(set(a) | set(b)):
            if rid not in a:
                out.append(RuleChange(code, rid, "added"))
            elif rid not in b:
                out.append(RuleChange(code, rid, "removed"))
            else:
                fields = {k: (a[rid].get(k), b[rid].get(k)) for k in RULE_FIELDS if a[rid].get(k) != b[rid].get(k)}
                if fields:
                    out.append(RuleChange(code, rid, "changed", fields))
    return out


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


def _dims(files: list[RuleFile], groups: dict[str, str], with_date: bool) -> list[Dim]:
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
            vals = sorted((x for x in named[name] if x is not None), key=str)
            if spec.type == "category":
                dims.append(Dim(name, _category_classes(vals), "value"))
                continue
            dims.append(Dim(name, ([None] if None in named[name] else []) + vals + [OTHER], "value"))
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
    from .models import category_within

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


def _verdict(cj: CompiledJurisdiction | None, role: Role, facts: dict[str, Any], day: dt.date) -> str:
    if cj is None:
        return Verdict.undetermined.value if role is Role.exporter else NO_SAY
    if cj.kind == "regime" and cj.binds is not None:
        b = cj.binds(facts)
        if b is False:
            return NO_SAY
    if role not in (Role.exporter, Role.regime):
        active = [
            r
            for r in cj.by_role.get(role, ())
            if (r.from_ is None or r.from_ <= day)
            and (r.until is None or day <= r.until)
            and r.pred(facts) is not False
        ]
        if not active:
            return NO_SAY
    return judge(cj, role, facts, day, lambda j: judge(j, Role.exporter, facts, day)[0])[0].value


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


def exhaustive(old: Side, new: Side) -> tuple[list[Region], int, list[str]]:
    """Every combination of the facts that the changed jurisdictions' rules test, on both sides."""
    regions: list[Region] = []
    total = 0
    affected = _affected(old, new)
    for code in affected:
        ja, jb = old.base.jurisdictions.get(code), new.base.jurisdictions.get(code)
        files = [f for f in (ja, jb) if f is not None]
        groups = {**old.base.world.group_kinds(), **new.base.world.group_kinds()}
        dims = _dims(files, groups, with_date=old.date is None)
        ca = compile_file(ja, old.base.world.group_kinds()) if ja else None
        cb = compile_file(jb, new.base.world.group_kinds()) if jb else None
        fixed_a = old.date or dt.date(2000, 1, 1)
        fixed_b = new.date or dt.date(2000, 1, 1)
        date_i = next((i for i, d in enumerate(dims) if d.kind == "date"), None)
        sizes = [len(d.values) for d in dims]
        state = code if any(f.kind == "state" for f in files) else None
        for role in _roles(files):
            changed: dict[tuple[str, str], set[tuple[int, ...]]] = {}
            for idx, facts, day in combinations(dims, state):
                da = day if date_i is not None else fixed_a
                db = day if date_i is not None else fixed_b
                va = _verdict(ca, role, {**facts, "date": da}, da)
                vb = _verdict(cb, role, {**facts, "date": db}, db)
                total += 1
                if va != vb:
                    changed.setdefault((va, vb), set()).add(idx)
            for (va, vb), points in sorted(changed.items()):
                for cube in _cover(points, sizes):
                    first = tuple(min(s) for s in cube)
                    regions.append(
                        Region(
                            code,
                            role.value,
                            va,
                            vb,
                            _describe(dims, cube, sizes),
                            _count(cube),
                            _example(dims, first, code, role),
                        )
                    )
    return regions, total, affected


def _count(cube: list[set[int]]) -> int:
    n = 1
    for s in cube:
        n *= len(s)
    return n


def _cover(points: set[tuple[int, ...]], sizes: list[int]) -> list[list[set[int]]]:
    """Greedy cover of a set of grid points by maximal sub-grids (cubes) lying inside it.

    Deterministic and a function of the point set only, so diff(A, B) and diff(B, A) give the
    same regions.
    """
    covered: set[tuple[int, ...]] = set()
    cubes: list[list[set[int]]] = []
    for p in sorted(points):
        if p in covered:
            continue
        cube = [{v} for v in p]
        for d, n in enumerate(sizes):
            keep = set()
            for v in range(n):
                trial = cube[:d] + [{v}] + cube[d + 1 :]
                if all(q in points for q in itertools.product(*trial)):
                    keep.add(v)
            cube[d] = keep
        cubes.append(cube)
        covered.update(itertools.product(*cube))
    return cubes


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


# ------------------------------------------------------------------ the report


def diff(old: Side, new: Side, scenarios: list[Scenario]) -> DiffReport:
    """Compare two sides: rules, world data, scenario verdicts, and the exhaustive regions."""
    regions, total, affected = exhaustive(old, new)
    return DiffReport(
        old.label,
        new.label,
        rule_changes(old, new),
        world_changes(old, new),
        scenario_changes(old, new, scenarios),
        len(scenarios),
        regions,
        total,
        affected,
    )


def timeline(
    base: RuleBase, scenario: Scenario, start: dt.date, end: dt.date
) -> list[tuple[dt.date, Verdict, list[str], list[str]]]:
    """Dates in [start, end] where the verdict changes, with the rules and world entries that change there.

    Returns (date, verdict, rule events, world events); the first row is the verdict at ``start``.
    """
    candidates: set[dt.date] = set()
    events: dict[dt.date, list[str]] = {}
    world_events: dict[dt.date, list[str]] = {}
    for _code, r in base.all_rules():
        if r.from_ and start < r.from_ <= end:
            candidates.add(r.from_)
            events.setdefault(r.from_, []).append(f"{r.id} starts")
        if r.until and start <= r.until < end:
            d = r.until + dt.timedelta(days=1)
            candidates.add(d)
            events.setdefault(d, []).append(f"{r.id} ends")
    w = base.world
    entries = [(f"{g.id}: {m.country}", m.from_, m.until) for g in w.groups.values() for m in g.members]
    entries += [(f"conflict {c.id}", c.from_, c.until) for c in w.conflicts]
    entries += [(f"embargo {e.id}", e.from_, e.until) for e in w.embargoes]
    for name, f, u in entries:
        if f and start < f <= end:
            candidates.add(f)
            world_events.setdefault(f, []).append(f"{name} begins")
        if u and start <= u < end:
            d = u + dt.timedelta(days=1)
            candidates.add(d)
            world_events.setdefault(d, []).append(f"{name} ends")
    rows = []
    prev: tuple[Verdict, tuple[str, ...]] | None = None
    for day in [start] + sorted(candidates):
        dec = evaluate(base, scenario.model_copy(update={"date": day}))
        key = (dec.verdict, tuple(_deciding_rules(dec)))
        if prev is None or key != prev:
            rows.append(
                (
                    day,
                    dec.verdict,
                    sorted(events.get(day, [])) if prev else [],
                    sorted(world_events.get(day, [])) if prev else [],
                )
            )
        prev = key
    return rows


__all__ = ["Side", "DiffReport", "diff", "timeline", "exhaustive"]

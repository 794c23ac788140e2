"""Reading rule files, world data, the item catalogue and scenarios into validated models.

The only module that reads files. Every problem becomes a Diagnostic with ``file:line:col``;
all of them are collected before anything is reported.
"""

from __future__ import annotations

import difflib
import hashlib
from typing import Any, Callable, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from policy.load import yamlio
from policy.load.diagnostics import validate_model
from policy.load.discover import default_rules_path, display_path, seed_exists, yaml_files
from policy.load.publishers import check_source_tiers
from policy.model import (
    Conflict,
    Embargo,
    ItemCatalogue,
    Rule,
    RuleFile,
    SourceTiers,
    WorldFile,
    iter_leaves,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan
from policy.model.facts import check_leaf
from policy.model.rulebase import RuleBase, World, paused_gc

M = TypeVar("M", bound=BaseModel)

FORMATS: dict[str, type[BaseModel]] = {
    "policy-rules/v1": RuleFile,
    "policy-world/v1": WorldFile,
    "policy-items/v1": ItemCatalogue,
    "policy-sources/v1": SourceTiers,
}


# ------------------------------------------------------------------ rulebase


def load_rulebase(paths: list[str] | None = None) -> RuleBase:
    """Load every rule, world and item file under ``paths`` (default: the rules folder).

    Raises LoadError listing every problem found in any file. A rulebase loaded before from the
    very same files comes from the user's cache folder instead (load/cache.py; POLICY_CACHE=0 off).
    """
    from policy.load.cache import cached_rulebase

    return cached_rulebase(paths or [default_rules_path()])


def build_rulebase(paths: list[str]) -> RuleBase:
    """``load_rulebase`` without the cache: read, parse, validate and check every file."""
    with paused_gc():
        return _load_rulebase(paths)


def _load_rulebase(paths: list[str] | None) -> RuleBase:
    paths = paths or [default_rules_path()]
    diags: list[Diagnostic] = []
    base = RuleBase()
    rule_docs: list[tuple[RuleFile, yamlio.Document]] = []
    world_docs: list[tuple[WorldFile, yamlio.Document]] = []
    item_docs: list[tuple[ItemCatalogue, yamlio.Document]] = []
    tier_docs: list[tuple[SourceTiers, yamlio.Document]] = []
    failed_rule_docs: list[yamlio.Document] = []
    for path in yaml_files(paths):
        shown = display_path(path)
        try:
            text = yamlio.read_text(path, shown)
            doc = yamlio.parse(text, shown, keep_going=True)
        except LoadError as exc:
            diags.extend(exc.diagnostics)
            continue
        diags.extend(doc.problems)
        base.files[shown] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        fmt = doc.data.get("format") if isinstance(doc.data, dict) else None
        model = FORMATS.get(fmt) if isinstance(fmt, str) else None
        if model is None:
            if isinstance(doc.data, dict) and "format" not in doc.data and "exporter" in doc.data:
                diags.append(
                    Diagnostic(
                        "scenario-in-rules",
                        "this looks like a scenario, not a rule file",
                        doc.span(),
                        "keep scenarios under scenarios/",
                    )
                )
            else:
                diags.append(
                    Diagnostic(
                        "unknown-format",
                        f"unknown or missing `format`: `{fmt}`",
                        doc.span(("format",)),
                        "use one of: " + ", ".join(sorted(FORMATS)),
                    )
                )
            continue
        obj = validate_model(model, doc, diags)
        if obj is None and model is RuleFile:
            failed_rule_docs.append(doc)
        if isinstance(obj, RuleFile):
            rule_docs.append((obj, doc))
        elif isinstance(obj, WorldFile):
            world_docs.append((obj, doc))
        elif isinstance(obj, ItemCatalogue):
            item_docs.append((obj, doc))
        elif isinstance(obj, SourceTiers):
            tier_docs.append((obj, doc))

    check_source_tiers(tier_docs, diags)
    check_world(base.world, world_docs, diags)
    _check_items(base, item_docs, diags)
    _check_rules(base, rule_docs, diags)
    for doc in failed_rule_docs:
        _salvage_conditions(doc, base.world.group_kinds(), diags)
    if diags:
        raise LoadError(diags)
    if not rule_docs and not failed_rule_docs:
        shown_paths = ", ".join(f"`{p}`" for p in paths)
        raise LoadError(
            [
                Diagnostic(
                    "no-rules",
                    f"no rule files in {shown_paths}",
                    SourceSpan(paths[0]),
                    "give the folder that holds the rule files (e.g. --rules rules/) or set POLICY_RULES",
                )
            ]
        )
    return base


def _salvage_conditions(doc: yamlio.Document, groups: dict[str, str], diags: list[Diagnostic]) -> None:
    """Check the conditions of a rule file that failed validation, so one run reports every mistake."""
    from pydantic import TypeAdapter

    from policy.model import Condition

    rules = doc.data.get("rules") if isinstance(doc.data, dict) else None
    if not isinstance(rules, list):
        return
    adapter: TypeAdapter[Any] = TypeAdapter(Condition)
    for i, raw in enumerate(rules):
        if not isinstance(raw, dict) or raw.get("when") is None:
            continue
        try:
            cond = adapter.validate_python(raw["when"])
        except ValidationError:
            continue  # already reported by the file's validation
        for leaf, path in iter_leaves(cond):
            _leaf_diag(leaf, groups, doc, ("rules", i, "when") + path, diags)


def check_world(world: World, docs: list[tuple[WorldFile, Any]], diags: list[Diagnostic], extend: bool = False) -> None:
    seen_ids: dict[str, SourceSpan] = {}
    for wf, doc in docs:
        for gi, g in enumerate(wf.groups):
            span = doc.span(("groups", gi, "id"))
            if g.id in world.groups:
                if not extend:
                    diags.append(Diagnostic("duplicate-group", f"group `{g.id}` is defined twice", span))
                    continue
                old = world.groups[g.id]
                g = old.model_copy(update={"members": old.members + g.members, "sources": old.sources + g.sources})
            world.groups[g.id] = g
            source_ids = {s.id for s in g.sources}
            by_country: dict[str, list[int]] = {}
            for mi, m in enumerate(g.members):
                by_country.setdefault(m.country, []).append(mi)
                if m.source and m.source not in source_ids:
                    diags.append(
                        Diagnostic(
                            "unknown-source",
                            f"source `{m.source}` is not in group `{g.id}`'s sources",
                            doc.span(("groups", gi, "members", mi, "source")),
                        )
                    )
            for country, idxs in by_country.items():
                periods = sorted(
                    ((g.members[i].from_, g.members[i].until, i) for i in idxs),
                    key=lambda p: (p[0] is not None, p[0] or 0),
                )
                for (_f1, u1, _), (f2, _u2, i2) in zip(periods, periods[1:]):
                    if u1 is None or (f2 is not None and f2 <= u1) or f2 is None:
                        diags.append(
                            Diagnostic(
                                "overlapping-periods",
                                f"`{country}` has overlapping membership periods in `{g.id}`",
                                doc.span(("groups", gi, "members", i2)),
                                "end the earlier period before the next one starts",
                            )
                        )
        entries: list[tuple[str, Sequence[Conflict | Embargo]]] = [
            ("conflicts", wf.conflicts),
            ("embargoes", wf.embargoes),
        ]
        for kind, items in entries:
            for i, entry in enumerate(items):
                span = doc.span((kind, i, "id"))
                if entry.id in seen_ids:
                    diags.append(
                        Diagnostic(
                            "duplicate-id", f"world entry `{entry.id}` is already defined at {seen_ids[entry.id]}", span
                        )
                    )
                seen_ids[entry.id] = span
        world.conflicts.extend(wf.conflicts)
        world.embargoes.extend(wf.embargoes)
    world.conflicts.sort(key=lambda c: c.id)
    world.embargoes.sort(key=lambda e: e.id)


def _check_items(base: RuleBase, docs: list[tuple[ItemCatalogue, yamlio.Document]], diags: list[Diagnostic]) -> None:
    for cat, doc in docs:
        for i, entry in enumerate(cat.categories):
            if entry.id in base.categories:
                diags.append(
                    Diagnostic(
                        "duplicate-category",
                        f"category `{entry.id}` is listed twice",
                        doc.span(("categories", i, "id")),
                    )
                )
            base.categories[entry.id] = entry
        for i, item in enumerate(cat.items):
            if item.id in base.items:
                diags.append(
                    Diagnostic("duplicate-item", f"item `{item.id}` is defined twice", doc.span(("items", i, "id")))
                )
            base.items[item.id] = item


def _check_rules(base: RuleBase, docs: list[tuple[RuleFile, yamlio.Document]], diags: list[Diagnostic]) -> None:
    groups = base.world.group_kinds()
    rule_at: dict[str, SourceSpan] = {}
    for rf, doc in docs:
        code = rf.jurisdiction
        if code in base.jurisdictions:
            diags.append(
                Diagnostic(
                    "duplicate-jurisdiction",
                    f"jurisdiction `{code}` is defined in two files",
                    doc.span(("jurisdiction",)),
                )
            )
            continue
        base.jurisdictions[code] = rf
        for si, s in enumerate(rf.sources):
            base.source_index[(code, s.id)] = s
            if s.seed and not seed_exists(s.seed, doc.file):
                diags.append(
                    Diagnostic(
                        "missing-seed", f"seed file `{s.seed}` does not exist", doc.span(("sources", si, "seed"))
                    )
                )
        if rf.binds is not None:
            for leaf, path in iter_leaves(rf.binds):
                _leaf_diag(leaf, groups, doc, ("binds",) + path, diags)
        for ri, rule in enumerate(rf.rules):
            check_rule(rf, rule, doc, ("rules", ri), groups, rule_at, base, diags)
        for vi, view in enumerate(rf.views):
            _check_view(rf, view, doc, ("views", vi), rule_at, base, diags)
        check_cycles(rf, doc, diags)


def _check_view(
    rf: RuleFile,
    view: Any,
    doc: Any,
    loc: tuple[Any, ...],
    ids_at: dict[str, SourceSpan],
    base: RuleBase,
    diags: list[Diagnostic],
) -> None:
    """A view's id, fact (a derived boolean fact about the recipient) and citations."""
    from policy.model.facts import CONFLICT_FACTS

    span = doc.span(loc + ("id",))
    prefix = rf.jurisdiction.lower() + "."
    if view.id in ids_at:
        diags.append(Diagnostic("duplicate-rule-id", f"id `{view.id}` is already defined at {ids_at[view.id]}", span))
    ids_at[view.id] = span
    base.spans[view.id] = span
    if not view.id.startswith(prefix):
        diags.append(Diagnostic("wrong-id-prefix", f"view id `{view.id}` must start with `{prefix}`", span))
    if view.fact not in CONFLICT_FACTS:
        diags.append(
            Diagnostic(
                "bad-view",
                f"a view may state only a conflict fact about the recipient, not `{view.fact}`",
                doc.span(loc + ("fact",)),
                "one of: " + ", ".join(CONFLICT_FACTS),
            )
        )
    source_ids = {s.id for s in rf.sources}
    for ci, c in enumerate(view.citations):
        if c.source not in source_ids:
            diags.append(
                Diagnostic(
                    "unknown-source",
                    f"citation names source `{c.source}`, which the file's `sources` do not define",
                    doc.span(loc + ("citations", ci, "source")),
                    "add it to `sources`",
                )
            )


def check_rule(
    rf: RuleFile,
    rule: Rule,
    doc: Any,
    loc: tuple[Any, ...],
    groups: dict[str, str],
    rule_at: dict[str, SourceSpan],
    base: RuleBase,
    diags: list[Diagnostic],
) -> None:
    """Checks of one rule against its file: id, sources, exceptions, facts, role."""
    prefix = rf.jurisdiction.lower() + "."
    source_ids = {s.id for s in rf.sources}
    local_ids = {r.id for r in rf.rules}
    span = doc.span(loc + ("id",))
    if rule.id in rule_at:
        diags.append(
            Diagnostic("duplicate-rule-id", f"rule id `{rule.id}` is already defined at {rule_at[rule.id]}", span)
        )
    rule_at[rule.id] = span
    base.spans[rule.id] = span
    if not rule.id.startswith(prefix):
        diags.append(Diagnostic("wrong-id-prefix", f"rule id `{rule.id}` must start with `{prefix}`", span))
    for ci, c in enumerate(rule.citations):
        if c.source not in source_ids:
            m = difflib.get_close_matches(c.source, sorted(source_ids), n=1)
            diags.append(
                Diagnostic(
                    "unknown-source",
                    f"citation names source `{c.source}`, which the file's `sources` do not define",
                    doc.span(loc + ("citations", ci, "source")),
                    f"did you mean `{m[0]}`?" if m else "add it to `sources`",
                )
            )
    for ei, target in enumerate(rule.exception_to):
        if target not in local_ids:
            m = difflib.get_close_matches(target, sorted(local_ids), n=1)
            diags.append(
                Diagnostic(
                    "unknown-rule",
                    f"`exception_to` names `{target}`, which is not a rule of this jurisdiction",
                    doc.span(loc + ("exception_to", ei)),
                    f"did you mean `{m[0]}`?" if m else None,
                )
            )
        elif target == rule.id:
            diags.append(
                Diagnostic(
                    "exception-cycle",
                    f"rule `{rule.id}` is an exception to itself",
                    doc.span(loc + ("exception_to", ei)),
                )
            )
    for yi, target in enumerate(rule.yields_to):
        if target not in local_ids or target == rule.id:
            diags.append(
                Diagnostic(
                    "unknown-rule",
                    f"`yields_to` names `{target}`, which is not another rule of this jurisdiction",
                    doc.span(loc + ("yields_to", yi)),
                )
            )
    if rule.when is not None:
        for leaf, path in iter_leaves(rule.when):
            _leaf_diag(leaf, groups, doc, loc + ("when",) + path, diags)
    if rf.kind == "regime" and rule.role.value != "exporter":
        diags.append(
            Diagnostic("bad-role", "regime rules apply to the exporter; remove `role`", doc.span(loc + ("role",)))
        )


class Prefixed:
    """A document view whose locations are relative to a sub-tree (an overlay's `world:` or rules)."""

    def __init__(self, doc: yamlio.Document, prefix: tuple[Any, ...]) -> None:
        self.doc, self.prefix, self.file = doc, prefix, doc.file

    def span(self, loc: tuple[Any, ...] = ()) -> SourceSpan:
        return self.doc.span(self.prefix + tuple(loc))

    def key_span(self, loc: tuple[Any, ...]) -> SourceSpan:
        return self.doc.key_span(self.prefix + tuple(loc))


def _leaf_diag(leaf: Any, groups: dict[str, str], doc: Any, loc: tuple[Any, ...], diags: list[Diagnostic]) -> None:
    problem = check_leaf(leaf, groups)
    if problem:
        code, msg, hint = problem
        key = "fact" if code == "unknown-fact" else leaf.op if leaf.op != "in" else "in"
        diags.append(Diagnostic(code, msg, doc.span(loc + (key,)), hint))


def check_cycles(
    rf: RuleFile, doc: Any, diags: list[Diagnostic], where: Callable[[str], SourceSpan] | None = None
) -> None:
    edges = {r.id: [t for t in r.exception_to if t != r.id] for r in rf.rules}
    for r in rf.rules:  # `A yields_to B` is `B exception_to A`
        for winner in r.yields_to:
            if winner in edges and winner != r.id:
                edges[winner].append(r.id)
    state: dict[str, int] = {}
    index = {r.id: i for i, r in enumerate(rf.rules)}
    locate = where or (lambda rid: doc.span(("rules", index[rid], "exception_to")))

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt]
                diags.append(
                    Diagnostic(
                        "exception-cycle",
                        "exception cycle: " + " -> ".join(f"`{c}`" for c in cycle),
                        locate(node),
                        "an exception cannot, through others, be an exception to itself",
                    )
                )
            elif state.get(nxt) is None and nxt in edges:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for rid in edges:
        if rid not in state:
            visit(rid, [rid])

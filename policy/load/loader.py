"""Reading rule files, world data, the item catalogue and scenarios into validated models.

The only module that reads files. Every problem becomes a Diagnostic with ``file:line:col``;
all of them are collected before anything is reported.
"""

from __future__ import annotations

import difflib
import hashlib
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from policy.load import yamlio
from policy.load.paths import display_path, seed_exists, yaml_files
from policy.model import (
    CatalogueItem,
    ItemCatalogue,
    Overlay,
    Rule,
    RuleFile,
    Scenario,
    SourceTiers,
    WorldFile,
    iter_leaves,
)
from policy.model.contract import ContractError, check_chain
from policy.model.errors import Diagnostic, LoadError, SourceSpan
from policy.model.facts import check_leaf, coerce_value, fact_spec, suggest
from policy.model.rulebase import RuleBase, World, paused_gc

M = TypeVar("M", bound=BaseModel)

FORMATS = {
    "policy-rules/v1": RuleFile,
    "policy-world/v1": WorldFile,
    "policy-items/v1": ItemCatalogue,
    "policy-sources/v1": SourceTiers,
}


def default_rules_path() -> str:
    """``$POLICY_RULES``, else ``./rules``, else the rules bundled with the package (see rulesource)."""
    from policy.load.rulesource import choose_rules

    return choose_rules()[0][0]


def classify(paths: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Sort YAML files by their `format:` line: rule-side files (rules, world, items), overlays, scenarios."""
    rule_paths, overlay_paths, scenario_paths = [], [], []
    for f in yaml_files(paths):
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                head = fh.read(4096).splitlines()
        except OSError:
            head = []
        fmt = next((line for line in head if line.startswith("format:")), "")
        if "policy-overlay/" in fmt:
            overlay_paths.append(f)
        elif fmt:
            rule_paths.append(f)
        else:
            scenario_paths.append(f)
    return rule_paths, overlay_paths, scenario_paths


# ------------------------------------------------------------------ pydantic errors -> diagnostics

_KNOWN_KEYS = sorted(
    {
        name
        for model in (RuleFile, Rule, WorldFile, ItemCatalogue, CatalogueItem, Scenario)
        for f in model.model_fields.values()
        for name in [f.alias]
        if name
    }
    | {
        name
        for model in (RuleFile, Rule, WorldFile, ItemCatalogue, CatalogueItem, Scenario)
        for name in model.model_fields
        if not name.endswith("_")
    }
    | {
        "from",
        "until",
        "fact",
        "all",
        "any",
        "not",
        "in",
        "not_in",
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "within",
        "exists",
        "source",
        "instrument",
        "article",
        "quote",
        "url",
        "title",
        "members",
        "country",
        "parties",
        "self_defence",
        "target",
        "scope",
        "imposed_by",
        "licence",
        "components",
        "origin",
        "category",
        "lethal",
        "name",
        "publisher",
        "confidence",
        "seed",
        "note",
        "uncertain",
    }
)


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def _loc_text(loc: tuple[Any, ...]) -> str:
    parts = [
        str(p) for p in loc if isinstance(p, int) or p not in ("all", "any", "not", "fact", "list") or p in loc[-1:]
    ]
    return ".".join(parts) if parts else "(document)"


def validation_diagnostics(exc: ValidationError, doc: yamlio.Document) -> list[Diagnostic]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        where = _loc_text(loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            match = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1, cutoff=0.7)
            out.append(
                Diagnostic(
                    "unknown-field",
                    f"unknown field `{key}` at `{where}`",
                    doc.key_span(loc),
                    f"did you mean `{match[0]}`?" if match else "remove it or check the spelling",
                )
            )
        elif kind == "missing":
            out.append(Diagnostic("missing-field", f"missing field `{loc[-1]}` at `{where}`", doc.span(loc[:-1])))
        elif isinstance((err.get("ctx") or {}).get("error"), ContractError):
            ce = err["ctx"]["error"]
            out.append(Diagnostic(ce.code, f"`{where}`: {ce.message}", doc.span(loc), ce.hint))
        else:
            msg = _clean(err["msg"])
            msg = msg.replace("Input should be", "expected").replace(
                "a valid dictionary or instance of ", "a mapping ("
            )
            if "a mapping (" in msg:
                msg = msg.split("a mapping (")[0] + "a mapping"
            out.append(Diagnostic("invalid-value", f"`{where}`: {msg}", doc.span(loc)))
    return out


def _validate(model: type[M], doc: yamlio.Document, diags: list[Diagnostic]) -> M | None:
    if not isinstance(doc.data, dict):
        diags.append(Diagnostic("not-a-mapping", "expected a YAML mapping at the top of the file", doc.span()))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        diags.extend(validation_diagnostics(exc, doc))
        return None


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
        obj = _validate(model, doc, diags)
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
    _check_world(base.world, world_docs, diags)
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


def _check_world(
    world: World, docs: list[tuple[WorldFile, Any]], diags: list[Diagnostic], extend: bool = False
) -> None:
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
        for kind, items in (("conflicts", wf.conflicts), ("embargoes", wf.embargoes)):
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
            _check_rule(rf, rule, doc, ("rules", ri), groups, rule_at, base, diags)
        for vi, view in enumerate(rf.views):
            _check_view(rf, view, doc, ("views", vi), rule_at, base, diags)
        _check_cycles(rf, doc, diags)


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


def _check_rule(
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


class _Prefixed:
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


def _check_cycles(
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


# ------------------------------------------------------------------ publishers and links (rules/sources.yaml)


def check_source_tiers(docs: list[tuple[SourceTiers, Any]], diags: list[Diagnostic]) -> SourceTiers | None:
    """Merge every publisher-tiers file into one; a host listed twice (in any list, any file) is an error."""
    if not docs:
        return None
    seen: dict[str, SourceSpan] = {}
    publishers, farms = [], []
    for st, doc in docs:
        for kind, entries in (("publishers", st.publishers), ("content_farms", st.content_farms)):
            for i, entry in enumerate(entries):
                span = doc.span((kind, i, "host"))
                if entry.host in seen:
                    diags.append(
                        Diagnostic(
                            "duplicate-host",
                            f"host `{entry.host}` is already listed at {seen[entry.host]}",
                            span,
                            "list each host once: in one tier, or as a content farm",
                        )
                    )
                    continue
                seen[entry.host] = span
        publishers.extend(st.publishers)
        farms.extend(st.content_farms)
    return SourceTiers.model_validate({"format": "policy-sources/v1", "publishers": publishers, "content_farms": farms})


def _format_of(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096).splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in head if line.startswith("format:")), "")


def load_source_tiers(files: list[str]) -> SourceTiers | None:
    """The publisher tiers in those of ``files`` that are `policy-sources/v1` files (merged), or None.

    ``files`` are paths as the rulebase records them (``RuleBase.files``). Raises LoadError on a bad file.
    """
    docs: list[tuple[SourceTiers, Any]] = []
    diags: list[Diagnostic] = []
    for f in files:
        if _format_of(f) != "policy-sources/v1":
            continue
        doc = yamlio.load(f, display_path(f), keep_going=True)
        diags.extend(doc.problems)
        obj = _validate(SourceTiers, doc, diags)
        if obj is not None:
            docs.append((obj, doc))
    merged = check_source_tiers(docs, diags)
    if diags:
        raise LoadError(diags)
    return merged


def url_links(files: list[str]) -> list[tuple[SourceSpan, str]]:
    """Every `url:` value written in the given YAML files (sources, citations, world and scenario
    sources alike), with the place it is written, in file order. Unreadable files are skipped."""
    out: list[tuple[SourceSpan, str]] = []

    def walk(doc: yamlio.Document, data: Any, loc: tuple[Any, ...]) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key == "url" and isinstance(value, str):
                    out.append((doc.span(loc + (key,)), value))
                else:
                    walk(doc, value, loc + (key,))
        elif isinstance(data, list):
            for i, value in enumerate(data):
                walk(doc, value, loc + (i,))

    for f in files:
        try:
            doc = yamlio.load(f, display_path(f), keep_going=True)
        except LoadError:
            continue
        walk(doc, doc.data, ())
    return out


# ------------------------------------------------------------------ scenarios


def load_scenario(path: str, base: RuleBase) -> Scenario:
    """Load one scenario file and resolve its items against the catalogue."""
    shown = display_path(path)
    doc = yamlio.load(path, shown, keep_going=True)
    return scenario_from_data(doc, base)


def _assumptions(raw: dict[str, Any], groups: dict[str, str], doc: Any, diags: list[Diagnostic]) -> dict[str, Any]:
    """Check and convert an `assume:` mapping (fact name -> value)."""
    out = {}
    for key, value in raw.items():
        spec = fact_spec(key, groups)
        if spec is None:
            diags.append(
                Diagnostic(
                    "unknown-fact",
                    f"cannot assume `{key}`: no fact has that name",
                    doc.key_span(("assume", key)),
                    suggest(key, groups),
                )
            )
            continue
        try:
            out[key] = coerce_value(spec, value)
        except ValueError as exc:
            diags.append(Diagnostic("bad-value", str(exc), doc.span(("assume", key))))
    return out


def scenario_from_data(doc: yamlio.Document, base: RuleBase) -> Scenario:
    """Validate scenario data (from a file or built by the CLI) and resolve items and assumptions."""
    diags: list[Diagnostic] = list(doc.problems)
    if isinstance(doc.data, dict) and "format" in doc.data:
        raise LoadError(
            [Diagnostic("not-a-scenario", "this is a rule, world or item file, not a scenario", doc.span(("format",)))]
        )
    sc = _validate(Scenario, doc, diags)
    if sc is None or (diags and not sc.items):
        raise LoadError(diags)
    pos, problem = check_chain(sc.exporter, sc.via, sc.transit, sc.recipient)
    if pos >= 0:
        n_via, n_chain = len(sc.via), len(sc.via) + len(sc.transit) + 2
        where = (
            ("exporter",)
            if pos == 0
            else ("via", pos - 1)
            if pos <= n_via
            else ("transit", pos - 1 - n_via)
            if pos < n_chain - 1
            else ("recipient",)
        )
        diags.append(Diagnostic(problem.code, problem.message, doc.span(where), problem.hint))
    items = []
    for i, item in enumerate(sc.items):
        if item.id is not None:
            cat = base.items.get(item.id) or base.items.get(item.id.lower())
            if cat is not None and cat.id != item.id:
                item = item.model_copy(update={"id": cat.id})
            if cat is None:
                m = difflib.get_close_matches(item.id, sorted(base.items), n=1)
                diags.append(
                    Diagnostic(
                        "unknown-item",
                        f"no item `{item.id}` in the item catalogue",
                        doc.span(("items", i, "id")),
                        f"did you mean `{m[0]}`?" if m else "give `category` and `lethal` instead",
                    )
                )
                items.append(item)
                continue
            item = item.model_copy(
                update={
                    "name": item.name or cat.name,
                    "category": item.category or cat.category,
                    "lethal": cat.lethal if item.lethal is None else item.lethal,
                }
            )
        items.append(item)
    assume = _assumptions(sc.assume, base.world.group_kinds(), doc, diags)
    for i, rid in enumerate(sc.expect_rules):
        if base.rule(rid) is None:
            diags.append(
                Diagnostic(
                    "unknown-rule",
                    f"`expect_rules` names `{rid}`, which no rule file defines",
                    doc.span(("expect_rules", i)),
                )
            )
    for i, cal in enumerate(sc.calibrates):
        if base.rule(cal.rule) is None:
            diags.append(
                Diagnostic(
                    "unknown-rule",
                    f"`calibrates` names `{cal.rule}`, which no rule file defines",
                    doc.span(("calibrates", i, "rule")),
                )
            )
    if diags:
        raise LoadError(diags)
    return sc.model_copy(update={"items": items, "assume": assume})


# ------------------------------------------------------------------ overlays


def load_overlay(path: str) -> tuple[Overlay, yamlio.Document]:
    """Read and validate an overlay file (a what-if on the law)."""
    shown = display_path(path)
    doc = yamlio.load(path, shown, keep_going=True)
    diags: list[Diagnostic] = list(doc.problems)
    ov = _validate(Overlay, doc, diags)
    if ov is None or diags:
        raise LoadError(diags)
    return ov, doc


def apply_overlays(base: RuleBase, paths: list[str]) -> RuleBase:
    """A new rulebase with each overlay's rule changes, assumptions and world data applied in order."""
    for path in paths:
        base = apply_overlay(base, path)
    return base


def apply_overlay(base: RuleBase, path: str) -> RuleBase:
    """A new rulebase: ``base`` with one overlay applied. ``base`` itself is not changed."""
    ov, doc = load_overlay(path)
    diags: list[Diagnostic] = []
    new = RuleBase(
        jurisdictions=dict(base.jurisdictions),
        world=World(dict(base.world.groups), list(base.world.conflicts), list(base.world.embargoes)),
        items=base.items,
        categories=base.categories,
        files=dict(base.files),
        spans=dict(base.spans),
        source_index=dict(base.source_index),
        assume=dict(base.assume),
        overlays=[*base.overlays, ov.id],
    )
    new.files[doc.file] = hashlib.sha256(yamlio.read_text(path, doc.file).encode("utf-8")).hexdigest()
    if ov.world is not None:
        _check_world(new.world, [(ov.world, _Prefixed(doc, ("world",)))], diags, extend=True)
        new.world.conflicts.sort(key=lambda c: c.id)
        new.world.embargoes.sort(key=lambda e: e.id)
    groups = new.world.group_kinds()
    for code, change in sorted(ov.changes.items()):
        rf = new.jurisdictions.get(code)
        if rf is None:
            m = difflib.get_close_matches(code, sorted(new.jurisdictions), n=1)
            diags.append(
                Diagnostic(
                    "unknown-jurisdiction",
                    f"no rule file for jurisdiction `{code}`",
                    doc.key_span(("changes", code)),
                    f"did you mean `{m[0]}`?" if m else None,
                )
            )
            continue
        rules = list(rf.rules)
        ids = {r.id: i for i, r in enumerate(rules)}
        view_ids = {v.id for v in rf.views}
        for i, rid in enumerate(change.disable):
            if rid not in ids and rid not in view_ids:
                diags.append(
                    Diagnostic(
                        "unknown-rule",
                        f"cannot disable `{rid}`: no such rule or view in `{code}`",
                        doc.span(("changes", code, "disable", i)),
                    )
                )
        for i, rule in enumerate(change.replace):
            if rule.id not in ids:
                diags.append(
                    Diagnostic(
                        "unknown-rule",
                        f"cannot replace `{rule.id}`: no such rule in `{code}`",
                        doc.span(("changes", code, "replace", i, "id")),
                        "use `add` for a new rule",
                    )
                )
            else:
                rules[ids[rule.id]] = rule
        for i, rule in enumerate(change.add):
            if rule.id in ids:
                diags.append(
                    Diagnostic(
                        "duplicate-rule-id",
                        f"rule `{rule.id}` already exists in `{code}`",
                        doc.span(("changes", code, "add", i, "id")),
                        "use `replace` to change an existing rule",
                    )
                )
        disabled = set(change.disable)
        rules = [r for r in rules if r.id not in disabled] + list(change.add)
        existing = {s.id for s in rf.sources}
        extra = [s for s in ov.sources if s.id not in existing]
        views = [v for v in rf.views if v.id not in disabled]
        updated = rf.model_copy(update={"rules": rules, "views": views, "sources": list(rf.sources) + extra})
        for s in extra:
            new.source_index[(code, s.id)] = s
        new.jurisdictions[code] = updated
        rule_at = {rid: span for rid, span in new.spans.items() if not rid.startswith(code.lower() + ".")}
        for kind in ("replace", "add"):
            for i, rule in enumerate(getattr(change, kind)):
                _check_rule(updated, rule, doc, ("changes", code, kind, i), groups, rule_at, new, diags)
        changed = {r.id: (kind, i) for kind in ("replace", "add") for i, r in enumerate(getattr(change, kind))}

        def where(rid: str, code: str = code, changed: dict[str, tuple[str, int]] = changed) -> SourceSpan:
            if rid in changed:
                kind, i = changed[rid]
                return doc.span(("changes", code, kind, i, "exception_to"))
            return new.spans.get(rid, doc.span())

        _check_cycles(updated, doc, diags, where)
        for rid in disabled:
            new.spans.pop(rid, None)
        for other in rules:
            for t in other.exception_to:
                if t in disabled:
                    diags.append(
                        Diagnostic(
                            "unknown-rule",
                            f"`{other.id}` is an exception to `{t}`, which the overlay disables",
                            where(other.id),
                            "disable or replace the exception too",
                        )
                    )
    new.assume.update(_assumptions(ov.assume, groups, doc, diags))
    if diags:
        raise LoadError(diags)
    return new

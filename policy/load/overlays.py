"""Overlays: what-if changes to the law and the world, applied to a loaded rulebase."""

from __future__ import annotations

import difflib
import hashlib

from policy.load import yamlio
from policy.load.diagnostics import validate_model
from policy.load.discover import display_path
from policy.load.loader import Prefixed, check_cycles, check_rule, check_world
from policy.load.scenarios import read_assumptions
from policy.model import (
    Overlay,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan
from policy.model.rulebase import RuleBase, World

# ------------------------------------------------------------------ overlays


def load_overlay(path: str) -> tuple[Overlay, yamlio.Document]:
    """Read and validate an overlay file (a what-if on the law)."""
    shown = display_path(path)
    doc = yamlio.load(path, shown, keep_going=True)
    diags: list[Diagnostic] = list(doc.problems)
    ov = validate_model(Overlay, doc, diags)
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
        check_world(new.world, [(ov.world, Prefixed(doc, ("world",)))], diags, extend=True)
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
                check_rule(updated, rule, doc, ("changes", code, kind, i), groups, rule_at, new, diags)
        changed = {r.id: (kind, i) for kind in ("replace", "add") for i, r in enumerate(getattr(change, kind))}

        def where(rid: str, code: str = code, changed: dict[str, tuple[str, int]] = changed) -> SourceSpan:
            if rid in changed:
                kind, i = changed[rid]
                return doc.span(("changes", code, kind, i, "exception_to"))
            return new.spans.get(rid, doc.span())

        check_cycles(updated, doc, diags, where)
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
    new.assume.update(read_assumptions(ov.assume, groups, doc, diags))
    if diags:
        raise LoadError(diags)
    return new

"""Reading scenarios: validation, catalogue items and assumptions resolved against the rulebase."""

from __future__ import annotations

import difflib
from typing import Any

from policy.load import yamlio
from policy.load.diagnostics import validate_model
from policy.load.discover import display_path
from policy.model import (
    Scenario,
)
from policy.model.contract import check_chain
from policy.model.errors import Diagnostic, LoadError
from policy.model.facts import coerce_value, fact_spec, suggest
from policy.model.rulebase import RuleBase

# ------------------------------------------------------------------ scenarios


def load_scenario(path: str, base: RuleBase) -> Scenario:
    """Load one scenario file and resolve its items against the catalogue."""
    shown = display_path(path)
    doc = yamlio.load(path, shown, keep_going=True)
    return scenario_from_data(doc, base)


def read_assumptions(raw: dict[str, Any], groups: dict[str, str], doc: Any, diags: list[Diagnostic]) -> dict[str, Any]:
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
    sc = validate_model(Scenario, doc, diags)
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
            asked = item.id
            cat = base.items.get(asked) or base.items.get(asked.lower())
            if cat is not None and cat.id != asked:
                item = item.model_copy(update={"id": cat.id})
            if cat is None:
                m = difflib.get_close_matches(asked, sorted(base.items), n=1)
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
    assume = read_assumptions(sc.assume, base.world.group_kinds(), doc, diags)
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

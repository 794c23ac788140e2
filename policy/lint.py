"""Warnings about rules that are valid YAML but likely wrong.

For each jurisdiction, every combination of the facts its rules test is enumerated (as in the
exhaustive diff), so the findings are exact for the encoded conditions:
- ``conflict``: a permission and a restriction can apply together with no exception between them;
- ``overlap``: a rule that allows case by case (``licence_required``) can apply together with a
  restriction or prohibition, neither an exception to the other nor yielding to it, so it silently
  loses (add ``exception_to`` if it is meant to win, ``yields_to`` if it is meant to lose). Two
  grounds for refusal (``restricted`` and ``prohibited``) accumulate as legal grounds do and are
  not reported;
- ``never-fires``: a condition no transfer can satisfy while the rule is in force;
- ``always-defeated``: whenever it applies, an exception defeats it;
- ``no-citation-detail``: a citation with neither an article nor a URL;
- ``expired``: a rule whose period ended before today (kept for history: fine, but say so).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from .compiled import compile_file
from .diff import OTHER, _dims, combinations
from .errors import Diagnostic
from .models import RESTRICTIVE, Effect, Verdict
from .rulebase import RuleBase


def lint(base: RuleBase, today: dt.date) -> list[Diagnostic]:
    """Every warning for the rulebase, sorted by place."""
    out: list[Diagnostic] = []
    groups = base.world.group_kinds()
    for code, jf in sorted(base.jurisdictions.items()):
        cj = compile_file(jf, groups)
        dims = _dims([jf], groups, with_date=True)
        rules = {r.id: r for r in jf.rules}
        compiled = {r.id: r for rs in cj.by_role.values() for r in rs}
        fired: dict[str, int] = {rid: 0 for rid in rules}
        undefeated: dict[str, int] = {rid: 0 for rid in rules}
        pairs: dict[tuple[str, str], dict[str, Any]] = {}
        for idx, facts, day in combinations(dims, code if jf.kind == "state" else None):
            for role in {r.role for r in jf.rules}:
                on = [
                    rid
                    for rid, r in rules.items()
                    if r.role == role and r.in_force(day) and compiled[rid].pred(facts) is True
                ]
                defeated = {t for rid in on for t in rules[rid].exception_to}
                defeated |= {rid for rid in on if any(t in on for t in rules[rid].yields_to)}
                non_default = [rid for rid in on if not rules[rid].default]
                for rid in on:
                    fired[rid] += 1
                    if rid not in defeated and not (rules[rid].default and non_default):
                        undefeated[rid] += 1
                live = [rid for rid in non_default if rid not in defeated]
                for a, b in itertools.combinations(sorted(live), 2):
                    ra, rb = rules[a], rules[b]
                    if ra.effect == rb.effect or Effect.as_direct_export in (ra.effect, rb.effect):
                        continue
                    if (a, b) not in pairs:
                        ex = {
                            d.fact: (
                                d.values[i].isoformat()
                                if isinstance(d.values[i], dt.date)
                                else "any other"
                                if d.values[i] == OTHER
                                else d.values[i]
                            )
                            for d, i in zip(dims, idx)
                        }
                        pairs[(a, b)] = ex
        for rid, r in rules.items():
            span = base.spans.get(rid)
            if fired[rid] == 0:
                out.append(
                    Diagnostic(
                        "never-fires",
                        f"rule `{rid}` can never apply: no transfer satisfies its condition while it is in force",
                        span,
                        "check the condition's values and the rule's period",
                        "warning",
                    )
                )
            elif undefeated[rid] == 0 and not r.default:
                out.append(
                    Diagnostic(
                        "always-defeated",
                        f"rule `{rid}` is defeated by an exception whenever it applies",
                        span,
                        "remove it or narrow its exceptions",
                        "warning",
                    )
                )
            for c in r.citations:
                src = base.source_index.get((code, c.source))
                if not c.article and not c.url and not (src and src.url):
                    out.append(
                        Diagnostic(
                            "no-citation-detail",
                            f"rule `{rid}` cites `{c.instrument}` with neither an article nor a URL",
                            span,
                            "add `article:` or a source `url:`",
                            "warning",
                        )
                    )
            if r.until and r.until < today:
                out.append(
                    Diagnostic(
                        "expired",
                        f"rule `{rid}` ended on {r.until}",
                        span,
                        "fine for history; the engine applies it only to earlier dates",
                        "info",
                    )
                )
        for (a, b), ex in sorted(pairs.items()):
            va, vb = _verdict_of(rules[a].effect), _verdict_of(rules[b].effect)
            permit = Verdict.permitted in (va, vb) and (va in RESTRICTIVE or vb in RESTRICTIVE)
            example = ", ".join(f"{k}={v}" for k, v in ex.items())
            if permit:
                out.append(
                    Diagnostic(
                        "conflict",
                        f"rules `{a}` ({va.value}) and `{b}` ({vb.value}) can apply "
                        f"together with no exception between them: e.g. {example}",
                        base.spans.get(b),
                        "make one an `exception_to` the other, or let one `yields_to` the other",
                        "warning",
                    )
                )
            elif min(va.severity, vb.severity) <= Verdict.licence_required.severity:
                milder = a if va.severity < vb.severity else b
                other = b if milder == a else a
                out.append(
                    Diagnostic(
                        "overlap",
                        f"rules `{a}` ({va.value}) and `{b}` ({vb.value}) can apply "
                        f"together; `{milder}` then never decides: e.g. {example}",
                        base.spans.get(milder),
                        f"if `{milder}` should win, add `exception_to: [{other}]`; if it should give way, "
                        f"add `yields_to: [{other}]`",
                        "warning",
                    )
                )
    return sorted(out, key=Diagnostic.sort_key)


def _verdict_of(effect: Effect) -> Verdict:
    return Verdict(effect.value) if effect is not Effect.as_direct_export else Verdict.undetermined


__all__ = ["lint"]

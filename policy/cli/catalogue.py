"""Verbs that list what the rules know: items, countries, jurisdictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from policy.cli.common import (
    Format,
    FormatOpt,
    OutputOpt,
    RulesOpt,
    guarded,
    rulebase_from,
    table,
    write_models,
    write_output,
)

if TYPE_CHECKING:
    pass


@guarded
def items(rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt) -> None:
    """The Munitions List categories and catalogue items the engine knows, with their lethality (`--item`)."""
    from policy.analysis.catalogue import item_catalogue

    cat = item_catalogue(rulebase_from(rules))
    if fmt is Format.json:
        write_output(cat.model_dump_json(indent=2) + "\n", output)
        return
    categories = table(
        [[c.id, "lethal" if c.lethal else "non-lethal", c.title] for c in cat.categories],
        ["category", "default", "title"],
        fmt,
    )
    catalogue = table(
        [[i.id, i.category, "lethal" if i.lethal else "non-lethal", i.name] for i in cat.items],
        ["item", "category", "lethality", "name"],
        fmt,
    )
    write_output(categories + "\n" + catalogue, output)


@guarded
def countries(
    rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt
) -> None:
    """Every country by code and name (names in any case work wherever a state is asked for), and which have rules."""
    from policy.analysis.catalogue import countries as run

    rows = run(rulebase_from(rules))
    if fmt is Format.json:
        return write_models(rows, output)
    body = [[r.code, r.name, "rules" if r.has_rules else ""] for r in rows]
    write_output(table(body, ["code", "name", "rules"], fmt), output)


@guarded
def jurisdictions(
    rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt
) -> None:
    """Every encoded jurisdiction and regime: rule counts by effect, the period its rules cover, its sources."""
    from policy.analysis.catalogue import jurisdictions as run

    rows = run(rulebase_from(rules))
    if fmt is Format.json:
        return write_models(rows, output)
    body = [
        [
            r.code,
            r.kind,
            str(r.rules),
            ", ".join(f"{k} {v}" for k, v in r.rules_by_effect.items()),
            str(len(r.sources)),
            r.name,
        ]
        for r in rows
    ]
    states = sum(1 for r in rows if r.kind == "state")
    total = f"{states} national jurisdictions, {len(rows) - states} regimes, {sum(r.rules for r in rows)} rules\n"
    write_output(table(body, ["code", "kind", "rules", "by effect", "sources", "name"], fmt) + "\n" + total, output)

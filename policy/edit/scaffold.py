"""Scaffolding: a new jurisdiction's rule file, a what-if saved as a scenario, and the scenario
warnings ``lint`` gives for such a file until its sources are filled in.

The texts are written by hand (not dumped), in the canonical style of ``policy fmt``, with the
comments an author needs; each loads as it is, so ``policy validate`` accepts it at once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from policy.model.errors import Diagnostic, LoadError, SourceSpan


def _q(value: str) -> str:
    """A YAML scalar for ``value``: plain when safe, else double-quoted (JSON escaping is YAML's)."""
    from policy.edit.fmt import misread_plain

    if value and re.match(r"^[A-Za-z0-9][A-Za-z0-9 ._/()-]*$", value) and not value.endswith(" "):
        if not misread_plain(value):
            return value
    return json.dumps(value, ensure_ascii=False)


def jurisdiction_text(code: str, name: str, kind: str = "state") -> str:
    """A rule file for a new jurisdiction: the header and one general licensing rule to fill in."""
    low = code.lower()
    regime = kind == "regime"
    lines = [
        "# yaml-language-server: $schema=../schema/rules.schema.json",
        "format: policy-rules/v1",
        f"jurisdiction: {_q(code)}",
        f"name: {_q(name)}",
        f"kind: {kind}",
    ]
    if regime:
        lines += [
            "# Which exporters the regime binds, as a condition over exporter facts:",
            "binds: {fact: exporter.party_to.ATT, eq: true}",
            "if_no_rule_applies: permitted",
        ]
    lines += [
        "# Legal basis: the statute or regulation that requires export licences, with its number and date,",
        "# the authority that decides, and any published policy or criteria that guide its decisions.",
        "summary: >",
        f"  TODO: the legal basis of {name}'s export controls on military items, who decides, and how.",
        "not_encoded: >",
        "  TODO: what the sources cover but this file does not encode (be specific).",
        "sources:",
        "  - id: export-control-act",
        "    title: TODO the title of the act, regulation or policy document",
        "    # url: https://... (a URL you actually read)",
        "    confidence: uncertain",
        "rules:",
        f"  - id: {low}.general.export-licence",
        "    title: Every export of military items needs an export licence, decided case by case",
        "    effect: licence_required",
        "    binding: statute",
        "    default: true",
        "    when: {fact: item.category, within: ML}",
        "    citations:",
        "      - source: export-control-act",
        "        instrument: TODO the instrument's name",
        "        article: TODO the article that requires the licence",
        "    uncertain: >",
        "      TODO: what could not be confirmed; remove when the citation is checked.",
    ]
    return "\n".join(lines) + "\n"


def new_jurisdiction(code: str, folder: str = "rules", regime: bool = False, name: str | None = None) -> Path:
    """Write ``<folder>/<code>.yaml`` for a new state (ISO code) or regime; never overwrites."""
    from policy.load.atomic import write_text
    from policy.model.countries import country_name, is_country

    kind = "regime" if regime else "state"
    code = code.strip()
    if regime:
        code = code.upper()
        if not re.match(r"^[A-Z][A-Z0-9-]+$", code):
            raise LoadError([Diagnostic("bad-code", f"`{code}` is not a regime id (upper case, e.g. `MTCR`)")])
    else:
        code = code.upper()
        if not is_country(code):
            raise LoadError(
                [
                    Diagnostic(
                        "unknown-country",
                        f"`{code}` is not an ISO 3166-1 alpha-2 country code",
                        SourceSpan("XX"),
                        "use --regime for a regime such as MTCR",
                    )
                ]
            )
    target = Path(folder) / f"{code.lower()}.yaml"
    if target.exists():
        raise LoadError(
            [Diagnostic("file-exists", f"`{target}` already exists; not overwritten", SourceSpan(str(target)))]
        )
    if not Path(folder).is_dir():
        raise LoadError([Diagnostic("no-such-path", f"no folder `{folder}`", SourceSpan(folder))])
    text = jurisdiction_text(code, name or (code if regime else country_name(code)), kind)
    write_text(target, text, str(target))
    return target


def scenario_text(
    sc: Any, verdict: str, file_id: str, rules: list[str] | None = None, catalogue: dict[str, Any] | None = None
) -> str:
    """A scenario file for a transfer (a validated Scenario), expecting ``verdict``.

    A catalogue item is written by its id alone when the rest is what the catalogue says.
    """
    lines = [
        "# yaml-language-server: $schema=../../schema/scenario.schema.json",
        f"id: {_q(file_id)}",
        f"title: {_q(sc.title)}",
        "kind: hypothetical",
        f"date: {sc.date.isoformat()}",
        f"exporter: {_q(sc.exporter)}",
        f"recipient: {_q(sc.recipient)}",
        f"end_user: {sc.end_user}",
        f"transfer: {sc.transfer}",
    ]
    if sc.via:
        lines.append(f"via: [{', '.join(_q(v) for v in sc.via)}]")
    if sc.transit:
        lines.append(f"transit: [{', '.join(_q(v) for v in sc.transit)}]")
    lines.append("items:")
    for it in sc.items:
        fields = it.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
        cat = (catalogue or {}).get(it.id) if it.id else None
        if cat is not None:
            for k in ("name", "category", "lethal"):
                if fields.get(k) == getattr(cat, k):
                    fields.pop(k)
        parts = []
        for k in ("id", "name", "category", "lethal", "origin", "licence"):
            if k in fields:
                v = fields[k]
                parts.append(f"{k}: {str(v).lower() if isinstance(v, bool) else _q(str(v))}")
        lines.append("  - {" + ", ".join(parts) + "}")
    if sc.assume:
        pairs = ", ".join(
            f"{k}: {json.dumps(v) if not isinstance(v, str) else _q(v)}" for k, v in sorted(sc.assume.items())
        )
        lines.append("assume: {" + pairs + "}")
    lines.append(f"expect: {verdict}  # the verdict when saved; check it against the sources")
    if rules:
        lines.append(f"expect_rules: [{', '.join(rules)}]")
    lines += [
        "# Add what the expected verdict rests on: {title: ..., url: ..., note: ...}. `policy lint` warns until then.",
        "sources: []",
    ]
    return "\n".join(lines) + "\n"


def save_scenario(
    path: str, sc: Any, verdict: str, rules: list[str] | None = None, catalogue: dict[str, Any] | None = None
) -> Path:
    """Write a what-if question as a scenario file; never overwrites."""
    from policy.edit.fmt import load_model
    from policy.load.atomic import write_text

    target = Path(path)
    if target.exists():
        raise LoadError([Diagnostic("file-exists", f"`{path}` already exists; not overwritten", SourceSpan(path))])
    if target.suffix not in (".yaml", ".yml"):
        raise LoadError([Diagnostic("bad-path", f"`{path}` should end in .yaml", SourceSpan(path))])
    file_id = re.sub(r"[^a-z0-9]+", "-", target.stem.lower()).strip("-") or "what-if"
    text = scenario_text(sc, verdict, file_id, rules, catalogue)
    load_model(text, path)  # what is written must load
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, text, path)
    return target


def lint_scenarios(paths: list[str]) -> list[Diagnostic]:
    """Warnings for scenario files: a scenario with an `expect` and no sources for it."""
    from policy.load import yamlio
    from policy.load.discover import display_path

    out = []
    for f in paths:
        shown = display_path(f)
        try:
            doc = yamlio.load(f, shown, keep_going=True)
        except LoadError:
            continue  # `validate` reports it
        data = doc.data if isinstance(doc.data, dict) else {}
        if data.get("expect") is not None and not data.get("sources"):
            where = ("sources",) if "sources" in data else ("expect",)
            out.append(
                Diagnostic(
                    "no-scenario-sources",
                    f"scenario `{data.get('id')}` expects `{data.get('expect')}` but names no source for it",
                    doc.key_span(where),
                    "add {title: ..., url: ..., note: ...} entries saying why this verdict is right",
                    "warning",
                )
            )
    return out


__all__ = ["jurisdiction_text", "lint_scenarios", "new_jurisdiction", "save_scenario", "scenario_text"]

"""Rendering decisions for people (text, Markdown) and for scripts (JSON).

Pure functions from engine results to strings; output is sorted and stable, so the same
rules and scenario always give byte-identical reports. Slightly over 500 lines: the four
renderings of one decision (JSON, --explain text, Markdown, short answers) share their helpers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from policy.eval.derive import FactValue
from policy.eval.engine import Decision, JurisdictionVerdict, RuleFinding
from policy.model import BINDING_WORDS, Effect, Role, Rule, Verdict
from policy.model.countries import country_name
from policy.model.rulebase import RuleBase

if TYPE_CHECKING:  # the output models are imported by the JSON renderings only: text needs none of them
    from policy.model.results import CitationOut, DecisionOut, FactOut, JurisdictionOut, RuleOut

ROLE_WORDS = {
    Role.exporter: "exporter",
    Role.original_producer: "original producer (consent to re-export)",
    Role.earlier_exporter: "earlier exporter (end-use undertaking)",
    Role.licence_origin: "licensor (consent to transfer)",
    Role.component_origin: "origin of a component (consent to re-export)",
    Role.re_exporter: "intermediate holder (its own rules for passing the item on)",
    Role.transit: "transit state (goods cross its territory)",
    Role.regime: "international regime",
}


def _citations(base: RuleBase, jurisdiction: str, rule: Rule) -> list[dict[str, Any]]:
    """A rule's citations as JSON-ready data: the fields of ``CitationOut``, every one set, in its order."""
    out = []
    for c in rule.citations:
        src = base.source_index.get((jurisdiction, c.source))
        out.append(
            {
                "instrument": c.instrument,
                "article": c.article,
                "source": c.source,
                "title": src.title if src else None,
                "url": c.url or (src.url if src else None),
                "seed": src.seed if src else None,
                "confidence": src.confidence.value if src else None,
                "quote": c.quote,
            }
        )
    return out


def _citation_outs(base: RuleBase, jurisdiction: str, rule: Rule) -> list[CitationOut]:
    from policy.model.results import CitationOut

    return [CitationOut(**c) for c in _citations(base, jurisdiction, rule)]


def _rule_out(base: RuleBase, jv: JurisdictionVerdict, f: RuleFinding) -> RuleOut:
    from policy.model.results import Period, RuleOut

    r = f.rule
    out = RuleOut(
        id=r.id,
        title=r.title,
        effect=f.effect_verdict.value if f.effect_verdict else r.effect.value,
        binding=r.binding.value,
        status=f.status,
        in_force=Period(from_=r.from_.isoformat() if r.from_ else None, until=r.until.isoformat() if r.until else None),
        citations=_citation_outs(base, jv.jurisdiction, r),
        conditions=[x.describe() for x in f.trace],
    )
    if r.effect is Effect.as_direct_export:
        out.rule_effect = r.effect.value
    if f.defeated_by:
        out.defeated_by = f.defeated_by
    if f.nested is not None:
        out.nested = jurisdiction_out(base, f.nested)
    if r.explanation:
        out.explanation = " ".join(r.explanation.split())
    if r.uncertain:
        out.uncertain = " ".join(r.uncertain.split())
    return out


def jurisdiction_out(base: RuleBase, jv: JurisdictionVerdict) -> JurisdictionOut:
    """One jurisdiction's verdict as an output model."""
    from policy.model.results import JurisdictionOut

    fired = [f for f in jv.findings if f.status in ("fired", "conflict")]
    return JurisdictionOut(
        jurisdiction=jv.jurisdiction,
        name=jv.name,
        role=jv.role.value,
        item=jv.item,
        verdict=jv.verdict.value,
        reason=jv.reason,
        rules=[_rule_out(base, jv, f) for f in fired],
        defeated=[_rule_out(base, jv, f) for f in jv.findings if f.status == "defeated"],
        unknown=[_rule_out(base, jv, f) for f in jv.findings if f.status == "unknown"],
        not_applicable=[f.rule.id for f in jv.findings if f.status == "not_applicable"],
        not_in_force=[f.rule.id for f in jv.findings if f.status == "not_in_force"],
        conflicts=[list(p) for p in jv.conflicts],
        missing_facts=jv.missing_facts,
    )


def jurisdiction_json(base: RuleBase, jv: JurisdictionVerdict) -> dict[str, Any]:
    """One jurisdiction's verdict as JSON-ready data."""
    return jurisdiction_out(base, jv).dump()


def fact_out(fv: FactValue) -> FactOut:
    from policy.model.results import FactOut, SourceRef

    data = fv.to_json()
    return FactOut(
        value=data["value"],
        origin=fv.origin,
        basis=fv.basis,
        sources=[SourceRef(title=t, url=u) for t, u in fv.sources],
    )


def decision_out(base: RuleBase, d: Decision) -> DecisionOut:
    """A decision as its output model: verdict, jurisdictions, facts with provenance, record."""
    from policy.model.results import DecisionOut, TransferOut

    sc = d.scenario
    return DecisionOut(
        scenario=TransferOut(
            id=sc.id,
            title=sc.title,
            kind=sc.kind,
            date=sc.date.isoformat(),
            exporter=sc.exporter,
            recipient=sc.recipient,
            end_user=sc.end_user,
            transfer=sc.transfer,
            via=sc.via,
            transit=sc.transit,
            items=[
                i.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True) for i in sc.items
            ],
        ),
        verdict=d.verdict.value,
        deciding=sorted({j.jurisdiction for j in d.deciding}),
        jurisdictions=[jurisdiction_out(base, j) for j in d.jurisdictions],
        facts={k: fact_out(v) for k, v in d.facts.items()},
        warnings=d.warnings,
        record=d.record,
    )


def decision_json(base: RuleBase, d: Decision) -> dict[str, Any]:
    """A decision as JSON-ready data (the dump of its output model)."""
    return decision_out(base, d).dump()


def render_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# ------------------------------------------------------------------ text


def _fact_line(name: str, fv: FactValue) -> str:
    v = fv.to_json()["value"]
    shown = "unknown" if v is None else json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    line = f"  {name} = {shown}  [{fv.origin}] {fv.basis}"
    for title, url in fv.sources:
        line += f"\n      source: {title}" + (f" <{url}>" if url else "")
    return line


def _text_jurisdiction(base: RuleBase, jv: JurisdictionVerdict, indent: str = "") -> list[str]:
    out = [
        f"{indent}{jv.jurisdiction} {jv.name} [{ROLE_WORDS[jv.role]}] -> {jv.verdict.value}",
        f"{indent}  {jv.reason}",
    ]
    for f in jv.findings:
        r = f.rule
        if f.status in ("not_in_force",):
            continue
        mark = {
            "fired": "APPLIES",
            "conflict": "CONFLICT",
            "defeated": "DEFEATED",
            "unknown": "UNKNOWN",
            "not_applicable": "does not apply",
        }[f.status]
        effect = f.effect_verdict.value if f.effect_verdict else r.effect.value
        out.append(f"{indent}  {mark}: {r.id} -> {effect}")
        out.append(f"{indent}      {r.title}")
        if f.status in ("fired", "conflict", "defeated", "unknown"):
            out.append(f"{indent}      binding: {BINDING_WORDS[r.binding]}")
            period = f"from {r.from_}" if r.from_ else ""
            if r.until:
                period += f" until {r.until}"
            if period:
                out.append(f"{indent}      in force: {period.strip()}")
        if f.trace:
            out.append(f"{indent}      because: " + "; ".join(x.describe() for x in f.trace))
        if f.defeated_by:
            out.append(
                f"{indent}      defeated by: "
                + ", ".join(f.defeated_by)
                + (" (general rule, displaced by a specific one)" if r.default else " (exception)")
            )
        if f.status in ("fired", "conflict", "defeated"):
            for c in _citations(base, jv.jurisdiction, r):
                where = f"{c['instrument']}" + (f", {c['article']}" if c["article"] else "")
                line = f"{indent}      cites: {where}"
                if c["url"]:
                    line += f" <{c['url']}>"
                elif c["seed"]:
                    line += f" (seed: {c['seed']})"
                out.append(line)
                if c["quote"]:
                    out.append(f'{indent}        "{c["quote"]}"')
            if r.explanation and f.status in ("fired", "conflict"):
                out.append(f"{indent}      note: " + " ".join(r.explanation.split()))
            if r.uncertain and f.status in ("fired", "conflict"):
                out.append(f"{indent}      uncertain: " + " ".join(r.uncertain.split()))
        if f.nested is not None:
            out.append(f"{indent}      consent test: the direct transfer from {f.nested.jurisdiction} would be:")
            out.extend(_text_jurisdiction(base, f.nested, indent + "        "))
    if jv.missing_facts:
        out.append(f"{indent}  missing facts: " + ", ".join(jv.missing_facts))
    return out


def render_text(base: RuleBase, d: Decision) -> str:
    """A readable explanation: verdict, each jurisdiction's rules and citations, facts used."""
    sc = d.scenario
    lines = [
        f"Verdict: {d.verdict.value.upper()}",
        f"  {sc.title}",
        f"  {sc.date} | {sc.exporter} ({country_name(sc.exporter)}) -> {sc.recipient} ({country_name(sc.recipient)})"
        f" | {sc.transfer} | end user: {sc.end_user}"
        + (f" | via {', '.join(sc.via)}" if sc.via else "")
        + (f" | transit {', '.join(sc.transit)}" if sc.transit else ""),
    ]
    for it in sc.items:
        bits = [it.category or "?"]
        bits.append("lethal" if it.lethal else "non-lethal" if it.lethal is False else "lethality from category")
        if it.origin:
            bits.append(f"made in {it.origin}")
        if it.licence_origin:
            bits.append(f"under licence from {it.licence_origin}")
        for comp in it.components:
            bits.append(f"component {comp.name} from {comp.origin}")
        lines.append(f"  item: {it.name or it.id} ({', '.join(bits)})")
    deciding = sorted({f"{j.jurisdiction} ({ROLE_WORDS[j.role]})" for j in d.deciding})
    lines.append(f"  deciding: {', '.join(deciding)}")
    chain = _chain(d)
    if chain:
        lines += ["", "Chain:", chain]
    lines.append("")
    lines.append("Jurisdictions:")
    for jv in d.jurisdictions:
        lines.extend(_text_jurisdiction(base, jv))
        lines.append("")
    lines.append("Facts used:")
    for name, fv in d.facts.items():
        lines.append(_fact_line(name, fv))
    lines.append("")
    lines.append(
        f"Record: date {d.record['date']}, policy {d.record['policy_version']}, "
        f"rules digest {d.record['rules_digest'][:16]} ({d.record['rule_files']} files)"
    )
    return "\n".join(lines) + "\n"


def _chain(d: Decision) -> str:
    """producer -> exporter -> holders -> recipient, each link with its verdict."""
    sc = d.scenario
    consent = [
        j
        for j in d.jurisdictions
        if j.role in (Role.original_producer, Role.licence_origin, Role.component_origin, Role.earlier_exporter)
    ]
    holders = {j.jurisdiction: j for j in d.jurisdictions if j.role is Role.re_exporter}
    transits = {j.jurisdiction: j for j in d.jurisdictions if j.role is Role.transit}
    if not consent and not holders and not sc.transit:
        return ""
    exporter = next((j for j in d.jurisdictions if j.role is Role.exporter), None)
    parts = [f"{j.jurisdiction} ({ROLE_WORDS[j.role].split(' (')[0]}: {j.verdict.value})" for j in consent]
    if exporter:
        parts.append(f"{exporter.jurisdiction} (exporter: {exporter.verdict.value})")
    parts += [f"{v} (holder: {holders[v].verdict.value})" if v in holders else f"{v} (holder)" for v in sc.via]
    parts += [
        f"{t} (transit: {transits[t].verdict.value})" if t in transits else f"{t} (transit: no claim)"
        for t in sc.transit
    ]
    parts.append(f"{sc.recipient} (recipient)")
    deciding = ", ".join(sorted({j.jurisdiction for j in d.deciding}))
    return "  " + " -> ".join(parts) + f"\n  deciding jurisdiction: {deciding}"


# ------------------------------------------------------------------ markdown


def render_markdown(base: RuleBase, d: Decision) -> str:
    """The explanation as Markdown, for briefings and pull requests."""
    sc = d.scenario
    out = [
        f"# {sc.title}",
        "",
        f"**Verdict: `{d.verdict.value}`** — {sc.date}, {country_name(sc.exporter)} ({sc.exporter}) → "
        f"{country_name(sc.recipient)} ({sc.recipient}), {sc.transfer}, end user {sc.end_user}.",
        "",
        "| jurisdiction | role | item | verdict | reason |",
        "|---|---|---|---|---|",
    ]
    for j in d.jurisdictions:
        out.append(
            f"| {j.jurisdiction} {j.name} | {ROLE_WORDS[j.role]} | {j.item} | `{j.verdict.value}` | "
            f"{j.reason.replace('|', '/')} |"
        )
    for j in d.jurisdictions:
        rules = [f for f in j.findings if f.status in ("fired", "conflict", "defeated")]
        if not rules:
            continue
        out += ["", f"## {j.jurisdiction} {j.name} ({ROLE_WORDS[j.role]})", ""]
        for f in rules:
            r = f.rule
            effect = f.effect_verdict.value if f.effect_verdict else r.effect.value
            status = {"fired": "applies", "conflict": "conflicts", "defeated": "defeated"}[f.status]
            out.append(f"- **{r.id}** ({status}, `{effect}`, {BINDING_WORDS[r.binding]}): {r.title}")
            if f.defeated_by:
                out.append(f"  - defeated by {', '.join(f.defeated_by)}")
            for c in _citations(base, j.jurisdiction, r):
                cite = c["instrument"] + (f", {c['article']}" if c["article"] else "")
                out.append(f"  - cites [{cite}]({c['url']})" if c["url"] else f"  - cites {cite}")
            if f.nested is not None:
                n = f.nested
                out.append(
                    f"  - consent test: a direct transfer from {n.jurisdiction} would be `{n.verdict.value}` "
                    f"({n.reason})"
                )
            if r.explanation and f.status != "defeated":
                out.append(f"  - {' '.join(r.explanation.split())}")
    out += ["", "## Facts used", "", "| fact | value | origin | basis |", "|---|---|---|---|"]
    for name, fv in d.facts.items():
        v = fv.to_json()["value"]
        out.append(f"| `{name}` | `{json.dumps(v, ensure_ascii=False)}` | {fv.origin} | {fv.basis.replace('|', '/')} |")
    out += ["", f"_Record: policy {d.record['policy_version']}, rules digest `{d.record['rules_digest'][:16]}`._"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ short answers


def deciding_findings(jv: JurisdictionVerdict) -> list[RuleFinding]:
    """The rules that give a jurisdiction its verdict: applying (or conflicting) rules whose effect is it."""
    fired = [f for f in jv.findings if f.status in ("fired", "conflict")]
    same = [f for f in fired if (f.effect_verdict or Verdict.undetermined) == jv.verdict]
    return same or [f for f in fired if f.status == "conflict"]


def first_citation(base: RuleBase, jurisdiction: str, rule: Rule) -> dict[str, Any] | None:
    cites = _citations(base, jurisdiction, rule)
    return cites[0] if cites else None


def cite_words(c: dict[str, Any]) -> str:
    return str(c["instrument"]) + (f", {c['article']}" if c["article"] else "")


def role_word(role: Role) -> str:
    """The role in one or two words: ``exporter``, ``original producer``, ``regime``..."""
    return ROLE_WORDS[role].split(" (")[0].replace("international regime", "regime")


def deciding_facts(d: Decision) -> list[tuple[str, FactValue]]:
    """The facts read by the rules that decided the verdict (and the unknown ones it waits on)."""
    names: list[str] = []
    seen: dict[str, FactValue] = {}
    for jv in d.deciding:
        todo = [jv]
        while todo:
            j = todo.pop(0)
            for f in deciding_findings(j):
                for leaf in f.trace:
                    if leaf.fact not in names:
                        names.append(leaf.fact)
                if f.nested is not None:
                    todo.append(f.nested)
            for m in j.missing_facts:
                if m not in names:
                    names.append(m)
            for k, v in j.facts.items():
                seen.setdefault(k, v)
    out = []
    for n in names:
        key = next((k for k in d.facts if k == n or k.startswith((n + " [", n + "["))), None)
        if key is not None:
            out.append((key, d.facts[key]))
        elif n in seen:
            out.append((n, seen[n]))
    return out


def jurisdiction_summary(base: RuleBase, jv: JurisdictionVerdict) -> dict[str, Any]:
    """One jurisdiction in a line: verdict, the deciding rule's title, binding, first citation."""
    deciding = deciding_findings(jv)
    out: dict[str, Any] = {
        "jurisdiction": jv.jurisdiction,
        "name": jv.name,
        "role": role_word(jv.role),
        "item": jv.item,
        "verdict": jv.verdict.value,
        "rule": None,
        "title": None,
        "binding": None,
        "citation": None,
        "more": 0,
        "nested": None,
        "reason": jv.reason,
    }
    if deciding:
        f = deciding[0]
        out.update(
            rule=f.rule.id,
            title=f.rule.title,
            binding=BINDING_WORDS[f.rule.binding],
            citation=first_citation(base, jv.jurisdiction, f.rule),
            more=len(deciding) - 1,
        )
        if f.nested is not None:
            n = f.nested
            nd = deciding_findings(n)
            out["nested"] = {
                "jurisdiction": n.jurisdiction,
                "verdict": n.verdict.value,
                "title": nd[0].rule.title if nd else n.reason,
            }
    return out


def _fact_value(fv: FactValue) -> str:
    v = fv.to_json()["value"]
    return "unknown" if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def question_line(d: Decision) -> str:
    sc = d.scenario
    items = "; ".join(it.name or it.id or it.category or "item" for it in sc.items)
    extra = (f", via {', '.join(sc.via)}" if sc.via else "") + (
        f", transit {', '.join(sc.transit)}" if sc.transit else ""
    )
    return (
        f"{country_name(sc.exporter)} ({sc.exporter}) -> {country_name(sc.recipient)} ({sc.recipient}): {items}, "
        f"{sc.transfer} to a {sc.end_user} end user{extra}, on {sc.date}"
    )


def render_short(base: RuleBase, d: Decision, colour: bool = False) -> str:
    """The answer in a few lines: verdict, one line per jurisdiction, the facts that decided it.

    ``render_text`` gives the full trace (``--explain``).
    """
    from policy.render.style import Paint

    p = Paint(colour)
    lines = [f"{p.verdict(d.verdict.value, upper=True)}  {question_line(d)}"]
    deciding = sorted({f"{j.jurisdiction} ({role_word(j.role)})" for j in d.deciding})
    lines.append(f"  decided by {', '.join(deciding)}")
    chain = _chain(d)
    if chain:
        lines.append("  chain: " + chain.splitlines()[0].strip())
    lines.append("")
    sources: list[str] = []
    multi = len(d.scenario.items) > 1
    width = max(len(f"{j.jurisdiction} {role_word(j.role)}") for j in d.jurisdictions)
    vwidth = max(len(j.verdict.value) for j in d.jurisdictions)
    for jv in d.jurisdictions:
        s = jurisdiction_summary(base, jv)
        who = f"{jv.jurisdiction} {s['role']}"
        head = f"  {who:<{width}}  {p.verdict(jv.verdict.value)}{' ' * (vwidth - len(jv.verdict.value))}  "
        if multi:
            head += f"[{jv.item.split(' (')[0]}] "
        if s["title"]:
            body = s["title"] + (f" (+{s['more']} more)" if s["more"] else "")
            if s["nested"]:
                n = s["nested"]
                body += f" (direct transfer from {n['jurisdiction']}: {n['verdict']}, {n['title']})"
            body += f" — {s['binding']}"
            c = s["citation"]
            if c:
                body += f" — {cite_words(c)}"
                if c["url"]:
                    if c["url"] not in sources:
                        sources.append(c["url"])
                    body += f" [{sources.index(c['url']) + 1}]"
        else:
            body = jv.reason
        lines.append((head + body).rstrip())
    facts = deciding_facts(d)
    if facts:
        lines += ["", "Because:"]
        for name, fv in facts:
            lines.append(f"  {name} = {_fact_value(fv)} — {fv.origin}: {fv.basis}")
    if sources:
        lines += ["", "Sources:"]
        lines += [f"  [{i}] {u}" for i, u in enumerate(sources, 1)]
    lines += ["", p.dim("Full trace: --explain; every field: --format json.")]
    return "\n".join(lines) + "\n"


def render_short_markdown(base: RuleBase, d: Decision) -> str:
    """The short answer as Markdown: verdict, a table of jurisdictions, the deciding facts."""
    sc = d.scenario
    out = [
        f"# {sc.title}",
        "",
        f"**Verdict: `{d.verdict.value}`** — {question_line(d)}.",
        "",
        "| jurisdiction | role | verdict | deciding rule | binding | citation |",
        "|---|---|---|---|---|---|",
    ]
    for jv in d.jurisdictions:
        s = jurisdiction_summary(base, jv)
        c = s["citation"]
        cite = "" if not c else (f"[{_md_cell(cite_words(c))}]({c['url']})" if c["url"] else _md_cell(cite_words(c)))
        title = _md_cell(s["title"] or s["reason"])
        if s["nested"]:
            n = s["nested"]
            title += f" (direct transfer from {n['jurisdiction']}: `{n['verdict']}`)"
        out.append(
            f"| {jv.jurisdiction} {_md_cell(jv.name)} | {s['role']} | `{jv.verdict.value}` | {title} | "
            f"{s['binding'] or ''} | {cite} |"
        )
    facts = deciding_facts(d)
    if facts:
        out += ["", "**Because:**", ""]
        out += [f"- `{name}` = `{_fact_value(fv)}` ({fv.origin}: {_md_cell(fv.basis)})" for name, fv in facts]
    out += ["", f"_Record: policy {d.record['policy_version']}, rules digest `{d.record['rules_digest'][:16]}`._"]
    return "\n".join(out) + "\n"


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")

"""Self-contained HTML reports: Jinja2 templates with autoescaping, inline CSS and SVG, no scripts.

Every page has a viewport, a ``<thead>`` and a caption on each table, verdicts in colour with a
legend, and fits a 390 px wide window. The same input always gives the same bytes.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from policy import __version__
from policy.render.style import HTML, LEGEND, VERDICT_ORDER

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = lambda n: f"{n:,}"
    env.filters["cssname"] = lambda s: re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-")
    env.globals.update(version=__version__, colours=HTML, legend_text=LEGEND, verdict_order=VERDICT_ORDER)
    return env


def render(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))


# ------------------------------------------------------------------ what-if / evaluate


def _value(v: Any) -> str:
    return "unknown" if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _chain_svg(d: Any) -> dict[str, Any] | None:
    from policy.model import Role
    from policy.render.report import role_word

    sc = d.scenario
    consent = [
        j for j in d.jurisdictions if j.role in (Role.original_producer, Role.licence_origin, Role.component_origin)
    ]
    holders = {j.jurisdiction: j for j in d.jurisdictions if j.role is Role.re_exporter}
    transits = {j.jurisdiction: j for j in d.jurisdictions if j.role is Role.transit}
    if not consent and not holders and not sc.transit:
        return None
    nodes: list[tuple[str, str, str]] = [(j.jurisdiction, role_word(j.role), j.verdict.value) for j in consent]
    exporter = next((j for j in d.jurisdictions if j.role is Role.exporter), None)
    if exporter:
        nodes.append((exporter.jurisdiction, "exporter", exporter.verdict.value))
    nodes += [(v, "holder", holders[v].verdict.value if v in holders else "-") for v in sc.via]
    nodes += [(t, "transit", transits[t].verdict.value if t in transits else "no say") for t in sc.transit]
    nodes.append((sc.recipient, "recipient", "-"))
    box, gap = 150, 46
    wide, tall = [], []
    for i, (code, role, verdict) in enumerate(nodes):
        fg, bg = HTML.get(verdict, HTML["-"])
        node = {"code": code, "role": role, "verdict": verdict, "fg": fg, "bg": bg}
        last = i == len(nodes) - 1
        x = 4 + i * (box + gap)
        wide.append({**node, "x": x, "y": 12, "arrow": None if last else (x + box + 2, 44, x + box + gap - 4, 44)})
        y = 4 + i * (64 + 30)
        tall.append(
            {**node, "x": 4, "y": y, "arrow": None if last else (4 + box / 2, y + 66, 4 + box / 2, y + 64 + 26)}
        )
    label = " → ".join(f"{c} ({r}{': ' + v if v != '-' else ''})" for c, r, v in nodes)
    n = len(nodes)
    return {
        "label": label,
        "wide": {"cls": "wide-only", "nodes": wide, "box": box, "width": 8 + n * box + (n - 1) * gap, "height": 88},
        "tall": {
            "cls": "narrow-only",
            "nodes": tall,
            "box": box,
            "width": box + 8,
            "height": 8 + n * 64 + (n - 1) * 30,
        },
    }


def _question_rows(d: Any) -> list[tuple[str, str]]:
    from policy.model.countries import country_name

    sc = d.scenario
    rows = [
        ("date", str(sc.date)),
        ("exporter", f"{country_name(sc.exporter)} ({sc.exporter})"),
        ("recipient", f"{country_name(sc.recipient)} ({sc.recipient})"),
        ("transfer", sc.transfer),
        ("end user", sc.end_user),
    ]
    for it in sc.items:
        bits = [it.category or "?"]
        bits.append("lethal" if it.lethal else "non-lethal" if it.lethal is False else "lethality from category")
        if it.origin:
            bits.append(f"made in {it.origin}")
        if it.licence_origin:
            bits.append(f"under licence from {it.licence_origin}")
        bits += [f"component {c.name} from {c.origin}" for c in it.components]
        rows.append(("item", f"{it.name or it.id} ({', '.join(bits)})"))
    if sc.via:
        rows.append(("via", ", ".join(sc.via)))
    if sc.transit:
        rows.append(("transit", ", ".join(sc.transit)))
    return rows


def _memo(base: Any, d: Any, index: int) -> dict[str, Any]:
    from policy.model import BINDING_WORDS, Binding
    from policy.render.report import (
        ROLE_WORDS,
        deciding_facts,
        decision_json,
        jurisdiction_summary,
        question_line,
        role_word,
    )

    data = decision_json(base, d)
    status_words = {"fired": "applies", "conflict": "conflicts", "defeated": "defeated", "unknown": "unknown"}

    def rule_view(r: dict[str, Any], status: str) -> dict[str, Any]:
        period = " ".join(
            x
            for x in (
                f"from {r['in_force']['from']}" if r["in_force"]["from"] else "",
                f"until {r['in_force']['until']}" if r["in_force"]["until"] else "",
            )
            if x
        )
        return {
            **r,
            "status": status if status != "fired" else r["status"],
            "status_words": status_words.get(r["status"], r["status"]),
            "binding_words": BINDING_WORDS[Binding(r["binding"])],
            "period": period,
            "explanation": r.get("explanation"),
            "uncertain": r.get("uncertain"),
            "defeated_by": r.get("defeated_by", []),
            "nested": r.get("nested"),
        }

    jurisdictions = []
    deciding = {j.jurisdiction for j in d.deciding}
    for jv, jd in zip(d.jurisdictions, data["jurisdictions"]):
        rules = [rule_view(r, "fired") for r in jd["rules"]] + [rule_view(r, "defeated") for r in jd["defeated"]]
        rules += [rule_view(r, "unknown") for r in jd["unknown"]]
        jurisdictions.append(
            {
                **jd,
                "role_words": ROLE_WORDS[jv.role],
                "deciding": jv.jurisdiction in deciding,
                "rules": rules,
            }
        )
    decided = {name for name, _ in deciding_facts(d)}
    facts = [
        {
            "name": name,
            "value": _value(fv.to_json()["value"]),
            "origin": fv.origin,
            "basis": fv.basis,
            "sources": [{"title": t, "url": u} for t, u in fv.sources],
            "deciding": name in decided,
        }
        for name, fv in d.facts.items()
    ]
    present = {j.verdict.value for j in d.jurisdictions}
    return {
        "id": f"memo-{index}",
        "title": d.scenario.title,
        "verdict": d.verdict.value,
        "question": {"date": str(d.scenario.date), "text": question_line(d), "rows": _question_rows(d)},
        "deciding": sorted(f"{j.jurisdiction} ({role_word(j.role)})" for j in d.deciding),
        "warnings": d.warnings,
        "chain": _chain_svg(d),
        "summaries": [jurisdiction_summary(base, j) for j in d.jurisdictions],
        "multi": len(d.scenario.items) > 1,
        "legend": [v for v in VERDICT_ORDER if v in present],
        "jurisdictions": jurisdictions,
        "facts": facts,
        "record": d.record,
    }


def render_decisions_html(base: Any, decisions: list[Any]) -> str:
    """A one-page memo per decision: question, verdict, each jurisdiction's reasoning, facts, record."""
    memos = [_memo(base, d, i) for i, d in enumerate(decisions, 1)]
    title = memos[0]["title"] if len(memos) == 1 else f"{len(memos)} transfers"
    return render(
        "decision.html", page_title=f"{title}: {memos[0]['verdict']}" if len(memos) == 1 else title, memos=memos
    )

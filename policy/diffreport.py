"""Rendering policy diff reports and timelines: text, Markdown, self-contained HTML, JSON.

Everything is sorted, so the same inputs always give byte-identical reports.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .diff import DiffReport


def diff_json(r: DiffReport) -> dict[str, Any]:
    return {
        "old": r.old,
        "new": r.new,
        "changed": r.changed,
        "summary": _summary(r),
        "rules": [
            {
                "jurisdiction": c.jurisdiction,
                "rule": c.rule,
                "change": c.change,
                "fields": {k: {"old": a, "new": b} for k, (a, b) in sorted(c.fields.items())},
            }
            for c in r.rule_changes
        ],
        "world": [
            {"dataset": w.dataset, "entry": w.entry, "change": w.change, "detail": w.detail} for w in r.world_changes
        ],
        "scenarios": {
            "checked": r.scenarios_checked,
            "changed": [
                {
                    "scenario": s.scenario,
                    "title": s.title,
                    "old": s.old.value,
                    "new": s.new.value,
                    "old_rules": s.old_rules,
                    "new_rules": s.new_rules,
                }
                for s in r.scenario_changes
            ],
        },
        "exhaustive": {
            "combinations_checked": r.combinations,
            "jurisdictions": r.jurisdictions_enumerated,
            "regions": [
                {
                    "jurisdiction": g.jurisdiction,
                    "role": g.role,
                    "old": g.old,
                    "new": g.new,
                    "condition": g.condition,
                    "count": g.count,
                    "example": g.example,
                }
                for g in r.regions
            ],
        },
    }


def _summary(r: DiffReport) -> str:
    return (
        f"{len(r.rule_changes)} rule changes, {len(r.world_changes)} world-data changes, "
        f"{len(r.scenario_changes)} of {r.scenarios_checked} scenarios change verdict, "
        f"{len(r.regions)} regions change over {r.combinations} combinations checked exhaustively"
    )


def _field(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, sort_keys=True) if not isinstance(v, str) else v


def _example_text(ex: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_field(v)}" for k, v in ex.items() if k not in ("jurisdiction", "role"))


def render_diff_text(r: DiffReport) -> str:
    out = [f"Policy diff: {r.old} -> {r.new}", f"  {_summary(r)}", "", "Rules:"]
    if not r.rule_changes:
        out.append("  no rule changes")
    for c in r.rule_changes:
        out.append(f"  {c.jurisdiction} {c.change}: {c.rule}")
        for k, (a, b) in sorted(c.fields.items()):
            out.append(f"      {k}: {_field(a)} -> {_field(b)}")
    out += ["", "World data (facts, not law):"]
    if not r.world_changes:
        out.append("  no world-data changes")
    for w in r.world_changes:
        out.append(f"  {w.dataset}: {w.entry} {w.change}" + (f" ({w.detail})" if w.detail else ""))
    out += ["", f"Scenarios ({r.scenarios_checked} checked):"]
    if not r.scenario_changes:
        out.append("  no scenario changes verdict")
    for s in r.scenario_changes:
        out.append(f"  {s.scenario}: {s.old.value} -> {s.new.value}")
        out.append(f"      {s.title}")
        out.append(f"      old: {', '.join(s.old_rules) or '-'}")
        out.append(f"      new: {', '.join(s.new_rules) or '-'}")
    out += [
        "",
        f"Exhaustive ({r.combinations} combinations checked, all of them, for "
        f"{', '.join(r.jurisdictions_enumerated) or 'no jurisdiction'}):",
    ]
    if not r.regions:
        out.append("  no verdict changes")
    for g in r.regions:
        out.append(
            f"  {g.jurisdiction} [{g.role}] {g.condition}: {g.old} -> {g.new}  "
            f"({g.count} combination{'s' if g.count != 1 else ''})"
        )
        out.append(f"      e.g. {_example_text(g.example)}")
    return "\n".join(out) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def render_diff_markdown(r: DiffReport) -> str:
    out = [
        f"# Policy diff: `{r.old}` → `{r.new}`",
        "",
        f"**{_summary(r)}.**",
        "",
        "## Summary",
        "",
        "| jurisdiction | role | where | old | new | combinations |",
        "|---|---|---|---|---|---|",
    ]
    for g in r.regions:
        out.append(f"| {g.jurisdiction} | {g.role} | {_md(g.condition)} | `{g.old}` | `{g.new}` | {g.count} |")
    if not r.regions:
        out.append("| — | — | no verdict changes | | | |")
    out += ["", "## Rules", ""]
    out += [
        f"- **{c.jurisdiction}** {c.change} `{c.rule}`"
        + "".join(f"\n  - `{k}`: `{_md(_field(a))}` → `{_md(_field(b))}`" for k, (a, b) in sorted(c.fields.items()))
        for c in r.rule_changes
    ] or ["No rule changes."]
    out += ["", "## World data (facts, not law)", ""]
    out += [
        f"- {w.dataset}: `{w.entry}` {w.change}" + (f" ({_md(w.detail)})" if w.detail else "") for w in r.world_changes
    ] or ["No world-data changes."]
    out += ["", f"## Scenarios ({r.scenarios_checked} checked)", ""]
    if r.scenario_changes:
        out += ["| scenario | old | new | old rules | new rules |", "|---|---|---|---|---|"]
        out += [
            f"| {s.scenario} | `{s.old.value}` | `{s.new.value}` | {', '.join(s.old_rules)} | "
            f"{', '.join(s.new_rules)} |"
            for s in r.scenario_changes
        ]
    else:
        out.append("No scenario changes verdict.")
    out += ["", f"## Exhaustive ({r.combinations} combinations checked)", ""]
    out += [
        f"- **{g.jurisdiction}** [{g.role}] {_md(g.condition)}: `{g.old}` → `{g.new}` ({g.count}); "
        f"e.g. {_md(_example_text(g.example))}"
        for g in r.regions
    ] or ["No verdict changes."]
    return "\n".join(out) + "\n"


def render_diff_html(r: DiffReport) -> str:
    e = html.escape
    rows = (
        "".join(
            f"<tr><td>{e(g.jurisdiction)}</td><td>{e(g.role)}</td><td>{e(g.condition)}</td>"
            f"<td class=v>{e(g.old)}</td><td class=v>{e(g.new)}</td><td>{g.count}</td></tr>"
            for g in r.regions
        )
        or "<tr><td colspan=6>no verdict changes</td></tr>"
    )
    rules = (
        "".join(
            f"<li><b>{e(c.jurisdiction)}</b> {e(c.change)} <code>{e(c.rule)}</code>"
            + (
                "<ul>"
                + "".join(
                    f"<li><code>{e(k)}</code>: {e(_field(a))} → {e(_field(b))}</li>"
                    for k, (a, b) in sorted(c.fields.items())
                )
                + "</ul>"
                if c.fields
                else ""
            )
            + "</li>"
            for c in r.rule_changes
        )
        or "<li>no rule changes</li>"
    )
    world = (
        "".join(
            f"<li>{e(w.dataset)}: <code>{e(w.entry)}</code> {e(w.change)} {e(w.detail)}</li>" for w in r.world_changes
        )
        or "<li>no world-data changes</li>"
    )
    scen = (
        "".join(
            f"<tr><td>{e(s.scenario)}</td><td>{e(s.title)}</td><td class=v>{e(s.old.value)}</td>"
            f"<td class=v>{e(s.new.value)}</td><td>{e(', '.join(s.old_rules))}</td>"
            f"<td>{e(', '.join(s.new_rules))}</td></tr>"
            for s in r.scenario_changes
        )
        or "<tr><td colspan=6>no scenario changes verdict</td></tr>"
    )
    examples = "".join(
        f"<li><b>{e(g.jurisdiction)}</b> [{e(g.role)}] {e(g.condition)}: e.g. {e(_example_text(g.example))}</li>"
        for g in r.regions
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Policy diff: {e(r.old)} → {e(r.new)}</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}}th{{background:#eee}}
td.v{{font-family:monospace}}code{{background:#f4f4f4}}</style></head><body>
<h1>Policy diff: {e(r.old)} → {e(r.new)}</h1>
<p><b>{e(_summary(r))}.</b></p>
<h2>Summary: where verdicts change</h2>
<table><tr><th>jurisdiction</th><th>role</th><th>where</th><th>old</th><th>new</th><th>combinations</th></tr>{rows}</table>
<h2>Rules</h2><ul>{rules}</ul>
<h2>World data (facts, not law)</h2><ul>{world}</ul>
<h2>Scenarios ({r.scenarios_checked} checked)</h2>
<table><tr><th>scenario</th><th>title</th><th>old</th><th>new</th><th>old rules</th><th>new rules</th></tr>
{scen}</table>
<h2>Exhaustive: {r.combinations} combinations checked</h2><ul>{examples}</ul>
</body></html>
"""


def render_timeline_text(title: str, rows: list[Any]) -> str:
    out = [title]
    for day, verdict, events, world in rows:
        why = "; ".join(events + world) or ("start of period" if not events and rows[0][0] == day else "")
        out.append(f"  {day}  {verdict.value:<16}  {why}")
    return "\n".join(out) + "\n"

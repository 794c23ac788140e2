"""Markdown for the commands whose text is a listing: ``facts``, ``lint`` and ``sources``.

Each renders the command's JSON data, so the Markdown never says more or less than ``--format json``.
"""

from __future__ import annotations

import json
from typing import Any


def _cell(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\n", " ")


def _link(title: str, url: str | None) -> str:
    return f"[{_cell(title)}]({url})" if url else _cell(title)


def datasets_markdown(rows: list[dict[str, Any]]) -> str:
    out = ["# World datasets", "", "| dataset | entries | what |", "|---|---|---|"]
    out += [f"| {r['dataset']} | {r['entries']} | {_cell(r['what'])} |" for r in rows]
    return "\n".join(out) + "\n"


def facts_markdown(data: dict[str, Any]) -> str:
    out = [
        f"# {data['country']} {data['name']} on {data['date']}",
        "",
        "| fact | value | basis | sources |",
        "|---|---|---|---|",
    ]
    for row in data["facts"]:
        sources = "; ".join(_link(s["title"], s["url"]) for s in row["sources"])
        out.append(f"| `{row['fact']}` | `{_cell(row['value'])}` | {_cell(row['basis'])} | {sources} |")
    return "\n".join(out) + "\n"


def lint_markdown(found: list[dict[str, Any]], rules_checked: int) -> str:
    warnings = sum(1 for d in found if d["severity"] == "warning")
    out = ["# Lint", "", f"**{warnings} warnings, {len(found) - warnings} notes, {rules_checked} rules checked.**", ""]
    if found:
        out += ["| where | severity | code | message | help |", "|---|---|---|---|---|"]
        for d in found:
            where = f"{d['file']}:{d['line']}:{d['col']}" if d["file"] else "-"
            out.append(
                f"| `{where}` | {d['severity']} | `{d['code']}` | {_cell(d['message'])} | {_cell(d['help'] or '')} |"
            )
    return "\n".join(out) + "\n"


def sources_markdown(data: dict[str, Any]) -> str:
    tiers = ("official", "reputable", "other")
    out = [
        "# Sources by tier",
        "",
        "| jurisdiction | "
        + " | ".join(f"{t} sources" for t in tiers)
        + " | "
        + " | ".join(f"rules, best {t}" for t in tiers)
        + " |",
        "|---|" + "---|" * 6,
    ]
    rows = [("all", data["total"])] + sorted(data["jurisdictions"].items())
    for code, c in rows:
        out.append(
            f"| {'**all**' if code == 'all' else code} | "
            + " | ".join(str(c["sources"][t]) for t in tiers)
            + " | "
            + " | ".join(str(c["rules"][t]) for t in tiers)
            + " |"
        )
    weak = data["rules_without_official_or_reputable_source"]
    out += ["", f"## Rules with no official or reputable source ({len(weak)})", ""]
    out += [
        f"- `{w['rule']}` ({w['jurisdiction']}, `{w['file']}:{w['line']}`)"
        + (" — uncertain: says why" if w.get("uncertain") else "")
        for w in weak
    ] or ["None."]
    farms = data["content_farm_links"]
    out += ["", f"## Links to content farms ({len(farms)})", ""]
    out += [f"- `{f['file']}:{f['line']}:{f['col']}` {f['host']}: {_cell(f['reason'])}" for f in farms] or ["None."]
    return "\n".join(out) + "\n"

"""Timelines, verdict matrices and test results as text, Markdown and HTML.

The data comes from ``diff.timeline_steps``, the matrix built by the CLI with the screener, and
``testing.check`` results; nothing here evaluates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from policy.render.html import render
from policy.render.style import HTML, VERDICT_ORDER, Paint

# ------------------------------------------------------------------ timeline


def timeline_text(title: str, steps: list[Any], colour: bool = False) -> str:
    """One line per step: date, verdict, what changed there; then who decides."""
    p = Paint(colour)
    out = [title]
    for i, s in enumerate(steps):
        why = "; ".join(s.rule_events + s.world_events) or ("start of period" if i == 0 else "")
        out.append(f"  {s.date}  {p.verdict(s.verdict.value)}{' ' * (16 - len(s.verdict.value))}  {why}".rstrip())
        if s.deciding_rules:
            out.append(f"      decided by {', '.join(s.deciding_rules)}")
    return "\n".join(out) + "\n"


def timeline_markdown(title: str, steps: list[Any]) -> str:
    out = [f"# {title}", "", "| from | verdict | what changed | decided by |", "|---|---|---|---|"]
    for i, s in enumerate(steps):
        why = "; ".join(s.rule_events + s.world_events) or ("start of period" if i == 0 else "")
        rules = "; ".join(f"{s.titles.get(r, r)} (`{r}`)" for r in s.deciding_rules) or "-"
        out.append(f"| {s.date} | `{s.verdict.value}` | {_md(why)} | {_md(rules)} |")
    return "\n".join(out) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def _ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    span = (end - start).days
    if span > 400:
        return [dt.date(y, 1, 1) for y in range(start.year + 1, end.year + 1)]
    out = []
    y, m = start.year, start.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = dt.date(y, m, 1)
        if d > end:
            break
        out.append(d)
    step = max(1, len(out) // 8)
    return out[::step]


def timeline_chart(steps: list[Any], start: dt.date, end: dt.date, narrow: bool = False) -> dict[str, Any]:
    """Geometry of the inline-SVG step chart: verdict levels on y, time on x, a numbered marker per step.

    ``narrow`` lays it out for a phone (drawn at about its own size, so the text stays legible).
    """
    width, height = (360, 230) if narrow else (640, 250)
    left, right, top, bottom = (104, 10, 12, 34) if narrow else (132, 14, 16, 36)
    levels = VERDICT_ORDER
    last = end + dt.timedelta(days=1)
    span = max((last - start).days, 1)

    def x(d: dt.date) -> float:
        return round(left + (width - left - right) * (d - start).days / span, 1)

    def y(v: str) -> float:
        return round(top + (height - top - bottom) * (levels.index(v) + 0.5) / len(levels), 1)

    segments, risers, markers = [], [], []
    for i, s in enumerate(steps):
        x1 = x(s.date)
        x2 = x(steps[i + 1].date) if i + 1 < len(steps) else x(last)
        v = s.verdict.value
        segments.append({"x1": x1, "x2": x2, "y": y(v), "colour": HTML[v][0], "verdict": v})
        if i > 0:
            risers.append({"x": x1, "y1": y(steps[i - 1].verdict.value), "y2": y(v)})
        markers.append({"x": x1, "y": y(v), "n": i + 1, "colour": HTML[v][0]})
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "levels": [{"verdict": v, "y": y(v), "fg": HTML[v][0], "bg": HTML[v][1]} for v in levels],
        "ticks": [
            {"x": x(d), "label": str(d.year) if d.month == 1 else d.strftime("%b %Y")} for d in _ticks(start, end)
        ],
        "segments": segments,
        "risers": risers,
        "markers": markers,
        "start": str(start),
        "end": str(end),
        "font": 10 if narrow else 12,
        "cls": "narrow-chart" if narrow else "wide-chart",
        "ticks_every": 1,
    }


def timeline_html(title: str, steps: list[Any], start: dt.date, end: dt.date) -> str:
    rows = []
    for i, s in enumerate(steps):
        rows.append(
            {
                "n": i + 1,
                "date": str(s.date),
                "until": str(steps[i + 1].date - dt.timedelta(days=1)) if i + 1 < len(steps) else str(end),
                "verdict": s.verdict.value,
                "rule_events": [(e, s.titles.get(e.rsplit(" ", 1)[0], "")) for e in s.rule_events],
                "world_events": s.world_events,
                "deciding": s.deciding,
                "rules": [(r, s.titles.get(r, "")) for r in s.deciding_rules],
                "first": i == 0,
            }
        )
    present = {s.verdict.value for s in steps}
    return render(
        "timeline.html",
        page_title=title,
        title=title,
        start=str(start),
        end=str(end),
        charts=[timeline_chart(steps, start, end), timeline_chart(steps, start, end, narrow=True)],
        steps=rows,
        legend_words=[v for v in VERDICT_ORDER if v in present],
    )


# ------------------------------------------------------------------ matrix


@dataclass
class Matrix:
    item: str
    date: dt.date
    exporters: list[str]
    recipients: list[str]
    verdicts: dict[str, dict[str, str]]  # exporter -> recipient -> verdict ("-" on the diagonal)
    rules: dict[str, dict[str, list[str]]]  # exporter -> recipient -> deciding rule ids


def matrix_text(m: Matrix, colour: bool = False) -> str:
    p = Paint(colour)
    w = max([len(v) for row in m.verdicts.values() for v in row.values()] + [2])
    out = [f"{m.item} on {m.date}", (" " * 10 + "".join(f"{r:<{w + 2}}" for r in m.recipients)).rstrip()]
    for e in m.exporters:
        cells = "".join(p.verdict(m.verdicts[e][r]) + " " * (w + 2 - len(m.verdicts[e][r])) for r in m.recipients)
        out.append((f"{e:<10}" + cells).rstrip())
    return "\n".join(out) + "\n"


def matrix_markdown(m: Matrix) -> str:
    out = [f"Verdicts for `{m.item}` on {m.date}", ""]
    out.append("| exporter \\ recipient | " + " | ".join(m.recipients) + " |")
    out.append("|---|" + "---|" * len(m.recipients))
    for e in m.exporters:
        out.append(f"| {e} | " + " | ".join(f"`{m.verdicts[e][r]}`" for r in m.recipients) + " |")
    return "\n".join(out) + "\n"


def matrix_html(m: Matrix, names: dict[str, str]) -> str:
    present = {v for row in m.verdicts.values() for v in row.values() if v != "-"}
    counts = {v: sum(1 for row in m.verdicts.values() for x in row.values() if x == v) for v in VERDICT_ORDER}
    return render(
        "matrix.html",
        page_title=f"Verdicts for {m.item} on {m.date}",
        m=m,
        names=names,
        counts=counts,
        abbr={
            "prohibited": "PRO",
            "restricted": "RES",
            "undetermined": "UND",
            "licence_required": "LIC",
            "permitted": "OK",
            "no say": "-",
        },
        legend_words=[v for v in VERDICT_ORDER if v in present],
    )


# ------------------------------------------------------------------ test results and coverage


def tests_markdown(results: list[Any], counts: dict[str, int] | None) -> str:
    failed = [r for r in results if not r.passed]
    out = ["# Scenario tests", "", f"**{len(results) - len(failed)} passed, {len(failed)} failed.**", ""]
    out += ["| scenario | expected | got | deciding rules | result |", "|---|---|---|---|---|"]
    for r in results:
        exp = r.scenario.expect.value if r.scenario.expect else "-"
        res = "pass" if r.passed else "FAIL: " + _md("; ".join(r.problems))
        out.append(
            f"| `{r.scenario.id}` | `{exp}` | `{r.decision.verdict.value}` | "
            f"{', '.join(r.deciding_rules) or '-'} | {res} |"
        )
    if counts is not None:
        never = [rid for rid, n in counts.items() if n == 0]
        out += ["", "## Coverage", "", f"{len(counts) - len(never)} of {len(counts)} rules exercised.", ""]
        out += ["| rule | scenarios in which it applied |", "|---|---|"]
        out += [f"| `{rid}` | {n} |" for rid, n in counts.items()]
    return "\n".join(out) + "\n"


def documented_markdown(results: list[Any], agreement: list[Any]) -> str:
    """`policy test --documented -f markdown`: agreement with documented decisions per exporter."""
    failed = [r for r in results if not r.passed]
    out = ["# Agreement with documented decisions", ""]
    out.append(f"**{len(results) - len(failed)} passed, {len(failed)} failed of {len(results)} documented scenarios.**")
    out += ["", "| exporter | passed | failed | total | agreement |", "|---|---|---|---|---|"]
    out += [f"| {a.jurisdiction} | {a.passed} | {a.failed} | {a.total} | {a.percent:.1f}% |" for a in agreement]
    if failed:
        out += ["", "## Failing documented scenarios", ""]
        out += [f"- `{r.scenario.id}` ({_md(r.file)}): {_md('; '.join(r.problems))}" for r in failed]
    return "\n".join(out) + "\n"


def tests_html(
    results: list[Any], counts: dict[str, int] | None, titles: dict[str, str], agreement: list[Any] | None = None
) -> str:
    failed = [r for r in results if not r.passed]
    rows = [
        {
            "id": r.scenario.id,
            "file": r.file,
            "title": r.scenario.title,
            "expected": r.scenario.expect.value if r.scenario.expect else "-",
            "got": r.decision.verdict.value,
            "rules": r.deciding_rules,
            "passed": r.passed,
            "problems": r.problems,
        }
        for r in results
    ]
    cov = None
    if counts is not None:
        by_jurisdiction: dict[str, list[tuple[str, int, str]]] = {}
        for rid, n in counts.items():
            by_jurisdiction.setdefault(rid.split(".")[0].upper(), []).append((rid, n, titles.get(rid, "")))
        peak = max(counts.values()) if counts else 1
        cov = {
            "exercised": sum(1 for n in counts.values() if n),
            "total": len(counts),
            "groups": sorted(by_jurisdiction.items()),
            "peak": max(peak, 1),
        }
    return render(
        "tests.html",
        agreement=agreement,
        page_title=("Documented decisions" if agreement is not None else "Scenario tests")
        + (" and rule coverage" if cov else ""),
        rows=rows,
        passed=len(results) - len(failed),
        failed=len(failed),
        coverage=cov,
    )

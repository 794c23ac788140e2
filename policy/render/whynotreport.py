"""`policy why-not` answers as text, Markdown, HTML and JSON.

Pure functions from :class:`policy.whynot.WhyNot` (and :class:`~policy.whynot.WhyNotMatrix`) to
strings. The HTML is one self-contained page; every value is escaped where it is written (no
template engine is needed for so small a page).
"""

from __future__ import annotations

import html
import json
import shlex

from policy.analysis.whynot import (
    KIND_WORDS,
    KINDS,
    Alternative,
    Answer,
    CitationRef,
    MatrixCell,
    RuleRef,
    WhyNot,
    WhyNotMatrix,
)
from policy.model.countries import country_name

_SIZE_WORDS = {1: "One change", 2: "Two changes", 3: "Three changes"}


def render_json(result: WhyNot | WhyNotMatrix) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _values(a: Answer, limit: int = 12) -> str | None:
    """The varying value of an answer's alternatives, in words (None for a single alternative)."""
    alts = a.alternatives
    if len(alts) < 2:
        return None
    first = alts[0].changes
    k = next((i for i, c in enumerate(first) if any(x.changes[i].value != c.value for x in alts[1:])), None)
    if k is None:  # pragma: no cover - alternatives differ in one value by construction
        return None
    words = []
    for x in alts:
        c = x.changes[k]
        if c.kind == "recipient":
            words.append(f"{country_name(c.value)} ({c.value})")
        elif c.kind == "law":
            words.append(f"{c.value['model_code']}'s `{c.like}`")
        else:
            words.append(str(c.value))
    shown = ", ".join(words[:limit])
    if len(words) > limit:
        shown += f" and {len(words) - limit} more"
    return f"{len(words)} alternatives: {shown}"


def _check(alt: Alternative) -> str:
    if alt.what_if is None:
        return "check: the `what-if` options cannot express this transfer; evaluate it as a scenario file"
    cmd = "policy what-if " + shlex.join(alt.what_if)
    if alt.overlay is not None and alt.overlay_file is None:
        return f"check: write the overlay with `--emit-overlay DIR`, then {cmd} --with DIR/{alt.overlay['id']}.yaml"
    return f"check: {cmd}"


def _rule_line(r: RuleRef) -> str:
    mark = " (hypothetical)" if r.hypothetical else ""
    return f"`{r.id}`{mark} ({r.jurisdiction}, {r.binding_text}) -> {r.effect}"


def _cite_line(c: CitationRef) -> str:
    text = c.instrument + (f", {c.article}" if c.article else "")
    if c.url:
        text += f" <{c.url}>"
    elif c.seed:
        text += f" (seed: {c.seed})"
    return text


# ------------------------------------------------------------------ text


def render_text(r: WhyNot) -> str:
    t = r.transfer
    lines = [
        f"Why not {r.target.value}? {t['title']}",
        f"  {t['date']} | {t['exporter']} ({country_name(t['exporter'])}) -> {t['recipient']} "
        f"({country_name(t['recipient'])}) | {t['transfer']} | end user: {t['end_user']}",
        f"Now: {r.verdict.value.upper()}"
        + (", decided by " + "; ".join(_rule_line(x) for x in r.deciding[:3]) if r.deciding else ""),
    ]
    if r.overlays:
        lines.append(f"Under the overlays: {', '.join(r.overlays)}")
    lines.append(f"Target: {r.target.value} or a less severe verdict")
    lines.append("")
    if r.already:
        lines.append(r.summary)
        return "\n".join(lines) + "\n"
    size = 0
    for n, a in enumerate(r.answers, 1):
        if a.size != size:
            size = a.size
            count = sum(1 for x in r.answers if x.size == size)
            lines.append(f"{_SIZE_WORDS.get(size, f'{size} changes')} ({count} answer{'s' if count != 1 else ''}):")
        lines.extend(_text_answer(n, a))
    if not r.answers:
        lines.append(r.summary)
    if r.blocked:
        lines.append("")
        lines.append("What stands in the way:")
        for b in r.blocked:
            lines.append(f"  - [{KIND_WORDS[b.kind]}] {b.text}")
    if r.answers:
        lines += ["", "In short: " + r.summary]
    lines += ["", f"Searched: {r.searched.note}"]
    for w in r.warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"


def _text_answer(n: int, a: Answer) -> list[str]:
    kinds = "+".join(KIND_WORDS[k] for k in a.kinds)
    first = a.alternatives[0]
    out = [f" {n:>2}. [{kinds}] if " + " and ".join(c.text for c in a.changes)]
    vals = _values(a)
    if vals:
        out.append(f"     ({vals})")
    lead = a.deciding[0] if a.deciding else None
    if lead is None:
        out.append(f"     -> {a.verdict.value}: " + "; ".join(a.reasons))
    else:
        out.append(f"     -> {a.verdict.value}: decided by {_rule_line(lead)}")
        out.append(f"        {lead.title}")
        out += [f"        cites: {_cite_line(c)}" for c in lead.citations]
        others = [x for x in a.deciding[1:]]
        if others:
            out.append("        also: " + "; ".join(_rule_line(x) for x in others))
    out.append(f"     {_check(first)}")
    return out


# ------------------------------------------------------------------ Markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(r: WhyNot) -> str:
    t = r.transfer
    out = [
        f"# Why not `{r.target.value}`?",
        "",
        f"{_md(t['title'])} ({t['date']}; {t['exporter']} → {t['recipient']}; {t['transfer']}; "
        f"end user: {t['end_user']})",
        "",
        f"**Now: `{r.verdict.value}`**"
        + (", decided by " + "; ".join(_rule_line(x) for x in r.deciding[:3]) if r.deciding else ""),
        "",
    ]
    if r.overlays:
        out += [f"Under the overlays: {', '.join(f'`{o}`' for o in r.overlays)}", ""]
    if r.already:
        return "\n".join(out + [r.summary, ""])
    out += [f"> {r.summary}", ""]
    size = 0
    for n, a in enumerate(r.answers, 1):
        if a.size != size:
            size = a.size
            out += [f"## {_SIZE_WORDS.get(size, f'{size} changes')}", ""]
        kinds = " + ".join(KIND_WORDS[k] for k in a.kinds)
        out.append(f"{n}. **[{kinds}]** if " + " and ".join(_md(c.text) for c in a.changes))
        vals = _values(a)
        if vals:
            out.append(f"   - {_md(vals)}")
        if a.deciding:
            lead = a.deciding[0]
            out.append(f"   - → `{a.verdict.value}`: decided by {_rule_line(lead)}: {_md(lead.title)}")
            out += [f"     - cites: {_md(_cite_line(c))}" for c in lead.citations]
            if len(a.deciding) > 1:
                out.append("   - also: " + "; ".join(_rule_line(x) for x in a.deciding[1:]))
        else:
            out.append(f"   - → `{a.verdict.value}`: " + "; ".join(_md(x) for x in a.reasons))
        out.append(f"   - {_md(_check(a.alternatives[0]))}")
    if r.blocked:
        out += ["", "## What stands in the way", ""]
        out += [f"- **[{KIND_WORDS[b.kind]}]** {_md(b.text)}" for b in r.blocked]
    out += ["", f"*Searched:* {_md(r.searched.note)}", ""]
    out += [f"> warning: {w}" for w in r.warnings]
    return "\n".join(out)


# ------------------------------------------------------------------ HTML

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
    "code{background:#f3f3f3;padding:0 .2em}.v{font-weight:600}.kind{color:#555;font-size:.9em}"
    "li{margin:.4em 0}.check{color:#444;font-family:monospace;font-size:.85em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}"
)


def _code(text: str) -> str:
    """Escape ``text`` and show `backticked` parts as code."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _html_rule(r: RuleRef) -> str:
    cites = "".join(
        "<li>"
        + html.escape(c.instrument + (f", {c.article}" if c.article else ""))
        + (f' <a href="{html.escape(c.url)}">{html.escape(c.url)}</a>' if c.url else "")
        + "</li>"
        for c in r.citations
    )
    mark = " (hypothetical)" if r.hypothetical else ""
    return (
        f"<code>{html.escape(r.id)}</code>{mark} ({html.escape(r.jurisdiction)}, {html.escape(r.binding_text)}): "
        f"{html.escape(r.title)}" + (f"<ul>{cites}</ul>" if cites else "")
    )


def render_html(r: WhyNot) -> str:
    e = html.escape
    t = r.transfer
    body = [
        f"<h1>Why not <code>{e(r.target.value)}</code>?</h1>",
        f"<p>{e(t['title'])} ({e(t['date'])}; {e(t['exporter'])} → {e(t['recipient'])}; {e(t['transfer'])}; "
        f"end user: {e(t['end_user'])})</p>",
        f"<p>Now: <span class=v>{e(r.verdict.value)}</span>"
        + (", decided by " + "; ".join(_html_rule(x) for x in r.deciding[:3]) if r.deciding else "")
        + "</p>",
    ]
    if r.overlays:
        body.append("<p>Under the overlays: " + ", ".join(f"<code>{e(o)}</code>" for o in r.overlays) + "</p>")
    body.append(f"<p><em>{_code(r.summary)}</em></p>")
    size = 0
    items: list[str] = []

    def flush() -> None:
        if items:
            body.append("<ol>" + "".join(items) + "</ol>")
            items.clear()

    for a in r.answers:
        if a.size != size:
            flush()
            size = a.size
            body.append(f"<h2>{e(_SIZE_WORDS.get(size, f'{size} changes'))}</h2>")
        kinds = " + ".join(KIND_WORDS[k] for k in a.kinds)
        vals = _values(a)
        lead = f"decided by {_html_rule(a.deciding[0])}" if a.deciding else e("; ".join(a.reasons))
        items.append(
            f"<li><span class=kind>[{e(kinds)}]</span> if "
            + " and ".join(_code(c.text) for c in a.changes)
            + (f"<br><small>{_code(vals)}</small>" if vals else "")
            + f"<br>→ <span class=v>{e(a.verdict.value)}</span>: {lead}"
            + f"<div class=check>{e(_check(a.alternatives[0]))}</div></li>"
        )
    flush()
    if r.blocked:
        body.append("<h2>What stands in the way</h2><ul>")
        body += [f"<li><span class=kind>[{e(KIND_WORDS[b.kind])}]</span> {_code(b.text)}</li>" for b in r.blocked]
        body.append("</ul>")
    body.append(f"<p><small>Searched: {_code(r.searched.note)}</small></p>")
    body += [f"<p>warning: {e(w)}</p>" for w in r.warnings]
    return _page(f"Why not {r.target.value}? {t['title']}", "\n".join(body))


# ------------------------------------------------------------------ a matrix


def _cell_word(c: MatrixCell) -> str:
    if c.target is None:
        return c.verdict.value
    if not c.smallest:
        return f"{c.verdict.value}: none"
    kinds = {k for a in c.smallest for k in a.kinds}
    return f"{c.verdict.value}: {'/'.join(k for k in KINDS if k in kinds)}"


def render_matrix_text(m: WhyNotMatrix) -> str:
    exps = list(dict.fromkeys(c.exporter for c in m.cells))
    recs = list(dict.fromkeys(c.recipient for c in m.cells))
    grid = {(c.exporter, c.recipient): c for c in m.cells}
    words = {k: _cell_word(c) for k, c in grid.items()}
    w = max([len(x) for x in words.values()] + [3])
    lines = [
        f"What stands in the way: {m.item} on {m.date} (per restricted/prohibited cell, the kinds of the smallest "
        f"changes that would lift it one step; none: nothing within {m.max_changes})"
    ]
    lines.append((" " * 10 + "".join(f"{r:<{w + 2}}" for r in recs)).rstrip())
    for e in exps:
        lines.append((f"{e:<10}" + "".join(f"{words.get((e, r), '-'):<{w + 2}}" for r in recs)).rstrip())
    lines.append("")
    for c in m.cells:
        if c.target is None:
            continue
        head = f"{c.exporter} -> {c.recipient}: {c.verdict.value}, target {c.target.value}"
        if not c.smallest:
            lines.append(f"{head}: nothing within {m.max_changes} changes. {c.note}")
            continue
        a = c.smallest[0]
        more = f" (+{len(c.smallest) - 1} more of this size)" if len(c.smallest) > 1 else ""
        lines.append(f"{head}: {a.sentence}{more}")
    return "\n".join(lines) + "\n"


def render_matrix_markdown(m: WhyNotMatrix) -> str:
    exps = list(dict.fromkeys(c.exporter for c in m.cells))
    recs = list(dict.fromkeys(c.recipient for c in m.cells))
    grid = {(c.exporter, c.recipient): c for c in m.cells}
    out = [f"# What stands in the way: `{m.item}` on {m.date}", ""]
    out.append("| exporter \\ recipient | " + " | ".join(recs) + " |")
    out.append("|---|" + "---|" * len(recs))
    for e in exps:
        out.append(f"| {e} | " + " | ".join(f"`{_cell_word(grid[(e, r)])}`" for r in recs) + " |")
    out.append("")
    for c in m.cells:
        if c.target is None:
            continue
        text = c.smallest[0].sentence if c.smallest else c.note
        out.append(f"- **{c.exporter} → {c.recipient}** (`{c.verdict.value}`): {_md(text)}")
    return "\n".join(out) + "\n"


def render_matrix_html(m: WhyNotMatrix) -> str:
    e = html.escape
    exps = list(dict.fromkeys(c.exporter for c in m.cells))
    recs = list(dict.fromkeys(c.recipient for c in m.cells))
    grid = {(c.exporter, c.recipient): c for c in m.cells}
    rows = "".join(
        f"<tr><th>{e(x)}</th>" + "".join(f"<td>{e(_cell_word(grid[(x, r)]))}</td>" for r in recs) + "</tr>"
        for x in exps
    )
    table = "<table><tr><th></th>" + "".join(f"<th>{e(r)}</th>" for r in recs) + f"</tr>{rows}</table>"
    notes = "".join(
        f"<li><b>{e(c.exporter)} → {e(c.recipient)}</b> ({e(c.verdict.value)}): "
        f"{_code(c.smallest[0].sentence if c.smallest else c.note)}</li>"
        for c in m.cells
        if c.target is not None
    )
    body = f"<h1>What stands in the way: <code>{e(m.item)}</code> on {e(m.date)}</h1>{table}<ul>{notes}</ul>"
    return _page(f"What stands in the way: {m.item} on {m.date}", body)

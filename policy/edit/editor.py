"""What an editor asks about a rule, world, item, overlay or scenario file, answered without an
editor: diagnostics (the same ``validate`` and ``lint`` findings as the command line, for a
buffer that may not be saved), hover text, definitions and references, completions and code
actions. :mod:`policy.lsp` only translates these to the Language Server Protocol.

Positions here are 0-based (line, column), as in LSP; diagnostics keep the command line's
1-based ``file:line:col`` in their span.

Over 500 lines because the six editor questions share one workspace (buffers over files, the
cached rulebase and lint findings, the position index); splitting by question would pass that
workspace through every module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from policy.edit.refs import Index, Occurrence, build_index
from policy.load import yamlio
from policy.model.errors import Diagnostic, LoadError

_LOCK = threading.Lock()

VERDICT_MEANINGS = {
    "prohibited": "a ban in statute, regulation, treaty or a UN/EU legal act",
    "restricted": "a policy presumption of denial; only exceptional licences",
    "undetermined": "no encoded rule decides, a fact a rule needs is unknown, or two rules conflict "
    "(all named) — never silently `permitted`",
    "licence_required": "ordinary case-by-case licensing",
    "permitted": "no licence needed / no objection",
    "as_direct_export": "consent only where this state would itself allow the direct transfer "
    "(evaluated on the same date and shown nested)",
}
ORIGIN_WORDS = {
    "scenario": "given by the scenario (or the command line)",
    "derived": "derived from dated world data (`rules/world/`) on the transfer's date; `assume:` overrides it",
    "assessment": "an assessment: `false` unless the scenario asserts it",
}
_WORD = re.compile(r"[A-Za-z0-9_.\-$]+")


# ------------------------------------------------------------------ workspace


def project_root(path: str | Path) -> Path:
    """The nearest folder above ``path`` that has a ``rules/`` folder (else the file's folder)."""
    p = Path(path).resolve()
    for d in [p.parent, *p.parent.parents]:
        if (d / "rules").is_dir():
            return d
    return p.parent


def file_kind(text: str) -> str:
    """``rules`` (rule, world or item file), ``overlay`` or ``scenario``, from the `format:` line."""
    fmt = next((line for line in text.splitlines()[:200] if line.startswith("format:")), "")
    if "policy-overlay/" in fmt:
        return "overlay"
    return "rules" if fmt else "scenario"


@contextlib.contextmanager
def buffers(texts: dict[str, str]) -> Iterator[None]:
    """Read these (unsaved) texts instead of the files on disk while loading. One at a time."""
    original = yamlio.read_text
    resolved = {str(Path(p).resolve()): t for p, t in texts.items()}

    def read_text(path: str, display: str | None = None) -> str:
        text = resolved.get(str(Path(path).resolve()))
        return text if text is not None else original(path, display)

    with _LOCK:
        yamlio.read_text = read_text
        try:
            yield
        finally:
            yamlio.read_text = original


def _same_file(a: str, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:  # pragma: no cover
        return False


def check_document(path: str, text: str, today: dt.date | None = None, lint: bool = True) -> list[Diagnostic]:
    """Every `validate` error and `lint` warning for one file, as if ``text`` were saved there."""
    found, pending = validate_document(path, text)
    return found + (pending(today or dt.date.today()) if lint and pending else [])


def validate_document(path: str, text: str) -> tuple[list[Diagnostic], Any]:
    """The `validate` errors for one buffer (fast), and a function giving its `lint` findings
    for a date (slower: exhaustive over the jurisdiction's rules; cached per jurisdiction, so an
    edit to prose or layout alone does not recompute it). The function is None after errors."""
    from policy.load.loader import load_rulebase
    from policy.load.overlays import apply_overlay
    from policy.load.scenarios import load_scenario
    from policy.model.rulebase import RuleBase

    root = project_root(path)
    rules_dir = root / "rules"
    kind = file_kind(text)
    inside = rules_dir in Path(path).resolve().parents
    diags: list[Diagnostic] = []
    pending: Any = None
    with buffers({path: text}):
        paths = [str(rules_dir)] if rules_dir.is_dir() else []
        if kind == "rules" and not inside:
            paths.append(path)
        base: RuleBase | None = None
        try:
            base = load_rulebase(paths or [path])
        except LoadError as exc:
            diags.extend(exc.diagnostics)
        mine = [d for d in diags if d.span and _same_file(d.span.file, path)]
        if base is None and kind != "rules" and not mine:
            return [
                Diagnostic(
                    "rules-invalid",
                    "the rules this file depends on do not load; run `policy validate`",
                    None,
                    severity="warning",
                )
            ], None
        if base is not None and kind == "overlay":
            try:
                new = apply_overlay(base, path)
                pending = _pending_lint(new, _changed(base, new))
            except LoadError as exc:
                diags.extend(exc.diagnostics)
        elif base is not None and kind == "scenario":
            try:
                load_scenario(path, base)
            except LoadError as exc:
                diags.extend(exc.diagnostics)

            def pending(_today: dt.date) -> list[Diagnostic]:
                from policy.edit.scaffold import lint_scenarios

                with buffers({path: text}):
                    return lint_scenarios([path])

        elif base is not None:
            codes = {
                code for code, jf in base.jurisdictions.items() if any(_in_file(base, r.id, path) for r in jf.rules)
            }
            pending = _pending_lint(base, codes)
    keep = [d for d in diags if d.span is None or _same_file(d.span.file, path)]
    if pending is not None:
        inner = pending

        def pending(day: dt.date) -> list[Diagnostic]:
            return [d for d in inner(day) if d.span is None or _same_file(d.span.file, path)]

    return keep, pending


def _in_file(base: Any, rule_id: str, path: str) -> bool:
    span = base.spans.get(rule_id)
    return span is not None and _same_file(span.file, path)


def _changed(old: Any, new: Any) -> set[str]:
    return {code for code, jf in new.jurisdictions.items() if old.jurisdictions.get(code) is not jf}


_PROSE: Any = {
    "summary": True,
    "not_encoded": True,
    "name": True,
    "rules": {"__all__": {"title", "explanation", "uncertain"}},
    "sources": {"__all__": {"title", "note", "publisher"}},
}
_LINT_CACHE: dict[str, list[tuple[str | None, Diagnostic]]] = {}


def _pending_lint(base: Any, codes: set[str]) -> Any:
    def run(today: dt.date) -> list[Diagnostic]:
        from policy.analysis.lint import lint

        out: list[Diagnostic] = []
        for code in sorted(codes):
            jf = base.jurisdictions[code]
            key = repr((today, jf.model_dump(mode="json", exclude=_PROSE, exclude_none=True)))
            cached = _LINT_CACHE.get(key)
            if cached is None:
                sub = dataclasses.replace(base, jurisdictions={code: jf})
                at = {span: rid for rid, span in base.spans.items()}
                cached = [(at.get(d.span), d) for d in lint(sub, today)]
                if len(_LINT_CACHE) > 64:
                    _LINT_CACHE.clear()
                _LINT_CACHE[key] = cached
            for rid, d in cached:  # the rule may have moved since: point at where it is now
                span = base.spans.get(rid, d.span) if rid else d.span
                out.append(dataclasses.replace(d, span=span))
        return out

    return run


# ------------------------------------------------------------------ positions


def span_range(text: str, d: Diagnostic) -> tuple[int, int, int, int]:
    """The 0-based range a diagnostic covers: from its line:col to the end of the value there."""
    if d.span is None or not d.span.line:
        return (0, 0, 0, 0)
    lines = text.splitlines()
    line = min(d.span.line - 1, max(len(lines) - 1, 0))
    src = lines[line] if lines else ""
    start = min(max(d.span.col - 1, 0), len(src))
    end = _token_end(src, start)
    return (line, start, line, end)


def _token_end(src: str, start: int) -> int:
    if start >= len(src):
        return start
    if src[start] in "\"'":
        q = src[start]
        i = start + 1
        while i < len(src):
            if src[i] == q and not (q == '"' and src[i - 1] == "\\"):
                return i + 1
            i += 1
        return len(src)
    if src[start] in "[{":
        return len(src.rstrip())
    i = start
    while i < len(src) and src[i] not in ",]}" and not (src[i] == "#" and i > 0 and src[i - 1] == " "):
        if src[i] == ":" and (i + 1 == len(src) or src[i + 1] == " "):
            break
        i += 1
    return len(src[:i].rstrip())


def word_at(text: str, line: int, col: int) -> tuple[str, int, int] | None:
    """The id-like word under the cursor (rule ids, fact names, codes), with its columns."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return None
    src = lines[line]
    for m in _WORD.finditer(src):
        if m.start() <= col <= m.end():
            w = m.group().rstrip(".:")
            return (w, m.start(), m.start() + len(w)) if w else None
    return None


# ------------------------------------------------------------------ workspace model (cached)


@dataclass
class Workspace:
    """The rulebase and id index of one project, reloaded when a file changes."""

    root: Path
    base: Any = None
    index: Index | None = None
    stamp: tuple[Any, ...] = ()
    open_texts: dict[str, str] = field(default_factory=dict)

    def _stamp(self) -> tuple[Any, ...]:
        files = sorted((self.root / "rules").rglob("*.y*ml")) if (self.root / "rules").is_dir() else []
        return tuple((str(f), f.stat().st_mtime_ns) for f in files)

    def rulebase(self) -> Any:
        from policy.load.loader import load_rulebase

        stamp = self._stamp()
        if self.base is None or stamp != self.stamp:
            try:
                self.base = load_rulebase([str(self.root / "rules")])
            except LoadError:
                self.base = self.base  # keep the last good one
            self.stamp = stamp
        return self.base

    def ids(self) -> Index:
        if self.index is None:
            self.index = build_index([str(self.root / "rules"), str(self.root / "scenarios")])
        for f, t in self.open_texts.items():
            self.index.update(f, t)
        return self.index

    def opened(self, path: str, text: str) -> None:
        key = str(Path(path).resolve())
        self.open_texts[key] = text
        if self.index is not None:
            self.index.update(key, text)

    def occurrence(self, path: str, text: str, line: int, col: int) -> Occurrence | None:
        self.opened(path, text)
        index = self.ids()
        key = str(Path(path).resolve())
        occ = index.at(key, line, col)
        if occ is None:
            occ = next((o for o in index.by_file.get(key, []) if o.line == line and o.col <= col <= o.end_col), None)
        if occ is None:
            w = word_at(text, line, col)
            if w:
                occ = next((o for o in index.all() if o.definition and o.name == w[0]), None)
        return occ

    def definition(self, path: str, text: str, line: int, col: int) -> list[Occurrence]:
        occ = self.occurrence(path, text, line, col)
        return self.ids().definitions(occ) if occ else []

    def references(self, path: str, text: str, line: int, col: int, declarations: bool = True) -> list[Occurrence]:
        occ = self.occurrence(path, text, line, col)
        return self.ids().references(occ, declarations) if occ else []


# ------------------------------------------------------------------ hover


def hover_text(ws: Workspace, text: str, line: int, col: int, today: dt.date | None = None) -> str | None:
    """Markdown for the word under the cursor: a rule, fact, country, item, category or verdict."""
    from policy.model import BINDING_WORDS, Binding
    from policy.model.countries import country_name, is_country
    from policy.model.facts import fact_spec

    found = word_at(text, line, col)
    if not found:
        return None
    word = found[0]
    base = ws.rulebase()
    today = today or dt.date.today()
    groups = base.world.group_kinds() if base else {}
    if base is not None:
        rule = base.rule(word)
        if rule is not None:
            code = next(c for c, jf in base.jurisdictions.items() if rule in jf.rules)
            period = f"{rule.from_ or 'open'} to {rule.until or 'open'}"
            out = [
                f"**{rule.id}** ({code})",
                "",
                rule.title,
                "",
                f"- effect: `{rule.effect.value}`",
                f"- binding: {BINDING_WORDS[rule.binding]}",
                f"- in force: {period}",
            ]
            if rule.default:
                out.append("- the general rule (`default: true`): any other applicable rule defeats it")
            c = rule.citations[0]
            src = base.source_index.get((code, c.source))
            cite = f"{c.instrument}" + (f", {c.article}" if c.article else "")
            out.append(f"- cites: {cite}" + (f" — {src.title}" if src else ""))
            return "\n".join(out)
        if word in base.items:
            it = base.items[word]
            return f"**{it.id}**: {it.name}\n\n- category: `{it.category}`\n- lethal: `{str(it.lethal).lower()}`" + (
                f"\n- UN Register: {it.unroca}" if it.unroca else ""
            )
        if word.startswith("ML") and base.category(word) is not None:
            cat = base.category(word)
            assert cat is not None
            return f"**{word}**: {cat.title}\n\n- assumed lethal: `{str(cat.lethal).lower()}`"
    spec = fact_spec(word, groups)
    if spec is not None:
        values = f" ({', '.join(spec.values)})" if spec.values else ""
        return (
            f"**fact** `{spec.name}`: {spec.description}\n\n- type: `{spec.type}`{values}\n"
            f"- value: {ORIGIN_WORDS.get(spec.origin, spec.origin)}"
        )
    if word in VERDICT_MEANINGS:
        return f"**{word}**: {VERDICT_MEANINGS[word]}"
    if word in Binding.__members__:
        return f"**{word}**: {BINDING_WORDS[Binding(word)]}"
    if re.fullmatch(r"[A-Z]{2}", word) and is_country(word):
        out = [f"**{word}**: {country_name(word)}"]
        if base is not None:
            from policy.eval.worldview import country_facts

            rows = country_facts(base, word, today)["facts"]
            true = [r for r in rows if r["value"] not in (False, None)]
            out.append("")
            out.append(
                f"On {today.isoformat()}:" if true else f"On {today.isoformat()}: no membership, conflict or embargo"
            )
            out += [
                f"- {r['fact']}" + (f" = {r['value']}" if r["value"] is not True else "") + f" ({r['basis']})"
                for r in true
            ]
        return "\n".join(out)
    return None


# ------------------------------------------------------------------ completion


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # fact | operator | country | category | effect | binding | rule | value
    detail: str = ""


def completions(ws: Workspace, path: str, text: str, line: int, col: int) -> list[Completion]:
    """What may be typed at the cursor, from the text before it on its line."""
    from policy.model import OPS, Binding, Effect, Verdict
    from policy.model.contract import END_USERS, TRANSFERS
    from policy.model.countries import country_table
    from policy.model.facts import all_fact_names, fact_spec

    lines = text.splitlines()
    before = lines[line][:col] if 0 <= line < len(lines) else ""
    base = ws.rulebase()
    groups = base.world.group_kinds() if base else {}

    def countries() -> list[Completion]:
        return [Completion(c, "country", n) for c, n in sorted(country_table()[0].items())]

    def categories() -> list[Completion]:
        cats = sorted(base.categories, key=lambda c: (len(c), c)) if base else [f"ML{i}" for i in range(1, 23)]
        return [Completion("ML", "category", "any Munitions List category")] + [
            Completion(c, "category", base.categories[c].title if base else "") for c in cats
        ]

    if re.search(r"(?:^|[{,\s])fact:\s*[\w.]*$", before):
        out = []
        for n in all_fact_names(groups):
            spec = fact_spec(n, groups)
            out.append(Completion(n, "fact", spec.description if spec else ""))
        return out
    if re.search(r"\{\s*fact:\s*[\w.]+\s*,\s*\w*$", before):
        return [Completion(op, "operator") for op in OPS]
    if re.search(r"(?:exception_to|yields_to):\s*\[?[^\]]*$", before) or (
        re.match(r"^\s*-\s*[\w.\-]*$", before) and _block_key_above(lines, line) in ("exception_to", "yields_to")
    ):
        prefix = _rule_prefix(text)
        ids = sorted({o.name for o in ws.ids().all() if o.kind == "rule" and o.definition})
        return [Completion(i, "rule") for i in ids if not prefix or i.startswith(prefix)]
    m = re.search(r"(\w+):\s*\[?[^:]*$", before)
    key = m.group(1) if m else None
    if key == "effect":
        return [Completion(e.value, "effect", VERDICT_MEANINGS.get(e.value, "")) for e in Effect]
    if key == "binding":
        from policy.model import BINDING_WORDS

        return [Completion(b.value, "binding", BINDING_WORDS[b]) for b in Binding]
    if key in ("within", "category"):
        return categories()
    if key in ("country", "exporter", "recipient", "target", "origin", "licence", "via", "transit"):
        return countries()
    if key == "expect":
        return [Completion(v.value, "value", VERDICT_MEANINGS[v.value]) for v in Verdict]
    if key == "end_user":
        return [Completion(v, "value") for v in END_USERS]
    if key == "transfer":
        return [Completion(v, "value") for v in TRANSFERS]
    fm = re.search(r"fact:\s*([\w.]+)\s*,\s*(?:eq|ne|in|not_in):\s*\[?[^:]*$", before)
    if fm:
        spec = fact_spec(fm.group(1), groups)
        if spec and spec.type in ("country", "countries"):
            return countries()
        if spec and spec.values:
            return [Completion(v, "value") for v in spec.values]
        if spec and spec.type == "category":
            return categories()
    return []


def _block_key_above(lines: list[str], line: int) -> str | None:
    indent = len(lines[line]) - len(lines[line].lstrip())
    for i in range(line - 1, -1, -1):
        s = lines[i]
        if not s.strip() or s.lstrip().startswith("-"):
            continue
        if len(s) - len(s.lstrip()) < indent or s.strip().endswith(":"):
            return s.strip().rstrip(":").lstrip("- ").split(":")[0]
    return None


def _rule_prefix(text: str) -> str:
    m = re.search(r"^jurisdiction:\s*\"?([A-Za-z0-9-]+)", text, re.M)
    return m.group(1).lower() + "." if m else ""


# ------------------------------------------------------------------ code actions


@dataclass(frozen=True)
class Edit:
    """Insert ``text`` before 0-based ``line`` (at column 0)."""

    title: str
    line: int
    text: str
    diagnostic: Diagnostic | None = None


def _rule_bounds(lines: list[str], line: int) -> tuple[int, int, int] | None:
    """(first line, end line exclusive, key indent) of the rule item enclosing ``line``."""
    for i in range(min(line, len(lines) - 1), -1, -1):
        m = re.match(r"^(\s*)- id:\s", lines[i])
        if m:
            indent = len(m.group(1)) + 2
            end = i + 1
            while end < len(lines):
                s = lines[end]
                if s.strip() and not s.lstrip().startswith("#") and len(s) - len(s.lstrip()) < indent:
                    break
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            return (i, end, indent) if i <= line < max(end, i + 1) else None
    return None


def code_actions(text: str, line: int, diagnostics: list[Diagnostic] = ()) -> list[Edit]:  # type: ignore[assignment]
    """Edits offered at ``line``: a citation skeleton for the rule there, and its missing `until`."""
    lines = text.splitlines()
    bounds = _rule_bounds(lines, line)
    if bounds is None:
        return []
    first, end, indent = bounds
    pad = " " * indent
    body = lines[first:end]
    out: list[Edit] = []
    source = next((m.group(1) for m in re.finditer(r"^\s+- id:\s*([\w.\-]+)", text, re.M)), "SOURCE")
    sources = re.search(r"^sources:\s*$", text, re.M)
    if sources:
        after = text[sources.end() :]
        m = re.search(r"^\s+- (?:\{\s*)?id:\s*([\w.\-]+)", after, re.M)
        source = m.group(1) if m else source
    skeleton = f"{pad}  - source: {source}\n{pad}    instrument: TODO\n{pad}    article: TODO\n"
    cit = next((first + i for i, s in enumerate(body) if s.startswith(pad + "citations:")), None)
    if cit is not None and lines[cit].rstrip().endswith("citations:"):
        out.append(Edit("Insert a citation skeleton", cit + 1, skeleton))
    elif cit is None:
        out.append(Edit("Insert a citation skeleton", end, f"{pad}citations:\n{skeleton}"))
    if not any(s.startswith(pad + "until:") for s in body):
        heads = [
            first + i for i, s in enumerate(body) if re.match(re.escape(pad) + r"(from|default|binding|effect):", s)
        ]
        expired = next((d for d in diagnostics if d.code == "expired"), None)
        day = dt.date.today().isoformat()
        out.append(
            Edit(
                "Add `until:` (the rule's last day in force)",
                (heads[-1] if heads else first) + 1,
                f"{pad}until: {day}\n",
                expired,
            )
        )
    return out


__all__ = [
    "Completion",
    "Edit",
    "Workspace",
    "buffers",
    "check_document",
    "code_actions",
    "completions",
    "file_kind",
    "hover_text",
    "project_root",
    "span_range",
    "word_at",
]

"""``policy fmt``: one canonical style for rule, world, item, overlay and scenario files.

The file is read with ruamel.yaml's round trip, so comments and blank lines stay where the
author put them, and only these things change:

- indentation: two spaces per mapping level, sequence items indented two under their key;
- key order: as in docs/rule-format.md (the models' field order; scenarios put `calibrates`
  before `sources`), unknown keys last. A mapping whose keys would move past a full-line
  comment or a blank line keeps its order, so no comment ends up beside the wrong key;
- quoting: quotes the author wrote are kept; a plain string that a YAML 1.1 reader would take
  for something else (`NO`, `yes`, `on`, `0777`...) gets double quotes, so `NO` stays Norway in
  every editor and tool; dates in `from`, `until` and `date` are written unquoted;
- `null` is written `null`, and booleans `true`/`false`;
- long text: a prose field (`summary`, `not_encoded`, `explanation`, `uncertain`,
  `description`, `note`) whose line would pass 120 columns becomes a folded block (`>-`, so
  the text is unchanged) wrapped at 100 columns. Blocks already written stay as they are.

A file is written only if it loads (strictly, as ``policy validate`` reads it) and if the
formatted text loads to the identical model with the same comments; otherwise the file is
left alone and the problem is reported with its place. Writes are atomic.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import types
import typing
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from policy.load import yamlio
from policy.load.loader import FORMATS
from policy.model import CategoryEntry, Overlay, Rule, Scenario
from policy.model.errors import Diagnostic, LoadError, SourceSpan

try:  # an optional dependency: `pip install 'policy[edit]'`
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        FoldedScalarString,
        LiteralScalarString,
        SingleQuotedScalarString,
    )
    from ruamel.yaml.tokens import CommentToken
except ImportError:  # pragma: no cover - reported by require_ruamel()
    YAML = None  # type: ignore[assignment,misc]

MODELS: dict[str, type[BaseModel]] = {**FORMATS, "policy-overlay/v1": Overlay}
"""Every file kind with a `format:` line: the loader's, plus overlays."""
PROSE_KEYS = frozenset({"summary", "not_encoded", "explanation", "uncertain", "description", "note"})
DATE_KEYS = frozenset({"from", "until", "date"})
BLOCK_OVER = 120
"""A prose field whose `key: text` line would pass this column becomes a folded block."""
FOLD_AT = 100
"""Folded blocks are wrapped at this column."""

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COND = "condition"
# Key order where the document differs from the model's field order: `role` after `title` (as in
# the document's re-export example), category entries as the item catalogue writes them.
_ORDER_OVERRIDES: dict[type[BaseModel], list[str]] = {
    Rule: [
        "id", "title", "role", "effect", "binding", "default", "from", "until", "when", "exception_to", "yields_to",
        "citations", "explanation", "uncertain",
    ],
    CategoryEntry: ["id", "lethal", "title"],
    Scenario: [
        "$schema", "id", "title", "kind", "date", "exporter", "recipient", "end_user", "transfer", "via",
        "transit", "items", "assume", "expect", "expect_rules", "expect_deciding", "calibrates", "sources", "note",
    ],
}  # fmt: skip
_LEAF_ORDER = ["fact", "eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "within", "exists"]


def require_ruamel() -> None:
    """Raise a one-line user error when the `edit` extra is not installed."""
    if YAML is None:
        raise LoadError(
            [
                Diagnostic(
                    "missing-dependency",
                    "`policy fmt` and `policy rename` need ruamel.yaml",
                    help="pip install 'policy[edit]'",
                )
            ]
        )


def _yaml() -> Any:
    require_ruamel()
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a flow scalar or a flow list
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    y.representer.add_representer(type(None), lambda rep, _data: rep.represent_scalar("tag:yaml.org,2002:null", "null"))
    return y


# ------------------------------------------------------------------ which model a file is


def model_for(data: Any) -> type[BaseModel] | None:
    """The model a file's data should validate as: by its `format`, else a scenario."""
    if not isinstance(data, dict):
        return None
    fmt = data.get("format")
    if fmt is None:
        return Scenario
    return MODELS.get(fmt) if isinstance(fmt, str) else None


def load_model(text: str, file: str) -> BaseModel:
    """Parse and validate one file on its own, as strictly as ``policy validate``; LoadError if not."""
    from policy.load.diagnostics import validation_diagnostics

    doc = yamlio.parse(text, file)
    model = model_for(doc.data)
    if model is None:
        fmt = doc.data.get("format") if isinstance(doc.data, dict) else None
        raise LoadError(
            [
                Diagnostic(
                    "unknown-format" if isinstance(doc.data, dict) else "not-a-mapping",
                    f"unknown `format`: `{fmt}`" if isinstance(doc.data, dict) else "expected a YAML mapping",
                    doc.span(("format",)) if isinstance(doc.data, dict) else doc.span(),
                )
            ]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise LoadError(validation_diagnostics(exc, doc)) from None


# ------------------------------------------------------------------ key order


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X``, ``X | None``, ``list[X]`` or ``dict[str, X]``; else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict):
        for arg in typing.get_args(annotation):
            found = _unwrap(arg)
            if found is not None:
                return found
    return None


def _fields(model: type[BaseModel]) -> tuple[list[str], dict[str, Any]]:
    keys, children = [], {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        keys.append(key)
        if key in ("when", "binds"):
            children[key] = _COND
        else:
            child = _unwrap(info.annotation)
            if child is not None:
                children[key] = child
    return _ORDER_OVERRIDES.get(model, keys), children


def _trailing(value: Any) -> str:
    """The comment text ruamel stores after the last scalar of ``value`` (deepest first)."""
    out = ""
    if isinstance(value, CommentedMap) and value:
        last = list(value.keys())[-1]
        out += _slot_text(value.ca.items.get(last), (2,)) + _trailing(value[last])
    elif isinstance(value, CommentedSeq) and value:
        out += _slot_text(value.ca.items.get(len(value) - 1), (0,)) + _trailing(value[-1])
    end = getattr(value.ca, "end", None) if isinstance(value, (CommentedMap, CommentedSeq)) else None
    for tok in end or []:
        out += getattr(tok, "value", "")
    return out


def _slot_text(item: Any, slots: tuple[int, ...]) -> str:
    if not item:
        return ""
    out = ""
    for i in slots:
        tok = item[i] if i < len(item) else None
        for t in tok if isinstance(tok, list) else [tok]:
            if isinstance(t, CommentToken):
                out += t.value
    return out


def _reorder(node: Any, order: list[str]) -> None:
    keys = list(node.keys())
    rank = {k: i for i, k in enumerate(order)}
    want = sorted(keys, key=lambda k: (rank.get(k, len(rank)), keys.index(k)))
    if want == keys:
        return
    # A key followed by full-line comments or blank lines must keep its successor, or the
    # comment would end up before another key than the one the author wrote it above.
    old_next = {k: (keys[i + 1] if i + 1 < len(keys) else None) for i, k in enumerate(keys)}
    new_next = {k: (want[i + 1] if i + 1 < len(want) else None) for i, k in enumerate(want)}
    for k in keys:
        tail = _slot_text(node.ca.items.get(k), (2,)) + _trailing(node[k])
        eol_only = tail.startswith("#") and tail.count("\n") == 1 and tail.endswith("\n")
        if tail and not eol_only and old_next[k] != new_next[k]:
            return
    if want[0] != keys[0] and _slot_text(node.ca.items.get(want[0]), (1,)):
        return
    for k in want:
        node.move_to_end(k)


# ------------------------------------------------------------------ scalars

_PLAIN_CHECK: Any = None


def misread_plain(value: str) -> bool:
    """True if this string, written plain, would not read back as this string in YAML 1.1 or 1.2."""
    import yaml

    global _PLAIN_CHECK
    if _PLAIN_CHECK is None:
        _PLAIN_CHECK = yaml.resolver.Resolver()
    tag = _PLAIN_CHECK.resolve(yaml.ScalarNode, value, (True, False))
    return bool(tag != "tag:yaml.org,2002:str")


def _fold_positions(text: str, col: int) -> list[int] | None:
    """Indexes of the spaces at which to fold ``text`` so lines stay within FOLD_AT columns."""
    if "\n" in text or text != text.strip() or "  " in text or "\t" in text:
        return None
    room = max(FOLD_AT - col, 40)
    out, start, last_space = [], 0, -1
    for i, ch in enumerate(text):
        if ch == " ":
            if i - start > room and last_space > start:
                out.append(last_space)
                start = last_space + 1
            last_space = i
    if len(text) - start > room and last_space > start:
        out.append(last_space)
    return out


def _fix_scalar(value: Any, key: Any, col: int, flow: bool) -> Any:
    if isinstance(value, (FoldedScalarString, LiteralScalarString)) or not isinstance(value, str):
        return value
    quoted = isinstance(value, (DoubleQuotedScalarString, SingleQuotedScalarString))
    if key in DATE_KEYS and quoted and _DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return value
    if key in PROSE_KEYS and not flow:
        width = col + len(str(key)) + 2 + len(value) + (2 if quoted else 0)
        if width > BLOCK_OVER:
            pos = _fold_positions(str(value), col + 2)
            if pos is not None:
                folded = FoldedScalarString(str(value))
                folded.fold_pos = pos
                return folded
    if not quoted and value and misread_plain(str(value)):
        return DoubleQuotedScalarString(str(value))
    return value


def _slot(node: Any, key: Any, i: int) -> Any:
    item = node.ca.items.get(key)
    tok = item[i] if item and i < len(item) else None
    return tok if isinstance(tok, CommentToken) else None


def _is_flow(node: Any) -> bool:
    return bool(getattr(getattr(node, "fa", None), "flow_style", lambda: False)())


def _canon(node: Any, model: Any, col: int, flow: bool = False) -> None:
    """Reorder keys and fix scalars in place, following ``model`` (a pydantic class or _COND)."""
    flow = flow or _is_flow(node)
    if isinstance(node, CommentedMap):
        if model is _COND:
            if "fact" in node:
                _reorder(node, _LEAF_ORDER)
            order, children = list(node.keys()), {k: _COND for k in ("all", "any", "not")}
        elif isinstance(model, type) and issubclass(model, BaseModel):
            order, children = _fields(model)
            _reorder(node, order)
        else:
            children = {}
        for k in list(node.keys()):
            v = node[k]
            if isinstance(v, (CommentedMap, CommentedSeq)):
                _canon(v, children.get(k), col + (2 if isinstance(v, CommentedMap) else 4), flow)
            else:
                tok = _slot(node, k, 2)
                if tok is not None and tok.value.startswith("#") and k in PROSE_KEYS:
                    continue  # an end-of-line comment after the text: a block could not keep it there
                fixed = _fix_scalar(v, k, col, flow)
                if isinstance(fixed, FoldedScalarString) and not isinstance(v, FoldedScalarString) and tok is not None:
                    tok.value = tok.value[1:]  # the block ends its own line; the comment's newline would add one
                node[k] = fixed
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            if isinstance(v, (CommentedMap, CommentedSeq)):
                _canon(v, model, col if isinstance(v, CommentedMap) else col + 4, flow)
            else:
                node[i] = _fix_scalar(v, None, col, flow)


# ------------------------------------------------------------------ comments kept


def _comments(text: str) -> Counter[str]:
    """Every comment in a YAML text (full-line and end-of-line), as a multiset of stripped texts."""
    out: Counter[str] = Counter()
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#"):
            out[s] += 1
            continue
        bare = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'', '""', line)
        m = re.search(r"\s#", bare)
        if m:
            out[bare[m.start() :].strip()] += 1
    return out


def _restore_lost_comments(src: str, out: str) -> str:
    """Put back full-line comments that ruamel dropped (a known case: a comment line before a
    sequence item that has its own end-of-line comment), above the same following line."""
    lost = _comments(src) - _comments(out)
    if not lost:
        return out
    src_lines, out_lines = src.splitlines(), out.splitlines()
    inserts: list[tuple[int, str]] = []
    for i, line in enumerate(src_lines):
        s = line.strip()
        if not s.startswith("#") or lost[s] <= 0:
            continue
        nxt = next((x for x in src_lines[i + 1 :] if x.strip() and not x.strip().startswith("#")), None)
        if nxt is None:
            continue
        nth = sum(1 for x in src_lines[:i] if x.strip() == nxt.strip())
        seen = 0
        for j, o in enumerate(out_lines):
            if o.strip() == nxt.strip():
                if seen == nth:
                    indent = len(o) - len(o.lstrip())
                    inserts.append((j, " " * indent + s))
                    lost[s] -= 1
                    break
                seen += 1
    for j, line in sorted(inserts, key=lambda p: p[0], reverse=True):
        out_lines.insert(j, line)
    return "\n".join(out_lines) + ("\n" if out.endswith("\n") else "")


# ------------------------------------------------------------------ the formatter


def format_text(text: str, file: str = "<text>") -> str:
    """The canonical form of one file's text. LoadError if the file does not load, or if the
    result would not load to the same model with the same comments (then nothing is written)."""
    before = load_model(text, file)
    y = _yaml()
    try:
        data = y.load(text)
    except Exception as exc:  # ruamel disagrees with the strict reader: report, do not guess
        raise LoadError(
            [Diagnostic("fmt-unreadable", f"cannot round-trip this file: {exc}", SourceSpan(file))]
        ) from None
    _canon(data, type(before), 0)
    buf = io.StringIO()
    y.dump(data, buf)
    out = _restore_lost_comments(text, buf.getvalue())
    try:
        after = load_model(out, file)
    except LoadError as exc:
        raise LoadError(
            [
                Diagnostic(
                    "fmt-failed", f"formatting would break the file: {exc.diagnostics[0].message}", SourceSpan(file)
                )
            ]
        ) from None
    if after.model_dump(mode="json", by_alias=True) != before.model_dump(mode="json", by_alias=True):
        raise LoadError(
            [Diagnostic("fmt-failed", "formatting would change what the file says; left unchanged", SourceSpan(file))]
        )
    missing = _comments(text) - _comments(out)
    if missing:
        first = next(iter(missing))
        line = next((i + 1 for i, s in enumerate(text.splitlines()) if first in s), 0)
        raise LoadError(
            [
                Diagnostic(
                    "fmt-comment",
                    f"formatting would lose the comment `{first}`; file left unchanged",
                    SourceSpan(file, line, 1),
                    "move the comment onto its own line above a key",
                )
            ]
        )
    return out


@dataclass
class FmtResult:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)


def format_paths(paths: list[str], check: bool = False) -> FmtResult:
    """Format every YAML file under ``paths``; with ``check``, only report which would change."""
    from policy.load.atomic import write_text
    from policy.load.discover import display_path, yaml_files

    require_ruamel()
    result = FmtResult()
    for path in yaml_files(paths):
        shown = display_path(path)
        try:
            text = yamlio.read_text(path, shown)
            new = format_text(text, shown)
        except LoadError as exc:
            result.errors.extend(exc.diagnostics)
            continue
        if new == text:
            result.unchanged.append(shown)
            continue
        result.changed.append(shown)
        if not check:
            write_text(path, new, shown)
    return result


__all__ = ["FmtResult", "format_paths", "format_text", "load_model", "model_for", "require_ruamel"]

"""Where rule ids, item ids and source ids are defined and referenced, with exact positions.

Used by ``policy rename`` (which rewrites exactly these spans, leaving every other byte of a
file alone) and by the language server (go to definition, find references). Files are read
with the strict reader's node tree, so positions are the ones ``validate`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from policy.load import yamlio
from policy.model.errors import LoadError


@dataclass(frozen=True)
class Occurrence:
    """One place where an id is written: its kind, the id, and its span (0-based line/col)."""

    kind: str  # rule | item | source
    name: str
    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    start: int  # character offsets of the scalar, quotes included
    end: int
    definition: bool
    scopes: tuple[str, ...] = ()  # sources: where the id may be defined (a file's sources, a group)

    def contains(self, line: int, col: int) -> bool:
        return (self.line, self.col) <= (line, col) <= (self.end_line, self.end_col)


def _walk(node: yaml.Node, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], yaml.Node]]:
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                yield from _walk(v, path + (k.value,))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _walk(v, path + (i,))


def _shape(path: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("*" if isinstance(p, int) else p for p in path)


def _value(node: yaml.Node, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key and isinstance(v, yaml.ScalarNode):
                return v.value
    return None


def scan_text(text: str, file: str) -> list[Occurrence]:
    """Every id definition and reference in one file's text ([] if it is not valid YAML)."""
    try:
        doc = yamlio.parse(text, file, keep_going=True)
    except LoadError:
        return []
    root = doc.root
    if root is None or not isinstance(root, yaml.MappingNode):
        return []
    fmt = _value(root, "format")
    jurisdiction = _value(root, "jurisdiction") or ""
    out: list[Occurrence] = []

    def add(node: yaml.Node, kind: str, definition: bool, scopes: tuple[str, ...] = ()) -> None:
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            return
        s, e = node.start_mark, node.end_mark
        out.append(
            Occurrence(kind, node.value, file, s.line, s.column, e.line, e.column, s.index, e.index, definition, scopes)
        )

    for path, node in _walk(root, ()):
        shape = _shape(path)
        if isinstance(node, yaml.MappingNode) and _value(node, "fact") == "item.id" and "when" in path + ("binds",):
            for k, v in node.value:
                if k.value in ("eq", "ne"):
                    add(v, "item", False)
                elif k.value in ("in", "not_in") and isinstance(v, yaml.SequenceNode):
                    for x in v.value:
                        add(x, "item", False)
            continue
        if not isinstance(node, yaml.ScalarNode):
            continue
        if fmt == "policy-rules/v1":
            file_scope = f"J:{jurisdiction}"
            if shape == ("rules", "*", "id"):
                add(node, "rule", True)
            elif shape in (("rules", "*", "exception_to", "*"), ("rules", "*", "yields_to", "*")):
                add(node, "rule", False)
            elif shape == ("sources", "*", "id"):
                add(node, "source", True, (file_scope,))
            elif shape == ("rules", "*", "citations", "*", "source"):
                add(node, "source", False, (file_scope,))
        elif fmt == "policy-overlay/v1":
            own = f"O:{Path(file).resolve()}"
            if shape == ("sources", "*", "id"):
                add(node, "source", True, (own,))
            elif len(shape) >= 4 and shape[0] == "changes":
                code = path[1]
                rest = shape[2:]
                if rest == ("add", "*", "id"):
                    add(node, "rule", True)
                elif rest in (("replace", "*", "id"), ("disable", "*")):
                    add(node, "rule", False)
                elif rest[0] in ("add", "replace") and rest[2:] in (("exception_to", "*"), ("yields_to", "*")):
                    add(node, "rule", False)
                elif rest[0] in ("add", "replace") and rest[2:] == ("citations", "*", "source"):
                    add(node, "source", False, (own, f"J:{code}"))
        elif fmt == "policy-items/v1":
            if shape == ("items", "*", "id"):
                add(node, "item", True)
            elif shape == ("sources", "*", "id"):
                add(node, "source", True, ("I:items",))
        elif fmt == "policy-world/v1":
            if shape == ("groups", "*", "sources", "*", "id"):
                add(node, "source", True, (f"G:{path[1]}:{file}",))
            elif shape == ("groups", "*", "members", "*", "source"):
                add(node, "source", False, (f"G:{path[1]}:{file}",))
        elif fmt is None:  # a scenario
            if shape == ("items", "*", "id"):
                add(node, "item", False)
            elif shape == ("expect_rules", "*") or shape == ("calibrates", "*", "rule"):
                add(node, "rule", False)
    return out


class Index:
    """Occurrences of ids across many files; files can be updated one at a time (editor buffers)."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[Occurrence]] = {}

    def update(self, file: str, text: str) -> None:
        self.by_file[file] = scan_text(text, file)

    def all(self) -> Iterator[Occurrence]:
        for occs in self.by_file.values():
            yield from occs

    def at(self, file: str, line: int, col: int) -> Occurrence | None:
        return next((o for o in self.by_file.get(file, []) if o.contains(line, col)), None)

    def definitions(self, occ: Occurrence) -> list[Occurrence]:
        return [
            o
            for o in self.all()
            if o.definition
            and o.kind == occ.kind
            and o.name == occ.name
            and (occ.kind != "source" or set(o.scopes) & set(occ.scopes))
        ]

    def references(self, occ: Occurrence, include_definitions: bool = True) -> list[Occurrence]:
        scopes = set(occ.scopes)
        if occ.kind == "source" and not occ.definition:
            scopes = {s for d in self.definitions(occ) for s in d.scopes} or scopes
        return [
            o
            for o in self.all()
            if o.kind == occ.kind
            and o.name == occ.name
            and (include_definitions or not o.definition)
            and (occ.kind != "source" or set(o.scopes) & scopes)
        ]


def build_index(paths: list[str]) -> Index:
    """An index of every YAML file under ``paths`` (unreadable files are skipped)."""
    from policy.load.discover import yaml_files

    index = Index()
    for f in yaml_files([p for p in paths if Path(p).exists()]):
        try:
            index.update(f, yamlio.read_text(f))
        except LoadError:
            continue
    return index


__all__ = ["Index", "Occurrence", "build_index", "scan_text"]

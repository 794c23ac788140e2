"""The only way this package reads YAML: safe, strict, and with source positions.

PyYAML's defaults are wrong for law encoded as data: YAML 1.1 reads Norway's ISO code
``NO`` as ``false``, silently keeps the last of two duplicate keys, turns ``2024-13-01``
into a crash without a line number, and expands aliases without bound. This module
composes the node tree with a resolver that only knows ``true``/``false`` as booleans,
then builds plain Python data itself, so that every problem carries ``file:line:col``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    import yaml
else:
    yaml = None  # PyYAML, imported on first use (``_yaml``): a command that parses no YAML never pays for it

MAX_BYTES = 2 * 1024 * 1024
"""Largest file read; rule files are small, so anything bigger is a mistake or an attack."""
MAX_NODES = 200_000
"""Most values one document may expand to (stops 'billion laughs' alias bombs)."""
MAX_DEPTH = 64
"""Deepest nesting accepted."""

_BOOL = "tag:yaml.org,2002:bool"


def _yaml() -> Any:
    """The ``yaml`` module, imported and bound to this module's ``yaml`` on first use."""
    global yaml
    if yaml is None:
        import yaml as module

        yaml = module
    return yaml


@functools.cache
def _loader() -> type:
    """SafeLoader whose only booleans are true/false (so NO, yes, on, off stay strings)."""
    y = _yaml()
    base: type = getattr(y, "CSafeLoader", y.SafeLoader)

    class _StrictLoader(base):  # type: ignore[misc]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            # Scalars are resolved here without PyYAML's generic machinery (no path resolvers are
            # used): a plain scalar gets the first implicit tag whose pattern matches, else `str`.
            # Rule files have hundreds of thousands of scalars, so this path is kept short.
            if kind is scalar_node:
                if implicit[0]:
                    for tag, regexp in resolvers.get(value[:1], ()):
                        if regexp.match(value):
                            return tag
                return "tag:yaml.org,2002:str"
            return super().resolve(kind, value, implicit)

    scalar_node = y.ScalarNode
    _StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in found if tag != _BOOL]
        for first, found in y.SafeLoader.yaml_implicit_resolvers.items()
    }
    _StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    resolvers: dict[str, list[tuple[str, Any]]] = _StrictLoader.yaml_implicit_resolvers
    return _StrictLoader


_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    _BOOL,
}


@dataclass
class Document:
    """Parsed YAML data plus the node tree, to find where a value came from."""

    file: str
    data: Any
    root: yaml.Node | None
    problems: list[Diagnostic] = field(default_factory=list)
    """Problems that did not stop parsing (a duplicate key keeps its first value; a bad tag becomes null)."""

    def span(self, loc: tuple[Any, ...] | list[Any] = ()) -> SourceSpan:
        """The position of the value at ``loc`` (mapping keys and list indexes).

        Path parts that do not name a key or index (pydantic's union tags) are skipped;
        the walk stops at the deepest node it can reach.
        """
        node = self.root
        if node is None:
            return SourceSpan(self.file)
        yaml = _yaml()
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = next((v for k, v in node.value if k.value == part), None)
                if nxt is None:
                    key = next((k for k, _ in node.value if k.value == part), None)
                    if key is not None:
                        node = key
                    continue
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    node = node.value[part]
        return _mark(self.file, node)

    def key_span(self, loc: tuple[Any, ...] | list[Any]) -> SourceSpan:
        """The position of the key at the end of ``loc`` (for unknown-field errors)."""
        parent = self.node_at(loc[:-1])
        if parent is not None and isinstance(parent, _yaml().MappingNode):
            for k, _ in parent.value:
                if k.value == loc[-1]:
                    return _mark(self.file, k)
        return self.span(loc)

    def node_at(self, loc: tuple[Any, ...] | list[Any]) -> yaml.Node | None:
        node = self.root
        if node is None:
            return None
        yaml = _yaml()
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node


def _mark(file: str, node: yaml.Node) -> SourceSpan:
    return SourceSpan(file, node.start_mark.line + 1, node.start_mark.column + 1)


def read_text(path: str, display: str | None = None) -> str:
    """Read a file as UTF-8 text, refusing binary, oversized and non-UTF-8 files."""
    name = display or path
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LoadError(
            [Diagnostic("unreadable-file", f"cannot read file: {exc.strerror}", SourceSpan(name))]
        ) from None
    if len(raw) > MAX_BYTES:
        raise LoadError(
            [Diagnostic("file-too-large", f"file is larger than {MAX_BYTES // 1024} KiB", SourceSpan(name))]
        )
    if b"\x00" in raw:
        raise LoadError([Diagnostic("binary-file", "file contains NUL bytes; expected YAML text", SourceSpan(name))])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoadError(
            [Diagnostic("not-utf8", "file is not valid UTF-8", SourceSpan(name, line, 1), "save the file as UTF-8")]
        ) from None


def parse(text: str, file: str, keep_going: bool = False) -> Document:
    """Parse one YAML document strictly. Raises LoadError with every problem found.

    With ``keep_going``, problems that leave usable data (duplicate keys, refused tags) are
    returned in ``Document.problems`` instead, so that a caller can report them together with
    the validation errors of the same file.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise LoadError(
            [Diagnostic("file-too-large", f"file is larger than {MAX_BYTES // 1024} KiB", SourceSpan(file))]
        )
    yaml = _yaml()
    try:
        root = yaml.compose(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = SourceSpan(file, mark.line + 1, mark.column + 1) if mark else SourceSpan(file)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        hint = None
        if "mapping values are not allowed" in problem:
            hint = 'a value that contains `: ` must be quoted, e.g. article: "Art. 5: scope"'
        elif "found character '\\t'" in problem:
            hint = "YAML indentation uses spaces, not tabs"
        raise LoadError([Diagnostic("yaml-syntax", f"invalid YAML: {problem}", span, hint)]) from None
    except yaml.YAMLError as exc:  # e.g. more than one document
        raise LoadError([Diagnostic("yaml-syntax", f"invalid YAML: {exc}", SourceSpan(file))]) from None
    except RecursionError:
        raise LoadError([Diagnostic("too-deep", "YAML nesting is too deep", SourceSpan(file))]) from None
    builder = _Builder(file)
    data = builder.build(root) if root is not None else None
    if builder.problems and (builder._stopped or not keep_going):
        raise LoadError(builder.problems)
    return Document(file, data, root, builder.problems)


def load(path: str, display: str | None = None, keep_going: bool = False) -> Document:
    """Read and parse a YAML file."""
    return parse(read_text(path, display), display or path, keep_going)


class _Builder:
    """Turns a composed node tree into plain data, collecting every problem."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.count = 0
        self.problems: list[Diagnostic] = []
        self._stopped = False

    def _fail(self, code: str, message: str, node: yaml.Node, help: str | None = None) -> None:
        self.problems.append(Diagnostic(code, message, _mark(self.file, node), help))

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if self._stopped:
            return None
        self.count += 1
        if self.count > MAX_NODES:
            self._fail(
                "too-many-nodes",
                f"document expands to more than {MAX_NODES} values (alias expansion?)",
                node,
                "rule files do not need YAML aliases; write the values out",
            )
            self._stopped = True
            return None
        if depth > MAX_DEPTH:
            self._fail("too-deep", f"nesting deeper than {MAX_DEPTH} levels", node)
            self._stopped = True
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._fail("unsupported-tag", f"tag `{node.tag}` is not allowed", node)
                return None
            return [self.build(child, depth + 1) for child in node.value]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self._fail("unsupported-tag", f"tag `{node.tag}` is not allowed", node, "remove the tag")
                return None
            out: dict[Any, Any] = {}
            seen: dict[Any, yaml.Node] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._fail("bad-key", "mapping keys must be plain scalars", key_node)
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._fail("unsupported-merge", "merge keys (`<<`) are not supported", key_node)
                    continue
                key = self._scalar(key_node)
                if key in seen:
                    first = seen[key]
                    self._fail(
                        "duplicate-key",
                        f"duplicate key `{key}` (first at line {first.start_mark.line + 1})",
                        key_node,
                        "remove one of the two; plain YAML readers silently keep only the last",
                    )
                    continue
                seen[key] = key_node
                out[key] = self.build(value_node, depth + 1)
            return out
        self._fail("unsupported-node", "unsupported YAML node", node)
        return None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            self._fail(
                "unsupported-tag", f"tag `{tag}` is not allowed", node, "rule files are plain data: remove the tag"
            )
            return None
        value = node.value
        if tag == "tag:yaml.org,2002:str" or tag == "tag:yaml.org,2002:timestamp":
            return value  # dates stay text; pydantic parses them with a location
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            try:
                return (
                    int(value.replace("_", ""), 0)
                    if value[:2].lower() in ("0x", "0o", "0b")
                    else int(value.replace("_", ""))
                )
            except ValueError:
                return value
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value

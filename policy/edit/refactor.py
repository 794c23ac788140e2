"""``policy rename``: rename a rule id everywhere it is written.

Every place is found by :mod:`policy.refs` (rule definitions, ``exception_to``/``yields_to``,
overlays' ``add``/``replace``/``disable``, scenarios' ``expect_rules`` and ``calibrates``), and
only those scalars are rewritten, so comments, quoting and layout stay byte for byte. Every
changed file must still load before any is written; writes are atomic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policy.model import ID_RE
from policy.model.errors import Diagnostic, LoadError, SourceSpan


@dataclass
class RenameResult:
    files: dict[str, int] = field(default_factory=dict)
    """Changed file -> number of places rewritten."""


def rename_rule(old: str, new: str, paths: list[str], write: bool = True) -> RenameResult:
    """Rename rule ``old`` to ``new`` in every rule, overlay and scenario file under ``paths``."""
    from policy.edit.fmt import load_model
    from policy.edit.refs import build_index
    from policy.load import yamlio
    from policy.load.atomic import write_text
    from policy.load.discover import display_path

    if not ID_RE.match(new):
        raise LoadError(
            [
                Diagnostic(
                    "bad-rule-id",
                    f"`{new}` is not a rule id",
                    SourceSpan("NEW_ID"),
                    "rule ids look like `kr.topic.name` (lower-case kebab-case segments)",
                )
            ]
        )
    if old.split(".")[0] != new.split(".")[0]:
        raise LoadError(
            [
                Diagnostic(
                    "wrong-id-prefix",
                    f"`{new}` must keep the jurisdiction prefix `{old.split('.')[0]}.`",
                    SourceSpan("NEW_ID"),
                    "a rule cannot move to another jurisdiction by renaming",
                )
            ]
        )
    index = build_index(paths)
    occs = [o for o in index.all() if o.kind == "rule" and o.name == old]
    if not any(o.definition for o in occs):
        import difflib

        known = sorted({o.name for o in index.all() if o.kind == "rule" and o.definition})
        m = difflib.get_close_matches(old, known, n=1)
        raise LoadError(
            [
                Diagnostic(
                    "unknown-rule",
                    f"no rule `{old}` is defined under {', '.join(paths)}",
                    SourceSpan("OLD_ID"),
                    f"did you mean `{m[0]}`?" if m else None,
                )
            ]
        )
    taken = [o for o in index.all() if o.kind == "rule" and o.name == new and o.definition]
    if taken:
        t = taken[0]
        raise LoadError(
            [
                Diagnostic(
                    "duplicate-rule-id",
                    f"rule `{new}` already exists",
                    SourceSpan(display_path(t.file), t.line + 1, t.col + 1),
                )
            ]
        )
    texts: dict[str, str] = {}
    result = RenameResult()
    diags: list[Diagnostic] = []
    for file in sorted({o.file for o in occs}):
        text = yamlio.read_text(file, display_path(file))
        for o in sorted((o for o in occs if o.file == file), key=lambda o: o.start, reverse=True):
            piece = text[o.start : o.end]
            if piece.count(old) != 1:
                diags.append(
                    Diagnostic(
                        "rename-failed",
                        f"cannot rewrite `{piece}` safely (escaped or repeated id)",
                        SourceSpan(display_path(file), o.line + 1, o.col + 1),
                        "rename this place by hand",
                    )
                )
                continue
            text = text[: o.start] + piece.replace(old, new) + text[o.end :]
        texts[file] = text
        result.files[display_path(file)] = sum(1 for o in occs if o.file == file)
    for file, text in texts.items():
        try:
            load_model(text, display_path(file))
        except LoadError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise LoadError(diags)
    if write:
        for file, text in texts.items():
            write_text(file, text, display_path(file))
    return result


__all__ = ["RenameResult", "rename_rule"]

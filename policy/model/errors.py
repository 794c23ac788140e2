"""Errors a user can cause, each carrying the place in a file where it happened.

Hierarchy::

    PolicyError             base of every error this package raises on purpose
     └── LoadError          one or more Diagnostics from reading files or arguments
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A place in a file: 1-based line and column. Not part of any object's identity."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input, with a stable kebab-case code."""

    code: str
    message: str
    span: SourceSpan | None = None
    help: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        s = self.span or SourceSpan("")
        return (s.file, s.line, s.col, self.code, self.message)

    def render(self) -> str:
        where = f"{self.span}: " if self.span else ""
        text = f"{where}{self.severity}[{self.code}]: {self.message}"
        if self.help:
            text += f"\n  help: {self.help}"
        return text

    def to_json(self) -> dict[str, object]:
        s = self.span
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": s.file if s else None,
            "line": s.line if s else None,
            "col": s.col if s else None,
            "help": self.help,
        }


class PolicyError(Exception):
    """Base class for errors raised on purpose by this package."""


@dataclass
class LoadError(PolicyError):
    """Reading rules, world data, items or scenarios failed; every problem is listed."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in sorted(self.diagnostics, key=Diagnostic.sort_key))


def user_error(code: str, message: str, span: SourceSpan | None = None, help: str | None = None) -> LoadError:
    """Build a LoadError holding a single diagnostic."""
    return LoadError([Diagnostic(code, message, span, help)])

"""Verdict words in colour: ANSI on a terminal, hex colours for HTML, none when asked for none.

Colour follows the usual conventions: only on a terminal, never when ``NO_COLOR`` is set
(https://no-color.org), always when ``FORCE_COLOR`` is set.
"""

from __future__ import annotations

import os
from typing import IO, Any

from policy.model import Verdict

ANSI = {
    "prohibited": "\x1b[1;31m",  # bold red
    "restricted": "\x1b[31m",  # red
    "undetermined": "\x1b[33m",  # yellow
    "licence_required": "\x1b[34m",  # blue
    "permitted": "\x1b[32m",  # green
    "no say": "\x1b[2m",  # dim
}
RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"

# Background and text colours for HTML; the text/background pairs have a contrast ratio above 4.5.
HTML = {
    "prohibited": ("#7f1d1d", "#fee2e2"),
    "restricted": ("#9a3412", "#ffedd5"),
    "undetermined": ("#713f12", "#fef9c3"),
    "licence_required": ("#1e3a8a", "#dbeafe"),
    "permitted": ("#14532d", "#dcfce7"),
    "no say": ("#374151", "#f3f4f6"),
    "-": ("#374151", "#ffffff"),
}

VERDICT_ORDER = [v.value for v in sorted(Verdict, key=lambda v: -v.severity)]

LEGEND = {
    "prohibited": "a ban in statute, regulation, treaty or a UN/EU legal act",
    "restricted": "a policy presumption of denial; only exceptional licences",
    "undetermined": "no encoded rule decides, a fact is unknown, or rules conflict",
    "licence_required": "ordinary case-by-case licensing",
    "permitted": "no licence needed / no objection",
}


def wants_colour(stream: IO[Any] | None = None) -> bool:
    """Whether to colour output written to ``stream`` (stdout by default)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    import sys

    s = stream if stream is not None else sys.stdout
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


class Paint:
    """Colours verdict words and emphasis, or leaves text alone when colour is off."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def verdict(self, word: str, upper: bool = False) -> str:
        text = word.upper() if upper else word
        code = ANSI.get(word)
        return f"{code}{text}{RESET}" if self.on and code else text

    def bold(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self.on else text

    def dim(self, text: str) -> str:
        return f"{DIM}{text}{RESET}" if self.on else text

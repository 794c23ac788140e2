"""How every verb ends on an error: one clear message on stderr and an exit code, never a traceback.

Typer-free, so that the quick batch (``cli/batching.py``) and the typer verbs (``guarded`` in
``cli/common.py``) render errors the one same way.
"""

from __future__ import annotations

import sys

from policy.model.errors import Diagnostic, LoadError, PolicyError

DEBUG = {"on": False}
"""``policy --debug``: internal errors show their traceback."""


def say(text: str) -> None:
    """A line on stderr, as ``typer.echo(text, err=True)`` writes it."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def report(exc: BaseException) -> int | None:
    """Write ``exc`` as the user should see it and give the exit code: 2 for a user error, 130 for
    Ctrl-C, 0 for a closed output pipe, 3 for a bug; None for an exit to let through."""
    if isinstance(exc, LoadError):
        diags = sorted(exc.diagnostics, key=Diagnostic.sort_key)
        for d in diags:
            say(d.render())
        n = len(diags)
        say(f"{n} error{'s' if n != 1 else ''}")
        return 2
    if isinstance(exc, PolicyError):
        say(f"error: {exc}")
        return 2
    if isinstance(exc, SystemExit) or not isinstance(exc, Exception) and not isinstance(exc, KeyboardInterrupt):
        return None
    if isinstance(exc, KeyboardInterrupt):
        say("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):  # output piped into `head` and closed: not an error
        sys.stderr.close()
        return 0
    if DEBUG["on"]:
        import traceback

        traceback.print_exception(exc)
    say(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
    return 3

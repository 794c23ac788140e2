"""The ``policy`` command: one thin module per group of verbs over the Python API.

Each verb parses its options, calls one library function and renders the result; the verbs
are listed here, in the order ``policy --help`` lists them.

``app`` is the whole command. A run of the command (``run``, ``python -m policy``) builds only the
verb it was asked for when it can tell which one (``app_for``): building every verb's options costs
a cold start ~20 ms, and importing every verb module more. Help and errors are the same either way
(tests/test_cli.py compares them). A plain ``policy batch`` command line skips typer altogether
(``cli/batching.py``): a warm batch needs nothing else that typer and pydantic would import.
"""

from __future__ import annotations

import functools
import gc
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence, TypeVar, cast

if TYPE_CHECKING:
    import typer

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["app", "app_for", "run", "VERBS"]

VERBS: dict[str, tuple[str, str]] = {
    "evaluate": ("decide", "evaluate"),
    "what-if": ("decide", "what_if"),
    "where": ("decide", "where"),
    "validate": ("check", "validate"),
    "test": ("check", "test"),
    "facts": ("check", "facts"),
    "lint": ("check", "lint"),
    "sources": ("check", "sources"),
    "schema": ("check", "schema"),
    "batch": ("decide", "batch"),
    "matrix": ("decide", "matrix"),
    "diff": ("law", "diff"),
    "timeline": ("law", "timeline"),
    "atlas": ("atlas", "atlas"),
    "serve": ("serve", "serve"),
    "fmt": ("edit", "fmt_command"),
    "rename": ("edit", "rename"),
    "new": ("edit", "new_app"),  # a group: `policy new jurisdiction`
    "lsp": ("edit", "lsp"),
    "items": ("catalogue", "items"),
    "countries": ("catalogue", "countries"),
    "jurisdictions": ("catalogue", "jurisdictions"),
    "why-not": ("decide", "why_not"),
}
"""Every verb: its module under policy/cli and the function (or sub-command group) it runs."""

GROUP_OPTIONS_WITH_VALUES = frozenset({"--lang"})
GROUP_FLAGS = frozenset({"--debug", "--no-cache"})
"""The group's own options that may come before a verb (``policy --lang de --no-cache what-if``);
a test keeps them equal to the options of ``main`` in cli/common.py (but --version and --help,
which ask for the whole command)."""


_STARTING = {"on": False}


def paused_at_start() -> None:
    """Pause the cyclic garbage collector while the process starts (``run``): importing modules,
    building classes and parsing options make objects that live as long as the process, which the
    collector would only rescan (~10 ms of a cold what-if). ``started`` ends the pause."""
    _STARTING["on"] = gc.isenabled()
    gc.disable()


def started() -> None:
    """A verb begins: what start-up made is frozen (exempt from collections) and the collector runs again."""
    if _STARTING["on"]:
        _STARTING["on"] = False
        gc.freeze()
        gc.enable()


def verb(fn: F) -> F:
    """``fn`` as a verb: ``started`` is called when it begins."""

    @functools.wraps(fn)
    def begin(*args: Any, **kwargs: Any) -> Any:
        started()
        return fn(*args, **kwargs)

    return cast(F, begin)


def command(names: Sequence[str]) -> typer.Typer:
    """The ``policy`` command with the given verbs (in ``VERBS`` order)."""
    from policy.cli.common import command_group

    group = command_group()
    for name, (module, attr) in VERBS.items():
        if name not in names:
            continue
        target = getattr(import_module(f"policy.cli.{module}"), attr)
        if name == "new":
            edit = import_module("policy.cli.edit")
            if not target.registered_commands:
                target.command("jurisdiction")(verb(edit.new_jurisdiction_command))
            group.add_typer(target, name=name)
        else:
            group.command(name)(verb(target))
    return group


def _completing() -> bool:
    """Whether the shell asks for completions (click's ``_POLICY_COMPLETE``)."""
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


def asked_verb(argv: Sequence[str]) -> str | None:
    """The verb a command line runs, when it is one of ``VERBS`` and nothing before it asks for the
    whole command (help, version, completion, an unknown option); else None."""
    if _completing():
        return None  # shell completion lists every verb
    args = iter(argv)
    for arg in args:
        if arg in GROUP_OPTIONS_WITH_VALUES:
            next(args, None)
        elif arg.startswith("--") and arg.split("=", 1)[0] in GROUP_OPTIONS_WITH_VALUES and "=" in arg:
            continue
        elif arg in GROUP_FLAGS:
            continue
        else:
            return arg if arg in VERBS else None
    return None


def app_for(argv: Sequence[str]) -> typer.Typer:
    """The command for one command line: only the verb it runs when that is known, else every verb."""
    verb = asked_verb(argv)
    return command([verb]) if verb is not None else command(list(VERBS))


def run() -> None:  # pragma: no cover - console entry point
    """Run the command line of this process, then exit."""
    # policy does no linear algebra: numpy's BLAS would only start worker threads that spin while
    # the command starts (~0.1 s of CPU on a `policy batch`); a value the user set is kept
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    paused_at_start()
    try:
        if sys.argv[1:2] == ["batch"]:  # a plain batch command line runs without typer (cli/batching.py)
            from policy.cli.batching import plain_options, quick

            if plain_options(sys.argv[1:]) is not None and not _completing():
                started()
                quick_code = quick(sys.argv[1:])
                if quick_code is not None:
                    _end_now(quick_code)
        code = app_for(sys.argv[1:])()
    finally:
        started()  # a run that ends before any verb (help, a usage error) leaves the collector as it was
        # The process ends here. Python's exit walks every tracked object in full collections (the
        # loaded rules, the validators, the modules): ~25 ms of a 0.25 s what-if. Frozen objects
        # are exempt; everything is still released and every exit handler still runs.
        gc.freeze()
    sys.exit(code)


def _end_now(code: int) -> NoReturn:  # pragma: no cover - ends the process
    """End a quick batch at once: its output is committed and closed, its helper and workers
    stopped, so only the interpreter's teardown is left, ~20 ms with numpy loaded (the standard
    streams are flushed first; no exit handler of its own is registered)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream
            pass
    os._exit(code)


def __getattr__(name: str) -> typer.Typer:
    """``app``, the whole command, built on first use (``from policy.cli import app``)."""
    if name == "app":
        whole = command(list(VERBS))
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""``policy batch`` without typer: the verb's work, and its quick start for plain command lines.

A warm batch (``policy.eval.batch_memo``) needs neither the rules nor pydantic, so the ~0.1 s that
typer, click and pydantic take to import is most of what it costs on 10,000 lines. ``quick`` reads
the plain command lines (``policy batch IN [-o OUT] [--workers N] [--strict] [--partial]``) by
itself and runs ``screen_file``, as the typer verb (``cli/decide.py``) does; any other command
line (help, another option, a value it would have to judge) is left to typer, which then reads
it as it always did. ``tests/test_cli_batching.py`` checks that both give the same output,
messages and exit code.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from policy.cli.failure import report, say

_FLAGS = {"--strict": "strict", "--partial": "partial"}
_VALUED = {"-o": "output", "--output": "output", "--workers": "workers"}


def by_extension(path: str) -> str:
    return "csv" if path.endswith(".csv") else "parquet" if path.endswith(".parquet") else "jsonl"


def progress_line(done: int, bad: int, rate: float, fraction: float | None) -> str:
    """The batch progress line; a bar when the input's size is known.

    >>> progress_line(1500, 2, 49_000.4, 0.5)
    '[###############...............]  50%  1,500 transfers screened, 2 bad lines (49,000/s)'
    >>> progress_line(10, 0, 5.0, None)
    '10 transfers screened, 0 bad lines (5/s)'
    """
    text = f"{done:,} transfers screened, {bad:,} bad lines ({rate:,.0f}/s)"
    if fraction is None:
        return text
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(fraction * 30)
    return f"[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}  {text}"


def screen_file(
    input: str,
    output: str | None,
    rules: list[str] | None = None,
    overlays: list[str] | None = None,
    strict: bool = False,
    partial: bool = False,
    workers: int = 0,
    in_fmt: str | None = None,
    out_fmt: str | None = None,
    dask: str | None = None,
) -> int:
    """Screen every line of ``input`` (``policy batch``): bad lines, progress and the summary on
    stderr; the exit code (0; 2 with bad lines; 130 when interrupted). User errors are raised."""
    from policy.eval.batch_memo import RuleFiles
    from policy.eval.batch_run import BatchJob, Interrupted, StrictStop, run_batch
    from policy.load.discover import default_rules_path
    from policy.model.errors import Diagnostic, LoadError, SourceSpan

    in_fmt = in_fmt or by_extension(input)
    out_fmt = out_fmt or by_extension(output or "")
    base: Any
    if overlays or dask:
        from policy.cli.common import rulebase_from

        base = rulebase_from(rules, overlays)
    else:  # the rules are loaded only if a line needs them (policy.eval.batch_memo)
        base = RuleFiles(tuple(rules or [default_rules_path()]))
    name = input if input != "-" else "<stdin>"
    show = sys.stderr.isatty()
    start = time.perf_counter()

    def on_error(line: int, code: str, msg: str) -> None:
        say(f"{name}:{line}: error[{code}]: {msg}")

    def on_progress(tally: Any, fraction: float | None) -> None:
        rate = tally.screened / max(time.perf_counter() - start, 1e-9)
        sys.stderr.write("\r" + progress_line(tally.screened, tally.bad, rate, fraction))

    job = BatchJob(input, output, in_fmt, out_fmt, strict, workers, partial)
    run = run_batch
    if dask is not None:
        from policy.distributed import dask_batch

        run = dask_batch(dask)
    try:
        tally = run(base, job, on_error, on_progress if show else None)
    except StrictStop as stop:
        raise LoadError([Diagnostic(stop.code, stop.message, SourceSpan(name, stop.line))]) from None
    except Interrupted as exc:
        if show:
            sys.stderr.write("\n")
        t = exc.tally
        kept = f"the first {t.screened} written to {output}" if exc.written else "no output written"
        say(f"interrupted: {t.screened} of {t.read} lines screened; {kept if output else 'output so far printed'}")
        return 130
    if show:
        sys.stderr.write("\n")
    say(tally.summary())
    return 2 if tally.bad else 0


def plain_options(argv: list[str]) -> dict[str, Any] | None:
    """The options of a plain ``batch`` command line, as ``screen_file`` takes them; None for any
    other command line (typer reads it).

    >>> plain_options(["batch", "in.jsonl", "-o", "out.jsonl", "--workers=1"])
    {'input': 'in.jsonl', 'output': 'out.jsonl', 'workers': 1}
    >>> plain_options(["batch", "in.jsonl", "--rules", "r/"]) is None
    True
    """
    if len(argv) < 2 or argv[0] != "batch":
        return None
    opts: dict[str, Any] = {}
    args = iter(argv[1:])
    for arg in args:
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _FLAGS and not eq and _FLAGS[name] not in opts:
            opts[_FLAGS[name]] = True
        elif name in _VALUED and _VALUED[name] not in opts:
            if not eq:
                value = next(args, "")
            if not value or value.startswith("-"):
                return None
            if name == "--workers":
                if not value.isdigit():
                    return None
                opts["workers"] = int(value)
            else:
                opts["output"] = value
        elif "input" not in opts and (arg == "-" or not arg.startswith("-")):
            opts["input"] = arg
        else:
            return None
    return opts if "input" in opts else None


def quick(argv: list[str]) -> int | None:
    """Run a plain ``batch`` command line without typer: its exit code, or None when it is not one."""
    opts = plain_options(argv)
    if opts is None:
        return None
    opts.setdefault("output", None)
    try:
        return screen_file(**opts)
    except BaseException as exc:  # noqa: BLE001 - rendered as the typer verb renders it
        code = report(exc)
        if code is None:
            raise
        return code

"""The ``policy`` command: a thin layer over the Python API.

The only module that reads argv, prints, consults the clock (``--date`` defaults to today)
and exits. Exit codes: 0 ran; 1 a negative signal that was asked for (``--fail-on``,
a failing ``test``); 2 a user error (bad input, with ``file:line:col``).

Just over 500 lines: the option enums and shared options every verb module imports live here,
so that each verb module stays a thin face.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, TypeVar

import typer

from policy import __version__
from policy.cli.failure import DEBUG, report
from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    from policy.model import Verdict
    from policy.model.rulebase import RuleBase


# The heavy modules (pydantic models, YAML, pycountry) are imported on first use, so that
# `policy --help` starts fast; these wrappers keep the commands below readable.
def _lazy(module: str, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


country_name = _lazy("policy.model.countries", "country_name")


resolve_country = _lazy("policy.model.countries", "resolve_country")


apply_overlays = _lazy("policy.load.overlays", "apply_overlays")


classify = _lazy("policy.load.discover", "classify")


default_rules_path = _lazy("policy.load.discover", "default_rules_path")


display_path = _lazy("policy.load.discover", "display_path")


load_rulebase = _lazy("policy.load.cache", "load_rulebase")


load_scenario = _lazy("policy.load.scenarios", "load_scenario")


scenario_from_data = _lazy("policy.load.scenarios", "scenario_from_data")


yaml_files = _lazy("policy.load.discover", "yaml_files")


Document = _lazy("policy.load.yamlio", "Document")


parse = _lazy("policy.load.yamlio", "parse")


class _PolicyGroup(typer.core.TyperGroup):
    """The command group: a usage mistake (a bad choice, a missing or unknown option) is reported like
    every other user error, `option: error[code]: message` and exit 2, with the same codes as the
    transfer contract (`--end-user army` gives `bad-choice` here, in scenario files and in batch)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        click = _click()
        try:
            rv = super().main(
                args, prog_name, complete_var, standalone_mode=False, windows_expand_args=windows_expand_args, **extra
            )
            code = rv if isinstance(rv, int) else 0
        except click.exceptions.NoArgsIsHelpError as exc:
            typer.echo(exc.format_message())
            code = 0
        except click.exceptions.UsageError as exc:
            typer.echo(_usage_line(exc), err=True)
            code = 2
        except click.exceptions.ClickException as exc:
            typer.echo(f"error: {exc.format_message()}", err=True)
            code = exc.exit_code
        except (KeyboardInterrupt, getattr(click.exceptions, "Abort", KeyboardInterrupt)):
            typer.echo("interrupted", err=True)
            code = 130
        if standalone_mode:
            sys.exit(code)
        return code


def _click() -> Any:
    """The click that typer runs on (typer >= 0.20 vendors it as `typer._click`)."""
    try:
        from typer import _click as vendored

        return vendored
    except ImportError:  # pragma: no cover - typer releases that use click itself
        import click

        return click


def _usage_line(exc: Any) -> str:
    click = _click()

    param = getattr(exc, "param", None)
    where = (param.opts[0] if param is not None and param.opts else getattr(param, "name", None)) or "command line"
    if isinstance(exc, click.exceptions.NoSuchOption):
        code, where = "unknown-option", exc.option_name
    elif isinstance(exc, click.exceptions.MissingParameter):
        code = "missing-option"
    elif isinstance(exc, click.exceptions.BadParameter):
        code = "bad-choice" if "is not one of" in exc.format_message() else "bad-option"
    else:
        code = "usage"
    message = exc.format_message().replace("Value error, ", "")
    hint = "  help: see `policy --help` or `policy COMMAND --help`"
    return f"{where}: error[{code}]: {message}\n{hint}"


def command_group() -> typer.Typer:
    """The ``policy`` command group with its own options (``main`` below) and no verbs yet: the full
    command registers every verb on one (cli/__init__.py), a run of one verb only that verb."""
    group = typer.Typer(
        cls=_PolicyGroup,
        no_args_is_help=True,
        rich_markup_mode=None,  # plain help: every option's choices in full, readable at 80 columns
        pretty_exceptions_enable=False,
        help="Arms-export policy reasoning: evaluate what-if transfers under every jurisdiction with a say.",
    )
    group.callback()(main)
    return group


# Help lists an argument by its name, not its Python type (typer >= 0.20 prints `<list[str]>`).
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


F = TypeVar("F", bound=Callable[..., Any])


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class EndUser(str, Enum):  # the values of models.EndUser (a test keeps them equal)
    government = "government"
    military = "military"
    police = "police"
    private = "private"
    humanitarian = "humanitarian"
    non_state = "non-state"


class TransferKind(str, Enum):  # the values of models.TransferKind
    sale = "sale"
    donation = "donation"
    loan = "loan"
    re_export = "re-export"


class TableFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    html = "html"


class LineFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


class CheckFormat(str, Enum):
    """Formats of `validate` and `lint`: `sarif` for code scanning, `github` for workflow annotations."""

    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class TestFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    markdown = "markdown"
    html = "html"


class LintFormat(str, Enum):
    """`lint` formats: those of `validate`, and markdown."""

    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    markdown = "markdown"


class ReportFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


class FailOn(str, Enum):
    prohibited = "prohibited"
    restricted = "restricted"
    licence_required = "licence_required"


def fails_on(verdict: Verdict, fail_on: FailOn | None) -> bool:
    from policy.model import Verdict

    return fail_on is not None and verdict.severity >= Verdict(fail_on.value).severity


def guarded(fn: F) -> F:
    """Turn user errors into one clear message on stderr and exit 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BaseException as exc:  # noqa: BLE001 - rendered by failure.report, or let through
            code = report(exc)
            if code is None:
                raise
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"policy {__version__}")
        guarded(lambda: typer.echo(rules_info_for(None).summary()))()
        raise typer.Exit(0)


def main(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and the digest and date of the rules in use, and exit.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for internal errors."),
    no_cache: bool = typer.Option(
        False,
        "--no-cache",
        help="Read the rule files afresh, not from the user's rulebase cache (also: POLICY_CACHE=0).",
    ),
    lang: Optional[str] = typer.Option(
        None, "--lang", metavar="LANG", help="Language of country names in reports (de, fr, es...; pycountry's)."
    ),
) -> None:
    DEBUG["on"] = debug
    from policy.load.cache import use_cache

    use_cache(not no_cache)
    guarded(lambda: _set_language(lang or ""))()


def _set_language(lang: str) -> None:
    from policy.model.countries import DISPLAY_LANGUAGE

    DISPLAY_LANGUAGE["lang"] = ""
    if lang in ("", "en"):
        return
    import os

    import pycountry

    known = os.listdir(pycountry.LOCALES_DIR) if os.path.isdir(pycountry.LOCALES_DIR) else []
    if lang not in ("", "en") and lang not in known:
        raise LoadError(
            [Diagnostic("unknown-language", f"no country names in `{lang}`", SourceSpan("--lang"), "e.g. de, fr, es")]
        )
    DISPLAY_LANGUAGE["lang"] = lang


def rules_info_for(rules: list[str] | None) -> Any:
    from policy.load.rulesource import choose_rules, rules_info

    paths, origin = choose_rules(rules)
    return rules_info(load_rulebase(paths), paths, origin)


RulesOpt = typer.Option(
    None,
    "--rules",
    metavar="PATH",
    help="Rules folder or file (repeatable). Default: $POLICY_RULES, else ./rules, else the bundled rules.",
)


FormatOpt = typer.Option(Format.text, "--format", "-f", help="Output format.")


FailOpt = typer.Option(None, "--fail-on", help="Exit 1 when the verdict is this severe or worse.")


AssumeOpt = typer.Option(None, "--assume", metavar="KEY=VALUE", help="Override a fact: KEY=VALUE (repeatable).")


ReportFormatOpt = typer.Option(ReportFormat.text, "--format", "-f", help="Output format.")


OutputOpt = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report to this file (atomically).")


ExplainOpt = typer.Option(False, "--explain", "-v", help="The full trace: every rule, condition and citation.")


WithOpt = typer.Option(None, "--with", metavar="OVERLAY", help="Overlay file: a what-if on the law (repeatable).")


def rulebase_from(paths: list[str] | None, overlays: list[str] | None = None) -> RuleBase:
    base: RuleBase = load_rulebase(paths or [default_rules_path()])
    if overlays:
        base = apply_overlays(base, list(overlays))
    return base


def parse_assume(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in items or []:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise LoadError(
                [
                    Diagnostic(
                        "bad-assume",
                        f"`--assume {raw}` is not KEY=VALUE",
                        help="e.g. --assume recipient.in_armed_conflict=false",
                    )
                ]
            )
        parsed = parse(value, "--assume").data if value.strip() else ""
        out[key.strip()] = parsed
    return out


def warn(decisions: list[Any]) -> None:
    for d in decisions:
        for w in d.warnings:
            typer.echo(f"warning: {w}", err=True)


def render_decisions(
    base: RuleBase, decisions: list[Any], fmt: ReportFormat, explain: bool = False, colour: bool = False
) -> str:
    from policy.render.report import (
        decision_json,
        render_json,
        render_markdown,
        render_short,
        render_short_markdown,
        render_text,
    )

    if fmt is ReportFormat.json:
        data = [decision_json(base, d) for d in decisions]
        return render_json(data[0] if len(data) == 1 else data)
    if fmt is ReportFormat.html:
        from policy.render.html import render_decisions_html

        return render_decisions_html(base, decisions)
    if fmt is ReportFormat.markdown:
        render = render_markdown if explain else render_short_markdown
        return ("\n" + ("-" * 72) + "\n\n").join(render(base, d) for d in decisions)
    if explain:
        return ("\n" + ("-" * 72) + "\n\n").join(render_text(base, d) for d in decisions)
    return ("\n" + ("-" * 72) + "\n\n").join(render_short(base, d, colour) for d in decisions)


def colour_for(output: str | None) -> bool:
    from policy.render.style import wants_colour

    return output is None and wants_colour()


EndUserOpt = typer.Option(EndUser.military, "--end-user", case_sensitive=False, help="Who will use the items.")


TransferOpt = typer.Option(TransferKind.sale, "--transfer", case_sensitive=False, help="Kind of transfer.")


LethalOpt = typer.Option(False, "--lethal", help="Treat the item as lethal (overrides the catalogue).")


NonLethalOpt = typer.Option(False, "--non-lethal", help="Treat the item as non-lethal.")


def read_lethality(lethal: bool, non_lethal: bool) -> bool | None:
    if lethal and non_lethal:
        raise LoadError(
            [
                Diagnostic(
                    "conflicting-options",
                    "`--lethal` and `--non-lethal` contradict each other",
                    SourceSpan("--lethal"),
                    "give one of them",
                )
            ]
        )
    return True if lethal else False if non_lethal else None


def day_or_today(value: str | None, option: str = "--date") -> str:
    """The date option as typed; absent means today (the only place the clock is read)."""
    return dt.date.today().isoformat() if value is None else value


DiffFormat = ReportFormat


def write_output(text: str, output: str | None, colour: bool = False) -> None:
    """Print, or write the file atomically (a temp file renamed over the target)."""
    if output is None:
        typer.echo(text, nl=False, color=True if colour else None)
        return
    from policy.load.atomic import write_text

    write_text(output, text)


def parse_date(value: str, option: str) -> dt.date:
    from policy.load.asked import option_date

    return option_date(value, option)


def check_report(diags: list[Diagnostic], fmt: CheckFormat, command: str) -> str:
    from policy.render.cireport import diagnostics_json, github, sarif

    if fmt is CheckFormat.sarif:
        return json.dumps(sarif(diags, command), indent=2, ensure_ascii=False) + "\n"
    if fmt is CheckFormat.github:
        return github(diags)
    return diagnostics_json(diags)


def table(rows: list[list[str]], header: list[str], fmt: Format = Format.text) -> str:
    """A plain table as text (padded columns) or Markdown."""
    if fmt is Format.markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]) + "\n"
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def fmt_row(r: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()

    return "\n".join([fmt_row(header), *(fmt_row(r) for r in rows)]) + "\n"


def write_models(rows: list[Any], output: str | None) -> None:
    write_output(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False) + "\n", output)

"""The ``policy`` command: a thin layer over the Python API.

The only module that reads argv, prints, consults the clock (``--date`` defaults to today)
and exits. Exit codes: 0 ran; 1 a negative signal that was asked for (``--fail-on``,
a failing ``test``); 2 a user error (bad input, with ``file:line:col``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import typer

from . import __version__
from .errors import Diagnostic, LoadError, PolicyError, SourceSpan

if TYPE_CHECKING:
    from .models import Verdict
    from .rulebase import RuleBase


# The heavy modules (pydantic models, YAML, pycountry) are imported on first use, so that
# `policy --help` starts fast; these wrappers keep the commands below readable.
def _lazy(module: str, name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module, __package__), name)(*args, **kwargs)

    call.__name__ = name
    return call


country_name = _lazy(".countries", "country_name")
resolve_country = _lazy(".countries", "resolve_country")
apply_overlays = _lazy(".loader", "apply_overlays")
classify = _lazy(".loader", "classify")
default_rules_path = _lazy(".loader", "default_rules_path")
display_path = _lazy(".loader", "display_path")
load_rulebase = _lazy(".loader", "load_rulebase")
load_scenario = _lazy(".loader", "load_scenario")
scenario_from_data = _lazy(".loader", "scenario_from_data")
yaml_files = _lazy(".loader", "yaml_files")
Document = _lazy(".yamlio", "Document")
parse = _lazy(".yamlio", "parse")


class _PolicyGroup(typer.core.TyperGroup):
    """The command group: a usage mistake (a bad choice, a missing or unknown option) is reported like
    every other user error, `option: error[code]: message` and exit 2, with the same codes as the
    transfer contract (`--end-user army` gives `bad-choice` here, in scenario files and in batch)."""

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        click = _click()
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
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
        from typer import _click as vendored  # type: ignore[attr-defined]

        return vendored
    except ImportError:  # pragma: no cover - typer releases that use click itself
        import click

        return click


def _usage_line(exc: Any) -> str:
    click = _click()

    param = getattr(exc, "param", None)
    where = (param.opts[0] if getattr(param, "opts", None) else getattr(param, "name", None)) or "command line"
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


app = typer.Typer(
    cls=_PolicyGroup,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: every option's choices in full, readable at 80 columns
    pretty_exceptions_enable=False,
    help="Arms-export policy reasoning: evaluate what-if transfers under every jurisdiction with a say.",
)

# Help lists an argument by its name, not its Python type (typer >= 0.20 prints `<list[str]>`).
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]

F = TypeVar("F", bound=Callable[..., Any])
_DEBUG = {"on": False}


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


def _fail_on_matches(verdict: Verdict, fail_on: FailOn | None) -> bool:
    from .models import Verdict

    return fail_on is not None and verdict.severity >= Verdict(fail_on.value).severity


def guarded(fn: F) -> F:
    """Turn user errors into one clear message on stderr and exit 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except LoadError as exc:
            diags = sorted(exc.diagnostics, key=Diagnostic.sort_key)
            for d in diags:
                typer.echo(d.render(), err=True)
            n = len(diags)
            typer.echo(f"{n} error{'s' if n != 1 else ''}", err=True)
            raise typer.Exit(2) from None
        except PolicyError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:  # output piped into `head` and closed: not an error
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:  # pragma: no cover - a bug, shown for developers only with --debug
            if _DEBUG["on"]:
                traceback.print_exc()
            typer.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
            raise typer.Exit(3) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"policy {__version__}")
        guarded(lambda: typer.echo(_rules_info(None).summary()))()
        raise typer.Exit(0)


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and the digest and date of the rules in use, and exit.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for internal errors."),
    lang: Optional[str] = typer.Option(
        None, "--lang", metavar="LANG", help="Language of country names in reports (de, fr, es...; pycountry's)."
    ),
) -> None:
    _DEBUG["on"] = debug
    guarded(lambda: _set_language(lang or ""))()


def _set_language(lang: str) -> None:
    from .countries import DISPLAY_LANGUAGE

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


def _rules_info(rules: list[str] | None) -> Any:
    from .rulesource import choose_rules, rules_info

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


def _rules(paths: list[str] | None, overlays: list[str] | None = None) -> RuleBase:
    base = load_rulebase(paths or [default_rules_path()])
    return apply_overlays(base, list(overlays)) if overlays else base


def _parse_assume(items: list[str] | None) -> dict[str, Any]:
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


def _warn(decisions: list[Any]) -> None:
    for d in decisions:
        for w in d.warnings:
            typer.echo(f"warning: {w}", err=True)


def _render(
    base: RuleBase, decisions: list[Any], fmt: ReportFormat, explain: bool = False, colour: bool = False
) -> str:
    from .report import decision_json, render_json, render_markdown, render_short, render_short_markdown, render_text

    if fmt is ReportFormat.json:
        data = [decision_json(base, d) for d in decisions]
        return render_json(data[0] if len(data) == 1 else data)
    if fmt is ReportFormat.html:
        from .render.html import render_decisions_html

        return render_decisions_html(base, decisions)
    if fmt is ReportFormat.markdown:
        render = render_markdown if explain else render_short_markdown
        return ("\n" + ("-" * 72) + "\n\n").join(render(base, d) for d in decisions)
    if explain:
        return ("\n" + ("-" * 72) + "\n\n").join(render_text(base, d) for d in decisions)
    return ("\n" + ("-" * 72) + "\n\n").join(render_short(base, d, colour) for d in decisions)


def _colour(output: str | None) -> bool:
    from .render.style import wants_colour

    return output is None and wants_colour()


@app.command()
@guarded
def evaluate(
    files: list[Path] = typer.Argument(..., metavar="FILE", help="Scenario files (YAML)."),
    rules: Optional[list[str]] = RulesOpt,
    fmt: ReportFormat = ReportFormatOpt,
    fail_on: Optional[FailOn] = FailOpt,
    assume: Optional[list[str]] = AssumeOpt,
    overlays: Optional[list[str]] = WithOpt,
    explain: bool = ExplainOpt,
    output: Optional[str] = OutputOpt,
) -> None:
    """Evaluate scenario files: the verdict in short (--explain for the full trace)."""
    from .engine import evaluate as run

    base = _rules(rules, overlays)
    extra = _parse_assume(assume)
    decisions = []
    for f in files:
        sc = load_scenario(str(f), base)
        if extra:
            doc = Document(
                "--assume",
                {**sc.model_dump(mode="json", by_alias=True, exclude_none=True), "assume": {**sc.assume, **extra}},
                None,
            )
            sc = scenario_from_data(doc, base)
        decisions.append(run(base, sc))
    _write_output(_render(base, decisions, fmt, explain, _colour(output)), output, _colour(output))
    _warn(decisions)
    if any(_fail_on_matches(d.verdict, fail_on) for d in decisions):
        raise typer.Exit(1)


EndUserOpt = typer.Option(EndUser.military, "--end-user", case_sensitive=False, help="Who will use the items.")
TransferOpt = typer.Option(TransferKind.sale, "--transfer", case_sensitive=False, help="Kind of transfer.")
LethalOpt = typer.Option(False, "--lethal", help="Treat the item as lethal (overrides the catalogue).")
NonLethalOpt = typer.Option(False, "--non-lethal", help="Treat the item as non-lethal.")


def _lethality(lethal: bool, non_lethal: bool) -> bool | None:
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


def _day(value: str | None, option: str = "--date") -> str:
    """The date option as typed; absent means today (the only place the clock is read)."""
    return dt.date.today().isoformat() if value is None else value


@app.command("what-if")
@guarded
def what_if(
    exporter: str = typer.Option(
        ..., "--exporter", metavar="STATE", help="Exporting state: code or name (KR, 'South Korea')."
    ),
    recipient: str = typer.Option(..., "--recipient", metavar="STATE", help="Final destination: code or name."),
    item: list[str] = typer.Option(
        ..., "--item", metavar="ITEM", help="ML category (ML3) or catalogue item (155mm-shell); repeatable."
    ),
    date: Optional[str] = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="Date (default: today)."),
    lethal: bool = LethalOpt,
    non_lethal: bool = NonLethalOpt,
    end_user: EndUser = EndUserOpt,
    transfer: TransferKind = TransferOpt,
    origin: Optional[str] = typer.Option(
        None, "--origin", metavar="STATE", help="State that produced the item (re-exports)."
    ),
    licence: Optional[str] = typer.Option(
        None, "--licence", metavar="STATE", help="State whose licence the item was made under."
    ),
    via: Optional[list[str]] = typer.Option(None, "--via", metavar="STATE", help="Intermediate holder (repeatable)."),
    transit: Optional[list[str]] = typer.Option(
        None, "--transit", metavar="STATE", help="State the goods cross (repeatable)."
    ),
    assume: Optional[list[str]] = AssumeOpt,
    rules: Optional[list[str]] = RulesOpt,
    fmt: ReportFormat = ReportFormatOpt,
    fail_on: Optional[FailOn] = FailOpt,
    overlays: Optional[list[str]] = WithOpt,
    save: Optional[str] = typer.Option(
        None,
        "--save",
        metavar="FILE",
        help="Also write the question as a scenario file, its current verdict as `expect`.",
    ),
    explain: bool = ExplainOpt,
    output: Optional[str] = OutputOpt,
) -> None:
    """Evaluate a transfer given on the command line: the verdict in short (--explain for the full trace)."""
    from .asked import WhatIf, build
    from .engine import evaluate as run

    base = _rules(rules, overlays)
    question = WhatIf(
        exporter=exporter,
        recipient=recipient,
        item=list(item),
        date=_day(date),
        lethal=_lethality(lethal, non_lethal),
        end_user=end_user.value,
        transfer=transfer.value,
        origin=origin,
        licence=licence,
        via=list(via or []),
        transit=list(transit or []),
        assume=_parse_assume(assume),
    )
    sc = build(base, question)
    d = run(base, sc)
    _write_output(_render(base, [d], fmt, explain, _colour(output)), output, _colour(output))
    _warn([d])
    if save:
        from .scaffold import save_scenario

        save_scenario(save, sc, d.verdict.value, catalogue=base.items)
        typer.echo(f"saved {save} (expect: {d.verdict.value}; add its sources)", err=True)
    if _fail_on_matches(d.verdict, fail_on):
        raise typer.Exit(1)


@app.command()
@guarded
def where(rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt) -> None:
    """Which rule files are in use, where they come from, and their digest and date."""
    info = _rules_info(rules)
    if fmt is Format.json:
        typer.echo(info.model_dump_json(indent=2))
        return
    why = {
        "--rules": "given by --rules",
        "POLICY_RULES": "from $POLICY_RULES",
        "./rules": "the rules/ folder in the working directory",
        "bundled": "bundled with the package; no --rules, $POLICY_RULES or ./rules",
    }[info.origin.value]
    typer.echo(f"rules: {', '.join(info.paths)}  ({why})")
    typer.echo(
        f"digest {info.digest}, sources up to {info.date or '-'}, "
        f"{info.jurisdictions} jurisdictions, {info.rule_count} rules, policy {info.package_version}"
    )
    for f in info.files:
        typer.echo(f"  {f.kind:<6} {f.jurisdiction or '-':<10} {f.rules:>4}  {f.sha256[:12]}  {f.path}")


@app.command()
@guarded
def validate(
    paths: Optional[list[str]] = typer.Argument(
        None, metavar="PATH", help="Rule, world, item or scenario files/folders."
    ),
    rules: Optional[list[str]] = RulesOpt,
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format (sarif, github: CI)."),
) -> None:
    """Check rule files, world data, items, overlays and scenarios; report every problem as file:line:col."""
    from .loader import apply_overlay

    targets = paths or [default_rules_path()] + (["scenarios"] if Path("scenarios").is_dir() else [])
    rule_paths, overlay_paths, scenario_paths = classify(targets)
    if not (rule_paths or overlay_paths or scenario_paths):
        raise LoadError(
            [
                Diagnostic(
                    "no-files",
                    f"no YAML files in {', '.join(targets)}",
                    SourceSpan(targets[0]),
                    "give rule, overlay or scenario files or folders",
                )
            ]
        )
    diags: list[Diagnostic] = []
    base: RuleBase | None = None
    try:
        base = load_rulebase(list(rules or []) + rule_paths if (rules or rule_paths) else [default_rules_path()])
    except LoadError as exc:
        diags.extend(exc.diagnostics)
    if base is not None:
        for f in overlay_paths:
            try:
                apply_overlay(base, f)
            except LoadError as exc:
                diags.extend(exc.diagnostics)
        for f in scenario_paths:
            try:
                load_scenario(f, base)
            except LoadError as exc:
                diags.extend(exc.diagnostics)
    if fmt is not CheckFormat.text:
        typer.echo(_check_report(diags, fmt, "validate"), nl=False)
        if diags:
            raise typer.Exit(2)
        return
    if diags:
        raise LoadError(diags)
    assert base is not None
    typer.echo(
        f"ok: {len(base.files)} rule/world/item files, {len(overlay_paths)} overlays, "
        f"{len(scenario_paths)} scenarios, {sum(len(j.rules) for j in base.jurisdictions.values())} rules, "
        "no errors"
    )


@app.command()
@guarded
def test(
    paths: Optional[list[str]] = typer.Argument(
        None, metavar="PATH", help="Scenario files or folders (default: scenarios/)."
    ),
    rules: Optional[list[str]] = RulesOpt,
    fmt: TestFormat = typer.Option(TestFormat.text, "--format", "-f", help="Output format (junit: JUnit XML)."),
    overlays: Optional[list[str]] = WithOpt,
    output: Optional[str] = OutputOpt,
    coverage: bool = typer.Option(False, "--coverage", help="Report how many scenarios made each rule fire."),
    documented: bool = typer.Option(
        False, "--documented", help="Agreement with documented scenarios per exporter, weakest first."
    ),
) -> None:
    """Run every scenario that has an `expect` and report passes and failures."""
    import time

    from .testing import check

    base = _rules(rules, overlays)
    where = paths or ["scenarios"]
    files = classify(where)[2]
    if not files:
        raise LoadError(
            [
                Diagnostic(
                    "no-scenarios",
                    f"no scenario files in {', '.join(where)}",
                    SourceSpan(where[0]),
                    "give scenario files or folders, e.g. scenarios/",
                )
            ]
        )
    results = []
    seconds: dict[str, float] = {}
    diags: list[Diagnostic] = []
    for f in files:
        try:
            sc = load_scenario(f, base)
        except LoadError as exc:
            diags.extend(exc.diagnostics)
            continue
        if sc.expect is None and not sc.expect_rules:
            continue
        start = time.perf_counter()
        results.append(check(base, display_path(f), sc))
        seconds[sc.id] = time.perf_counter() - start
    if diags:
        raise LoadError(diags)
    if documented:
        from .testing import documented_agreement

        results = [r for r in results if r.scenario.kind == "documented"]
        if fmt is TestFormat.json:
            text = _documented_json(results) + "\n"
        elif fmt is TestFormat.markdown:
            from .render import tables

            text = tables.documented_markdown(results, documented_agreement(results))
        elif fmt is TestFormat.html:
            from .render import tables

            text = tables.tests_html(results, None, {}, agreement=documented_agreement(results))
        else:
            text = _documented_text(results) + "\n"
        _write_output(text, output)
        if any(not r.passed for r in results):
            raise typer.Exit(1)
        return
    failed = [r for r in results if not r.passed]
    if fmt is TestFormat.junit:
        from .cireport import junit

        typer.echo(junit(results, seconds), nl=False)
    elif fmt in (TestFormat.html, TestFormat.markdown):
        from .render import tables
        from .testing import coverage as count

        counts = count(base, results) if coverage else None
        if fmt is TestFormat.html:
            titles = {r.id: r.title for _, r in base.all_rules()}
            _write_output(tables.tests_html(results, counts, titles), output)
        else:
            _write_output(tables.tests_markdown(results, counts), output)
    elif fmt is TestFormat.json:
        typer.echo(
            json.dumps(
                {
                    "results": [
                        {
                            "file": r.file,
                            "scenario": r.scenario.id,
                            "expected": r.scenario.expect.value if r.scenario.expect else None,
                            "got": r.decision.verdict.value,
                            "deciding_rules": r.deciding_rules,
                            "passed": r.passed,
                            "problems": r.problems,
                        }
                        for r in results
                    ],
                    "passed": len(results) - len(failed),
                    "failed": len(failed),
                },
                indent=2,
            )
        )
    else:
        w = max([len(r.scenario.id) for r in results] + [8])
        typer.echo(f"{'scenario':<{w}}  {'expected':<16}  {'got':<16}  deciding rules")
        for r in results:
            exp = r.scenario.expect.value if r.scenario.expect else "-"
            mark = "" if r.passed else "  FAIL: " + "; ".join(r.problems)
            typer.echo(
                f"{r.scenario.id:<{w}}  {exp:<16}  {r.decision.verdict.value:<16}  "
                f"{', '.join(r.deciding_rules) or '-'}{mark}"
            )
        if coverage:
            typer.echo("")
            typer.echo(_coverage_text(base, results))
        typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@app.command()
@guarded
def facts(
    country: Optional[str] = typer.Argument(
        None, metavar="COUNTRY", help="Country code or name; omit to list the datasets."
    ),
    date: Optional[str] = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="Date (default: today)."),
    rules: Optional[list[str]] = RulesOpt,
    fmt: Format = FormatOpt,
    output: Optional[str] = OutputOpt,
) -> None:
    """What the engine knows about a country on a date, with sources."""
    _write_output(_facts_text(rules, country, date, fmt), output)


def _facts_text(rules: list[str] | None, country: str | None, date: str | None, fmt: Format) -> str:
    from .worldview import country_facts, dataset_summary

    base = _rules(rules)
    if country is None:
        summary = dataset_summary(base)
        if fmt is Format.json:
            return json.dumps(summary, indent=2) + "\n"
        elif fmt is Format.markdown:
            from .render.markdown import datasets_markdown

            return str(datasets_markdown(summary))
        else:
            return "".join(f"{row['dataset']:<24} {row['entries']:>5} {row['what']}\n" for row in summary)
    from .asked import by_option
    from .contract import read_country

    code = by_option("country", read_country, country)
    day = _parse_date(_day(date), "--date")
    data = country_facts(base, code, day)
    if fmt is Format.json:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.markdown:
        from .render.markdown import facts_markdown

        return str(facts_markdown(data))
    lines = [f"{data['country']} {data['name']} on {data['date']}"]
    for row in data["facts"]:
        lines.append(f"  {row['fact']} = {json.dumps(row['value'])}  {row['basis']}")
        for src in row["sources"]:
            lines.append(f"      source: {src['title']}" + (f" <{src['url']}>" if src["url"] else ""))
    return "\n".join(lines) + "\n"


@app.command()
@guarded
def lint(
    paths: Optional[list[str]] = typer.Argument(
        None, metavar="PATH", help="Rules folders or files (default: rules/); scenario files get scenario warnings."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if there is any warning."),
    today: Optional[str] = typer.Option(
        None, "--today", metavar="YYYY-MM-DD", help="Date for `expired` (default: today)."
    ),
    fmt: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help="Output format (sarif, github: CI)."),
    output: Optional[str] = OutputOpt,
) -> None:
    """Warnings about rules that are valid but likely wrong (conflicts, dead or shadowed rules, thin citations)."""
    from .lint import lint as run_lint
    from .scaffold import lint_scenarios

    rule_paths, _, scenario_paths = classify(list(paths)) if paths else ([default_rules_path()], [], [])
    base = load_rulebase(rule_paths or [default_rules_path()])
    day = _parse_date(_day(today), "--today")
    found = sorted(run_lint(base, day) + lint_scenarios(scenario_paths), key=Diagnostic.sort_key)
    warnings = [d for d in found if d.severity == "warning"]
    if fmt is LintFormat.json:
        text = json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False) + "\n"
    elif fmt is LintFormat.markdown:
        from .render.markdown import lint_markdown

        n = sum(len(j.rules) for j in base.jurisdictions.values())
        text = str(lint_markdown([d.to_json() for d in found], n))
    elif fmt is not LintFormat.text:
        text = str(_check_report(found, CheckFormat(fmt.value), "lint"))
    else:
        infos = len(found) - len(warnings)
        lines = [d.render() for d in found]
        lines.append(
            f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}, {infos} notes, "
            f"{sum(len(j.rules) for j in base.jurisdictions.values())} rules checked"
        )
        text = "\n".join(lines) + "\n"
    _write_output(text, output)
    if strict and warnings:
        raise typer.Exit(1)


@app.command()
@guarded
def sources(
    paths: Optional[list[str]] = typer.Argument(
        None, help="Rules (and scenario) files or folders (default: rules/ and scenarios/)."
    ),
    fmt: Format = FormatOpt,
    output: Optional[str] = OutputOpt,
) -> None:
    """Sources and rules per tier (official, reputable, other) and jurisdiction; rules with no official or
    reputable source; every link to a content farm, with file:line. Tiers come from rules/sources.yaml."""
    from .lint import render_sources_text as render_text
    from .lint import sources_report as report

    targets = list(paths) if paths else [default_rules_path()] + (["scenarios"] if Path("scenarios").is_dir() else [])
    rule_paths, overlay_paths, scenario_paths = classify(targets)
    base = load_rulebase(rule_paths or [default_rules_path()])
    rep = report(base, [display_path(f) for f in overlay_paths + scenario_paths])
    if fmt is Format.json:
        text = json.dumps(rep.to_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt is Format.markdown:
        from .render.markdown import sources_markdown

        text = str(sources_markdown(rep.to_json()))
    else:
        text = str(render_text(rep))
    _write_output(text, output)


def _documented_text(results: list[Any]) -> str:
    from .testing import documented_agreement

    rows = documented_agreement(results)
    lines = [f"{'exporter':<12}  {'passed':>6}  {'failed':>6}  {'total':>5}  {'agree':>6}"]
    lines += [f"{a.jurisdiction:<12}  {a.passed:>6}  {a.failed:>6}  {a.total:>5}  {a.percent:>5.1f}%" for a in rows]
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", "failing documented scenarios:"]
        lines += [f"  {r.file}: {r.scenario.id}: {'; '.join(r.problems)}" for r in failed]
    lines.append(f"{len(results) - len(failed)} passed, {len(failed)} failed of {len(results)} documented scenarios")
    return "\n".join(lines)


def _documented_json(results: list[Any]) -> str:
    from .testing import documented_agreement

    failed = [r for r in results if not r.passed]
    data = {
        "jurisdictions": [a.to_json() for a in documented_agreement(results)],
        "failed_scenarios": [{"file": r.file, "scenario": r.scenario.id, "problems": r.problems} for r in failed],
        "passed": len(results) - len(failed),
        "failed": len(failed),
        "total": len(results),
    }
    return json.dumps(data, indent=2)


@app.command()
@guarded
def schema(
    output: str = typer.Option(
        "schema", "--output", "-o", metavar="FOLDER", help="Folder to write the JSON Schema files into."
    ),
    check: bool = typer.Option(False, "--check", help="Only check that the folder is up to date; exit 1 if not."),
) -> None:
    """Write JSON Schema for rule, world, item, scenario and overlay files (for editors' YAML language server)."""
    from .files import output_folder
    from .schema import schemas

    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        output_folder(output)  # refuses a file with a clear error
    stale = []
    for name, text in schemas().items():
        target = folder / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not check:
            output_folder(output)
            _write_output(text, str(target))
    if check:
        if stale:
            typer.echo(f"out of date: {', '.join(stale)} (run `policy schema -o {output}`)", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output}/ is up to date")
    else:
        typer.echo(f"wrote {len(stale)} schema file(s) to {output}/" if stale else f"{output}/ already up to date")


@app.command()
@guarded
def batch(
    input: str = typer.Argument(
        ..., metavar="INPUT", help="JSON Lines (.jsonl) or CSV (.csv) file of transfers; - for stdin."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Output file (.jsonl or .csv); default stdout."
    ),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad line; write nothing."),
    partial: bool = typer.Option(False, "--partial", help="On Ctrl-C, write the lines screened so far."),
    workers: int = typer.Option(
        0, "--workers", min=0, metavar="N", help="Processes for a file (0: both cores for files over 1 MiB)."
    ),
    input_format: Optional[LineFormat] = typer.Option(None, "--input-format", help="Default: by extension."),
    output_format: Optional[LineFormat] = typer.Option(None, "--output-format", help="Default: by extension."),
) -> None:
    """Screen many transfers: verdict, per-jurisdiction verdicts and deciding rules for each line."""
    import time

    from .batch_run import BatchJob, Interrupted, StrictStop, run_batch

    in_fmt = input_format.value if input_format else ("csv" if input.endswith(".csv") else "jsonl")
    out_fmt = output_format.value if output_format else ("csv" if (output or "").endswith(".csv") else "jsonl")
    base = _rules(rules, overlays)
    name = input if input != "-" else "<stdin>"
    show = sys.stderr.isatty()
    start = time.perf_counter()

    def on_error(line: int, code: str, msg: str) -> None:
        typer.echo(f"{name}:{line}: error[{code}]: {msg}", err=True)

    def on_progress(tally: Any, fraction: float | None) -> None:
        rate = tally.screened / max(time.perf_counter() - start, 1e-9)
        sys.stderr.write("\r" + progress_line(tally.screened, tally.bad, rate, fraction))

    job = BatchJob(input, output, in_fmt, out_fmt, strict, workers, partial)
    try:
        tally = run_batch(base, job, on_error, on_progress if show else None)
    except StrictStop as stop:
        raise LoadError([Diagnostic(stop.code, stop.message, SourceSpan(name, stop.line))]) from None
    except Interrupted as exc:
        if show:
            sys.stderr.write("\n")
        t = exc.tally
        kept = f"the first {t.screened} written to {output}" if exc.written else "no output written"
        typer.echo(
            f"interrupted: {t.screened} of {t.read} lines screened; {kept if output else 'output so far printed'}",
            err=True,
        )
        raise typer.Exit(130) from None
    if show:
        sys.stderr.write("\n")
    typer.echo(tally.summary(), err=True)
    if tally.bad:
        raise typer.Exit(2)


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


@app.command()
@guarded
def matrix(
    exporters: str = typer.Option(
        ..., "--exporters", metavar="STATES", help="Comma-separated exporters (codes or names)."
    ),
    recipients: str = typer.Option(..., "--recipients", metavar="STATES", help="Comma-separated recipients."),
    item: str = typer.Option(..., "--item", metavar="ITEM", help="ML category or catalogue item."),
    date: Optional[str] = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="Date (default: today)."),
    lethal: bool = LethalOpt,
    non_lethal: bool = NonLethalOpt,
    end_user: EndUser = EndUserOpt,
    transfer: TransferKind = TransferOpt,
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    fmt: TableFormat = typer.Option(TableFormat.text, "--format", "-f", help="Output format."),
    output: Optional[str] = OutputOpt,
) -> None:
    """The verdict grid: every exporter against every recipient, for one item on one date."""
    from .asked import WhatIf, build, option_countries, option_date
    from .compiled import Screener

    base = _rules(rules, overlays)
    day = option_date(_day(date), "--date")
    exps = option_countries(exporters, "--exporters")
    recs = option_countries(recipients, "--recipients")
    wants_lethal = _lethality(lethal, non_lethal)
    screener = Screener(base)
    grid: dict[str, dict[str, str]] = {}
    why: dict[str, dict[str, list[str]]] = {}
    for e in exps:
        grid[e], why[e] = {}, {}
        for r in recs:
            if e == r:
                grid[e][r], why[e][r] = "-", []
                continue
            q = WhatIf(
                exporter=e,
                recipient=r,
                item=[item],
                date=day.isoformat(),
                lethal=wants_lethal,
                end_user=end_user.value,
                transfer=transfer.value,
                title="matrix",
            )
            res = screener.screen(build(base, q))
            grid[e][r], why[e][r] = res.verdict.value, list(res.deciding_rules)
    from .render import tables

    m = tables.Matrix(item, day, exps, recs, grid, why)
    if fmt is TableFormat.json:
        text = json.dumps({"date": day.isoformat(), "item": item, "verdicts": grid}, indent=2) + "\n"
    elif fmt is TableFormat.csv:
        text = "".join(
            line + "\n"
            for line in ["exporter," + ",".join(recs)] + [e + "," + ",".join(grid[e][r] for r in recs) for e in exps]
        )
    elif fmt is TableFormat.markdown:
        text = tables.matrix_markdown(m)
    elif fmt is TableFormat.html:
        text = tables.matrix_html(m, {c: country_name(c) for c in set(exps) | set(recs)})
    else:
        text = tables.matrix_text(m, _colour(output))
    _write_output(text, output, _colour(output) and fmt is TableFormat.text)


DiffFormat = ReportFormat


def _side_base(spec: str) -> tuple[RuleBase, str]:
    """A rules directory/file, or `git:REV` (the rules/ folder at that revision)."""
    if spec.startswith("git:"):
        from .gitrules import load_rules_at_revision

        return load_rules_at_revision(spec[4:]), spec
    return load_rulebase([spec]), spec


def _write_output(text: str, output: str | None, colour: bool = False) -> None:
    """Print, or write the file atomically (a temp file renamed over the target)."""
    if output is None:
        typer.echo(text, nl=False, color=True if colour else None)
        return
    from .files import write_text

    write_text(output, text)


def _parse_date(value: str, option: str) -> dt.date:
    from .asked import option_date

    return option_date(value, option)


@app.command()
@guarded
def diff(
    old: Optional[str] = typer.Argument(
        None, metavar="OLD", help="Old rules: a folder, a file, or git:REV (default: rules/)."
    ),
    new: Optional[str] = typer.Argument(
        None, metavar="NEW", help="New rules: a folder, a file, or git:REV (default: OLD)."
    ),
    overlays: Optional[list[str]] = WithOpt,
    at: Optional[str] = typer.Option(
        None, "--at", metavar="YYYY-MM-DD", help="With --vs: compare the same rules on two dates."
    ),
    vs: Optional[str] = typer.Option(None, "--vs", metavar="YYYY-MM-DD", help="The second date for --at."),
    scenarios: Optional[list[str]] = typer.Option(
        None, "--scenarios", metavar="PATH", help="Scenario files/folders (default scenarios/)."
    ),
    fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", "-f", help="Output format."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report to this file."),
    fail_on_change: bool = typer.Option(False, "--fail-on-change", help="Exit 1 when any verdict changes."),
    space: str = typer.Option(
        "world",
        "--space",
        metavar="world|all",
        help="world: combinations the world data allows, and real pairs; all: every combination.",
    ),
    on: Optional[str] = typer.Option(
        None, "--on", metavar="YYYY-MM-DD", help="A rule diff's date for the real pairs (default: today)."
    ),
) -> None:
    """Policy diff report: changed rules, flipped scenarios, and every region of transfers that changes."""
    from .diff import Side
    from .diff import diff as run_diff
    from .diffreport import diff_json, render_diff_html, render_diff_markdown, render_diff_text

    if (at is None) != (vs is None):
        raise LoadError(
            [
                Diagnostic(
                    "bad-arguments",
                    "`--at` and `--vs` go together",
                    help="e.g. policy diff --at 2022-02-01 --vs 2022-03-01",
                )
            ]
        )
    old_spec = old or default_rules_path()
    old_base, old_label = _side_base(old_spec)
    if new is None or new == old_spec:
        new_base, new_label = old_base, old_label
    else:
        new_base, new_label = _side_base(new)
    if overlays:
        new_base = apply_overlays(new_base, list(overlays))
        new_label = f"{new_label} + {' + '.join(new_base.overlays)}"
    d1 = _parse_date(at, "--at") if at is not None else None
    d2 = _parse_date(vs, "--vs") if vs is not None else None
    if d1 and d2:
        old_label, new_label = f"{old_label} on {d1}", f"{new_label} on {d2}"
    files = classify(scenarios or ["scenarios"])[2] if (scenarios or Path("scenarios").is_dir()) else []
    scs = [load_scenario(f, new_base) for f in files]
    if space not in ("world", "all"):
        raise LoadError([Diagnostic("bad-space", f"`{space}` is not world or all", SourceSpan("--space"))])
    day = _parse_date(_day(on), "--on")
    report = run_diff(Side(old_label, old_base, d1), Side(new_label, new_base, d2), scs, space, day)
    if fmt is DiffFormat.json:
        text = json.dumps(diff_json(report), indent=2, ensure_ascii=False) + "\n"
    else:
        text = {
            DiffFormat.text: render_diff_text,
            DiffFormat.markdown: render_diff_markdown,
            DiffFormat.html: render_diff_html,
        }[fmt](report)
    _write_output(text, output)
    if fail_on_change and report.changed:
        raise typer.Exit(1)


@app.command()
@guarded
def timeline(
    exporter: str = typer.Option(..., "--exporter", metavar="STATE", help="Exporting state: code or name."),
    recipient: str = typer.Option(..., "--recipient", metavar="STATE", help="Final destination: code or name."),
    item: str = typer.Option(..., "--item", metavar="ITEM", help="ML category or catalogue item."),
    start: str = typer.Option(..., "--from", metavar="YYYY-MM-DD", help="First date."),
    end: str = typer.Option(..., "--to", metavar="YYYY-MM-DD", help="Last date."),
    lethal: bool = LethalOpt,
    non_lethal: bool = NonLethalOpt,
    end_user: EndUser = EndUserOpt,
    transfer: TransferKind = TransferOpt,
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    fmt: ReportFormat = ReportFormatOpt,
    output: Optional[str] = OutputOpt,
) -> None:
    """The dates on which a transfer's verdict changes, each with the rule or fact that changes there."""
    from .asked import WhatIf, build, option_date
    from .diff import timeline_json, timeline_steps
    from .render import tables

    base = _rules(rules, overlays)
    d1, d2 = option_date(start, "--from"), option_date(end, "--to")
    if d2 < d1:
        raise LoadError([Diagnostic("bad-period", f"`--to {d2}` is before `--from {d1}`", SourceSpan("--to"))])
    q = WhatIf(
        exporter=exporter,
        recipient=recipient,
        item=[item],
        date=d1.isoformat(),
        lethal=_lethality(lethal, non_lethal),
        end_user=end_user.value,
        transfer=transfer.value,
    )
    sc = build(base, q)
    sc = sc.model_copy(update={"title": f"{country_name(sc.exporter)} -> {country_name(sc.recipient)}: {item}"})
    steps = timeline_steps(base, sc, d1, d2)
    title = f"Timeline {sc.title}, {d1} to {d2}"
    rows = timeline_json(steps)
    text = {
        ReportFormat.json: lambda: json.dumps(rows, indent=2) + "\n",
        ReportFormat.markdown: lambda: tables.timeline_markdown(title, steps),
        ReportFormat.html: lambda: tables.timeline_html(title, steps, d1, d2),
        ReportFormat.text: lambda: tables.timeline_text(title, steps, _colour(output)),
    }[fmt]()
    _write_output(text, output, _colour(output) and fmt is ReportFormat.text)


def _check_report(diags: list[Diagnostic], fmt: CheckFormat, command: str) -> str:
    from .cireport import diagnostics_json, github, sarif

    if fmt is CheckFormat.sarif:
        return json.dumps(sarif(diags, command), indent=2, ensure_ascii=False) + "\n"
    if fmt is CheckFormat.github:
        return github(diags)
    return diagnostics_json(diags)


@app.command()
@guarded
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", metavar="N", help="TCP port (0: any free port)."),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    max_body: int = typer.Option(1 << 20, "--max-body", metavar="BYTES", help="Largest request body."),
    max_batch: int = typer.Option(10_000, "--max-batch", metavar="N", help="Most lines in one /batch request."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS", help="Time limit of one request."),
    decision_log: Optional[str] = typer.Option(
        None, "--decision-log", metavar="FILE", help="Append each request and verdict to FILE (JSON Lines)."
    ),
) -> None:
    """HTTP API over the same calls (FastAPI; docs at /docs). SIGHUP reloads the rules."""
    try:
        from .server import Limits, Service
        from .server import serve as run_server
    except ImportError as exc:
        raise LoadError(
            [Diagnostic("missing-extra", f"`policy serve` needs {exc.name}", help="pip install 'policy[server]'")]
        ) from None
    service = Service(list(rules) if rules else None, list(overlays or []))
    limits = Limits(max_body=max_body, max_batch=max_batch, timeout=timeout)
    typer.echo(service.current.info.summary(), err=True)
    run_server(host, port, service, limits, decision_log, lambda url: typer.echo(f"serving on {url}", err=True))


def _coverage_text(base: RuleBase, results: list[Any]) -> str:
    from .testing import coverage as count

    counts = count(base, results)
    width = max(len(r) for r in counts) if counts else 10
    lines = ["coverage: scenarios in which each rule applied"]
    lines += [f"  {rid:<{width}}  {n}" for rid, n in counts.items()]
    never = [rid for rid, n in counts.items() if n == 0]
    lines.append(
        f"{len(counts) - len(never)} of {len(counts)} rules exercised; "
        f"{len(never)} never apply in any scenario" + (":" if never else "")
    )
    lines += [f"  {rid}" for rid in never]
    return "\n".join(lines)


# ------------------------------------------------------------------ editing: fmt, rename, new, lsp


@app.command("fmt")
@guarded
def fmt_command(
    paths: Optional[list[str]] = typer.Argument(None, help="Files or folders (default: rules/ and scenarios/)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; list files that would change, exit 1 if any."),
) -> None:
    """Rewrite rule, world, item, overlay and scenario files in the canonical style, keeping comments."""
    from .fmt import format_paths

    targets = list(paths) if paths else [p for p in (default_rules_path(), "scenarios") if Path(p).exists()]
    result = format_paths(targets, check=check)
    for f in result.changed:
        typer.echo(f"would reformat {f}" if check else f"reformatted {f}")
    n, m = len(result.changed), len(result.unchanged)
    verb = "would be reformatted" if check else "reformatted"
    typer.echo(f"{n} file{'s' if n != 1 else ''} {verb}, {m} unchanged", err=True)
    if result.errors:
        raise LoadError(result.errors)
    if check and result.changed:
        raise typer.Exit(1)


@app.command()
@guarded
def rename(
    old: str = typer.Argument(..., help="The rule id to rename."),
    new: str = typer.Argument(..., help="Its new id (same jurisdiction prefix)."),
    paths: Optional[list[str]] = typer.Option(
        None, "--in", metavar="PATH", help="Folders or files to update (repeatable; default: rules/ and scenarios/)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the changes without writing."),
) -> None:
    """Rename a rule id and every reference to it across rules, overlays and scenarios, keeping comments."""
    from .refactor import rename_rule

    targets = list(paths) if paths else [p for p in (default_rules_path(), "scenarios") if Path(p).exists()]
    result = rename_rule(old, new, targets, write=not dry_run)
    for f, n in sorted(result.files.items()):
        typer.echo(f"{f}: {n} place{'s' if n != 1 else ''}")
    total = sum(result.files.values())
    typer.echo(
        f"{'would rename' if dry_run else 'renamed'} `{old}` to `{new}` in {total} places, {len(result.files)} files"
    )


new_app = typer.Typer(no_args_is_help=True, help="Scaffolding: start a new file.")
app.add_typer(new_app, name="new")


@new_app.command("jurisdiction")
@guarded
def new_jurisdiction_command(
    code: str = typer.Argument(..., help="ISO 3166-1 alpha-2 code (or a regime id with --regime)."),
    regime: bool = typer.Option(False, "--regime", help="A regime (UN, EU, MTCR...) rather than a state."),
    name: Optional[str] = typer.Option(None, "--name", help="Name (default: the country's name)."),
    folder: str = typer.Option("rules", "--rules", help="Rules folder to write into."),
) -> None:
    """Write rules/<code>.yaml: the header and one general licensing rule to fill in."""
    from .scaffold import new_jurisdiction

    target = new_jurisdiction(code, folder, regime, name)
    typer.echo(f"wrote {target}: fill in the TODOs, then `policy validate {target}`")


@app.command()
def lsp() -> None:
    """Run the language server over stdio (for editors; see docs/editors.md)."""
    try:
        from .lsp import serve
    except ImportError as exc:
        typer.echo(f"error: the language server needs pygls ({exc.name}): pip install 'policy[edit]'", err=True)
        raise typer.Exit(2) from None
    serve()


def _table(rows: list[list[str]], header: list[str], fmt: Format = Format.text) -> str:
    """A plain table as text (padded columns) or Markdown."""
    if fmt is Format.markdown:
        cell = lambda c: str(c).replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]) + "\n"
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt_row = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt_row(header), *(fmt_row(r) for r in rows)]) + "\n"


@app.command()
@guarded
def items(rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt) -> None:
    """The Munitions List categories and catalogue items the engine knows, with their lethality (`--item`)."""
    from .catalogue import item_catalogue

    cat = item_catalogue(_rules(rules))
    if fmt is Format.json:
        _write_output(cat.model_dump_json(indent=2) + "\n", output)
        return
    categories = _table(
        [[c.id, "lethal" if c.lethal else "non-lethal", c.title] for c in cat.categories],
        ["category", "default", "title"],
        fmt,
    )
    catalogue = _table(
        [[i.id, i.category, "lethal" if i.lethal else "non-lethal", i.name] for i in cat.items],
        ["item", "category", "lethality", "name"],
        fmt,
    )
    _write_output(categories + "\n" + catalogue, output)


def _write_models(rows: list[Any], output: str | None) -> None:
    _write_output(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False) + "\n", output)


@app.command()
@guarded
def countries(
    rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt
) -> None:
    """Every country by code and name (names in any case work wherever a state is asked for), and which have rules."""
    from .catalogue import countries as run

    rows = run(_rules(rules))
    if fmt is Format.json:
        return _write_models(rows, output)
    body = [[r.code, r.name, "rules" if r.has_rules else ""] for r in rows]
    _write_output(_table(body, ["code", "name", "rules"], fmt), output)


@app.command()
@guarded
def jurisdictions(
    rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt, output: Optional[str] = OutputOpt
) -> None:
    """Every encoded jurisdiction and regime: rule counts by effect, the period its rules cover, its sources."""
    from .catalogue import jurisdictions as run

    rows = run(_rules(rules))
    if fmt is Format.json:
        return _write_models(rows, output)
    body = [
        [
            r.code,
            r.kind,
            str(r.rules),
            ", ".join(f"{k} {v}" for k, v in r.rules_by_effect.items()),
            str(len(r.sources)),
            r.name,
        ]
        for r in rows
    ]
    states = sum(1 for r in rows if r.kind == "state")
    total = f"{states} national jurisdictions, {len(rows) - states} regimes, {sum(r.rules for r in rows)} rules\n"
    _write_output(_table(body, ["code", "kind", "rules", "by effect", "sources", "name"], fmt) + "\n" + total, output)


@app.command("why-not")
@guarded
def why_not(
    scenario: Optional[str] = typer.Argument(
        None, metavar="SCENARIO", help="A scenario file (instead of the transfer options)."
    ),
    exporter: Optional[str] = typer.Option(None, "--exporter", metavar="STATE", help="Exporting state: code or name."),
    recipient: Optional[str] = typer.Option(
        None, "--recipient", metavar="STATE", help="Final destination: code or name."
    ),
    item: Optional[list[str]] = typer.Option(None, "--item", metavar="ITEM", help="ML category or catalogue item."),
    date: Optional[str] = typer.Option(None, "--date", metavar="YYYY-MM-DD", help="YYYY-MM-DD (default: today)."),
    lethal: bool = LethalOpt,
    non_lethal: bool = NonLethalOpt,
    end_user: EndUser = EndUserOpt,
    transfer: TransferKind = TransferOpt,
    origin: Optional[str] = typer.Option(None, "--origin", metavar="STATE", help="State that produced the item."),
    licence: Optional[str] = typer.Option(
        None, "--licence", metavar="STATE", help="State whose licence it was made under."
    ),
    via: Optional[list[str]] = typer.Option(None, "--via", metavar="STATE", help="Intermediate holder (repeatable)."),
    transit: Optional[list[str]] = typer.Option(None, "--transit", metavar="STATE", help="State the goods cross."),
    assume: Optional[list[str]] = AssumeOpt,
    target: Optional[str] = typer.Option(
        None, "--target", metavar="VERDICT", help="Verdict wanted (default: one step less severe)."
    ),
    max_changes: int = typer.Option(
        2, "--max-changes", metavar="N", help="Largest set of changes tried together (1-3)."
    ),
    kinds: Optional[str] = typer.Option(
        None, "--kinds", metavar="KINDS", help="Kinds of change: transfer,date,world,law,recipient."
    ),
    emit_overlay: Optional[str] = typer.Option(
        None, "--emit-overlay", metavar="DIR", help="Write law answers as overlays here."
    ),
    matrix: bool = typer.Option(False, "--matrix", help="Per restricted/prohibited cell of a matrix."),
    exporters: Optional[str] = typer.Option(
        None, "--exporters", metavar="STATES", help="With --matrix: comma-separated exporters."
    ),
    recipients: Optional[str] = typer.Option(
        None, "--recipients", metavar="STATES", help="With --matrix: comma-separated recipients."
    ),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    fmt: DiffFormat = typer.Option(DiffFormat.text, "--format", "-f", help="text, markdown, html or json."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report to this file."),
) -> None:
    """The smallest sets of changes (transfer, date, world facts, law, recipient) that give a less severe verdict."""
    from . import whynot as wn
    from . import whynotreport as rep
    from .asked import WhatIf, build, option_countries

    def bad(code: str, message: str, where: str) -> LoadError:
        return LoadError([Diagnostic(code, message, SourceSpan(where), "see `policy why-not --help`")])

    base = _rules(rules, overlays)
    prefix = [a for p in rules or [] for a in ("--rules", p)] + [a for p in overlays or [] for a in ("--with", p)]
    render = {"text": rep.render_text, "markdown": rep.render_markdown, "html": rep.render_html}
    render_matrix = {
        "text": rep.render_matrix_text,
        "markdown": rep.render_matrix_markdown,
        "html": rep.render_matrix_html,
    }
    lethality = _lethality(lethal, non_lethal)

    def ask(exp: str, rec: str) -> Any:
        """The transfer the options give, checked by the transfer contract (only once they are complete)."""
        q = WhatIf(
            exporter=exp,
            recipient=rec,
            item=list(item or []),
            date=_day(date),
            lethal=lethality,
            end_user=end_user.value,
            transfer=transfer.value,
            origin=origin,
            licence=licence,
            via=list(via or []),
            transit=list(transit or []),
            assume=_parse_assume(assume),
        )
        return build(base, q)

    if matrix:
        if not (exporters and recipients and item) or scenario or exporter or recipient:
            raise bad("bad-arguments", "`--matrix` takes --exporters, --recipients and --item", "--matrix")
        exps, recs = option_countries(exporters, "--exporters"), option_countries(recipients, "--recipients")
        scs = [ask(e, r) for e in exps for r in recs if e != r]
        m = wn.why_not_matrix(base, scs, ", ".join(item or []), max_changes, kinds or wn.KINDS[:4], prefix)
        _write_output(rep.render_json(m) if fmt is DiffFormat.json else render_matrix[fmt.value](m), output)
        return
    if scenario is not None and (exporter or recipient or item):
        raise bad("bad-arguments", "give a scenario file or the transfer options, not both", scenario)
    if scenario is None and not (exporter and recipient and item):
        raise bad("missing-value", "give a scenario file, or --exporter, --recipient and --item", "why-not")
    sc = load_scenario(scenario, base) if scenario else ask(exporter or "", recipient or "")
    result = wn.why_not(base, sc, wn.read_target(target), max_changes, wn.read_kinds(kinds), prefix)
    if emit_overlay:
        written = wn.emit_overlays(result, base, emit_overlay)
        typer.echo(f"wrote {len(written)} overlay file(s) to {emit_overlay}/", err=True)
    _write_output(rep.render_json(result) if fmt is DiffFormat.json else render[fmt.value](result), output)


def run() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())

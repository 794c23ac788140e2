"""Verbs that check the rulebase: validate, test, lint, sources, schema, facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from policy.cli.common import (
    CheckFormat,
    Format,
    FormatOpt,
    LintFormat,
    OutputOpt,
    RulesOpt,
    TestFormat,
    WithOpt,
    check_report,
    classify,
    day_or_today,
    default_rules_path,
    display_path,
    guarded,
    load_rulebase,
    load_scenario,
    parse_date,
    rulebase_from,
    write_output,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    from policy.model.rulebase import RuleBase


@guarded
def validate(
    paths: Optional[list[str]] = typer.Argument(
        None, metavar="PATH", help="Rule, world, item or scenario files/folders."
    ),
    rules: Optional[list[str]] = RulesOpt,
    fmt: CheckFormat = typer.Option(CheckFormat.text, "--format", "-f", help="Output format (sarif, github: CI)."),
) -> None:
    """Check rule files, world data, items, overlays and scenarios; report every problem as file:line:col."""
    from policy.load.overlays import apply_overlay

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
        typer.echo(check_report(diags, fmt, "validate"), nl=False)
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

    from policy.analysis.testing import check

    base = rulebase_from(rules, overlays)
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
        from policy.analysis.testing import documented_agreement

        results = [r for r in results if r.scenario.kind == "documented"]
        if fmt is TestFormat.json:
            text = _documented_json(results) + "\n"
        elif fmt is TestFormat.markdown:
            from policy.render import tables

            text = tables.documented_markdown(results, documented_agreement(results))
        elif fmt is TestFormat.html:
            from policy.render import tables

            text = tables.tests_html(results, None, {}, agreement=documented_agreement(results))
        else:
            text = _documented_text(results) + "\n"
        write_output(text, output)
        if any(not r.passed for r in results):
            raise typer.Exit(1)
        return
    failed = [r for r in results if not r.passed]
    if fmt is TestFormat.junit:
        from policy.render.cireport import junit

        typer.echo(junit(results, seconds), nl=False)
    elif fmt in (TestFormat.html, TestFormat.markdown):
        from policy.analysis.testing import coverage as count
        from policy.render import tables

        counts = count(base, results) if coverage else None
        if fmt is TestFormat.html:
            titles = {r.id: r.title for _, r in base.all_rules()}
            write_output(tables.tests_html(results, counts, titles), output)
        else:
            write_output(tables.tests_markdown(results, counts), output)
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
    write_output(_facts_text(rules, country, date, fmt), output)


def _facts_text(rules: list[str] | None, country: str | None, date: str | None, fmt: Format) -> str:
    from policy.eval.worldview import country_facts, dataset_summary

    base = rulebase_from(rules)
    if country is None:
        summary = dataset_summary(base)
        if fmt is Format.json:
            return json.dumps(summary, indent=2) + "\n"
        elif fmt is Format.markdown:
            from policy.render.markdown import datasets_markdown

            return str(datasets_markdown(summary))
        else:
            return "".join(f"{row['dataset']:<24} {row['entries']:>5} {row['what']}\n" for row in summary)
    from policy.load.asked import by_option
    from policy.model.contract import read_country

    code = by_option("country", read_country, country)
    day = parse_date(day_or_today(date), "--date")
    data = country_facts(base, code, day)
    if fmt is Format.json:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.markdown:
        from policy.render.markdown import facts_markdown

        return str(facts_markdown(data))
    lines = [f"{data['country']} {data['name']} on {data['date']}"]
    for row in data["facts"]:
        lines.append(f"  {row['fact']} = {json.dumps(row['value'])}  {row['basis']}")
        for src in row["sources"]:
            lines.append(f"      source: {src['title']}" + (f" <{src['url']}>" if src["url"] else ""))
    return "\n".join(lines) + "\n"


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
    from policy.analysis.lint import lint as run_lint
    from policy.edit.scaffold import lint_scenarios

    rule_paths, _, scenario_paths = classify(list(paths)) if paths else ([default_rules_path()], [], [])
    base = load_rulebase(rule_paths or [default_rules_path()])
    day = parse_date(day_or_today(today), "--today")
    found = sorted(run_lint(base, day) + lint_scenarios(scenario_paths), key=Diagnostic.sort_key)
    warnings = [d for d in found if d.severity == "warning"]
    if fmt is LintFormat.json:
        text = json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False) + "\n"
    elif fmt is LintFormat.markdown:
        from policy.render.markdown import lint_markdown

        n = sum(len(j.rules) for j in base.jurisdictions.values())
        text = str(lint_markdown([d.to_json() for d in found], n))
    elif fmt is not LintFormat.text:
        text = str(check_report(found, CheckFormat(fmt.value), "lint"))
    else:
        infos = len(found) - len(warnings)
        lines = [d.render() for d in found]
        lines.append(
            f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}, {infos} notes, "
            f"{sum(len(j.rules) for j in base.jurisdictions.values())} rules checked"
        )
        text = "\n".join(lines) + "\n"
    write_output(text, output)
    if strict and warnings:
        raise typer.Exit(1)


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
    from policy.analysis.lint import render_sources_text as render_text
    from policy.analysis.lint import sources_report as report

    targets = list(paths) if paths else [default_rules_path()] + (["scenarios"] if Path("scenarios").is_dir() else [])
    rule_paths, overlay_paths, scenario_paths = classify(targets)
    base = load_rulebase(rule_paths or [default_rules_path()])
    rep = report(base, [display_path(f) for f in overlay_paths + scenario_paths])
    if fmt is Format.json:
        text = json.dumps(rep.to_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt is Format.markdown:
        from policy.render.markdown import sources_markdown

        text = str(sources_markdown(rep.to_json()))
    else:
        text = str(render_text(rep))
    write_output(text, output)


def _documented_text(results: list[Any]) -> str:
    from policy.analysis.testing import documented_agreement

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
    from policy.analysis.testing import documented_agreement

    failed = [r for r in results if not r.passed]
    data = {
        "jurisdictions": [a.to_json() for a in documented_agreement(results)],
        "failed_scenarios": [{"file": r.file, "scenario": r.scenario.id, "problems": r.problems} for r in failed],
        "passed": len(results) - len(failed),
        "failed": len(failed),
        "total": len(results),
    }
    return json.dumps(data, indent=2)


@guarded
def schema(
    output: str = typer.Option(
        "schema", "--output", "-o", metavar="FOLDER", help="Folder to write the JSON Schema files into."
    ),
    check: bool = typer.Option(False, "--check", help="Only check that the folder is up to date; exit 1 if not."),
) -> None:
    """Write JSON Schema for rule, world, item, scenario and overlay files (for editors' YAML language
    server), and for the JSON reports (decision, diff, why-not)."""
    from policy.load.atomic import output_folder
    from policy.render.schema import schemas

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
            write_output(text, str(target))
    if check:
        if stale:
            typer.echo(f"out of date: {', '.join(stale)} (run `policy schema -o {output}`)", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output}/ is up to date")
    else:
        typer.echo(f"wrote {len(stale)} schema file(s) to {output}/" if stale else f"{output}/ already up to date")


def _coverage_text(base: RuleBase, results: list[Any]) -> str:
    from policy.analysis.testing import coverage as count

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

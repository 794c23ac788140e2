"""Verbs that decide transfers: evaluate, what-if, why-not, matrix, batch, where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from policy.cli.common import (
    AssumeOpt,
    DiffFormat,
    Document,
    EndUser,
    EndUserOpt,
    ExplainOpt,
    FailOn,
    FailOpt,
    Format,
    FormatOpt,
    LethalOpt,
    LineFormat,
    NonLethalOpt,
    OutputOpt,
    ReportFormat,
    ReportFormatOpt,
    RulesOpt,
    TableFormat,
    TransferKind,
    TransferOpt,
    WithOpt,
    colour_for,
    country_name,
    day_or_today,
    fails_on,
    guarded,
    load_scenario,
    parse_assume,
    read_lethality,
    render_decisions,
    rulebase_from,
    rules_info_for,
    scenario_from_data,
    warn,
    write_output,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    pass


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
    from policy.eval.engine import evaluate as run

    base = rulebase_from(rules, overlays)
    extra = parse_assume(assume)
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
    write_output(render_decisions(base, decisions, fmt, explain, colour_for(output)), output, colour_for(output))
    warn(decisions)
    if any(fails_on(d.verdict, fail_on) for d in decisions):
        raise typer.Exit(1)


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
    from policy.eval.engine import evaluate as run
    from policy.load.asked import WhatIf, build

    base = rulebase_from(rules, overlays)
    question = WhatIf(
        exporter=exporter,
        recipient=recipient,
        item=list(item),
        date=day_or_today(date),
        lethal=read_lethality(lethal, non_lethal),
        end_user=end_user.value,
        transfer=transfer.value,
        origin=origin,
        licence=licence,
        via=list(via or []),
        transit=list(transit or []),
        assume=parse_assume(assume),
    )
    sc = build(base, question)
    d = run(base, sc)
    write_output(render_decisions(base, [d], fmt, explain, colour_for(output)), output, colour_for(output))
    warn([d])
    if save:
        from policy.edit.scaffold import save_scenario

        save_scenario(save, sc, d.verdict.value, catalogue=base.items)
        typer.echo(f"saved {save} (expect: {d.verdict.value}; add its sources)", err=True)
    if fails_on(d.verdict, fail_on):
        raise typer.Exit(1)


@guarded
def where(rules: Optional[list[str]] = RulesOpt, fmt: Format = FormatOpt) -> None:
    """Which rule files are in use, where they come from, and their digest and date."""
    info = rules_info_for(rules)
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


@guarded
def batch(
    input: str = typer.Argument(
        ...,
        metavar="INPUT",
        help="JSON Lines (.jsonl), CSV (.csv) or Parquet (.parquet) file of transfers; - for stdin.",
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Output file (.jsonl, .csv or .parquet); default stdout."
    ),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad line; write nothing."),
    partial: bool = typer.Option(False, "--partial", help="On Ctrl-C, write the lines screened so far."),
    workers: int = typer.Option(
        0, "--workers", min=0, metavar="N", help="Processes for a file (0: what is fastest for its size)."
    ),
    input_format: Optional[LineFormat] = typer.Option(None, "--input-format", help="Default: by extension."),
    output_format: Optional[LineFormat] = typer.Option(None, "--output-format", help="Default: by extension."),
    dask: Optional[str] = typer.Option(
        None,
        "--dask",
        metavar="ADDRESS",
        help="Screen on a Dask cluster: tcp://host:8786, or local:N worker processes (needs the dask extra).",
    ),
) -> None:
    """Screen many transfers: verdict, per-jurisdiction verdicts and deciding rules for each line."""
    from policy.cli.batching import screen_file

    in_fmt = input_format.value if input_format else None
    out_fmt = output_format.value if output_format else None
    code = screen_file(input, output, rules, overlays, strict, partial, workers, in_fmt, out_fmt, dask)
    if code:
        raise typer.Exit(code)


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
    from policy.eval.compiled import Screener
    from policy.load.asked import WhatIf, build, option_countries, option_date

    base = rulebase_from(rules, overlays)
    day = option_date(day_or_today(date), "--date")
    exps = option_countries(exporters, "--exporters")
    recs = option_countries(recipients, "--recipients")
    wants_lethal = read_lethality(lethal, non_lethal)
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
    from policy.render import tables

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
        text = tables.matrix_text(m, colour_for(output))
    write_output(text, output, colour_for(output) and fmt is TableFormat.text)


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
    from policy.analysis import whynot as wn
    from policy.load.asked import WhatIf, build, option_countries
    from policy.render import whynotreport as rep

    def bad(code: str, message: str, where: str) -> LoadError:
        return LoadError([Diagnostic(code, message, SourceSpan(where), "see `policy why-not --help`")])

    base = rulebase_from(rules, overlays)
    prefix = [a for p in rules or [] for a in ("--rules", p)] + [a for p in overlays or [] for a in ("--with", p)]
    render = {"text": rep.render_text, "markdown": rep.render_markdown, "html": rep.render_html}
    render_matrix = {
        "text": rep.render_matrix_text,
        "markdown": rep.render_matrix_markdown,
        "html": rep.render_matrix_html,
    }
    lethality = read_lethality(lethal, non_lethal)

    def ask(exp: str, rec: str) -> Any:
        """The transfer the options give, checked by the transfer contract (only once they are complete)."""
        q = WhatIf(
            exporter=exp,
            recipient=rec,
            item=list(item or []),
            date=day_or_today(date),
            lethal=lethality,
            end_user=end_user.value,
            transfer=transfer.value,
            origin=origin,
            licence=licence,
            via=list(via or []),
            transit=list(transit or []),
            assume=parse_assume(assume),
        )
        return build(base, q)

    if matrix:
        if not (exporters and recipients and item) or scenario or exporter or recipient:
            raise bad("bad-arguments", "`--matrix` takes --exporters, --recipients and --item", "--matrix")
        exps, recs = option_countries(exporters, "--exporters"), option_countries(recipients, "--recipients")
        scs = [ask(e, r) for e in exps for r in recs if e != r]
        m = wn.why_not_matrix(base, scs, ", ".join(item or []), max_changes, kinds or wn.KINDS[:4], prefix)
        write_output(rep.render_json(m) if fmt is DiffFormat.json else render_matrix[fmt.value](m), output)
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
    write_output(rep.render_json(result) if fmt is DiffFormat.json else render[fmt.value](result), output)

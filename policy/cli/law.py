"""Verbs on the law over time: diff (two versions or dates) and timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from policy.cli.common import (
    DiffFormat,
    EndUser,
    EndUserOpt,
    LethalOpt,
    NonLethalOpt,
    OutputOpt,
    ReportFormat,
    ReportFormatOpt,
    RulesOpt,
    TransferKind,
    TransferOpt,
    WithOpt,
    apply_overlays,
    classify,
    colour_for,
    country_name,
    day_or_today,
    default_rules_path,
    guarded,
    load_rulebase,
    load_scenario,
    parse_date,
    read_lethality,
    rulebase_from,
    write_output,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    from policy.model.rulebase import RuleBase


def _side_base(spec: str) -> tuple[RuleBase, str]:
    """A rules directory/file, or `git:REV` (the rules/ folder at that revision)."""
    if spec.startswith("git:"):
        from policy.load.git import load_rules_at_revision

        return load_rules_at_revision(spec[4:]), spec
    return load_rulebase([spec]), spec


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
    from policy.analysis.diff import Side
    from policy.analysis.diff import diff as run_diff
    from policy.render.diffreport import diff_json, render_diff_html, render_diff_markdown, render_diff_text

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
    d1 = parse_date(at, "--at") if at is not None else None
    d2 = parse_date(vs, "--vs") if vs is not None else None
    if d1 and d2:
        old_label, new_label = f"{old_label} on {d1}", f"{new_label} on {d2}"
    files = classify(scenarios or ["scenarios"])[2] if (scenarios or Path("scenarios").is_dir()) else []
    scs = [load_scenario(f, new_base) for f in files]
    if space not in ("world", "all"):
        raise LoadError([Diagnostic("bad-space", f"`{space}` is not world or all", SourceSpan("--space"))])
    day = parse_date(day_or_today(on), "--on")
    report = run_diff(Side(old_label, old_base, d1), Side(new_label, new_base, d2), scs, space, day)
    if fmt is DiffFormat.json:
        text = json.dumps(diff_json(report), indent=2, ensure_ascii=False) + "\n"
    else:
        text = {
            DiffFormat.text: render_diff_text,
            DiffFormat.markdown: render_diff_markdown,
            DiffFormat.html: render_diff_html,
        }[fmt](report)
    write_output(text, output)
    if fail_on_change and report.changed:
        raise typer.Exit(1)


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
    from policy.analysis.diff import timeline_json, timeline_steps
    from policy.load.asked import WhatIf, build, option_date
    from policy.render import tables

    base = rulebase_from(rules, overlays)
    d1, d2 = option_date(start, "--from"), option_date(end, "--to")
    if d2 < d1:
        raise LoadError([Diagnostic("bad-period", f"`--to {d2}` is before `--from {d1}`", SourceSpan("--to"))])
    q = WhatIf(
        exporter=exporter,
        recipient=recipient,
        item=[item],
        date=d1.isoformat(),
        lethal=read_lethality(lethal, non_lethal),
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
        ReportFormat.text: lambda: tables.timeline_text(title, steps, colour_for(output)),
    }[fmt]()
    write_output(text, output, colour_for(output) and fmt is ReportFormat.text)

"""The atlas verb: every exporter's verdicts on every recipient, category, transfer and end user, over time."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer

from policy.cli.common import RulesOpt, WithOpt, country_name, guarded, rulebase_from
from policy.model.errors import Diagnostic, LoadError, SourceSpan


class AtlasFormat(str, Enum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"
    html = "html"


class Lethality(str, Enum):
    catalogue = "catalogue"
    both = "both"


def _words(value: str | None, option: str, allowed: tuple[str, ...]) -> list[str] | None:
    if value is None:
        return None
    words = [w.strip().lower() for w in value.split(",") if w.strip()]
    bad = [w for w in words if w not in allowed]
    if bad or not words:
        raise LoadError(
            [
                Diagnostic(
                    "bad-choice",
                    f"`{option} {value}`: {', '.join(bad) or 'nothing given'} is not one of {', '.join(allowed)}",
                    SourceSpan(option),
                )
            ]
        )
    return words


@guarded
def atlas(
    start: str = typer.Option("2000-01-01", "--from", metavar="YYYY-MM-DD", help="First date."),
    end: Optional[str] = typer.Option(
        None, "--to", metavar="YYYY-MM-DD", help="Last date (default: open; the last intervals stay open)."
    ),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write here (atomically); Parquet needs a file."
    ),
    fmt: Optional[AtlasFormat] = typer.Option(
        None, "--format", "-f", help="Output format (default: from the file name's suffix, else parquet)."
    ),
    exporters: Optional[str] = typer.Option(
        None, "--exporters", metavar="STATES", help="Only these exporters (default: every state with a rule file)."
    ),
    recipients: Optional[str] = typer.Option(
        None, "--recipients", metavar="STATES", help="Only these recipients (default: every country)."
    ),
    categories: Optional[str] = typer.Option(
        None, "--categories", metavar="ML..", help="Only these ML categories (default: all of rules/items.yaml)."
    ),
    transfer: Optional[str] = typer.Option(
        None, "--transfer", metavar="KINDS", help="Only these transfer kinds, comma-separated (html: default sale)."
    ),
    end_user: Optional[str] = typer.Option(
        None, "--end-user", metavar="KINDS", help="Only these end users, comma-separated (html: default military)."
    ),
    lethality: Lethality = typer.Option(
        Lethality.catalogue, "--lethality", help="catalogue: as rules/items.yaml says; both: lethal and non-lethal."
    ),
    rules: Optional[list[str]] = RulesOpt,
    overlays: Optional[list[str]] = WithOpt,
) -> None:
    """The atlas: each encoded exporter's verdict on every recipient, category, transfer and end user, as intervals."""
    from policy.analysis.atlas import build_atlas, encoded_exporters
    from policy.load.asked import option_countries, option_date
    from policy.model.contract import END_USERS, TRANSFERS

    base = rulebase_from(rules, overlays)
    d1 = option_date(start, "--from")
    d2 = option_date(end, "--to") if end is not None else None
    if d2 is not None and d2 < d1:
        raise LoadError([Diagnostic("bad-period", f"`--to {d2}` is before `--from {d1}`", SourceSpan("--to"))])
    if fmt is None:
        suffix = (output or "").rpartition(".")[2].lower()
        fmt = {"csv": AtlasFormat.csv, "jsonl": AtlasFormat.jsonl, "html": AtlasFormat.html}.get(
            suffix, AtlasFormat.parquet
        )
    if fmt is AtlasFormat.parquet and output is None:
        raise LoadError(
            [
                Diagnostic(
                    "missing-value",
                    "Parquet is written to a file",
                    SourceSpan("--output"),
                    "give -o atlas.parquet, or --format csv|jsonl to print",
                )
            ]
        )
    exps = option_countries(exporters, "--exporters") if exporters is not None else None
    encoded = set(encoded_exporters(base))
    for e in exps or []:
        if e not in encoded:
            raise LoadError(
                [
                    Diagnostic(
                        "unknown-jurisdiction",
                        f"no rule file encodes {e} as an exporter",
                        SourceSpan("--exporters"),
                        "policy jurisdictions lists them",
                    )
                ]
            )
    recs = option_countries(recipients, "--recipients") if recipients is not None else None
    cats = None
    if categories is not None:
        cats = [c.strip().upper() for c in categories.split(",") if c.strip()]
        bad = [c for c in cats if c not in base.categories]
        if bad or not cats:
            raise LoadError(
                [
                    Diagnostic(
                        "bad-category",
                        f"`--categories {categories}`: {', '.join(bad) or 'nothing given'} is not a category",
                        SourceSpan("--categories"),
                        "policy items lists them (ML1 .. ML22)",
                    )
                ]
            )
    trs = _words(transfer, "--transfer", TRANSFERS)
    eus = _words(end_user, "--end-user", END_USERS)
    if fmt is AtlasFormat.html:
        trs, eus = trs or ["sale"], eus or ["military"]
    result = build_atlas(
        base,
        d1,
        d2,
        exporters=exps,
        recipients=recs,
        categories=cats,
        transfers=trs,
        end_users=eus,
        both_lethalities=lethality is Lethality.both,
    )
    _write(result, fmt, output)
    st = result.stats
    typer.echo(
        f"{st['rows']:,} rows ({st['cells']:,} cells over {st['dates']:,} pair-dates, {st['situations']:,} "
        f"distinct situations, {st['screened']:,} screenings) in {st['seconds']:.1f} s"
        + (f" -> {output}" if output else ""),
        err=True,
    )


def _write(result: object, fmt: AtlasFormat, output: str | None) -> None:
    from policy.analysis.atlas import Atlas
    from policy.load.atomic import AtomicFile, atomic_writer
    from policy.render.atlas import atlas_html, text_chunks, write_parquet

    assert isinstance(result, Atlas)
    if fmt is AtlasFormat.parquet:
        assert output is not None
        f = AtomicFile(output)
        try:
            write_parquet(result, f.handle.buffer)  # type: ignore[attr-defined]
        except BaseException:
            f.discard()
            raise
        f.commit()
        return
    if fmt is AtlasFormat.html:
        names = {c: country_name(c) for c in [*result.exporters, *result.recipients]}
        chunks = iter([atlas_html(result, names)])
    else:
        chunks = text_chunks(result, fmt.value)
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    with atomic_writer(output) as fh:
        for chunk in chunks:
            fh.write(chunk)

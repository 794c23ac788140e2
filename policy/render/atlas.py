"""The atlas written out: Parquet (pyarrow, the `columnar` extra), CSV, JSON Lines, or an HTML heatmap.

Every format has the same columns: exporter, recipient, category, lethal, transfer, end_user,
from, until (inclusive; empty/null while still in force), verdict, deciding (jurisdictions) and
deciding_rules. Output is byte-identical for the same rules and options.
"""

from __future__ import annotations

import json
from typing import IO, Any, Iterator

import numpy as np

from policy.analysis.atlas import OPEN, Atlas, day_of
from policy.model.errors import Diagnostic, LoadError
from policy.render.html import render
from policy.render.style import VERDICT_ORDER

COLUMNS = (
    "exporter",
    "recipient",
    "category",
    "lethal",
    "transfer",
    "end_user",
    "from",
    "until",
    "verdict",
    "deciding",
    "deciding_rules",
)
CHUNK = 200_000
ROW_GROUP = 1_000_000


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise LoadError(
            [
                Diagnostic(
                    "missing-extra",
                    "writing Parquet needs pyarrow",
                    help="pip install 'policy[columnar]', or use --format csv|jsonl",
                )
            ]
        ) from None
    return pa


def arrow_table(atlas: Atlas, lo: int = 0, hi: int | None = None) -> Any:
    """Rows ``lo:hi`` of the atlas as a pyarrow Table (strings dictionary-encoded, dates as date32,
    the deciding jurisdictions and rules as lists of strings)."""
    pa = _pyarrow()
    hi = atlas.rows if hi is None else hi

    def coded(codes: np.ndarray, values: list[str]) -> Any:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values, pa.string()))

    cats = list(dict.fromkeys(c.category for c in atlas.combos))
    transfers = list(dict.fromkeys(c.transfer for c in atlas.combos))
    end_users = list(dict.fromkeys(c.end_user for c in atlas.combos))
    verdicts = list(dict.fromkeys(o.verdict for o in atlas.outcomes))
    combo = atlas.combo[lo:hi]
    outcome = atlas.outcome[lo:hi]
    end = atlas.end[lo:hi]
    cat_of = np.array([cats.index(c.category) for c in atlas.combos], dtype=np.int32)
    lethal_of = np.array([c.lethal for c in atlas.combos], dtype=bool)
    tr_of = np.array([transfers.index(c.transfer) for c in atlas.combos], dtype=np.int32)
    eu_of = np.array([end_users.index(c.end_user) for c in atlas.combos], dtype=np.int32)
    verdict_of = np.array([verdicts.index(o.verdict) for o in atlas.outcomes], dtype=np.int32)
    columns = [
        coded(atlas.exporter[lo:hi], atlas.exporters),
        coded(atlas.recipient[lo:hi], atlas.recipients),
        coded(cat_of[combo], cats),
        pa.array(lethal_of[combo]),
        coded(tr_of[combo], transfers),
        coded(eu_of[combo], end_users),
        pa.array(atlas.start[lo:hi].astype(np.int32)).cast(pa.date32()),
        pa.array(end.astype(np.int32), mask=end == OPEN).cast(pa.date32()),
        coded(verdict_of[outcome], verdicts),
        _lists(pa, [o.deciding for o in atlas.outcomes], outcome),
        _lists(pa, [o.rules for o in atlas.outcomes], outcome),
    ]
    return pa.Table.from_arrays(columns, names=list(COLUMNS))


def _lists(pa: Any, per_outcome: list[tuple[str, ...]], outcome: np.ndarray) -> Any:
    """A list<dictionary<string>> column: row ``i`` holds ``per_outcome[outcome[i]]``, gathered with numpy."""
    vocab = sorted({w for words in per_outcome for w in words})
    code = {w: i for i, w in enumerate(vocab)}
    lengths = np.array([len(words) for words in per_outcome], dtype=np.int64)
    flat = np.array([code[w] for words in per_outcome for w in words], dtype=np.int32)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    row_len = lengths[outcome]
    offsets = np.concatenate([[0], np.cumsum(row_len)]).astype(np.int64)
    where = np.repeat(first[outcome] - offsets[:-1], row_len) + np.arange(offsets[-1], dtype=np.int64)
    values = pa.DictionaryArray.from_arrays(pa.array(flat[where]), pa.array(vocab, pa.string()))
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def write_parquet(atlas: Atlas, fh: IO[bytes]) -> None:
    """Write the atlas as Parquet (zstd) to a binary file, one row group of at most a million rows
    at a time, so memory stays bounded by a row group."""
    _pyarrow()
    import pyarrow.parquet as pq

    schema = arrow_table(atlas, 0, 0).schema
    stats = ["exporter", "recipient", "from", "until"]  # row-group statistics where a reader filters
    with pq.ParquetWriter(fh, schema, compression="zstd", write_statistics=stats) as writer:
        for lo in range(0, max(atlas.rows, 1), ROW_GROUP):
            writer.write_table(arrow_table(atlas, lo, min(lo + ROW_GROUP, atlas.rows)))


def _pieces(atlas: Atlas, fmt: str) -> tuple[list[str], list[str], list[str], list[str], dict[int, str]]:
    """Pre-rendered text per exporter, recipient, combination and outcome (each few and reused)."""
    q = json.dumps
    if fmt == "jsonl":
        ex = [f'{{"exporter":{q(e)},' for e in atlas.exporters]
        rec = [f'"recipient":{q(r)},' for r in atlas.recipients]
        combos = [
            f'"category":{q(c.category)},"lethal":{q(c.lethal)},"transfer":{q(c.transfer)},"end_user":{q(c.end_user)},'
            for c in atlas.combos
        ]
        outs = [
            f'"verdict":{q(o.verdict)},"deciding":{q(list(o.deciding))},"deciding_rules":{q(list(o.rules))}}}\n'
            for o in atlas.outcomes
        ]
    else:
        ex = [f"{e}," for e in atlas.exporters]
        rec = [f"{r}," for r in atlas.recipients]
        combos = [f"{c.category},{'true' if c.lethal else 'false'},{c.transfer},{c.end_user}," for c in atlas.combos]
        outs = [f"{o.verdict},{';'.join(o.deciding)},{';'.join(o.rules)}\n" for o in atlas.outcomes]
    days = {int(d): day_of(int(d)).isoformat() for d in np.unique(np.concatenate([atlas.start, atlas.end]))}
    days[OPEN] = ""
    return ex, rec, combos, outs, days


def text_chunks(atlas: Atlas, fmt: str) -> Iterator[str]:
    """The atlas as CSV (with a header) or JSON Lines, in chunks of text."""
    ex, rec, combos, outs, days = _pieces(atlas, fmt)
    if fmt == "csv":
        yield ",".join(COLUMNS) + "\n"
    for lo in range(0, atlas.rows, CHUNK):
        hi = min(lo + CHUNK, atlas.rows)
        cols = (
            atlas.exporter[lo:hi].tolist(),
            atlas.recipient[lo:hi].tolist(),
            atlas.combo[lo:hi].tolist(),
            atlas.start[lo:hi].tolist(),
            atlas.end[lo:hi].tolist(),
            atlas.outcome[lo:hi].tolist(),
        )
        if fmt == "csv":
            yield "".join(f"{ex[e]}{rec[r]}{combos[c]}{days[s]},{days[u]},{outs[o]}" for e, r, c, s, u, o in zip(*cols))
        else:
            yield "".join(
                f'{ex[e]}{rec[r]}{combos[c]}"from":"{days[s]}","until":{q(days[u])},{outs[o]}'
                for e, r, c, s, u, o in zip(*cols)
            )


def q(day: str) -> str:
    return f'"{day}"' if day else "null"


# ------------------------------------------------------------------ HTML heatmap


ABBR = {
    "prohibited": "PRO",
    "restricted": "RES",
    "undetermined": "UND",
    "licence_required": "LIC",
    "permitted": "OK",
}


def atlas_html(atlas: Atlas, names: dict[str, str]) -> str:
    """A per-exporter heatmap (recipients down, categories across) with an exporter and a date control.

    The page carries the atlas's intervals as data; a small inline script recolours the one table
    when the exporter or the date changes (nothing is fetched). Without scripts, the table shows
    the first exporter on the last date.
    """
    transfers = sorted({c.transfer for c in atlas.combos})
    end_users = sorted({c.end_user for c in atlas.combos})
    if len(transfers) != 1 or len(end_users) != 1:
        raise LoadError(
            [
                Diagnostic(
                    "bad-arguments",
                    "the HTML heatmap draws one transfer kind and one end user",
                    help="e.g. --transfer sale --end-user military",
                )
            ]
        )
    both = len({(c.category, c.lethal) for c in atlas.combos}) > len({c.category for c in atlas.combos})
    columns = [
        (c.category + ((" lethal" if c.lethal else " non-lethal") if both else ""), c.lethal) for c in atlas.combos
    ]
    dates = sorted({int(d) for d in atlas.start.tolist()})
    index = {d: i for i, d in enumerate(dates)}
    n_rec, n_col = len(atlas.recipients), len(atlas.combos)
    # cells[e][r * n_col + c] = "dateindex:outcome,dateindex:outcome" (intervals in order)
    cells: list[list[str]] = [[""] * (n_rec * n_col) for _ in atlas.exporters]
    for e, r, c, s, o in zip(
        atlas.exporter.tolist(),
        atlas.recipient.tolist(),
        atlas.combo.tolist(),
        atlas.start.tolist(),
        atlas.outcome.tolist(),
    ):
        k = r * n_col + c
        prev = cells[e][k]
        cells[e][k] = f"{prev},{index[s]}:{o}" if prev else f"{index[s]}:{o}"
    outcomes = [[o.verdict, list(o.deciding), list(o.rules)] for o in atlas.outcomes]
    data = {
        "dates": [day_of(d).isoformat() for d in dates],
        "exporters": atlas.exporters,
        "recipients": atlas.recipients,
        "columns": [name for name, _ in columns],
        "outcomes": outcomes,
        "cells": ["|".join(row) for row in cells],
        "abbr": ABBR,
    }
    # the initial table, as the script would draw it: first exporter, last date
    last = len(dates) - 1
    initial: list[list[tuple[str, str]]] = []
    for r in range(n_rec):
        row = []
        for c in range(n_col):
            verdict, title = "-", ""
            for part in cells[0][r * n_col + c].split(",") if atlas.exporters and cells[0][r * n_col + c] else []:
                d, o = part.split(":")
                if int(d) <= last:
                    out = atlas.outcomes[int(o)]
                    verdict, title = out.verdict, ", ".join(out.rules)
            row.append((verdict, title))
        initial.append(row)
    present = {o.verdict for o in atlas.outcomes}
    blob = json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("</", "<\\/")
    return render(
        "atlas.html",
        page_title="Atlas of verdicts",
        atlas=atlas,
        transfer=transfers[0],
        end_user=end_users[0],
        columns=[name for name, _ in columns],
        names=names,
        dates=[day_of(d).isoformat() for d in dates],
        initial=initial,
        abbr=ABBR,
        data=blob,
        legend_words=[v for v in VERDICT_ORDER if v in present],
    )


__all__ = ["arrow_table", "write_parquet", "text_chunks", "atlas_html", "COLUMNS"]

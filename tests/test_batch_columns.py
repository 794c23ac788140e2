"""The columnar batch path gives the per-line path's output byte for byte, errors and tallies included."""

import csv
import io
import json
import random

import msgspec  # noqa: E402,F401  (the `columnar` extra; the `test` extra installs it)
import pytest

from policy.eval.batch_run import BatchJob, run_batch

from .conftest import ROOT

STATES = ["KR", "DE", "NO", "CH", "JP", "US", "GB", "FR", "SE", "IT", "PL", "IL", "TR", "NL", "UA", "ca", "Germany"]
RECIPIENTS = ["UA", "PL", "SA", "TW", "KP", "RU", "IN", "BR", "EG", "AE", "IL", "US", "GB", "JP", "ye", "Ukraine"]
ITEMS = ["ML1", "ML3", "ml4", "ML10", "ML13.c", "155mm-shell", "k2-tank", "helmet", "f-35-parts", "K9-Howitzer"]


def _line(rng: random.Random, i: int) -> str:
    """A line of a generated order book: mostly plain transfers, some bad, blank or per-line ones."""
    e = rng.choice(STATES)
    d = {
        "id": rng.choice([i, str(i), f"ord-{i}", None, f'q"uote,{i}', f"é-{i}"]),
        "date": f"{rng.randint(1995, 2027)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "exporter": e,
        "recipient": rng.choice([r for r in RECIPIENTS if r != e]),
        "item": rng.choice(ITEMS),
    }
    if d["id"] is None:
        del d["id"]
    for k, values in (
        ("end_user", ["military", "government", "POLICE", "non-state", ""]),
        ("transfer", ["sale", "donation", "Re-Export", "loan"]),
        ("lethal", [True, False]),
    ):
        if rng.random() < 0.3:
            d[k] = rng.choice(values)
    roll = rng.random()
    if roll < 0.02:
        d["via"] = [rng.choice(["PL", "US"])]
    elif roll < 0.04:
        d["origin"] = rng.choice(["CH", "US", "DE"])
    elif roll < 0.05:
        d["licence"] = "US"
    elif roll < 0.06:
        d["transit"] = ["AT"]
    elif roll < 0.07:
        d["date"] = rng.choice(["2023-02-30", "23-01-30", ""])
    elif roll < 0.08:
        d["recipient"] = rng.choice(["XX", "Atlantis", 5, d["exporter"]])
    elif roll < 0.09:
        d["item"] = rng.choice(["ML99", "laser-cannon", None])
    elif roll < 0.095:
        d["end_user"] = rng.choice(["pirates", 3])
    elif roll < 0.10:
        d["lethal"] = rng.choice(["yes", 1, None])
    elif roll < 0.105:
        d["colour"] = "red"
    elif roll < 0.11:
        d["id"] = rng.choice([1.5, [1, 2], {"a": 1}, True, -0, 10**30])
    elif roll < 0.115:
        return ""
    elif roll < 0.12:
        return "   \t"
    elif roll < 0.125:
        return "{broken"
    elif roll < 0.13:
        return json.dumps(d) + "\r"
    elif roll < 0.135:
        items = [{"category": "ML3", "components": [{"name": "optics", "origin": "DE", "category": "ML15"}]}]
        return json.dumps({"date": d["date"], "exporter": "KR", "recipient": "PL", "items": items})
    return json.dumps(d, ensure_ascii=rng.random() < 0.5)


def _both(tmp_path, name: str, text: str, in_fmt: str, out_fmt: str, workers: int = 1):
    src = tmp_path / name
    src.write_text(text, encoding="utf-8", newline="")
    from policy.load.loader import load_rulebase

    base = load_rulebase([str(ROOT / "rules")])
    got = {}
    for columnar in (False, True):
        out = tmp_path / f"out-{columnar}.{out_fmt}"
        errors: list = []
        job = BatchJob(str(src), str(out), in_fmt, out_fmt, workers=workers, columnar=columnar)
        tally = run_batch(base, job, lambda n, code, msg, errors=errors: errors.append((n, code, msg)))
        got[columnar] = (out.read_bytes(), errors, tally)
    return got


@pytest.fixture(scope="module")
def book() -> list[str]:
    rng = random.Random(19)
    lines = [_line(rng, i) for i in range(20_000)]
    lines[0] = "\ufeff" + json.dumps(
        {"id": 0, "date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}
    )
    return lines


@pytest.mark.parametrize("out_fmt", ["jsonl", "csv"])
def test_columnar_jsonl_equals_per_line_on_a_generated_order_book(tmp_path, book, out_fmt):
    got = _both(tmp_path, "book.jsonl", "\n".join(book) + "\n", "jsonl", out_fmt)
    assert got[True][0] == got[False][0]
    assert got[True][1] == got[False][1]
    assert got[True][2] == got[False][2]
    t = got[True][2]
    assert t.read == 20_000 and t.bad > 500 and t.blank > 100 and t.screened > 15_000


def test_columnar_with_tiny_caches_equals_per_line(tmp_path, book, monkeypatch):
    """Memory stays flat: the tables and caches start afresh when full, and the output does not change."""
    from policy.eval import batch_columns as bc

    monkeypatch.setattr(bc, "_TABLE_LIMIT", 30)
    monkeypatch.setattr(bc, "_RESULT_LIMIT", 40)
    got = _both(tmp_path, "book.jsonl", "\n".join(book[:5000]), "jsonl", "jsonl")
    assert got[True] == got[False]


def test_columnar_with_two_workers_equals_per_line(tmp_path, book):
    got = _both(tmp_path, "book.jsonl", "\n".join(book[:6000]), "jsonl", "jsonl", workers=2)
    assert got[True] == got[False]


def _csv_text(book: list[str]) -> str:
    """The book's flat lines as CSV, with some lines broken the ways CSV lines break."""
    buf = io.StringIO()
    fields = ["id", "date", "exporter", "recipient", "end_user", "transfer", "item", "lethal", "origin", "via"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    rng = random.Random(5)
    for line in book:
        try:
            d = json.loads(line.lstrip("\ufeff"))
        except json.JSONDecodeError:
            buf.write(line.replace("{", "") + "\n")
            continue
        if not isinstance(d, dict) or "items" in d:
            continue
        row = []
        for f in fields:
            v = d.get(f)
            row.append(
                ";".join(map(str, v))
                if isinstance(v, list)
                else ""
                if v is None
                else str(v).lower()
                if v is True
                else v
            )
        roll = rng.random()
        if roll < 0.01:
            buf.write(",".join(str(x) for x in row[:-2]) + "\n")  # too few cells
        elif roll < 0.02:
            buf.write('"' + ",".join(str(x) for x in row) + "\n")  # an open quote
        elif roll < 0.03:
            buf.write(",".join(str(x) for x in row) + "\r\n")
        elif roll < 0.2:
            csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(row)  # a spreadsheet's export
        else:
            w.writerow(row)
    return buf.getvalue()


@pytest.mark.parametrize("out_fmt", ["jsonl", "csv"])
def test_columnar_csv_equals_per_line(tmp_path, book, out_fmt):
    got = _both(tmp_path, "book.csv", _csv_text(book), "csv", out_fmt)
    assert got[True][0] == got[False][0]
    assert got[True][1] == got[False][1] and got[True][2] == got[False][2]
    assert got[True][2].bad > 300


def test_parquet_in_and_out_give_the_jsonl_results(tmp_path, book):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policy.load.loader import load_rulebase

    base = load_rulebase([str(ROOT / "rules")])
    rows = []
    for line in book:
        try:
            d = json.loads(line.lstrip("\ufeff"))
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict) and "items" not in d and "colour" not in d and type(d.get("id", 0)) in (int, str):
            if all(type(d.get(k, "")) is str for k in ("date", "exporter", "recipient", "end_user", "item")):
                if (
                    type(d.get("lethal", True)) is bool
                    and abs(d.get("id", 0) if type(d.get("id")) is int else 0) < 2**62
                ):
                    rows.append({**d, "id": str(d["id"]) if "id" in d else None})
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("date", pa.string()),
            ("exporter", pa.string()),
            ("recipient", pa.string()),
            ("end_user", pa.string()),
            ("transfer", pa.string()),
            ("item", pa.string()),
            ("lethal", pa.bool_()),
            ("origin", pa.string()),
            ("licence", pa.string()),
            ("via", pa.list_(pa.string())),
            ("transit", pa.list_(pa.string())),
        ]
    )
    src = tmp_path / "book.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), src, row_group_size=4000)
    jsonl = tmp_path / "book.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    outs = {}
    for name, fmt in ((str(src), "parquet"), (str(jsonl), "jsonl")):
        for out_fmt in ("jsonl", "parquet"):
            out = tmp_path / f"out-{fmt}.{out_fmt}"
            errors: list = []
            tally = run_batch(
                base, BatchJob(name, str(out), fmt, out_fmt, workers=1), lambda *e, errors=errors: errors.append(e)
            )
            outs[fmt, out_fmt] = (out, errors, tally)
    # Parquet in gives JSON Lines in's output, line for row (the JSON `null`s are absent columns)
    assert outs["parquet", "jsonl"][0].read_bytes() == outs["jsonl", "jsonl"][0].read_bytes()
    assert outs["parquet", "jsonl"][1] == outs["jsonl", "jsonl"][1]
    want = [json.loads(x) for x in outs["jsonl", "jsonl"][0].read_text(encoding="utf-8").splitlines()]
    assert len(want) > 15_000
    for key in (("parquet", "parquet"), ("jsonl", "parquet")):
        table = pq.read_table(outs[key][0])
        assert table.num_rows == len(want)
        got = table.to_pylist()
        for g, w in zip(got, want):
            assert g["line"] == w["line"] and g["id"] == (None if w["id"] is None else str(w["id"]))
            assert g["verdict"] == w["verdict"] and g["deciding_rules"] == w["deciding_rules"]
            assert dict(g["jurisdictions"]) == w["jurisdictions"]


def test_parquet_with_an_unknown_column_is_refused(runner, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policy.cli import app

    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"date": ["2023-01-30"], "exporter": ["KR"], "recipient": ["UA"], "colour": ["red"]}), src)
    res = runner.invoke(app, ["batch", str(src), "--rules", str(ROOT / "rules")])
    assert res.exit_code != 0 and "unknown column `colour`" in res.output + res.stderr
    res = runner.invoke(app, ["batch", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "x.parquet")])
    assert "Traceback" not in res.output + res.stderr


def test_most_lines_of_the_book_take_the_columns(book):
    """The differential tests above compare something: most lines are screened by column."""
    from policy.eval import batch_columns as bc
    from policy.eval.batch import BatchScreener
    from policy.load.loader import load_rulebase

    cs = bc.ColumnarScreener(BatchScreener(load_rulebase([str(ROOT / "rules")])))
    lines = [x.encode() for x in book]
    rows, _, which, slow = cs.screen(bc.JsonLines().columns(b"\n".join(lines), lines))
    assert len(rows) > 0.8 * len(lines) and len(rows) + len(slow) == len(lines)
    assert len(cs.distinct) < len(rows) / 10  # many lines share a result


def test_columnar_keys_give_uncached_results_on_every_date_boundary(shipped):
    """By column (coarse keys, cached across chunks) = afresh, on each side of every date that matters."""
    import datetime as dt

    from policy.eval import batch_columns as bc
    from policy.eval.batch import BatchScreener, LineChecker, screening_tail, transfer_scenario
    from policy.eval.compiled import Screener

    bs = BatchScreener(shipped)
    cs = bc.ColumnarScreener(bs)
    fresh = Screener(shipped)
    rng = random.Random(7)
    states = sorted(c for c, j in shipped.jurisdictions.items() if j.kind == "state")
    recipients = ["UA", "RU", "SA", "IL", "TW", "KP", "SO", "YE", "PL", "DE", "GB", "SE", "FI", "TR", "CN", "IR"]
    items = ["ML1", "ML2", "ML3", "ML4", "ML6", "ML10", "ML13", "ML13.c", "155mm-shell", "f-35-parts", "helmet"]
    lines = []

    def add(day: dt.date, e: str, r: str) -> None:
        if e != r and dt.date(1990, 1, 1) <= day <= dt.date(2030, 12, 31):
            line = {"date": day.isoformat(), "exporter": e, "recipient": r, "item": rng.choice(items)}
            line["end_user"] = rng.choice(["military", "government", "police", "non-state", None])
            line["transfer"] = rng.choice(["sale", "donation", "loan", None])
            line["lethal"] = rng.choice([True, False, None, None])
            lines.append(line)

    one = dt.timedelta(days=1)
    # each exporter's own dates, towards every recipient; the regimes' dates and the world data's
    # dates (breaks of a country's facts) with that country on either side
    for code, cuts in bs.state_cuts.items():
        for d in cuts:
            for day in (d - one, d, d + one):
                for r in recipients:
                    add(day, code, r)
    for d in bs.regime_cuts:
        for day in (d - one, d, d + one):
            for _ in range(20):
                add(day, rng.choice(states), rng.choice(recipients))
    for country, breaks in fresh.builder.breaks.items():
        for d in breaks:
            for day in (d - one, d, d + one):
                for _ in range(4):
                    add(day, rng.choice(states), country)
                    add(day, country, rng.choice(recipients))
    rng.shuffle(lines)
    checked = 0
    for start in range(0, len(lines), 5000):
        part = lines[start : start + 5000]
        cols = bc.Columns(
            list(range(len(part))),
            *([x[k] for x in part] for k in ("date", "exporter", "recipient", "item", "end_user", "transfer")),
            [x["lethal"] for x in part],
            [None] * len(part),
        )
        rows, _, which, slow = cs.screen(cols)
        assert not slow
        for r, w in zip(rows, which.tolist()):
            t = LineChecker(shipped).check(part[r])
            assert cs.distinct[w][1] == screening_tail(fresh.screen(transfer_scenario(t.key))), part[r]
            checked += 1
    assert checked > 10_000 and len(cs.meanings) < checked  # keys were shared, and the shared ones checked


@pytest.mark.parametrize(
    "columns",
    [
        {"lethal": [1, 0, None, 1]},
        {"exporter": [["KR"], ["DE"], None, ["NO"]]},
        {"id": [1.5, 2.0, None, 3.25]},
    ],
)
def test_parquet_with_odd_column_types_is_screened_as_line_by_line(tmp_path, columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policy.load.loader import load_rulebase

    data = {
        "date": ["2023-01-30", "2014-12-24", "2022-02-26", "2023-01-30"],
        "exporter": ["KR", "DE", "NO", "CH"],
        "recipient": ["UA", "PL", "SA", "KP"],
        "item": ["ML3", "155mm-shell", "ML13", "ML4"],
        **columns,
    }
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table(data), src)
    base = load_rulebase([str(ROOT / "rules")])
    got = []
    for columnar in (True, False):
        out = tmp_path / f"out{columnar}.jsonl"
        errors: list = []
        job = BatchJob(str(src), str(out), "parquet", "jsonl", workers=1, columnar=columnar)
        tally = run_batch(base, job, lambda *e, errors=errors: errors.append(e))
        got.append((out.read_bytes(), errors, tally))
    assert got[0] == got[1] and got[0][2].read == 4


@pytest.mark.parametrize(
    "overlay", ["kr-self-defence-exception", "kr-policy-into-statute", "de-no-view-on-israel", "ch-lex-ukraine"]
)
def test_columnar_equals_per_line_under_each_what_if_overlay(tmp_path, book, overlay):
    """A line's meaning is worked out from the rules as the overlay leaves them (changed rules, dates, views)."""
    from policy.load.loader import load_rulebase
    from policy.load.overlays import apply_overlay

    base = apply_overlay(load_rulebase([str(ROOT / "rules")]), str(ROOT / "scenarios" / "what-if" / f"{overlay}.yaml"))
    src = tmp_path / "book.jsonl"
    src.write_text("\n".join(book[:6000]) + "\n", encoding="utf-8")
    got = {}
    for columnar in (False, True):
        out = tmp_path / f"out-{columnar}.jsonl"
        tally = run_batch(base, BatchJob(str(src), str(out), columnar=columnar))
        got[columnar] = (out.read_bytes(), tally)
    assert got[True] == got[False] and got[True][1].screened > 4000

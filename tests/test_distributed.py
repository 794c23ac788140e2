"""Screening on Dask: the same output as `policy batch`, from a LocalCluster of two worker processes.

`policy batch --dask ADDRESS` and `policy.distributed.screen_dask` (a Dask DataFrame mapped with
the partition function) are both checked against `policy batch` on 200,000 generated transfers,
byte for byte; the partition function also on typed columns and on Arrow; the compiled screener
pickles.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import random

import dask.dataframe as dd  # noqa: E402  (the `test` extra installs dask, pandas and pyarrow)
import distributed  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest

from policy.cli import app
from policy.distributed import FrameScreener, csv_lines, jsonl_lines, screen_dask  # noqa: E402
from policy.eval.compiled import Screener

from .conftest import ROOT
from .test_compiled import random_scenarios

RULES = str(ROOT / "rules")
ROWS = 200_000
EXPORTERS = ["KR", "DE", "NO", "CH", "JP", "US", "GB", "FR", "SE", "IT", "PL", "IL", "TR", "CA", "AU", "ES"]
RECIPIENTS = ["UA", "PL", "SA", "TW", "KP", "RU", "IN", "BR", "EG", "AE", "IL", "US", "GB", "JP", "VN", "ID"]
ITEMS = ["ML1", "ML2", "ML3", "ML4", "ML6", "ML10", "ML13", "155mm-shell", "k2-tank", "helmet"]


def transfers(n: int, seed: int = 19) -> list[dict]:
    """Deterministic order-book lines: mostly plain, some with a chain, flags, other end users; a few bad."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        e = rng.choice(EXPORTERS)
        r = rng.choice([x for x in RECIPIENTS if x != e])
        d: dict = {
            "id": i,
            "date": f"{rng.randint(2012, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "exporter": e,
            "recipient": r,
            "item": rng.choice(ITEMS),
        }
        k = rng.random()
        if k < 0.4:
            d["end_user"] = rng.choice(["military", "government", "police", "private"])
        if k < 0.1:
            d["transfer"] = rng.choice(["sale", "donation", "loan"])
        others = [x for x in EXPORTERS if x not in (e, r)]
        if rng.random() < 0.05 and d["item"].startswith("ML"):
            d["lethal"] = rng.random() < 0.5
        if rng.random() < 0.02:
            d["via"] = [rng.choice(others)]
        if rng.random() < 0.01:
            d["transit"] = [rng.choice([x for x in others if x not in d.get("via", ())])]
        if rng.random() < 0.01:
            d["origin"] = rng.choice(others)
        if rng.random() < 0.005:
            d["licence"] = rng.choice(others)
        if rng.random() < 0.0005:  # bad values: reported by line, in both
            d[rng.choice(["date", "exporter", "lethal"])] = rng.choice(["2023-02-30", "Atlantis", "yes"])
        rows.append(d)
    return rows


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """(rows, input file, `policy batch` output, its bad-line reports) for ROWS transfers."""
    from typer.testing import CliRunner

    rows = transfers(ROWS)
    folder = tmp_path_factory.mktemp("dist")
    src = folder / "in.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in rows), encoding="utf-8")
    out = folder / "local.jsonl"
    res = CliRunner().invoke(app, ["batch", str(src), "-o", str(out), "--rules", RULES, "--workers", "1"])
    assert res.exit_code == 2, res.output  # the bad lines
    errors = [line for line in res.stderr.splitlines() if ": error[" in line]
    assert errors and res.stderr.splitlines()[-1].startswith(f"{ROWS} lines read: ")
    return rows, src, out.read_text(encoding="utf-8"), errors, res.stderr


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two worker processes."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,
    ) as lc:
        with distributed.Client(lc) as client:
            yield client


def test_batch_on_dask_gives_the_output_of_policy_batch(book, cluster, runner, tmp_path):
    rows, src, local, errors, stderr = book
    out = tmp_path / "dask.jsonl"
    res = runner.invoke(app, ["batch", str(src), "-o", str(out), "--rules", RULES, "--dask", cluster.scheduler.address])
    assert res.exit_code == 2
    assert res.stderr == stderr  # the same bad lines, in order, and the same summary
    assert out.read_text(encoding="utf-8") == local
    assert len(cluster.scheduler_info()["workers"]) == 2


@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")  # the frame travels inside the graph
def test_screen_dask_gives_the_rows_of_policy_batch(book, cluster, shipped):
    rows, _, local, errors, _ = book
    frame = pd.DataFrame.from_records(rows, columns=["id", "date", "exporter", "recipient", "item", "end_user"])
    frame["transfer"] = [d.get("transfer") for d in rows]
    frame["lethal"] = pd.array([d.get("lethal") for d in rows], dtype=object)
    frame["origin"] = [d.get("origin") for d in rows]
    frame["licence"] = [d.get("licence") for d in rows]
    # lists as Arrow lists (they survive Dask's string conversion) and as text separated by `;`
    frame["via"] = pd.Series([d.get("via") for d in rows], dtype=pd.ArrowDtype(pa.list_(pa.string())))
    frame["transit"] = [";".join(d["transit"]) if "transit" in d else None for d in rows]
    ddf = dd.from_pandas(frame, npartitions=8)
    got = screen_dask(ddf, shipped).compute()
    assert list(got["line"]) == list(range(1, ROWS + 1))
    assert "".join(jsonl_lines(got)) == local
    bad = got[got["error"].notna()]
    assert [f"{n}: error[{e.replace(': ', ']: ', 1)}" for n, e in zip(bad["line"], bad["error"])] == [
        line.split(":", 1)[1] for line in errors
    ]


def test_screener_pickles_as_its_rulebase_and_screens_the_same(shipped):
    screener = Screener(shipped)
    again = pickle.loads(pickle.dumps(screener))
    assert again is not screener and again.base.jurisdictions.keys() == shipped.jurisdictions.keys()
    for sc in random_scenarios(shipped, 300, seed=5):
        assert again.screen(sc) == screener.screen(sc), sc.id


def test_partition_function_reads_typed_columns_and_arrow_and_reports_bad_rows(shipped):
    screen = FrameScreener(shipped)
    typed = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "date": pd.to_datetime(
                ["2023-01-30", "2023-01-30", "2023-01-30 12:00", "2023-01-30", "2023-01-30"], format="ISO8601"
            ),
            "exporter": ["KR", "Germany", "KR", "KR", "KR"],
            "recipient": ["UA", "UA", "UA", "UA", "KR"],
            "item": ["ML3", "155mm-shell", "ML3", "ML99", "ML3"],
            "lethal": pd.array([True, None, None, None, None], dtype="boolean"),
            "via": [None, ["PL"], None, None, None],
        },
        index=[10, 11, 12, 13, 14],
    )
    got = screen(typed)
    assert list(got.columns) == ["line", "id", "verdict", "jurisdictions", "deciding_rules", "error"]
    assert list(got.index) == [10, 11, 12, 13, 14] and list(got["line"]) == [1, 2, 3, 4, 5]
    as_text = pd.DataFrame(
        {
            "id": ["a", "b"],
            "date": ["2023-01-30", "2023-01-30"],
            "exporter": ["KR", "DE"],
            "recipient": ["UA", "UA"],
            "item": ["ML3", "155mm-shell"],
            "lethal": ["true", ""],
            "via": ["", "PL"],
        }
    )
    plain = screen(as_text)
    assert got["jurisdictions"].tolist()[:2] == plain["jurisdictions"].tolist()
    assert got["verdict"].tolist()[:2] == ["restricted", plain["verdict"][1]]
    assert got["error"].tolist()[:2] == [None, None]
    codes = [e.split(":")[0] for e in got["error"].tolist()[2:]]
    assert codes == ["bad-date", "bad-category", "same-state"]
    assert got["verdict"].tolist()[2:] == [None, None, None]
    # Arrow in, Arrow out, with the same rows; dates as Arrow dates
    table = pa.Table.from_pandas(as_text.assign(date=[dt.date(2023, 1, 30)] * 2), preserve_index=False)
    arrow = screen(table)
    assert arrow.schema.field("line").type == pa.int64() and arrow.schema.field("error").type == pa.string()
    assert arrow.to_pandas()["jurisdictions"].tolist() == plain["jurisdictions"].tolist()
    batches = list(screen.arrow_batches(table.to_batches()))
    assert sum(b.num_rows for b in batches) == 2
    with pytest.raises(ValueError, match="unknown column `price`"):
        screen(as_text.assign(price=1))
    with pytest.raises(ValueError, match="line 3: error\\[bad-date\\]"):
        FrameScreener(shipped, strict=True)(typed)


def test_partition_function_pickles_small_and_numbers_rows_from_first_line(shipped):
    screen = FrameScreener(shipped, first_line=7)
    blob = pickle.dumps(screen)
    assert len(blob) < len(pickle.dumps(shipped))  # the rulebase travels compressed
    again = pickle.loads(blob)
    frame = pd.DataFrame({"date": ["2023-01-30"], "exporter": ["KR"], "recipient": ["UA"], "item": ["ML3"]})
    assert again(frame).equals(screen(frame))
    assert screen(frame)["line"].tolist() == [7]


def test_batch_on_a_local_dask_cluster_reads_csv_like_policy_batch(runner, tmp_path):
    rows = transfers(300, seed=3)
    cols = ["id", "date", "exporter", "recipient", "item", "end_user", "lethal", "via"]
    text = ",".join(cols) + "\n"
    for d in rows:
        cells = [d.get(c) for c in cols]
        cells = [";".join(v) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v for v in cells]
        text += ",".join("" if v is None else str(v) for v in cells) + "\n"
    text += "7,2023-01-30,KR,UA\n"  # a short row
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    results = []
    for extra in (["--workers", "1"], ["--dask", "local:1"]):
        out = tmp_path / "out.csv"
        res = runner.invoke(app, ["batch", str(src), "-o", str(out), "--rules", RULES, *extra])
        results.append((res.exit_code, res.stderr, out.read_text(encoding="utf-8")))
    assert results[0][0] == 2 and "in.csv:302: error[bad-csv]" in results[0][1]
    assert results[1] == results[0]
    # the partition function on the same CSV read by pandas: the rows of `policy batch -o out.csv`
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    assert "".join(csv_lines(FrameScreener(first_line=2)(frame))) == results[0][2].split("\n", 1)[1]


def test_batch_on_dask_refuses_a_bad_or_unreachable_address_in_one_message(runner, tmp_path, monkeypatch):
    import policy.distributed

    src = tmp_path / "in.jsonl"
    src.write_text('{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}\n', encoding="utf-8")
    res = runner.invoke(app, ["batch", str(src), "--rules", RULES, "--dask", "somewhere"])
    assert res.exit_code == 2 and "is not a scheduler address" in res.stderr and "Traceback" not in res.output
    monkeypatch.setattr(policy.distributed, "CONNECT_TIMEOUT", "1s")
    res = runner.invoke(app, ["batch", str(src), "--rules", RULES, "--dask", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2 and res.stderr.startswith("error[dask-unreachable]: --dask: cannot reach the Dask")
    assert "Traceback" not in res.output


def test_the_spark_shapes_of_the_docs_give_the_partition_function_s_rows(shipped):
    """`mapInArrow` and `mapInPandas` (docs/distributed.md) call these with an iterator of batches or
    frames; Spark itself is not installed here (it is in no extra), the functions it calls are tested."""
    rows = transfers(2000, seed=23)
    frame = pd.DataFrame.from_records(rows, columns=["id", "date", "exporter", "recipient", "item", "end_user"])
    screen = FrameScreener(shipped)
    want = screen(frame)
    halves = [frame.iloc[:1000], frame.iloc[1000:]]
    arrow = [b.to_pandas() for b in screen.arrow_batches(pa.RecordBatch.from_pandas(h) for h in halves)]
    frames = list(screen.pandas_frames(iter(halves)))
    cols = ["id", "verdict", "jurisdictions", "deciding_rules"]
    got_arrow = pd.concat(arrow, ignore_index=True)[cols]
    got_pandas = pd.concat(frames, ignore_index=True)[cols]
    assert got_pandas.astype(str).equals(want[cols].astype(str))
    assert got_arrow.astype(str).equals(want[cols].astype(str))


def test_batch_on_dask_strict_stops_at_the_first_bad_line_and_writes_nothing(cluster, runner, tmp_path):
    src = tmp_path / "in.jsonl"
    good = '{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}\n'
    src.write_text(good * 2 + good.replace("KR", "Atlantis") + good, encoding="utf-8")
    results = []
    for extra in (["--workers", "1"], ["--dask", cluster.scheduler.address]):
        out = tmp_path / "out.jsonl"
        res = runner.invoke(app, ["batch", str(src), "-o", str(out), "--rules", RULES, "--strict", *extra])
        results.append((res.exit_code, res.stderr, out.exists()))
    assert results[0][0] == 2 and "in.jsonl:3:0: error[unknown-country]" in results[0][1] and not results[0][2]
    assert results[1] == results[0]

"""`policy batch` and `policy matrix`: same verdicts as one-by-one evaluation; bad lines reported."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.cli import app
from policy.eval.batch import CSV_FIELDS, BatchScreener
from policy.eval.engine import evaluate
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document

from .conftest import ROOT
from .test_compiled import random_scenarios


def test_batch_jsonl_matches_evaluate_and_reports_bad_lines(runner, shipped, tmp_path):
    scs = list(random_scenarios(shipped, 300, seed=3))
    lines = []
    for sc in scs:
        it = sc.items[0]
        d = {
            "id": sc.id,
            "date": sc.date.isoformat(),
            "exporter": sc.exporter,
            "recipient": sc.recipient,
            "end_user": sc.end_user,
            "transfer": sc.transfer,
            "item": it.id or it.category,
        }
        if it.id is None and it.lethal is not None:
            d["lethal"] = it.lethal
        if it.origin:
            d["origin"] = it.origin
        if it.licence_origin:
            d["licence"] = it.licence_origin
        if sc.transit:
            d["transit"] = sc.transit
        lines.append(json.dumps(d))
    lines.insert(5, '{"date": "2023-02-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}')
    lines.insert(9, "{broken")
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["batch", str(src), "-o", str(out), "--rules", str(ROOT / "rules"), "--workers", "1"])
    assert res.exit_code == 2
    assert "in.jsonl:6: error[bad-date]" in res.stderr and "in.jsonl:10: error[bad-json]" in res.stderr
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(scs)
    for rec, sc in zip(got, scs):
        plain = sc.model_copy(update={"assume": {}})
        assert rec["id"] == sc.id
        assert rec["verdict"] == evaluate(shipped, plain).verdict.value, sc


def test_batch_parallel_equals_serial_and_csv(runner, tmp_path):
    rows = [
        {
            "id": str(i),
            "date": f"20{10 + i % 15}-06-01",
            "exporter": ["KR", "DE", "NO", "CH"][i % 4],
            "recipient": ["UA", "PL", "SA", "KP", "RU"][i % 5],
            "item": ["ML3", "ML13", "155mm-shell"][i % 3],
        }
        for i in range(3000)
    ]
    src = tmp_path / "in.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "date", "exporter", "recipient", "item"])
        w.writeheader()
        w.writerows(rows)
    outs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.csv"
        res = runner.invoke(
            app, ["batch", str(src), "-o", str(out), "--rules", str(ROOT / "rules"), "--workers", workers]
        )
        assert res.exit_code == 0, res.output
        outs[workers] = out.read_text(encoding="utf-8")
    assert outs["1"] == outs["2"]
    parsed = list(csv.DictReader(io.StringIO(outs["1"])))
    assert len(parsed) == 3000 and parsed[0]["line"] == "2"


def test_batch_strict_stops_and_leaves_no_output(runner, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}\n'
        '{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML99"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["batch", str(src), "-o", str(out), "--strict", "--rules", str(ROOT / "rules")])
    assert res.exit_code == 2 and not out.exists()


def test_matrix_matches_evaluate(runner, shipped):
    res = runner.invoke(
        app,
        [
            "matrix",
            "--rules",
            str(ROOT / "rules"),
            "--exporters",
            "KR,DE,NO,CH,JP",
            "--recipients",
            "UA,PL,SA,TW",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
            "-f",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    grid = json.loads(res.stdout)["verdicts"]
    assert (
        grid["KR"]["UA"] == "restricted" and grid["CH"]["UA"] == "prohibited" and grid["KR"]["PL"] == "licence_required"
    )
    for e, row in grid.items():
        for r, v in row.items():
            data = {
                "id": "m",
                "title": "m",
                "date": "2023-01-30",
                "exporter": e,
                "recipient": r,
                "items": [{"category": "ML3"}],
            }
            assert v == evaluate(shipped, scenario_from_data(Document("m", data, None), shipped)).verdict.value
    md = runner.invoke(
        app,
        [
            "matrix",
            "--rules",
            str(ROOT / "rules"),
            "--exporters",
            "KR",
            "--recipients",
            "UA",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
            "-f",
            "markdown",
        ],
    ).stdout
    assert "| KR | `restricted` |" in md


def test_batch_cache_gives_uncached_results_on_every_date_boundary(shipped):
    """The cache key replaces the date by intervals: check it on each side of every date that matters."""
    import datetime as dt
    import random

    from policy.eval.batch import BatchScreener, LineChecker, screening_tail, transfer_scenario
    from policy.eval.compiled import Screener

    bs = BatchScreener(shipped)
    fresh = Screener(shipped)
    days: set[dt.date] = set()
    for cuts in list(bs.state_cuts.values()) + [bs.regime_cuts] + list(fresh.builder.breaks.values()):
        for d in cuts:
            days.update({d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)})
    days = {d for d in days if dt.date(1990, 1, 1) <= d <= dt.date(2030, 12, 31)}
    rng = random.Random(11)
    states = sorted(c for c, j in shipped.jurisdictions.items() if j.kind == "state")
    recipients = ["UA", "RU", "SA", "IL", "TW", "KP", "SO", "YE", "PL", "DE", "GB", "SE", "FI", "TR"]
    shapes = [
        {"item": "ML3"},
        {"item": "155mm-shell", "end_user": "police"},
        {"item": "ML13", "end_user": "government"},
        {"item": "ML2", "origin": "CH"},
        {"item": "ML6", "licence": "IL", "transfer": "re-export"},
        {"item": "ML4", "via": ["PL"]},
        {"item": "ML1", "transit": ["PL"], "transfer": "donation"},
        {"item": "f-35-parts"},
        {"item": "ML10"},
    ]
    checked = 0
    for day in sorted(days):
        for _ in range(3):
            line = {**rng.choice(shapes), "date": day.isoformat(), "exporter": rng.choice(states)}
            chain = [line["exporter"], *line.get("via", ()), *line.get("transit", ())]
            holders = {*chain, line.get("origin"), line.get("licence")}
            line["recipient"] = rng.choice([r for r in recipients if r not in holders])
            if len(set(chain)) < len(chain):
                continue
            t = LineChecker(shipped).check(line)
            assert bs.screen(t)[1] == screening_tail(fresh.screen(transfer_scenario(t.key))), line
            checked += 1
        # a rule that names a catalogue item: the category alone (screened first) must not answer for it
        for item in ({"item": "ML10", "lethal": True}, {"item": "f-35-parts"}):
            t = LineChecker(shipped).check({"date": day.isoformat(), "exporter": "NL", "recipient": "IL", **item})
            assert bs.screen(t)[1] == screening_tail(fresh.screen(transfer_scenario(t.key))), (day, item)
    assert checked > 1000 and len(bs.cache) < checked  # the cache was hit, and hits were checked


def test_batch_reports_lines_with_values_of_the_wrong_type(runner, tmp_path):
    """Every malformed value is a bad line with a message, never an internal error."""
    good = {"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}
    bad = [
        [1, 2],
        {**good, "date": 5},
        {**good, "exporter": ["KR"]},
        {**good, "via": 5},
        {**good, "transit": [1]},
        {**good, "via": {"PL": 1}},
        {**good, "lethal": [1]},
        {**good, "lethal": 1},
        {**good, "origin": 7},
        {**good, "end_user": ["x"]},
        {**good, "recipient": "KR"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in [good, *bad, good]) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(src), "--rules", str(ROOT / "rules"), "--workers", "1"])
    assert res.exit_code == 2, res.output
    assert "internal error" not in res.stderr
    assert res.stderr.count(": error[") == len(bad)
    assert [json.loads(x)["line"] for x in res.stdout.splitlines()] == [1, len(bad) + 2]


@pytest.fixture(scope="module")
def shipped_screener():
    from policy.load.loader import load_rulebase

    return BatchScreener(load_rulebase([str(ROOT / "rules")]))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_PLAUSIBLE = {
    "date": st.sampled_from(["2023-01-30", "2014-12-24", "2022-02-26", "2023-02-30", "1999-01-01", ""]),
    "exporter": st.sampled_from(["KR", "de", "NO", "CH", "PL", "US", "XX"]),
    "recipient": st.sampled_from(["UA", "PL", "KP", "SA", "IL", "ZZ"]),
    "item": st.sampled_from(["ML3", "ML13.c", "155mm-shell", "f-35-parts", "k9-howitzer", "ML99"]),
    "end_user": st.sampled_from(["military", "police", "non-state", "pirates"]),
    "transfer": st.sampled_from(["sale", "donation", "re-export", "theft"]),
    "origin": st.sampled_from(["KR", "CH", "DE", "ZZ"]),
    "licence": st.sampled_from(["IL", "US", "ZZ"]),
    "via": st.lists(st.sampled_from(["PL", "US", "DE", "ZZ"]), max_size=2) | st.just("PL;US"),
    "transit": st.lists(st.sampled_from(["PL", "AT"]), max_size=1),
    "lethal": st.sampled_from([True, False, None, "true", "FALSE", ""]),
}
_REQUIRED = ("date", "exporter", "recipient", "item")
_LINES = st.fixed_dictionaries(
    {k: _PLAUSIBLE[k] for k in _REQUIRED},
    optional={k: st.one_of(_PLAUSIBLE.get(k, st.nothing()), _JSON) for k in CSV_FIELDS if k not in _REQUIRED},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.one_of(_LINES, _LINES, _JSON))
def test_any_line_is_screened_or_reported_never_an_internal_error(shipped_screener, line):
    from policy.eval.batch import LineError

    try:
        t = shipped_screener.check(line)
    except LineError as exc:
        assert str(exc)
        return
    screening, tail = shipped_screener.screen(t)
    assert json.loads("{" + tail)["verdict"] == screening.verdict.value


def test_batch_reads_stdin_and_a_large_one_gives_the_file_s_output(runner, tmp_path):
    """stdin gives the same output as the file (a pipe is screened as it streams, in one process)."""
    line = '{{"id": {i}, "date": "20{y}-06-01", "exporter": "{e}", "recipient": "UA", "item": "ML3"}}\n'
    text = "".join(line.format(i=i, y=10 + i % 15, e=["KR", "DE", "NO", "CH"][i % 4]) for i in range(14_000))
    assert len(text) > 1 << 20
    src = tmp_path / "in.jsonl"
    src.write_text(text, encoding="utf-8")
    rules = ["--rules", str(ROOT / "rules")]
    from_file = runner.invoke(app, ["batch", str(src), *rules])
    from_stdin = runner.invoke(app, ["batch", "-", *rules], input=text)
    assert from_file.exit_code == from_stdin.exit_code == 0
    assert from_stdin.stdout == from_file.stdout and from_stdin.stdout.count("\n") == 14_000


def test_batch_reads_a_named_pipe_as_it_reads_a_file(runner, tmp_path):
    """A path that is not a regular file (a FIFO, `<(...)` in a shell) is streamed, not read by offset."""
    import os
    import threading

    lines = [
        json.dumps({"id": i, "date": "2023-01-30", "exporter": e, "recipient": r, "item": "ML3"})
        for i, (e, r) in enumerate([("KR", "UA"), ("DE", "PL"), ("NO", "SA"), ("CH", "UA")] * 500)
    ]
    text = "\n".join(lines) + "\n"
    (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(text, encoding="utf-8"))
    writer.start()
    piped = runner.invoke(app, ["batch", str(fifo), "-o", str(tmp_path / "piped.jsonl")])
    writer.join()
    assert piped.exit_code == 0, piped.output + piped.stderr
    plain = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "plain.jsonl")])
    assert plain.exit_code == 0
    assert (tmp_path / "piped.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()

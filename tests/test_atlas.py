"""The atlas: its rows agree with the explained engine (`policy what-if`), its intervals are maximal
and contiguous, its output is deterministic, and its HTML heatmap works in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import random

import pyarrow.parquet as pq  # noqa: E402
import pytest

from policy.analysis.atlas import OPEN, build_atlas, day_number
from policy.cli import app
from policy.eval.engine import evaluate
from policy.load.asked import WhatIf, build

from .browser import chromium
from .conftest import ROOT


@pytest.fixture(scope="module")
def whole(shipped):
    """The whole atlas of the shipped rules (every exporter, recipient, category, transfer, end user)."""
    return build_atlas(shipped)


def explained(base, row, day, lethal):
    q = WhatIf(
        exporter=row["exporter"],
        recipient=row["recipient"],
        item=[row["category"]],
        date=day.isoformat(),
        lethal=lethal,
        end_user=row["end_user"],
        transfer=row["transfer"],
    )
    d = evaluate(base, build(base, q))
    rules = sorted(
        {
            f.rule.id
            for j in d.deciding
            for f in j.findings
            if f.status in ("fired", "conflict") and f.effect_verdict == j.verdict
        }
    )
    return d.verdict.value, sorted({j.jurisdiction for j in d.deciding}), rules


def a_day_in(rng: random.Random, row) -> dt.date:
    """The interval's first day, its last, or a day between (open intervals: up to 3 years on)."""
    first = row["from"]
    last = row["until"] or max(first, dt.date(2026, 1, 1)) + dt.timedelta(days=3 * 365)
    pick = rng.choice(("first", "last", "between"))
    if pick == "first":
        return first
    if pick == "last":
        return last
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def test_rows_agree_with_what_if_on_a_seeded_sample(shipped, whole):
    assert whole.stats["rows"] == whole.rows > whole.stats["cells"] > 0
    rng = random.Random(19)
    for i in rng.sample(range(whole.rows), 1000):
        row = whole.row(i)
        day = a_day_in(rng, row)
        got = (row["verdict"], row["deciding"], row["deciding_rules"])
        assert got == explained(shipped, row, day, None), (row, day)


def test_intervals_are_contiguous_and_maximal(whole):
    start = day_number(whole.start_date)
    cells = set()
    prev, last_end, last_outcome = None, 0, -1
    for i in range(whole.rows):
        key = (int(whole.exporter[i]), int(whole.recipient[i]), int(whole.combo[i]))
        s, e, o = int(whole.start[i]), int(whole.end[i]), int(whole.outcome[i])
        if key != prev:
            assert key not in cells, key  # rows of a cell are together
            cells.add(key)
            assert s == start, key  # each cell starts on --from
        else:
            assert s == last_end + 1 and o != last_outcome, key  # contiguous; split only where it changes
        assert e == OPEN or e >= s
        prev, last_end, last_outcome = key, e, o
    assert len(cells) == whole.stats["cells"]


def test_both_lethalities_agree_with_what_if(shipped):
    part = build_atlas(
        shipped,
        dt.date(2014, 1, 1),
        dt.date(2024, 12, 31),
        exporters=["DE", "KR", "CH"],
        recipients=["UA", "RU", "SA", "IL", "VE", "PL"],
        both_lethalities=True,
    )
    assert {part.combos[int(c)].lethal for c in part.combo} == {True, False}
    rng = random.Random(7)
    for i in rng.sample(range(part.rows), 300):
        row = part.row(i)
        assert row["until"] is not None and row["until"] <= dt.date(2024, 12, 31)
        day = a_day_in(rng, row)
        got = (row["verdict"], row["deciding"], row["deciding_rules"])
        assert got == explained(shipped, row, day, row["lethal"]), (row, day)


SMALL = ["atlas", "--exporters", "KR,DE", "--recipients", "UA,PL,RU", "--from", "2021-06-01", "--to", "2023-06-30"]
SMALL += ["--categories", "ML3,ML13", "--rules", str(ROOT / "rules")]


def test_cli_small_range_in_every_format_and_deterministic(runner, tmp_path):
    outs = {}
    for name in ("a.parquet", "b.parquet", "a.csv", "a.jsonl"):
        res = runner.invoke(app, [*SMALL, "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert "rows (" in res.output
        outs[name] = (tmp_path / name).read_bytes()
    assert outs["a.parquet"] == outs["b.parquet"]  # byte-identical between runs
    table = pq.read_table(tmp_path / "a.parquet")
    csv_lines = outs["a.csv"].decode().splitlines()
    json_rows = [json.loads(line) for line in outs["a.jsonl"].decode().splitlines()]
    assert table.num_rows == len(csv_lines) - 1 == len(json_rows) > 0
    assert csv_lines[0] == ",".join(table.column_names)
    rows = table.to_pylist()
    for r, j in zip(rows, json_rows):
        assert j == {**r, "from": r["from"].isoformat(), "until": r["until"].isoformat()}
    assert {r["exporter"] for r in rows} == {"KR", "DE"} and {r["category"] for r in rows} == {"ML3", "ML13"}
    assert {r["transfer"] for r in rows} == {"sale", "donation", "loan", "re-export"}
    # Korea's lethal-arms policy: no 155 mm shells to Ukraine at war; Germany's 2022 turn is a split
    kr = [r for r in rows if r["exporter"] == "KR" and r["recipient"] == "UA" and r["category"] == "ML3"]
    assert all(r["verdict"] == "restricted" for r in kr)
    de = [
        r
        for r in rows
        if (r["exporter"], r["recipient"], r["category"], r["transfer"], r["end_user"])
        == ("DE", "UA", "ML3", "sale", "military")
    ]
    assert len(de) >= 2 and de[0]["from"] == dt.date(2021, 6, 1) and de[-1]["until"] == dt.date(2023, 6, 30)
    # the same rows printed to stdout
    res = runner.invoke(app, [*SMALL, "-f", "csv"])
    assert res.exit_code == 0 and res.stdout.encode() == outs["a.csv"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--exporters", "XX"], "unknown-country"),
        (["--exporters", "SA"], "no rule file encodes SA"),
        (["--categories", "ML99"], "not a category"),
        (["--transfer", "gift"], "bad-choice"),
        (["--from", "2024-01-01", "--to", "2023-01-01"], "bad-period"),
        (["-f", "parquet"], "Parquet is written to a file"),
        (["-f", "html", "--transfer", "sale,loan"], "one transfer kind"),
    ],
)
def test_cli_bad_options_are_one_clear_error(runner, args, message):
    res = runner.invoke(app, ["atlas", "--exporters", "KR", "--recipients", "UA", "-f", "csv", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


def test_html_heatmap_in_chromium(runner, tmp_path, shipped):
    out = tmp_path / "atlas.html"
    args = ["atlas", "--exporters", "DE,KR", "--recipients", "UA,PL,RU,SA", "--from", "2021-01-01"]
    res = runner.invoke(app, [*args, "--rules", str(ROOT / "rules"), "-f", "html", "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<caption" in html and "<thead>" in html
    assert "<link" not in html and not __import__("re").search(r"\ssrc=", html)
    again = runner.invoke(app, [*args, "--rules", str(ROOT / "rules"), "-f", "html"])
    assert again.stdout == html  # deterministic
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        for width in (1280, 390):
            page = browser.new_page(viewport={"width": width, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m, p=problems: p.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, p=problems: p.append(str(e)))
            page.on("request", lambda r, p=problems: None if r.url.startswith("file:") else p.append(r.url))
            page.goto(out.as_uri())
            assert problems == [], problems
            for sel in ("h1", "table.atlas", "#exporter", "#day", "ul.legend"):
                assert page.locator(sel).first.is_visible(), (width, sel)
            sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert sizes[0] <= sizes[1], (width, sizes)

            def cell(recipient: str, column: int, page=page) -> str:
                row = page.locator("table.atlas tbody tr", has=page.locator(f"th:text-is('{recipient}')"))
                return str(row.locator("td").nth(column).get_attribute("data-verdict"))

            # KR -> UA, ML3 (third column): restricted on any date; DE -> UA, ML3 changes in 2022
            page.select_option("#exporter", index=1)
            dates = page.evaluate("() => JSON.parse(document.getElementById('atlas-data').textContent).dates")
            assert cell("UA", 2) == "restricted"
            page.select_option("#exporter", index=0)
            seen = set()
            for k, day in enumerate(dates):
                page.eval_on_selector("#day", f"(el) => {{ el.value = {k}; el.dispatchEvent(new Event('input')); }}")
                assert page.locator("#day-label").text_content() == day
                got = cell("UA", 2)
                want = explained(
                    shipped,
                    {
                        "exporter": "DE",
                        "recipient": "UA",
                        "category": "ML3",
                        "end_user": "military",
                        "transfer": "sale",
                    },
                    dt.date.fromisoformat(day),
                    None,
                )[0]
                assert got == want, (day, got, want)
                seen.add(got)
            assert len(seen) >= 2
            assert problems == [], problems
            page.close()
        browser.close()

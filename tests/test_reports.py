"""Reports people read (issue 16): short answers, minimal and grounded diff regions, readable law changes."""

import itertools
import json
import random
import re

import pytest

from policy.analysis.cover import minimum_cover
from policy.cli import app

from .conftest import ROOT

KR_UA = ["--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]


def cli(runner, *args):
    res = runner.invoke(app, [*args, "--rules", str(ROOT / "rules")])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_what_if_short_answer_is_at_most_20_lines_and_says_who_decides(runner):
    text = cli(runner, "what-if", *KR_UA)
    lines = text.splitlines()
    assert len(lines) <= 20, text
    assert lines[0].startswith("RESTRICTED")
    kr = next(x for x in lines if x.strip().startswith("KR exporter"))
    # verdict, the deciding rule's title, its binding and its first citation, on one line
    assert "restricted" in kr and "No lethal arms to countries in active armed conflict" in kr
    assert "stated policy (not a statute)" in kr and "Government of the Republic of Korea" in kr
    assert "recipient.war_on_territory = true" in text and "russia-ukraine-2022" in text
    assert "does not apply" not in text and "\x1b[" not in text  # no colour when piped


def test_explain_gives_the_full_trace(runner):
    short = cli(runner, "what-if", *KR_UA)
    full = cli(runner, "what-if", *KR_UA, "--explain")
    assert len(full.splitlines()) > 3 * len(short.splitlines())
    for word in ("Verdict: RESTRICTED", "does not apply: att.art6.un-arms-embargo", "DEFEATED", "Facts used:"):
        assert word in full
    assert cli(runner, "what-if", *KR_UA, "-v") == full


def test_colour_only_when_forced_and_never_with_no_color(runner, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[31mRESTRICTED\x1b[0m" in cli(runner, "what-if", *KR_UA)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli(runner, "what-if", *KR_UA)


def test_json_stays_complete(runner):
    data = json.loads(cli(runner, "what-if", *KR_UA, "-f", "json"))
    kr = next(j for j in data["jurisdictions"] if j["jurisdiction"] == "KR")
    assert kr["not_applicable"] == ["kr.conflict.non-lethal-aid"] and kr["defeated"]


def test_re_export_short_answer_draws_the_chain(runner):
    text = cli(
        runner,
        "what-if",
        "--exporter",
        "DE",
        "--recipient",
        "UA",
        "--item",
        "ML3",
        "--date",
        "2023-01-30",
        "--transfer",
        "re-export",
        "--origin",
        "CH",
        "--via",
        "PL",
    )
    assert "chain: CH (original producer: prohibited) -> DE (exporter: licence_required)" in text
    assert "direct transfer from CH: prohibited" in text


@pytest.fixture(scope="module")
def date_diff():
    from typer.testing import CliRunner

    res = CliRunner().invoke(
        app,
        [
            "diff",
            str(ROOT / "rules"),
            "--at",
            "2022-02-01",
            "--vs",
            "2022-03-01",
            "--scenarios",
            str(ROOT / "scenarios" / "de"),
        ],
    )
    assert res.exit_code == 0, res.output
    return res.stdout


def _section(text: str, head: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(head))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start + 1 : end]


def test_date_diff_has_at_most_12_one_line_regions_and_italy_in_at_most_2(date_diff):
    regions = _section(date_diff, "Where verdicts change")
    assert 0 < len(regions) <= 12, regions
    assert all(re.match(r"  [-+~ ] [A-Z]{2}", x) and " -> " in x for x in regions)  # one line each
    italy = [x for x in regions if x[4:6] == "IT"]
    assert 1 <= len(italy) <= 2
    assert "IT as exporter or original producer" in italy[0]
    assert "prohibited or licence_required -> permitted" in italy[0] and "[loosening]" in italy[0]
    # Ukraine under a UN embargo cannot occur on these dates: no region speaks of it
    assert "recipient.under_embargo.UN" not in "\n".join(italy)


def test_grounded_section_names_real_pairs(date_diff):
    grounded = _section(date_diff, "In the world as it was")
    de = next(x for x in grounded if re.match(r"DE( as [^>]*)? -> UA:", x.strip()[2:]))
    assert "lethal items" in de and "restricted -> licence_required" in de and "[loosening]" in de
    no = next(x for x in grounded if re.match(r"NO( as [^>]*)? -> UA:", x.strip()[2:]))
    assert "lethal items, donations: restricted -> licence_required" in no
    assert re.search(r"\(\d+ of \d+ combinations\)", de)


def test_law_changes_are_readable_and_directed(date_diff):
    law = _section(date_diff, "What changed in the law")
    text = "\n".join(law)
    assert "- DE de.decision.2022-02-26-ukraine-self-defence comes into force [loosening]" in text
    assert "Government decision of 26 Feb 2022" in text and "in force from 2022-02-26" in text
    assert "+ UA ua.wartime.no-export-permits-2022 comes into force [tightening]" in text
    assert "cites Federal Government decision, 26 Feb 2022" in text


def test_space_all_keeps_the_abstract_view(runner):
    res = runner.invoke(
        app,
        [
            "diff",
            str(ROOT / "rules"),
            "--at",
            "2022-02-01",
            "--vs",
            "2022-03-01",
            "--space",
            "all",
            "--scenarios",
            str(ROOT / "scenarios" / "de"),
            "-f",
            "json",
        ],
    )
    data = json.loads(res.stdout)
    world = json.loads(
        runner.invoke(
            app,
            [
                "diff",
                str(ROOT / "rules"),
                "--at",
                "2022-02-01",
                "--vs",
                "2022-03-01",
                "--scenarios",
                str(ROOT / "scenarios" / "de"),
                "-f",
                "json",
            ],
        ).stdout
    )
    assert data["exhaustive"]["space"] == "all" and data["grounded"] is None
    assert data["exhaustive"]["combinations_checked"] > world["exhaustive"]["combinations_checked"]
    assert {r["jurisdiction"] for r in world["exhaustive"]["regions"]} <= {
        r["jurisdiction"] for r in data["exhaustive"]["regions"]
    }
    assert world["grounded"]["dates"] == ["2022-02-01", "2022-03-01"]


def test_rule_diff_grounds_on_the_given_date(runner):
    overlay = str(ROOT / "scenarios" / "what-if" / "kr-self-defence-exception.yaml")
    res = runner.invoke(
        app,
        [
            "diff",
            str(ROOT / "rules"),
            str(ROOT / "rules"),
            "--with",
            overlay,
            "--on",
            "2023-06-01",
            "--scenarios",
            str(ROOT / "scenarios" / "kr"),
            "-f",
            "json",
        ],
    )
    data = json.loads(res.stdout)
    rows = data["grounded"]["rows"]
    assert any(r["jurisdiction"] == "KR" and "UA" in r["recipients"] for r in rows)
    before = runner.invoke(
        app,
        [
            "diff",
            str(ROOT / "rules"),
            str(ROOT / "rules"),
            "--with",
            overlay,
            "--on",
            "2023-01-01",
            "--scenarios",
            str(ROOT / "scenarios" / "kr"),
            "-f",
            "json",
        ],
    )
    assert json.loads(before.stdout)["grounded"]["rows"] == []  # the exception starts on 2023-03-01


def test_minimum_cover_is_minimal_and_exact():
    rng = random.Random(7)
    for _ in range(80):
        sizes = [rng.randint(2, 3) for _ in range(2)] if rng.random() < 0.5 else [2, 2, 2]
        pts = list(itertools.product(*[range(n) for n in sizes]))
        on = {p for p in pts if rng.random() < 0.45}
        dc = {p for p in pts if p not in on and rng.random() < 0.2}
        cover = minimum_cover(on, dc, sizes)
        got = {q for c in cover for q in itertools.product(*c)}
        assert on <= got <= on | dc
        # brute force: no set of one cube fewer covers the points (a smaller cover, padded, would be one)
        subsets = [[frozenset(s) for r in range(1, n + 1) for s in itertools.combinations(range(n), r)] for n in sizes]
        cubes = [c for c in itertools.product(*subsets) if set(itertools.product(*c)) <= on | dc]
        if cover:
            for combo in itertools.combinations(cubes, len(cover) - 1):
                assert not on <= {q for c in combo for q in itertools.product(*c)}, (on, dc, cover, combo)


def test_reports_are_byte_identical_run_to_run(runner, tmp_path):
    for args in (
        ["what-if", *KR_UA, "-f", "html"],
        [
            "timeline",
            "--exporter",
            "DE",
            "--recipient",
            "UA",
            "--item",
            "ML6",
            "--from",
            "2021-01-01",
            "--to",
            "2024-12-31",
            "-f",
            "html",
        ],
    ):
        assert cli(runner, *args) == cli(runner, *args)


def test_output_file_is_written_atomically_and_nothing_printed(runner, tmp_path):
    out = tmp_path / "w.md"
    assert cli(runner, "what-if", *KR_UA, "-f", "markdown", "-o", str(out)) == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# What if South Korea transfers ML3 to Ukraine?") and "| KR Republic of Korea |" in text


def test_timeline_markdown_is_markdown(runner):
    text = cli(
        runner,
        "timeline",
        "--exporter",
        "DE",
        "--recipient",
        "UA",
        "--item",
        "ML6",
        "--from",
        "2021-01-01",
        "--to",
        "2024-12-31",
        "-f",
        "markdown",
    )
    assert text.startswith("# Timeline") and "| 2022-02-26 | `licence_required` |" in text


def test_matrix_writes_markdown_and_html_files(runner, tmp_path):
    args = ["matrix", "--exporters", "KR,DE", "--recipients", "UA,PL", "--item", "ML3", "--date", "2023-01-30"]
    assert cli(runner, *args, "-f", "html", "-o", str(tmp_path / "m.html")) == ""
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert 'class="c-restricted"' in page and "<thead>" in page and "<caption>" in page
    assert cli(runner, *args, "-f", "markdown").startswith("Verdicts for `ML3` on 2023-01-30")


def test_html_is_autoescaped(runner, tmp_path):
    sc = tmp_path / "x.yaml"
    src = (ROOT / "scenarios" / "kr" / "kr-ua-155mm-2023.yaml").read_text(encoding="utf-8")
    sc.write_text(re.sub(r"(?m)^title: .*$", "title: '<script>alert(1)</script>'", src), encoding="utf-8")
    page = cli(runner, "evaluate", str(sc), "-f", "html")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "args,first",
    [
        (["facts", "UA", "--date", "2023-01-30"], "# UA Ukraine on 2023-01-30"),
        (["facts"], "# World datasets"),
        (["lint", "--today", "2025-01-01"], "# Lint"),
        (["sources", str(ROOT / "rules")], "# Sources by tier"),
    ],
)
def test_listing_commands_speak_markdown(runner, args, first):
    extra = ["--rules", str(ROOT / "rules")] if args[0] == "facts" else []
    res = runner.invoke(app, [*args, "-f", "markdown", *extra])
    assert res.stdout.startswith(first + "\n"), res.output
    assert "\n|---|" in res.stdout


def test_citations_in_text_reports_are_the_json_output_contracts(shipped):
    """Text reports read a rule's citations as plain data, built without the output models; it must be
    exactly what the JSON report's CitationOut dumps, for every cited rule of the shipped rules."""
    from policy.model.results import CitationOut
    from policy.render.report import first_citation

    seen = 0
    for code, jf in shipped.jurisdictions.items():
        for rule in jf.rules:
            data = first_citation(shipped, code, rule)
            if data is None:
                continue
            assert list(data) == list(CitationOut.model_fields)
            assert CitationOut(**data).dump() == data
            seen += 1
    assert seen > 100

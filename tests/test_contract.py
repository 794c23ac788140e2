"""One transfer contract: the same input gives the same verdict or error code through every entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from policy.cli import app

from .conftest import ROOT

GOOD = {"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3"}

# (what changes from GOOD, the error code it must give, or None when the verdict must equal the plain one's)
TABLE = [
    ({"exporter": "Germany"}, None),
    ({"exporter": "germany"}, None),
    ({"exporter": "Korea, South"}, None),
    ({"recipient": "Türkiye"}, None),
    ({"recipient": "Turkiye"}, None),
    ({"recipient": "Cote d'Ivoire"}, None),
    ({"item": "ml3"}, None),
    ({"item": "ML10.A"}, None),
    ({"item": "155MM-SHELL"}, None),
    ({"date": "2023-W05-1"}, "bad-date"),
    ({"date": "20230130"}, "bad-date"),
    ({"date": "2023-02-30"}, "bad-date"),
    ({"date": ""}, "bad-date"),
    ({"item": "ML3\n"}, "bad-category"),
    ({"item": "ML99"}, "bad-category"),
    ({"item": "no-such-thing"}, "unknown-item"),
    ({"exporter": "Atlantis"}, "unknown-country"),
    ({"recipient": "KR"}, "same-state"),
    ({"end_user": "army"}, "bad-choice"),
    ({"lethal": "yes"}, "bad-boolean"),
]


def _expected_codes(fields: dict) -> dict:
    """Normalised fields for the reference answer (the plain codes)."""
    return fields


def _what_if(runner, t: dict):
    args = ["what-if", "--exporter", t["exporter"], "--recipient", t["recipient"], "--item", t["item"]]
    args += ["--date", t["date"], "--rules", str(ROOT / "rules"), "-f", "json"]
    if "end_user" in t:
        args += ["--end-user", t["end_user"]]
    if "lethal" in t:
        if t["lethal"] not in ("true", "false", True, False):
            return None  # the command line has no way to say `lethal: yes`: --lethal is a flag
        args.append("--lethal" if t["lethal"] in ("true", True) else "--non-lethal")
    res = runner.invoke(app, args)
    return _answer(res, lambda out: json.loads(out)["verdict"])


def _scenario(runner, t: dict, tmp_path):
    item = {"category": t["item"]} if t["item"][:2].upper() == "ML" else {"id": t["item"]}
    if "lethal" in t:
        item["lethal"] = t["lethal"]
    data = {
        "id": "s",
        "title": "t",
        "date": t["date"],
        "exporter": t["exporter"],
        "recipient": t["recipient"],
        "items": [item],
    }
    if "end_user" in t:
        data["end_user"] = t["end_user"]
    f = tmp_path / "s.yaml"
    f.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML: every value arrives as the same string
    res = runner.invoke(app, ["evaluate", str(f), "--rules", str(ROOT / "rules"), "-f", "json"])
    return _answer(res, lambda out: json.loads(out)["verdict"])


def _batch(runner, t: dict, tmp_path, fmt: str):
    f = tmp_path / f"in.{fmt}"
    if fmt == "jsonl":
        f.write_text(json.dumps(t) + "\n", encoding="utf-8")
    else:
        cols = list(t)
        cells = ['"' + str(t[c]).replace('"', '""') + '"' for c in cols]
        f.write_text(",".join(cols) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(f), "--rules", str(ROOT / "rules")])
    return _answer(res, lambda out: json.loads(out.splitlines()[0])["verdict"])


def _answer(res, verdict_of):
    if res.exit_code == 0:
        return ("verdict", verdict_of(res.stdout))
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    codes = [part.split("]")[0] for part in res.stderr.split("error[")[1:]]
    return ("error", codes[0] if codes else None)


@pytest.mark.parametrize("change,code", TABLE, ids=[json.dumps(c) for c, _ in TABLE])
def test_same_answer_through_every_entry_point(change, code, runner, tmp_path):
    t = {**GOOD, **change}
    answers = {
        "what-if": _what_if(runner, t),
        "scenario": _scenario(runner, t, tmp_path),
        "batch-jsonl": _batch(runner, t, tmp_path, "jsonl"),
    }
    if "\n" not in t["item"]:  # a CSV row is one line: a newline inside a cell is refused as bad CSV
        answers["batch-csv"] = _batch(runner, t, tmp_path, "csv")
    answers = {k: v for k, v in answers.items() if v is not None}
    if code is None:
        plain = _what_if(runner, {**GOOD, **{k: v for k, v in change.items() if k == "item" and v.startswith("155")}})
        assert set(answers.values()) == {plain} or len(set(answers.values())) == 1, answers
        assert all(kind == "verdict" for kind, _ in answers.values()), answers
    else:
        assert set(answers.values()) == {("error", code)}, answers


def test_germany_and_de_give_the_same_verdict(runner, tmp_path):
    de = _what_if(runner, {**GOOD, "exporter": "DE", "item": "ML3"})
    assert de == _what_if(runner, {**GOOD, "exporter": "Germany", "item": "ml3"})
    assert de == _scenario(runner, {**GOOD, "exporter": "Germany", "item": "ml3"}, tmp_path)
    assert de == _batch(runner, {**GOOD, "exporter": "Germany", "item": "ml3"}, tmp_path, "jsonl")


def test_scenario_shaped_batch_line_matches_the_scenario(runner, tmp_path):
    """A batch line may carry `items` with origin and components, as a scenario file does."""
    line = {
        "id": 7,
        "date": "2023-01-30",
        "exporter": "DE",
        "recipient": "UA",
        "items": [{"category": "ML6", "lethal": True, "origin": "CH"}],
    }
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps(line) + "\n" + json.dumps(GOOD) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(f), "--rules", str(ROOT / "rules")])
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout.splitlines()[0])
    sc = {k: v for k, v in line.items() if k != "id"} | {"id": "s", "title": "t"}
    (tmp_path / "s.yaml").write_text(json.dumps(sc), encoding="utf-8")
    ev = runner.invoke(app, ["evaluate", str(tmp_path / "s.yaml"), "--rules", str(ROOT / "rules"), "-f", "json"])
    decision = json.loads(ev.stdout)
    assert first["id"] == 7 and first["verdict"] == decision["verdict"]
    assert "CH/original-producer" in first["jurisdictions"]


def test_csv_with_bom_and_unclosed_quote_accounts_for_every_line(runner, tmp_path):
    rows = [
        "\ufeffid,date,exporter,recipient,item",
        'a,2023-01-30,"KR,UA,ML3',  # unclosed quote: this line only is bad
        "b,2023-01-30,KR,PL,ML3",
        "c,2023-01-30,DE,UA,ML3",
        "",
        "d,2023-01-30,NO,UA,ML3",
    ]
    f = tmp_path / "in.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(f), "--rules", str(ROOT / "rules")])
    assert res.exit_code == 2
    assert "in.csv:2: error[bad-csv]" in res.stderr
    assert [json.loads(x)["id"] for x in res.stdout.splitlines()] == ["b", "c", "d"]
    assert "5 lines read: 3 screened, 1 bad, 1 blank" in res.stderr


def test_strict_reports_the_first_bad_line_once(runner, tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps({**GOOD, "item": "ML99"}) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["batch", str(f), "--strict", "--rules", str(ROOT / "rules")])
    assert res.exit_code == 2 and res.stderr.count("ML99") == 1, res.stderr


def _big_input(tmp_path, lines: int = 400_000):
    f = tmp_path / "big.jsonl"
    states = ["DE", "FR", "PL", "UA", "KR", "NO", "SE", "IT"]
    with open(f, "w", encoding="utf-8") as fh:
        for i in range(lines):
            e, r = states[i % 8], states[(i * 3 + 1) % 8]
            if e == r:
                r = "US"
            fh.write(
                json.dumps(
                    {
                        "id": i,
                        "date": f"20{10 + i % 14}-0{1 + i % 9}-1{i % 10}",
                        "exporter": e,
                        "recipient": r,
                        "item": f"ML{1 + i % 22}",
                    }
                )
                + "\n"
            )
    return f


def _interrupt_once_writing(proc, folder) -> None:
    """SIGINT to the whole process group (as a terminal does) once output has started."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.name.startswith(".out") and p.stat().st_size > 0 for p in folder.iterdir()):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)


def test_ctrl_c_during_batch_exits_130_with_one_line_and_no_temp_file(tmp_path):
    src = _big_input(tmp_path)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy", "batch", str(src), "-o", str(out), "--rules", str(ROOT / "rules")],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _interrupt_once_writing(proc, tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.strip().splitlines()[-1].startswith("interrupted: ") and "no output written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


def test_ctrl_c_with_partial_writes_the_finished_prefix(tmp_path):
    src = _big_input(tmp_path)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policy",
            "batch",
            str(src),
            "-o",
            str(out),
            "--partial",
            "--rules",
            str(ROOT / "rules"),
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _interrupt_once_writing(proc, tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and [json.loads(x)["line"] for x in lines] == list(range(1, len(lines) + 1))
    assert f"interrupted: {len(lines)} of" in err


def test_a_pipe_streams_line_by_line(tmp_path):
    """With a slow producer, each answer comes before the next line is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "policy", "batch", "-", "--rules", str(ROOT / "rules")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        for i in range(3):
            proc.stdin.write(json.dumps({**GOOD, "id": i}) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())  # blocks until this line is answered
            assert answer["id"] == i and answer["verdict"] == "restricted"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "name,code",
    [
        ("Korea, South", "KR"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Türkiye", "TR"),
        ("Deutschland", "DE"),
        ("Corée du Sud", "KR"),
        ("Soviet Union", "SU"),
        ("Yugoslavia", "YU"),
        ("Czechoslovakia", "CS"),
    ],
)
def test_country_names_as_sipri_the_un_and_other_languages_write_them(name, code):
    from policy.model.contract import read_country

    assert read_country(name) == code


def test_lang_shows_country_names_in_another_language(runner):
    args = ["--lang", "de", "what-if", "--exporter", "DE", "--recipient", "KR", "--item", "ML3", "--date", "2023-01-30"]
    res = runner.invoke(app, [*args, "--rules", str(ROOT / "rules")])
    assert res.exit_code == 0 and "Deutschland" in res.stdout and "Südkorea" in res.stdout
    plain = runner.invoke(app, [*args[2:], "--rules", str(ROOT / "rules")])
    assert "Deutschland" not in plain.stdout  # each run starts in English
    bad = runner.invoke(app, ["--lang", "xx", "items", "--rules", str(ROOT / "rules")])
    assert bad.exit_code == 2 and "error[unknown-language]" in bad.stderr

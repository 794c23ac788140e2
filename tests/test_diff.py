"""Policy diffs: overlays, two dates, symmetry, formats, exit codes, timelines."""

import json
import subprocess

from policy.analysis.diff import Side, exhaustive
from policy.cli import app
from policy.load.overlays import apply_overlays

from .conftest import ROOT, write

KR_OVERLAY = str(ROOT / "scenarios" / "what-if" / "kr-self-defence-exception.yaml")


def run_diff(runner, *args):
    return runner.invoke(app, ["diff", *args, "--scenarios", str(ROOT / "scenarios")])


def test_korea_overlay_regions_exactly_korea(shipped):
    new = apply_overlays(shipped, [KR_OVERLAY])
    regions, total, affected = exhaustive(Side("old", shipped), Side("new", new))
    assert affected == ["KR"] and total > 0
    assert {(r.jurisdiction, r.old, r.new) for r in regions} == {("KR", "restricted", "licence_required")}
    for r in regions:
        assert "recipient.self_defence" in r.condition and "item.lethal" in r.condition
        assert "from 2023-03-01" in r.condition
        assert r.example["recipient.self_defence"] is True and r.example["date"] == "2023-03-01"


def test_diff_is_symmetric(shipped):
    new = apply_overlays(shipped, [KR_OVERLAY, str(ROOT / "scenarios/what-if/ch-lex-ukraine.yaml")])
    ab, _, _ = exhaustive(Side("a", shipped), Side("b", new))
    ba, _, _ = exhaustive(Side("b", new), Side("a", shipped))
    assert sorted((r.jurisdiction, r.role, r.condition, r.old, r.new, r.count) for r in ab) == sorted(
        (r.jurisdiction, r.role, r.condition, r.new, r.old, r.count) for r in ba
    )
    assert ab


def test_identical_sides_no_change_exit_0_even_with_fail_on_change(runner):
    res = run_diff(runner, str(ROOT / "rules"), str(ROOT / "rules"), "--fail-on-change", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["changed"] is False and data["exhaustive"]["regions"] == [] and data["rules"] == []


def test_overlay_diff_fail_on_change_exits_1_in_every_format(runner, tmp_path):
    outputs = {}
    for fmt in ("text", "markdown", "html", "json"):
        out = tmp_path / f"report.{fmt}"
        res = run_diff(
            runner,
            str(ROOT / "rules"),
            str(ROOT / "rules"),
            "--with",
            KR_OVERLAY,
            "-f",
            fmt,
            "-o",
            str(out),
            "--fail-on-change",
        )
        assert res.exit_code == 1, res.output
        outputs[fmt] = out.read_text(encoding="utf-8")
    for fmt, text in outputs.items():
        assert "kr.whatif.self-defence-exception" in text, fmt
        assert "restricted" in text and "licence_required" in text
    page = outputs["html"]
    assert page.startswith("<!doctype html>") and "<table" in page and "<thead>" in page
    data = json.loads(outputs["json"])
    assert data["exhaustive"]["combinations_checked"] > 0
    assert {r["jurisdiction"] for r in data["exhaustive"]["regions"]} == {"KR"}


def test_output_is_deterministic(runner):
    a = run_diff(runner, str(ROOT / "rules"), str(ROOT / "rules"), "--with", KR_OVERLAY, "-f", "json").stdout
    b = run_diff(runner, str(ROOT / "rules"), str(ROOT / "rules"), "--with", KR_OVERLAY, "-f", "json").stdout
    assert a == b


def test_two_dates_show_germany_and_norway_revisions(runner):
    res = run_diff(runner, str(ROOT / "rules"), "--at", "2022-02-01", "--vs", "2022-03-01", "-f", "json")
    data = json.loads(res.stdout)
    added = {c["rule"] for c in data["rules"] if c["change"] == "added"}
    assert {"de.decision.2022-02-26-ukraine-self-defence", "no.decision.2022-02-28-donations-to-ukraine"} <= added
    changed = {s["scenario"] for s in data["scenarios"]["changed"]}
    assert "de-ua-lethal-2022-01" in changed
    assert any(w["entry"] == "russia-ukraine-2022" for w in data["world"])
    regions = {r["jurisdiction"] for r in data["exhaustive"]["regions"]}
    assert {"DE", "NO"} <= regions


def test_timeline_germany_ukraine_changes_on_revision_date(runner):
    res = runner.invoke(
        app,
        [
            "timeline",
            "--rules",
            str(ROOT / "rules"),
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
            "json",
        ],
    )
    rows = json.loads(res.stdout)
    assert [(r["date"], r["verdict"]) for r in rows] == [
        ("2021-01-01", "restricted"),
        ("2022-02-26", "licence_required"),
    ]
    assert rows[1]["rules"] == ["de.decision.2022-02-26-ukraine-self-defence starts"]


def test_git_revision_side(runner, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "rules").mkdir(parents=True)
    src = (ROOT / "rules" / "kr.yaml").read_text(encoding="utf-8")
    (repo / "rules" / "kr.yaml").write_text(src, encoding="utf-8")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    (repo / "rules" / "kr.yaml").write_text(
        src.replace("effect: restricted", "effect: licence_required", 1), encoding="utf-8"
    )
    monkeypatch.chdir(repo)
    (tmp_path / "none").mkdir()
    res = runner.invoke(app, ["diff", "git:HEAD", "rules", "-f", "json", "--scenarios", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    [change] = data["rules"]
    assert change["rule"] == "kr.conflict.no-lethal-to-belligerents" and "effect" in change["fields"]


def test_bad_overlay_names_file_and_line(runner, tmp_path):
    write(
        tmp_path,
        "o.yaml",
        """
        format: policy-overlay/v1
        id: bad
        title: t
        changes:
          KR:
            disable: [kr.no.such-rule]
    """,
    )
    res = runner.invoke(
        app,
        [
            "what-if",
            "--rules",
            str(ROOT / "rules"),
            "--with",
            str(tmp_path / "o.yaml"),
            "--exporter",
            "KR",
            "--recipient",
            "UA",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
        ],
    )
    assert res.exit_code == 2
    assert "o.yaml:6:" in res.stderr and "[unknown-rule]" in res.stderr


def test_rows_with_the_same_rule_states_are_judged_once_and_alike(shipped):
    """The exhaustive diff judges one row per distinct state of the rules (by column): every row
    of a shipped jurisdiction's grid gets what the scalar path gives that row itself."""
    import datetime as dt

    import numpy as np

    from policy.analysis import diff as d
    from policy.eval.compiled import compile_file

    groups = shipped.world.group_kinds()
    judged = total = 0
    for code in ("DE", "FR", "UN"):
        jf = shipped.jurisdictions[code]
        cj = compile_file(jf, groups)
        dims = d.fact_dims([jf], groups, with_date=True)
        g = d._Grid(dims, code if jf.kind == "state" else None)
        rows = np.flatnonzero(g.possible())
        roles = d._roles([jf])
        which, results = d._side_verdicts(g, rows, cj, jf, dt.date(2000, 1, 1), roles, groups)
        judged, total = judged + len(results[roles[0]]), total + len(rows)
        for k in range(0, len(rows), 7):
            facts = g.facts(int(rows[k]))
            for role in roles:
                assert results[role][which[k]] == d._judged(cj, role, facts, facts["date"]), (code, facts, role)
    assert judged < total / 4  # far fewer judged than rows

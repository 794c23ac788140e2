"""`policy why-not`: minimal change sets, checked against `what-if`, minimality, dates, overlays, the matrix."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

import policy
from policy.analysis.diff import timeline
from policy.analysis.whynot import (
    LawChange,
    WhyNot,
    _screener_for,
    apply_changes,
    emit_overlays,
    law_base,
    what_if_args,
    why_not,
)
from policy.cli import app
from policy.eval.compiled import Screener
from policy.eval.engine import evaluate
from policy.load.asked import WhatIf, build
from policy.load.overlays import apply_overlays
from policy.load.scenarios import load_scenario
from policy.model import Verdict

from .conftest import ROOT, write

KR_UA = ("KR", "UA", "ML3", "2023-01-30")
DE_UA = ("DE", "UA", "ML3", "2022-01-15")
KR_KP = ("KR", "KP", "ML3", "2023-01-30")
SCENARIOS = [KR_UA, DE_UA, KR_KP, ("JP", "UA", "ML13", "2022-01-15")]


def ask(base, exporter, recipient, item, date, **kw):
    return build(base, WhatIf(exporter=exporter, recipient=recipient, item=[item], date=date, **kw))


@pytest.fixture(scope="module")
def answers(shipped):
    """why-not for each scenario (recipients left out: they are checked once, in the KR case)."""
    kinds = ("transfer", "date", "world", "law")
    return {s: (ask(shipped, *s), why_not(shipped, ask(shipped, *s), kinds=kinds)) for s in SCENARIOS}


def reaches(verdict: Verdict, target: Verdict) -> bool:
    return verdict.severity <= target.severity


# ------------------------------------------------------------------ the must-show cases


def test_korea_ukraine_one_change_answers(shipped):
    w = why_not(shipped, ask(shipped, *KR_UA))
    assert w.verdict is Verdict.restricted and w.target is Verdict.licence_required
    ones = [a for a in w.answers if a.size == 1]
    changes = [(c.kind, c.fact, c.value) for a in ones for alt in a.alternatives for c in alt.changes]
    assert ("transfer", "item.lethal", False) in changes
    assert ("world", "recipient.in_armed_conflict", False) in changes
    laws = [c for a in ones for alt in a.alternatives for c in alt.changes if c.kind == "law"]
    dropped = next(c for c in laws if c.action == "disable")
    assert dropped.rule == "kr.conflict.no-lethal-to-belligerents" and dropped.binding == "stated_policy"
    assert "the government can change it" in dropped.text
    like = [c for c in laws if c.action == "exception"]
    assert "de.decision.2022-02-26-ukraine-self-defence" in {c.like for c in like}
    assert any(c.kind == "recipient" and c.value == "US" for a in ones for alt in a.alternatives for c in alt.changes)
    non_lethal = next(a for a in ones if a.changes[0].fact == "item.lethal")
    assert non_lethal.deciding[0].id == "kr.conflict.non-lethal-aid"
    assert non_lethal.deciding[0].citations and non_lethal.deciding[0].citations[0].url
    # sizes ascending, and within a size the kinds in the order transfer, date, world, law, recipient
    order = ["transfer", "date", "world", "law", "recipient"]
    keys = [(a.size, [order.index(k) for k in a.kinds]) for a in w.answers]
    assert keys == sorted(keys)
    assert w.searched.exhaustive and "every set of up to 2 changes" in w.searched.note


def test_the_summary_fact_is_preferred_when_it_does_the_same(shipped):
    w = why_not(shipped, ask(shipped, *KR_UA), kinds="world")
    facts = [[c.fact for c in a.changes] for a in w.answers]
    assert ["recipient.in_armed_conflict"] in facts
    assert ["recipient.war_on_territory"] not in facts  # KR's rule reads it, but the summary reads better


def test_germany_ukraine_names_the_earliest_date(shipped, answers):
    sc, w = answers[DE_UA]
    dates = [a.changes[0].value for a in w.answers if a.kinds == ["date"]]
    assert dates[0] == "2022-02-26"
    assert "earliest" in w.answers[[a.kinds for a in w.answers].index(["date"])].changes[0].text
    # the same day the timeline gives: the first change after the date to a verdict at or below the target
    rows = timeline(shipped, sc, sc.date, dt.date(2030, 1, 1))
    first = next(d for d, v, _, _ in rows if d > sc.date and reaches(v, w.target))
    assert first.isoformat() == "2022-02-26"
    # and the latest day before it with such a verdict: the day before the 2014 war began
    assert [d for d in dates if d < sc.date.isoformat()] == ["2014-02-25"]


def test_un_embargo_no_transfer_change_reaches_and_the_embargo_is_named(shipped, answers):
    _, w = answers[KR_KP]
    assert w.verdict is Verdict.prohibited and w.target is Verdict.restricted
    assert not any(a.kinds == ["transfer"] for a in w.answers)
    [blocked] = [b for b in w.blocked if b.kind == "transfer"]
    assert blocked.text.startswith("No change to the transfer itself")
    assert "un.embargo.security-council-arms-embargo" in {r.id for r in blocked.rules}
    assert "un-dprk-2016" in blocked.text and "only the Council can lift it" in blocked.text


def test_nothing_within_the_bound_is_said_plainly(shipped):
    w = why_not(shipped, ask(shipped, *KR_KP), kinds="transfer", max_changes=1)
    assert w.answers == []
    assert w.summary.startswith("Nothing within 1 change gives `restricted`")
    assert w.blocked[0].text.startswith("No change to the transfer itself (item, lethality")


# ------------------------------------------------------------------ every answer, checked


def _kind_sets(w: WhyNot):
    for a in w.answers:
        for alt in a.alternatives:
            yield a, alt


def test_every_answer_is_minimal(shipped, answers):
    """No proper subset of a reported set gives the target (checked with the explained engine)."""
    checked = 0
    for sc, w in answers.values():
        for _, alt in _kind_sets(w):
            for k in range(1, len(alt.changes)):
                for sub in itertools.combinations(alt.changes, k):
                    b, s = apply_changes(shipped, sc, list(sub))
                    assert not reaches(evaluate(b, s).verdict, w.target), (sc.exporter, sub)
                    checked += 1
            b, s = apply_changes(shipped, sc, alt.changes)
            assert evaluate(b, s).verdict is alt.verdict
            assert reaches(alt.verdict, w.target)
        # the search did not stop early: the original transfer itself does not reach the target
        assert not reaches(w.verdict, w.target)
    assert checked > 10


def _what_if(runner, args):
    res = runner.invoke(app, ["what-if", "--rules", str(ROOT / "rules"), "-f", "json", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["verdict"]


def test_every_answer_applied_with_what_if_gives_its_verdict(shipped, answers, runner, tmp_path):
    """Each answer's `what-if` arguments (and emitted overlay) give the verdict it claims."""
    ran = 0
    for n, s in enumerate((KR_UA, DE_UA, KR_KP)):
        w = answers[s][1]
        emit_overlays(w, shipped, str(tmp_path / f"ov{n}"))
        for a in w.answers:
            alt = a.alternatives[0]  # the others are checked with the engine in the minimality test
            assert alt.what_if is not None
            if alt.overlay is not None:
                assert alt.overlay_file and "--with" in alt.what_if
            assert _what_if(runner, alt.what_if) == alt.verdict.value, alt.what_if
            ran += 1
    assert ran > 20


def test_other_recipients_are_checked_by_what_if(shipped, runner):
    w = why_not(shipped, ask(shipped, *KR_UA), kinds="recipient")
    [a] = [a for a in w.answers if a.verdict is Verdict.licence_required]
    us = next(alt for alt in a.alternatives if alt.changes[0].value == "US")
    assert us.what_if[us.what_if.index("--recipient") + 1] == "US"
    assert _what_if(runner, us.what_if) == "licence_required"
    assert all(c.kind != "recipient" or len(alt.changes) == 1 for _, alt in _kind_sets(w) for c in alt.changes)


def test_what_if_args_round_trip(shipped):
    sc = ask(shipped, "DE", "UA", "155mm-shell", "2022-03-15", transfer="donation", via=["PL"], end_user="government")
    args = what_if_args(sc)
    assert args[:4] == ["--exporter", "DE", "--recipient", "UA"]
    assert ["--via", "PL"] == args[args.index("--via") : args.index("--via") + 2]
    back = build(
        shipped,
        WhatIf(
            exporter="DE",
            recipient="UA",
            item=["155mm-shell"],
            date="2022-03-15",
            lethal=True,
            end_user="government",
            transfer="donation",
            via=["PL"],
        ),
    )
    assert evaluate(shipped, back).verdict is evaluate(shipped, sc).verdict


# ------------------------------------------------------------------ law: screening and overlays


def test_law_screener_agrees_with_a_fresh_screener(shipped):
    sc = ask(shipped, *DE_UA)
    base_s = Screener(shipped)
    changes = [
        (LawChange("disable", "DE", "de.principles.no-exports-to-armed-conflict"),),
        (
            LawChange(
                "exception", "DE", "de.principles.no-exports-to-armed-conflict", "KR", "kr.conflict.non-lethal-aid"
            ),
        ),
        (
            LawChange("disable", "ATT", "att.art7.export-assessment"),
            LawChange("disable", "UN", "un.embargo.security-council-arms-embargo"),
        ),
    ]
    for laws in changes:
        lb = law_base(shipped, laws)
        fast = _screener_for(base_s, lb, {c.code for c in laws})
        for day in ("2021-06-01", "2022-03-01", "2024-01-01"):
            s = sc.model_copy(update={"date": dt.date.fromisoformat(day)})
            assert fast.screen(s) == Screener(lb).screen(s)
            assert fast.screen(s).verdict is evaluate(lb, s).verdict


def test_disabling_a_rule_an_exception_names_writes_a_valid_overlay(shipped, tmp_path, runner):
    """Germany's 2022 decision is an exception to the Principles: dropping them replaces the decision too."""
    w = why_not(shipped, ask(shipped, *DE_UA), kinds="law", max_changes=1)
    files = emit_overlays(w, shipped, str(tmp_path))
    [dropped] = [f for f in files if "disable-de-principles" in f]
    res = runner.invoke(app, ["validate", "--rules", str(ROOT / "rules"), dropped])
    assert res.exit_code == 0, res.output
    text = Path(dropped).read_text(encoding="utf-8")
    assert "replace:" in text and "de.decision.2022-02-26-ukraine-self-defence" in text


def test_why_not_under_an_overlay(shipped, runner):
    """Under the Korean self-defence overlay (from 1 Mar 2023) the earliest date is the overlay's."""
    overlay = str(ROOT / "scenarios/what-if/kr-self-defence-exception.yaml")
    reform = apply_overlays(shipped, [overlay])
    w0 = why_not(shipped, ask(shipped, "KR", "UA", "ML3", "2023-02-01"), kinds="date")
    w1 = why_not(reform, ask(reform, "KR", "UA", "ML3", "2023-02-01"), kinds="date", what_if_prefix=["--with", overlay])
    after = lambda w: [a.changes[0].value for a in w.answers if a.changes[0].value > "2023-02-01"]  # noqa: E731
    assert after(w0) == [] and after(w1) == ["2023-03-01"]
    assert w1.overlays == ["kr-self-defence-exception"]
    alt = next(a for a in w1.answers if a.changes[0].value == "2023-03-01").alternatives[0]
    assert alt.what_if[:2] == ["--with", overlay]
    assert _what_if(runner, alt.what_if) == "licence_required"


def test_emit_overlay_on_the_command_line_then_what_if_confirms(runner, tmp_path):
    out = tmp_path / "ov"
    res = runner.invoke(
        app,
        [
            "why-not",
            "--rules",
            str(ROOT / "rules"),
            *_opts(KR_UA),
            "--kinds",
            "law",
            "--emit-overlay",
            str(out),
            "-f",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    alts = [alt for a in data["answers"] for alt in a["alternatives"]]
    assert alts and all(alt["overlay_file"] for alt in alts)
    assert len(list(out.glob("*.yaml"))) == len(alts)
    for alt in alts[:3]:
        assert _what_if(runner, alt["what_if"]) == alt["verdict"]


# ------------------------------------------------------------------ the command: formats, errors, matrix


def _opts(s):
    return ["--exporter", s[0], "--recipient", s[1], "--item", s[2], "--date", s[3]]


def test_text_markdown_html_json(runner, tmp_path):
    base = ["why-not", "--rules", str(ROOT / "rules"), *_opts(KR_UA), "--kinds", "transfer,world,law"]
    text = runner.invoke(app, base).stdout
    assert "Why not licence_required?" in text and "if the item were non-lethal" in text
    assert "check: policy what-if" in text and "Searched: every set of up to 2 changes" in text
    md = runner.invoke(app, [*base, "-f", "markdown"]).stdout
    assert md.startswith("# Why not `licence_required`?") and "## One change" in md
    page = runner.invoke(app, [*base, "-f", "html", "-o", str(tmp_path / "w.html")])
    assert page.exit_code == 0
    html_text = (tmp_path / "w.html").read_text(encoding="utf-8")
    assert html_text.startswith("<!DOCTYPE html>") and "<code>kr.conflict.non-lethal-aid</code>" in html_text
    data = json.loads(runner.invoke(app, [*base, "-f", "json"]).stdout)
    assert WhyNot.model_validate(data).verdict is Verdict.restricted


def test_html_escapes_what_it_shows(runner, tmp_path):
    sc = write(
        tmp_path,
        "s.yaml",
        """
        id: s
        title: "<script>alert(1)</script> shells"
        date: 2023-01-30
        exporter: KR
        recipient: UA
        items: [{category: ML3}]
        """,
    )
    res = runner.invoke(app, ["why-not", "--rules", str(ROOT / "rules"), str(sc), "--kinds", "world", "-f", "html"])
    assert res.exit_code == 0, res.output
    assert "<script>" not in res.stdout and "&lt;script&gt;alert(1)&lt;/script&gt; shells" in res.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--target", "maybe"], "error[bad-target]"),
        (["--max-changes", "7"], "--max-changes must be between 1 and 3"),
        (["--kinds", "transfer,vibes"], "error[bad-kinds]"),
        (["--recipient", "Narnia"], "error[unknown-country]"),
        (["--date", "2023-02-30"], "error[bad-date]"),
    ],
)
def test_bad_input_is_one_error_and_exit_2(runner, args, needle):
    opts = dict(zip(_opts(KR_UA)[::2], _opts(KR_UA)[1::2]))
    for k, v in zip(args[::2], args[1::2]):
        opts[k] = v
    res = runner.invoke(app, ["why-not", "--rules", str(ROOT / "rules"), *[x for kv in opts.items() for x in kv]])
    assert res.exit_code == 2
    assert needle in res.stderr and "Traceback" not in res.output


def test_missing_or_conflicting_transfer_is_exit_2(runner):
    res = runner.invoke(app, ["why-not", "--rules", str(ROOT / "rules"), "--exporter", "KR"])
    assert res.exit_code == 2 and "error[missing-value]" in res.stderr
    sc = str(ROOT / "scenarios/kr/kr-ua-155mm-2023.yaml")
    res = runner.invoke(app, ["why-not", "--rules", str(ROOT / "rules"), sc, "--exporter", "KR"])
    assert res.exit_code == 2 and "not both" in res.stderr
    res = runner.invoke(app, ["why-not", "--rules", str(ROOT / "rules"), "--matrix", "--exporters", "KR"])
    assert res.exit_code == 2 and "--matrix" in res.stderr


def test_a_scenario_file_and_an_explicit_target(shipped):
    sc = load_scenario(str(ROOT / "scenarios/kr/kr-ua-155mm-2023.yaml"), shipped)
    w = why_not(shipped, sc, target="permitted", kinds="law", max_changes=1)
    assert w.target is Verdict.permitted
    assert all(a.verdict is Verdict.permitted for a in w.answers)
    # the ATT's general licensing rule is law binding Korea as a treaty party
    assert not any(a.verdict is Verdict.licence_required for a in w.answers)


def test_already_at_the_target(shipped):
    helmets = ask(shipped, "KR", "UA", "ML13", "2023-01-30")
    w = why_not(shipped, helmets, target="licence_required")
    assert w.already and w.answers == [] and "already `licence_required`" in w.summary
    w = why_not(shipped, helmets)  # the default target is one step down: permitted
    assert not w.already and w.target is Verdict.permitted


def test_matrix_gives_the_smallest_change_per_blocked_cell(runner):
    res = runner.invoke(
        app,
        [
            "why-not", "--rules", str(ROOT / "rules"), "--matrix", "--exporters", "KR,DE", "--recipients", "UA,PL,KP",
            "--item", "ML3", "--date", "2023-01-30", "-f", "json",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    cells = {(c["exporter"], c["recipient"]): c for c in json.loads(res.stdout)["cells"]}
    assert cells[("KR", "PL")]["target"] is None and cells[("KR", "PL")]["smallest"] == []
    kr_ua = cells[("KR", "UA")]
    assert kr_ua["verdict"] == "restricted" and kr_ua["size"] == 1
    assert kr_ua["smallest"][0]["changes"][0]["fact"] == "item.lethal"
    assert all(a["size"] == 1 for a in kr_ua["smallest"])
    assert not any(c["kind"] == "recipient" for a in kr_ua["smallest"] for c in a["changes"])
    assert cells[("KR", "KP")]["verdict"] == "prohibited" and cells[("KR", "KP")]["smallest"]
    text = runner.invoke(
        app,
        ["why-not", "--rules", str(ROOT / "rules"), "--matrix", "--exporters", "KR,DE", "--recipients", "UA,PL",
         "--item", "ML3", "--date", "2023-01-30"],
    ).stdout  # fmt: skip
    assert "What stands in the way" in text and "restricted: transfer/date/world/law" in text
    md = runner.invoke(
        app,
        ["why-not", "--rules", str(ROOT / "rules"), "--matrix", "--exporters", "KR", "--recipients", "UA,KP",
         "--item", "ML3", "--date", "2023-01-30", "-f", "markdown"],
    ).stdout  # fmt: skip
    assert "| KR | `restricted: transfer/date/world/law` | `prohibited: date/world` |" in md


def test_python_api(shipped):
    w = policy.why_not(shipped, ask(shipped, *KR_UA), max_changes=1, kinds=["transfer"])
    assert isinstance(w, WhyNot) and w.answers[0].changes[0].option == "--non-lethal"
    assert WhyNot.model_validate_json(w.model_dump_json()).model_dump() == w.model_dump()

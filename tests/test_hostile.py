"""Hostile and broken input: every problem reported at once; never a traceback, a hang or a partial load."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.cli import app
from policy.load.loader import load_rulebase
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import parse
from policy.model.errors import LoadError

from .conftest import ROOT, write

THREE_MISTAKES = """
format: policy-rules/v1
jurisdiction: DE
name: Germany
name: Deutschland
sources: [{id: s, title: t}]
rules:
  - id: de.a.b
    title: t
    effect: restricted
    binding: stated_policy
    untill: 2020-01-01
    when: {fact: recipient, eq: XQ}
    citations: [{source: s, instrument: i}]
"""


def test_three_mistakes_three_errors_exit_2(runner, tmp_path):
    write(tmp_path, "rules/de.yaml", THREE_MISTAKES)
    res = runner.invoke(app, ["validate", str(tmp_path / "rules")])
    assert res.exit_code == 2
    lines = [ln for ln in res.stderr.splitlines() if ": error[" in ln]
    codes = [ln.split("error[")[1].split("]")[0] for ln in lines]
    assert codes == ["duplicate-key", "unknown-field", "bad-value"], res.stderr
    assert [ln.split(":")[1] for ln in lines] == ["4", "11", "12"]
    assert "did you mean `until`?" in res.stderr
    assert res.stderr.strip().endswith("3 errors")


def test_billion_laughs_and_python_tag_refused_fast_via_cli(runner, tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(tmp_path, "rules/bomb.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "rules2/evil.yaml", "format: !!python/object/apply:os.system [echo pwned]\n")
    for folder, code in (("rules", "too-many-nodes"), ("rules2", "unsupported-tag")):
        res = runner.invoke(app, ["validate", str(tmp_path / folder)])
        assert res.exit_code == 2 and f"[{code}]" in res.stderr and "Traceback" not in res.output


def test_binary_and_non_utf8_files(runner, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "bin.yaml").write_bytes(b"\x00\x01\x02format: x")
    (tmp_path / "r" / "latin.yaml").write_bytes("name: Türkiye\n".encode("latin-1"))
    res = runner.invoke(app, ["validate", str(tmp_path / "r")])
    assert res.exit_code == 2 and "[binary-file]" in res.stderr and "[not-utf8]" in res.stderr


def test_debug_flag_is_accepted(runner):
    res = runner.invoke(app, ["--debug", "validate", str(ROOT / "rules")])
    assert res.exit_code == 0


SEED_RULE = (ROOT / "rules" / "kr.yaml").read_text(encoding="utf-8")
SEED_SCENARIO = (ROOT / "scenarios" / "kr" / "kr-ua-155mm-2023.yaml").read_text(encoding="utf-8")


def mutate(text: str, data: st.DataObject) -> str:
    ops = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, max(len(text) - 1, 0)),
                st.sampled_from(["delete", "insert", "dup-line", "swap"]),
                st.text(alphabet=":-[]{}&*!|>'\"#\n\t NOfalse0123", max_size=4),
            ),
            min_size=1,
            max_size=6,
        )
    )
    for pos, op, chunk in ops:
        pos = min(pos, len(text))
        if op == "delete":
            text = text[:pos] + text[pos + len(chunk) + 1 :]
        elif op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "dup-line":
            lines = text.splitlines(keepends=True)
            if lines:
                i = pos % len(lines)
                lines.insert(i, lines[i])
                text = "".join(lines)
        else:
            text = text[pos:] + text[:pos]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_rule_files_load_or_fail_cleanly(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    text = data.draw(st.one_of(st.just(SEED_RULE), st.text(max_size=200)))
    (folder / "kr.yaml").write_text(mutate(text, data), encoding="utf-8")
    try:
        base = load_rulebase([str(folder)])
    except LoadError as exc:
        assert exc.diagnostics and all(d.code and d.message for d in exc.diagnostics)
        return
    # a rulebase that loads can always be evaluated: no internal error on a transfer its rules read
    from policy.eval.engine import evaluate
    from policy.model import Scenario, Verdict

    sc = Scenario.model_validate(
        {
            "id": "f",
            "title": "f",
            "date": "2023-01-30",
            "exporter": "KR",
            "recipient": "UA",
            "items": [{"category": "ML3"}],
        }
    )
    assert evaluate(base, sc).verdict in set(Verdict)
    # a valid load is complete: every rule it holds can be found in its file (for messages and editors)
    for jf in base.jurisdictions.values():
        for rule in jf.rules:
            assert rule.id in base.spans, rule.id


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzz_scenarios_load_or_fail_cleanly(shipped, data):
    text = mutate(SEED_SCENARIO, data)
    try:
        doc = parse(text, "fuzz.yaml", keep_going=True)
        sc = scenario_from_data(doc, shipped)
    except LoadError as exc:
        assert exc.diagnostics
        return
    assert sc.items and sc.exporter and sc.recipient

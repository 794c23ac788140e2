"""The YAML reader: Norway stays Norway, duplicates and tags are refused, positions are exact."""

import time

import pytest

from policy.load.yamlio import parse
from policy.model.errors import LoadError


def codes(err: LoadError) -> list[str]:
    return [d.code for d in err.diagnostics]


def test_norway_is_not_false():
    doc = parse("countries: [NO, SE, ON, yes, Off]\nflag: true\nother: False\n", "x.yaml")
    assert doc.data == {"countries": ["NO", "SE", "ON", "yes", "Off"], "flag": True, "other": False}


def test_dates_stay_text_so_impossible_dates_get_a_location():
    assert parse("d: 2024-13-01\n", "x.yaml").data == {"d": "2024-13-01"}


def test_duplicate_key_is_an_error_with_its_line():
    with pytest.raises(LoadError) as e:
        parse("a: 1\nb: 2\na: 3\n", "x.yaml")
    [d] = e.value.diagnostics
    assert d.code == "duplicate-key" and d.span.line == 3 and d.span.col == 1


def test_python_tags_are_refused():
    with pytest.raises(LoadError) as e:
        parse("a: !!python/object/apply:os.system [echo hi]\n", "x.yaml")
    assert codes(e.value) == ["unsupported-tag"]


def test_billion_laughs_fails_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(LoadError) as e:
        parse("\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert codes(e.value) == ["too-many-nodes"]


def test_syntax_error_has_position_and_quoting_hint():
    with pytest.raises(LoadError) as e:
        parse("a:\n  article: Art. 5: scope\n", "x.yaml")
    [d] = e.value.diagnostics
    assert d.code == "yaml-syntax" and d.span.line == 2 and "quoted" in (d.help or "")


def test_span_walks_mappings_and_lists():
    doc = parse("rules:\n  - id: a\n  - id: b\n    when: {fact: x}\n", "x.yaml")
    s = doc.span(("rules", 1, "when", "fact"))
    assert (s.line, s.col) == (4, 18)

"""What a columnar batch asks of the rules is answered the same here and by a helper beside it
(policy.eval.batch_rules); a helper that fails or raises changes nothing."""

import datetime as dt
import os
import select

import pytest

from policy.eval.batch import BatchScreener
from policy.eval.batch_rules import RulesBeside, RulesHere
from policy.eval.batch_run import screen_chunk
from policy.model.errors import Diagnostic, LoadError

KEYS = [
    (dt.date(2023, 1, 30), "KR", "UA", "military", "sale", "ML3", None, None, None, None, (), ()),
    (dt.date(2024, 2, 1), "DE", "SA", "government", "sale", "ML1", None, True, None, None, (), ()),
    (dt.date(2019, 5, 5), "CH", "RU", "police", "donation", "ML13", None, False, None, None, (), ()),
]
LINES = [
    (1, b'{"date": "2023-01-30", "exporter": "KR", "recipient": "UA", "item": "ML3", "via": ["PL"]}'),
    (2, b"{bad"),
]
QUESTIONS = {
    "item": ["ML3", "k2-tank", "laser-cannon"],
    "breaks": ["UA", "RU", "KR"],
    "rec_sig": KEYS,
    "rest_sig": KEYS,
    "sig": KEYS,
    "e_world": KEYS,
    "r_world": KEYS,
    "answer": KEYS,
    "per_line": LINES,
}


def _here(shipped) -> RulesHere:
    return RulesHere(lambda: BatchScreener(shipped), lambda bs, chunk: screen_chunk(chunk, bs, None, "jsonl"))


def test_the_helper_answers_as_this_process_does(shipped):
    beside = RulesBeside(_here(shipped))
    try:
        here = _here(shipped)
        for question, keys in QUESTIONS.items():
            assert beside.ask(question, keys) == here.ask(question, keys), question
        assert beside.alive  # every answer came from the helper
    finally:
        beside.close()
    assert not beside.process.is_alive()


def test_a_dead_helper_leaves_the_answers_to_this_process(shipped):
    beside = RulesBeside(_here(shipped))
    beside.process.kill()
    beside.process.join()
    assert beside.ask("answer", KEYS) == _here(shipped).ask("answer", KEYS)
    assert not beside.alive


def test_an_error_in_the_helper_is_raised_here():
    def broken() -> BatchScreener:
        raise LoadError([Diagnostic("bad-rule", "the rules do not load")])

    beside = RulesBeside(RulesHere(broken))
    try:
        with pytest.raises(LoadError, match="do not load"):
            beside.ask("breaks", ["UA"])
    finally:
        beside.close()


def test_the_helper_lets_go_of_the_batch_s_pipes(shipped):
    """A pipe the batch holds (a FIFO's writer, its output's reader) ends when the batch closes it."""
    read_end, write_end = os.pipe()
    beside = RulesBeside(_here(shipped))
    try:
        os.close(write_end)
        readable, _, _ = select.select([read_end], [], [], 5)
        assert readable and os.read(read_end, 1) == b""  # end of file: the helper holds no write end
    finally:
        os.close(read_end)
        beside.close()

"""A bug found by the differential test: an assumption on one transfer leaked into the next."""

from policy.eval.compiled import Screener
from policy.eval.engine import evaluate
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document


def _sc(base, **extra):
    data = {
        "id": "t",
        "title": "t",
        "date": "2022-06-30",
        "exporter": "AT",
        "recipient": "RS",
        "items": [{"category": "ML3", "lethal": True}],
        **extra,
    }
    return scenario_from_data(Document("t", data, None), base)


def test_an_assumption_does_not_leak_into_the_next_transfer_s_world_facts(shipped):
    screener = Screener(shipped)
    assumed = _sc(shipped, assume={"recipient.in_armed_conflict": True})
    plain = _sc(shipped)
    screener.screen(assumed)  # first: fills the world-fact memo for RS on this date
    assert screener.screen(plain).verdict == evaluate(shipped, plain).verdict

"""Columnar evaluation gives the same verdicts as one-by-one evaluation."""

import numpy as np

from policy.eval.columnar import ColumnarJurisdiction, encode, verdict_words
from policy.eval.compiled import compile_rulebase, judge
from policy.load.loader import load_rulebase
from policy.model import Role, Verdict

from .conftest import ROOT


def test_columnar_matches_scalar_on_the_benchmark_policy():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
    import policy_peer

    import scenarios

    base = load_rulebase([str(ROOT / "benchmarks" / "bench_rules")])
    cj = compile_rulebase(base)["BENCH"]
    rows = [policy_peer.facts(s) for s in scenarios.generate(3000, 1)]
    cols = encode({k: [r[k] for r in rows] for k in rows[0]})
    col = ColumnarJurisdiction(base.jurisdictions["BENCH"], Role.regime, base.world.group_kinds())
    got = verdict_words(col.verdicts(cols))
    want = [judge(cj, Role.regime, r, r["date"])[0].value for r in rows]
    assert got == want
    assert len(set(want)) == 3  # deny, permit and default all occur


def test_columnar_on_a_shipped_jurisdiction(shipped):
    jf = shipped.jurisdictions["DE"]
    cj = compile_rulebase(shipped)["DE"]
    rng = np.random.default_rng(0)
    n = 2000
    import datetime as dt

    from policy.model import iter_leaves
    from policy.model.facts import fact_spec

    groups = shipped.world.group_kinds()
    bool_facts = sorted(
        {leaf.fact for r in jf.rules for leaf, _ in iter_leaves(r.when) if fact_spec(leaf.fact, groups).type == "bool"}
        - {"item.lethal", "risk.aggression"}
    )

    rows = [
        {
            "date": dt.date(2021, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1500))),
            "item.category": f"ML{int(rng.integers(1, 23))}",
            "item.lethal": bool(rng.integers(0, 2)),
            "recipient": ["UA", "TR", "SA", "IL", "FR"][int(rng.integers(0, 5))],
            "risk.aggression": bool(rng.random() < 0.1),
            # every other yes/no fact Germany's rules test (conflict kinds, memberships, self-defence)
            **{name: bool(rng.integers(0, 2)) for name in bool_facts},
        }
        for _ in range(n)
    ]
    col = ColumnarJurisdiction(jf, Role.exporter, shipped.world.group_kinds())
    got = verdict_words(col.verdicts(encode({k: [r[k] for r in rows] for k in rows[0]})))
    assert got == [judge(cj, Role.exporter, r, r["date"])[0].value for r in rows]
    assert Verdict.restricted.value in got and Verdict.licence_required.value in got


def test_three_valued_states_match_the_scalar_conditions(shipped):
    """Every rule condition of a few shipped jurisdictions, by column, gives the scalar path's
    true / false / unknown, on rows that leave facts unknown (None)."""
    from policy.eval.columnar import FALSE, TRUE, UNKNOWN, Column, condition_states
    from policy.eval.compiled import compile_condition
    from policy.model import iter_leaves
    from policy.model.facts import coerce_value, fact_spec

    groups = shipped.world.group_kinds()
    rng = np.random.default_rng(1)
    seen = set()
    for code in ("DE", "GB", "NO", "UN"):
        jf = shipped.jurisdictions[code]
        values: dict[str, list] = {}
        for r in jf.rules:
            for leaf, _ in iter_leaves(r.when):
                v, spec = leaf.value, fact_spec(leaf.fact, groups)
                if spec.type == "countries":
                    v = [(x,) for x in (v if isinstance(v, list) else [v])]
                elif spec.type != "str" and leaf.op not in ("within", "exists"):
                    v = [coerce_value(spec, x) for x in (v if isinstance(v, list) else [v])]
                elif leaf.op == "exists":
                    v = []
                vs = values.setdefault(leaf.fact, [None])
                for x in v if isinstance(v, list) else [v]:
                    if x not in vs:
                        vs.append(x)
        n = 300
        cols = {f: Column(rng.integers(0, len(vs), n).astype(np.int32), vs) for f, vs in values.items()}
        rows = [{f: c.values[c.codes[i]] for f, c in cols.items()} for i in range(n)]
        for r in jf.rules:
            got = condition_states(r.when, groups)(cols, n).tolist()
            test = compile_condition(r.when, groups)
            want = [{None: UNKNOWN, True: TRUE, False: FALSE}[test(row)] for row in rows]
            assert got == want, r.id
            seen |= set(want)
    assert seen == {FALSE, UNKNOWN, TRUE}

"""The explained path per decision, in process, beside the compiled path on the same questions.

    python benchmarks/explained.py [--n 2000] [--repeats 5]

The question is KR -> UA, ML3, 2023-01-30 (a sale to a military end user: the
`policy what-if --exporter KR --recipient UA --item ML3 --date 2023-01-30` defaults), the one in issue 19.
Prints the median µs per decision of ``engine.evaluate`` (full explanation) and of
``Screener.screen`` (no explanation), timed alternately in the same process, and their ratio:

- the same question asked again and again (what a what-if server sees for today's date);
- the question on ``--n`` distinct days (2015 onwards), each asked once per repeat: the first
  repeat finds no world fact remembered for its day (``World.remember``), later ones do; the
  "first pass" row is that cold repeat alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy.eval.compiled import Screener  # noqa: E402
from policy.eval.engine import evaluate  # noqa: E402
from policy.load.asked import WhatIf, build  # noqa: E402
from policy.load.loader import load_rulebase  # noqa: E402


def per_call(fn: Callable[[Any], Any], args: list[Any]) -> float:
    t = time.perf_counter()
    for a in args:
        fn(a)
    return (time.perf_counter() - t) / len(args) * 1e6


def measure(n: int = 2000, repeats: int = 5) -> dict[str, float]:
    """Median µs per decision: "same e"/"same c" (the one question, explained/compiled), "days e"/"days c"
    (``n`` distinct days), "cold" (the first pass over those days)."""
    base = load_rulebase([str(ROOT / "rules")])
    question = WhatIf(exporter="KR", recipient="UA", item=["ML3"], date="2023-01-30")
    sc = build(base, question)
    screener = Screener(base)
    days = [sc.model_copy(update={"date": dt.date(2015, 1, 1) + dt.timedelta(days=i)}) for i in range(n)]
    for s in [sc, *days[:50]]:
        assert evaluate(base, s).verdict == screener.screen(s).verdict
    explain = lambda s: evaluate(base, s)  # noqa: E731
    same = [sc] * n
    rows: dict[str, list[float]] = {k: [] for k in ("same e", "same c", "days e", "days c")}
    cold = per_call(explain, days)  # the first pass over the distinct days: nothing remembered yet
    for _ in range(repeats):
        rows["same e"].append(per_call(explain, same))
        rows["same c"].append(per_call(screener.screen, same))
        rows["days e"].append(per_call(explain, days))
        rows["days c"].append(per_call(screener.screen, days))
    return {**{k: statistics.median(v) for k, v in rows.items()}, "cold": cold}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    m = measure(args.n, args.repeats)
    cold = m["cold"]
    print(f"question: KR -> UA, ML3, military end user; {args.n} calls x {args.repeats} repeats (median)")
    print(f"{'':34}{'explained':>12}{'compiled':>12}{'ratio':>8}")
    for label, e, c in (
        ("same question (2023-01-30)", m["same e"], m["same c"]),
        (f"{args.n} distinct days", m["days e"], m["days c"]),
    ):
        print(f"{label:34}{e:10.1f}µs{c:10.1f}µs{e / c:7.1f}x")
    print(f"{'distinct days, first pass':34}{cold:10.1f}µs")


if __name__ == "__main__":
    main()

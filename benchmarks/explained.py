"""The explained path per decision, in process, beside the compiled path on the same question.

    python benchmarks/explained.py [--n 2000] [--repeats 5]

The question is KR -> UA, ML3, 2023-01-30 (sale to the government), the one in issue 19. Prints
the median µs per decision of ``engine.evaluate`` (full explanation) and of ``Screener.screen``
(no explanation), each timed in the same process, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy.eval.compiled import Screener  # noqa: E402
from policy.eval.engine import evaluate  # noqa: E402
from policy.load.asked import WhatIf, build  # noqa: E402
from policy.load.loader import load_rulebase  # noqa: E402


def per_call(fn, arg, n: int, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn(arg)
        times.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    base = load_rulebase([str(ROOT / "rules")])
    question = WhatIf(
        exporter="KR",
        recipient="UA",
        item=["ML3"],
        date="2023-01-30",
        lethal=None,
        end_user="government",
        transfer="sale",
        origin=None,
        licence=None,
        via=[],
        transit=[],
        assume={},
    )
    sc = build(base, question)
    screener = Screener(base)
    assert evaluate(base, sc).verdict == screener.screen(sc).verdict
    explained = per_call(lambda s: evaluate(base, s), sc, args.n, args.repeats)
    compiled = per_call(screener.screen, sc, args.n * 10, args.repeats)
    print(f"explained path: {explained:8.1f} µs/decision  (KR->UA ML3 2023-01-30, engine.evaluate)")
    print(f"compiled path:  {compiled:8.1f} µs/decision  (Screener.screen, same question)")
    print(f"ratio explained/compiled: {explained / compiled:.1f}x")


if __name__ == "__main__":
    main()

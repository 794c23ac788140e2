"""The exhaustive diff of the whole shipped rulebase (empty -> shipped) against its 2 s target.

    PYTHONPATH=. python benchmarks/diff_speed.py [--repeats N] [--space world|all]

Prints the median seconds, the ratio to the target, the combinations evaluated and the regions found.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 2.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--space", default="world", choices=("world", "all"))
    args = ap.parse_args()

    from policy.analysis.cover import clear_cache
    from policy.analysis.diff import Side, exhaustive
    from policy.load.loader import load_rulebase
    from policy.model.rulebase import RuleBase

    base = load_rulebase([str(ROOT / "rules")])
    empty = RuleBase(world=base.world)
    times, cpu = [], []
    total = regions = jurisdictions = 0
    for _ in range(max(1, args.repeats)):
        clear_cache()  # each run from cold: no core solved by the previous one
        t0, c0 = time.perf_counter(), time.process_time()
        regs, total, affected = exhaustive(Side("empty", empty), Side("shipped", base), args.space)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        regions, jurisdictions = len(regs), len(affected)
    s, c = statistics.median(times), statistics.median(cpu)
    print(
        f"exhaustive diff, empty -> shipped ({jurisdictions} jurisdictions, space={args.space}): "
        f"{total:,} combinations, {regions} regions; median of {len(times)}: {s:.2f} s wall "
        f"= {s / TARGET_S:.2f}x the {TARGET_S:.0f} s target; {c:.2f} s CPU = {c / TARGET_S:.2f}x "
        f"(wall runs: {', '.join(f'{t:.2f}' for t in times)}; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()

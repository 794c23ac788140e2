"""Benchmark: the whole atlas (`policy atlas -o atlas.parquet`) as a user runs it, in a fresh process.

    python benchmarks/atlas.py           # prints wall and CPU time, rows, peak memory, file size

Target (issue 19): under 60 s wall on the 2-core machine. The machine is shared, so the CPU time of
the process is printed beside the wall time, with the load average at the start.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def atlas(python: str = sys.executable) -> dict[str, Any]:
    """Run the whole atlas once in a child process; wall, CPU, rows, peak RSS (MB), Parquet size (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "atlas.parquet"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = subprocess.run(
            [python, "-m", "policy", "atlas", "-o", str(out), "--rules", str(ROOT / "rules")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = int(re.search(r"^([\d,]+) rows", res.stderr, re.M).group(1).replace(",", ""))  # type: ignore[union-attr]
        return {
            "wall_s": wall,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "rows": rows,
            "peak_rss_mb": after.ru_maxrss / 1024,
            "parquet_mb": out.stat().st_size / 1e6,
            "load": load,
            "summary": res.stderr.strip().splitlines()[-1],
        }


def line(a: dict[str, Any]) -> str:
    return (
        f"Atlas (every exporter × recipient × category × transfer × end user, 2000-01-01 on, Parquet): "
        f"{a['rows']:,} rows in {a['wall_s']:.1f} s wall, {a['cpu_s']:.1f} s CPU "
        f"(load average {a['load']:.1f} at start; target < 60 s wall), peak RSS {a['peak_rss_mb']:.0f} MB, "
        f"{a['parquet_mb']:.1f} MB"
    )


if __name__ == "__main__":
    result = atlas()
    print(line(result))
    print(f"  {result['summary']}")

"""`policy batch` against `policy batch --dask local:N`, whole processes, alternated; prints ratios.

    python benchmarks/distributed.py [--lines 200000] [--repeats 3] [--workers 2]

Each run is a fresh process (the Dask one includes starting its LocalCluster); the outputs are
compared byte for byte. Wall and CPU (the process and its children) are medians over the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import transfers_jsonl  # noqa: E402

TIMED = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL).returncode
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, rc)
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", TIMED, *cmd], capture_output=True, text=True, cwd=ROOT, env=env)
    wall, cpu, rc = res.stdout.split()
    if rc != "0":
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return float(wall), float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        transfers_jsonl(src, args.lines)
        local_cmd = [sys.executable, "-m", "policy", "batch", str(src), "-o", str(Path(tmp) / "local.jsonl")]
        dask_cmd = [sys.executable, "-m", "policy", "batch", str(src), "-o", str(Path(tmp) / "dask.jsonl")]
        dask_cmd += ["--dask", f"local:{args.workers}"]
        runs: dict[str, list[tuple[float, float]]] = {"local": [], "dask": []}
        start = time.perf_counter()
        for _ in range(args.repeats):
            runs["local"].append(timed(local_cmd))
            runs["dask"].append(timed(dask_cmd))
        same = (Path(tmp) / "local.jsonl").read_bytes() == (Path(tmp) / "dask.jsonl").read_bytes()
    load = os.getloadavg()[0]
    print(f"{args.lines:,} lines, {args.repeats} alternated runs each, load {load:.1f}, {os.cpu_count()} cores")
    for name, rs in runs.items():
        wall = statistics.median(w for w, _ in rs)
        cpu = statistics.median(c for _, c in rs)
        print(f"  {name:<6} wall {wall:6.2f} s   cpu {cpu:6.2f} s   {args.lines / wall:>9,.0f} lines/s")
    ratios = [d[0] / lo[0] for d, lo in zip(runs["dask"], runs["local"])]
    med = statistics.median(ratios)
    print(f"  dask/local wall ratio: median {med:.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
    print(f"  outputs identical: {same}   ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()

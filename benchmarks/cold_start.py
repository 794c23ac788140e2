"""Cold start: a whole `policy what-if` process, with the rulebase cache warm, cold and off.

    python benchmarks/cold_start.py              # median of 10 runs of each
    python benchmarks/cold_start.py --runs 20 --json

Each run is a new process (`python -m policy what-if --exporter KR --recipient UA --item ML3
--date 2023-01-30` in the repository, so ./rules and this checkout's code are used):

* warm: the cache holds the entry for these rules (the usual case: the rules did not change);
* cold: the cache folder is emptied before each run (the first run after a change: the rules
  are loaded and the entry written);
* off: POLICY_CACHE=0, the rules are loaded and nothing is written (as before the cache);
* batch of 1: `policy batch` of a one-line file, cache warm (the same fixed cost, paid by batch);
* floor: `python -c pass`, the interpreter alone.

The variants are alternated run by run, so load on the machine hits them alike; wall and CPU
(user + system of the child) are reported as medians, and each variant also as a ratio of the
floor. Bytecode is written and warmed first (PYTHONDONTWRITEBYTECODE is cleared), as in any
installed copy. The cache lives in a temporary XDG_CACHE_HOME, never the user's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
QUESTION = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]
TARGET_S = 0.25


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process; a failing child stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{res.stderr.decode(errors='replace')[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int = 10) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of ``runs`` whole-process runs of each variant, alternated."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "xdg"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "POLICY_CACHE")}
        env["XDG_CACHE_HOME"] = str(home)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        what_if = [PY, "-m", "policy", *QUESTION]
        one_line = Path(tmp) / "one.jsonl"
        transfer = {k.lstrip("-"): v for k, v in zip(QUESTION[1::2], QUESTION[2::2])}
        one_line.write_text(json.dumps(transfer) + "\n", encoding="utf-8")
        variants = {
            "floor": ([PY, "-c", "pass"], env, False),
            "warm": (what_if, env, False),
            "cold": (what_if, env, True),
            "off": (what_if, {**env, "POLICY_CACHE": "0"}, False),
            "batch1": ([PY, "-m", "policy", "batch", str(one_line)], env, False),
        }
        for _ in range(2):  # write bytecode, fill the cache
            _run(what_if, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, (argv, variant_env, empty_first) in variants.items():
                if empty_first:
                    shutil.rmtree(home, ignore_errors=True)
                times[name].append(_run(argv, variant_env))
            if not any(home.glob("policy/rulebase-*.pickle")):
                raise SystemExit("no cache entry was written: the cache is not working here")
    out = {}
    floor_wall = statistics.median(w for w, _ in times["floor"])
    floor_cpu = statistics.median(c for _, c in times["floor"])
    for name, pairs in times.items():
        wall, cpu = statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs)
        out[name] = {"wall_s": wall, "cpu_s": cpu, "wall_x_floor": wall / floor_wall, "cpu_x_floor": cpu / floor_cpu}
    return out


def summary(r: dict[str, dict[str, float]], runs: int) -> str:
    load = os.getloadavg()[0]
    lines = [f"Cold `policy what-if` KR->UA, median of {runs} whole-process runs (load average {load:.1f}):"]
    labels = {
        "warm": "cache warm",
        "cold": "cache cold (emptied before each run)",
        "off": "cache off (POLICY_CACHE=0)",
        "batch1": "`policy batch` of 1 line (cache warm)",
        "floor": "`python -c pass` (the floor)",
    }
    for name in ("warm", "cold", "off", "batch1", "floor"):
        v = r[name]
        lines.append(
            f"  {labels[name]:<38} wall {v['wall_s']:.3f} s  cpu {v['cpu_s']:.3f} s"
            f"  ({v['wall_x_floor']:.1f}× / {v['cpu_x_floor']:.1f}× the floor)"
        )
    warm = r["warm"]
    lines.append(
        f"  warm vs off: {warm['wall_s'] / r['off']['wall_s']:.2f}× wall, {warm['cpu_s'] / r['off']['cpu_s']:.2f}× cpu;"
        f" target {TARGET_S} s: wall {'met' if warm['wall_s'] <= TARGET_S else 'NOT met'}"
        f", cpu {'met' if warm['cpu_s'] <= TARGET_S else 'NOT met'}"
        + (" (wall is inflated by other load on the machine)" if warm["wall_s"] > 1.3 * warm["cpu_s"] else "")
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="runs of each variant (default 10)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args()
    r = measure(args.runs)
    print(json.dumps(r, indent=2) if args.json else summary(r, args.runs))


if __name__ == "__main__":
    main()

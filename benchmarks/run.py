"""Benchmarks: this engine beside the hand-written floor and the peer engines, in one table.

    python benchmarks/run.py            # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # smaller inputs

Every engine is first checked to give the reference's decision on every scenario (run_peer.py
exits non-zero otherwise). Times are medians of repeats; ratios are taken pair by pair in the
same process (engine / hand-written function), never from single absolute times. Peers need
their venvs: `bash benchmarks/peers/setup_venvs.sh` (they are skipped, and said so, if absent).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
VENVS = HERE / ".venvs"
PY = sys.executable


def peer_line(python: str, peer: str, n: int, repeats: int, env: dict[str, str] | None = None) -> dict:
    res = subprocess.run(
        [python, "run_peer.py", peer, "--n", str(n), "--repeats", str(repeats)],
        cwd=PEERS,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if res.returncode != 0:
        raise SystemExit(f"{peer}: disagrees with the reference or failed:\n{res.stderr[-2000:]}\n{res.stdout}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def single_calls(n: int, repeats: int) -> list[tuple[str, dict | None, str]]:
    rows: list[tuple[str, dict | None, str]] = []
    rows.append(
        (
            "policy: compiled, facts in the engine's schema",
            peer_line(PY, "policy", n, repeats, {"POLICY_PEER_MODE": "prepared"}),
            "",
        )
    )
    rows.append(("policy: compiled, converting the benchmark's fields", peer_line(PY, "policy", n, repeats), ""))
    rows.append(
        (
            "policy: explained path (explanation on)",
            peer_line(PY, "policy", max(n // 10, 1000), repeats, {"POLICY_PEER_MODE": "explained"}),
            "",
        )
    )
    rows.append(("naive YAML interpreter (interp_peer)", peer_line(PY, "interp", n, repeats), ""))
    for venv, peer, label in (
        ("cedar", "cedar", "cedarpy"),
        ("zen037", "zen", "zen-engine 0.37.1"),
        ("zen", "zen", "zen-engine (current)"),
        ("ruleengine", "ruleengine", "rule-engine"),
    ):
        python = VENVS / venv / "bin" / "python"
        if python.exists():
            rows.append((label, peer_line(str(python), peer, n, repeats), ""))
        else:
            rows.append((label, None, "skipped: run benchmarks/peers/setup_venvs.sh"))
    return rows


def columnar(rows_n: int, repeats: int) -> dict:
    sys.path.insert(0, str(PEERS))
    import policy_peer

    import scenarios
    from policy.eval.columnar import ColumnarJurisdiction, encode
    from policy.load.loader import load_rulebase
    from policy.model import Role

    base = load_rulebase([str(HERE / "bench_rules")])
    policy_peer.load()
    sample = [policy_peer.facts(s) for s in scenarios.generate(20000, 5)]
    rows = [sample[i % len(sample)] for i in range(rows_n)]
    t0 = time.perf_counter()
    cols = encode({k: [r[k] for r in rows] for k in rows[0]})
    t_encode = time.perf_counter() - t0
    col = ColumnarJurisdiction(base.jurisdictions["BENCH"], Role.regime, base.world.group_kinds())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        col.verdicts(cols)
        times.append(time.perf_counter() - t0)
    # same rows one by one through the hand-written function, for the ratio
    import reference

    reference.load()
    raw = scenarios.generate(20000, 5)
    t0 = time.perf_counter()
    for i in range(min(rows_n, 200_000)):
        reference.decide(raw[i % len(raw)])
    ref_per = (time.perf_counter() - t0) / min(rows_n, 200_000)
    med = statistics.median(times)
    return {
        "rows": rows_n,
        "decisions_per_s": rows_n / med,
        "seconds": med,
        "encode_s": t_encode,
        "reference_loop_per_s": 1 / ref_per,
    }


def transfers_jsonl(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    exporters = ["KR", "DE", "NO", "CH", "JP", "US", "GB", "FR", "SE", "IT", "PL", "IL", "TR", "CA", "AU", "ES"]
    recipients = ["UA", "PL", "SA", "TW", "KP", "RU", "IN", "BR", "EG", "AE", "IL", "US", "GB", "JP", "VN", "ID"]
    items = ["ML1", "ML2", "ML3", "ML4", "ML6", "ML10", "ML13", "155mm-shell", "k2-tank", "helmet"]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            e = rng.choice(exporters)
            r = rng.choice([x for x in recipients if x != e])
            day = f"{rng.randint(2012, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            fh.write(
                json.dumps(
                    {
                        "id": i,
                        "date": day,
                        "exporter": e,
                        "recipient": r,
                        "item": rng.choice(items),
                        "end_user": rng.choice(["military", "government", "police"]),
                    }
                )
                + "\n"
            )


FLOOR_LOOP = """
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for n, line in enumerate(f, 1):
        d = json.loads(line)
        out.write(json.dumps({"line": n, "id": d.get("id"), "verdict": "allowed"}) + "\\n")
"""

RSS = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, rc)
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process and its workers, peak RSS in KiB) of one whole-process run."""
    res = subprocess.run([PY, "-c", RSS, *cmd], capture_output=True, text=True, cwd=ROOT, env=env)
    secs, cpu, rss, rc = res.stdout.split()
    if rc not in ("0", "2"):
        raise SystemExit(f"failed: {' '.join(cmd)}\n{res.stderr[-2000:]}")
    return float(secs), float(cpu), int(rss)


def batch(sizes: list[int], repeats: int) -> dict:
    """`policy batch` beside the floor (a loop that reads and parses each line and writes a verdict).

    All are whole processes on the same file (the batch's start-up included), with the rulebase
    cache warm. Each floor run is followed by two batch runs:

    * *warm*: with what a batch over *another* order book of the same kind (the largest size,
      another seed) learned (``policy.eval.batch_memo``), restored before each run, so that no run
      learns from the file it is timed on; a run that still met something new loads the rules
      (``relearned`` counts them);
    * *cold*: with nothing learned, as the first batch over these rules.

    The runs alternate floor, warm, cold, size after size, ``repeats`` rounds, so load on the
    machine falls on all alike; ratios are medians of the pairwise ratios.
    """
    policy = str(Path(PY).with_name("policy"))
    runs: dict[int, list[tuple[float, ...]]] = {n: [] for n in sizes}
    relearned = {n: 0 for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        kept = Path(tmp) / "cache" / "policy"
        other, sink = Path(tmp) / "other.jsonl", Path(tmp) / "other-out.jsonl"
        transfers_jsonl(other, max(sizes), seed=1)
        run_measured([policy, "batch", str(other), "-o", str(sink)], env)  # learns (and warms the rulebase cache)
        learned = {p.name: p.read_bytes() for p in kept.glob("batch-*.pickle")}

        def restore(warm: bool) -> None:
            for p in kept.glob("batch-*.pickle"):
                p.unlink()
            for name, blob in learned.items() if warm else ():
                (kept / name).write_bytes(blob)

        files = {}
        for n in sizes:
            files[n] = Path(tmp) / f"in{n}.jsonl", Path(tmp) / f"out{n}.jsonl"
            transfers_jsonl(files[n][0], n)
        for _ in range(repeats):
            for n in sizes:
                src, dst = files[n]
                f_wall, f_cpu, _ = run_measured([PY, "-c", FLOOR_LOOP, str(src), str(dst)])
                restore(warm=True)
                w_wall, w_cpu, peak = run_measured([policy, "batch", str(src), "-o", str(dst)], env)
                relearned[n] += any((kept / k).read_bytes() != v for k, v in learned.items())
                restore(warm=False)
                c_wall, c_cpu, _ = run_measured([policy, "batch", str(src), "-o", str(dst)], env)
                runs[n].append((f_wall, f_cpu, w_wall, w_cpu, peak, c_wall))
    out = {}
    for n, rs in runs.items():
        wall = [r[2] / r[0] for r in rs]
        out[n] = {
            "floor_s": statistics.median(r[0] for r in rs),
            "batch_s": statistics.median(r[2] for r in rs),
            "floor_cpu_s": statistics.median(r[1] for r in rs),
            "batch_cpu_s": statistics.median(r[3] for r in rs),
            "wall_ratio": statistics.median(wall),
            "wall_range": (min(wall), max(wall)),
            "cpu_ratio": statistics.median(r[3] / r[1] for r in rs),
            "peak_rss_mb": max(r[4] for r in rs) / 1024,
            "lines_per_s": n / statistics.median(r[2] for r in rs),
            "cold_s": statistics.median(r[5] for r in rs),
            "cold_ratio": statistics.median(r[5] / r[0] for r in rs),
            "relearned": relearned[n],
            "runs": len(rs),
        }
    return out


def generated_rulebase(folder: Path, n_rules: int) -> None:
    """n_rules spread over 100 states (100 rules each), keyed by recipient, with dates."""
    import pycountry

    codes = sorted(c.alpha_2 for c in pycountry.countries)[:100]
    (folder / "world.yaml").write_text("format: policy-world/v1\n", encoding="utf-8")
    per = n_rules // len(codes)
    for code in codes:
        lines = [
            "format: policy-rules/v1",
            f'jurisdiction: "{code}"',
            f"name: Generated {code}",
            "sources: [{id: s, title: generated}]",
            "rules:",
            f"  - {{id: {code.lower()}.general.licence, title: licence, effect: licence_required, "
            'binding: statute, default: true, citations: [{source: s, instrument: Act, article: "1"}]}',
        ]
        for i in range(per - 1):
            rec = codes[(i * 7) % len(codes)]
            cat = f"ML{1 + i % 22}"
            lines.append(
                f"  - {{id: {code.lower()}.gen.r{i}, title: r{i}, effect: restricted, binding: stated_policy, "
                f'from: 20{10 + i % 10}-01-01, when: [{{fact: recipient, eq: "{rec}"}}, '
                f"{{fact: item.category, within: [{cat}]}}], "
                f'citations: [{{source: s, instrument: Policy, article: "{i}"}}]}}'
            )
        (folder / f"{code.lower()}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


LOAD_RSS = """
import resource, sys
from policy.eval.compiled import Screener
from policy.load.loader import load_rulebase
if sys.argv[1:]:
    Screener(load_rulebase(sys.argv[1:]))
try:  # VmHWM is this process's own peak; ru_maxrss can carry the forking parent's peak across exec
    with open("/proc/self/status") as fh:
        print(next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(rules: str | None) -> float:
    """Peak memory of a fresh process that loads and compiles ``rules`` (None: imports only)."""
    res = subprocess.run([PY, "-c", LOAD_RSS, *([rules] if rules else [])], capture_output=True, text=True, check=True)
    return int(res.stdout) / 1024


def load_and_scale(repeats: int) -> dict:
    from policy.eval.compiled import Screener
    from policy.load.loader import load_rulebase
    from policy.load.scenarios import scenario_from_data
    from policy.load.yamlio import Document

    def timed_load(path: str) -> tuple[float, float, object]:
        loads, compiles, base = [], [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            base = load_rulebase([path])
            t1 = time.perf_counter()
            Screener(base)
            loads.append(t1 - t0)
            compiles.append(time.perf_counter() - t1)
        return statistics.median(loads), statistics.median(compiles), base

    t_shipped, c_shipped, shipped = timed_load(str(ROOT / "rules"))
    with tempfile.TemporaryDirectory() as tmp:
        generated_rulebase(Path(tmp), 10_000)
        t_big, c_big, big = timed_load(tmp)
        rss_big = peak_rss_mb(tmp)
    rss_shipped, rss_imports = peak_rss_mb(str(ROOT / "rules")), peak_rss_mb(None)

    def per_call(base: object, exporter: str, recipient: str) -> float:
        sc = scenario_from_data(
            Document(
                "b",
                {
                    "id": "b",
                    "title": "b",
                    "date": "2023-01-30",
                    "exporter": exporter,
                    "recipient": recipient,
                    "items": [{"category": "ML3"}],
                },
                None,
            ),
            base,
        )
        s = Screener(base)
        for _ in range(200):
            s.screen(sc)
        t0 = time.perf_counter()
        for _ in range(3000):
            s.screen(sc)
        return (time.perf_counter() - t0) / 3000 * 1e6

    n_big = sum(len(j.rules) for j in big.jurisdictions.values())  # type: ignore[attr-defined]
    return {
        "shipped_load_s": t_shipped,
        "shipped_compile_s": c_shipped,
        "big_rules": n_big,
        "big_load_s": t_big,
        "big_compile_s": c_big,
        "imports_rss_mb": rss_imports,
        "shipped_rss_mb": rss_shipped,
        "big_rss_mb": rss_big,
        "shipped_call_us": per_call(shipped, "KR", "UA"),
        "big_call_us": per_call(big, "AD", "AE"),
    }


DIFF = """
import json, statistics, sys, time
from policy.analysis.cover import clear_cache
from policy.analysis.diff import Side, exhaustive
from policy.load.loader import load_rulebase
from policy.model.rulebase import RuleBase
base = load_rulebase([sys.argv[1]])
empty = RuleBase(world=base.world)
times, cpu = [], []
for _ in range(int(sys.argv[2])):
    clear_cache()  # each run from cold
    t0, c0 = time.perf_counter(), time.process_time()
    regs, total, affected = exhaustive(Side("empty", empty), Side("shipped", base))
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
print(json.dumps({"seconds": statistics.median(times), "cpu_seconds": statistics.median(cpu),
                  "combinations": total, "regions": len(regs), "jurisdictions": len(affected)}))
"""


def exhaustive_diff(repeats: int) -> dict:
    """The exhaustive part of a diff over the whole shipped rulebase (every jurisdiction differs), in a
    fresh process as `policy diff` runs (not after this process's other benchmarks filled its heap)."""
    res = subprocess.run(
        [PY, "-c", DIFF, str(ROOT / "rules"), str(max(1, repeats // 2))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def startup(repeats: int) -> dict:
    policy = str(Path(PY).with_name("policy"))

    def wall(cmd: list[str]) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return {
        "help_s": wall([policy, "--help"]),
        "first_verdict_s": wall(
            [policy, "what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="policy benchmarks")
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    args = ap.parse_args()
    # Time the package as installed: pip compiles an installed package's bytecode, but a checkout
    # under PYTHONDONTWRITEBYTECODE (or with stale .pyc files) would compile every edited module
    # again in every process it starts (~20 ms of each `policy batch`).
    import compileall

    compileall.compile_dir(str(ROOT / "policy"), quiet=1)
    n, repeats = (5000, 3) if args.quick else (20000, 5)
    print(
        f"policy benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}"
        f"{' (quick)' if args.quick else ''}\n"
    )
    rows = single_calls(n, repeats)
    ref = statistics.median([r["reference_us"] for _, r, _ in rows if r])
    cedar = next((r for label, r, _ in rows if label == "cedarpy" and r), None)
    zen = next((r for label, r, _ in rows if label == "zen-engine 0.37.1" and r), None)
    policy_prepared = rows[0][1]
    print("Single decisions on the 31-rule benchmark policy (shared/bench/policy.yaml), all checked equal:")
    print(f"  {'engine':<52} {'µs/decision':>11} {'× hand-written':>15}")
    print(f"  {'hand-written Python function (the floor)':<52} {ref:>11.2f} {1.0:>15.1f}")
    for label, r, note in rows:
        if r is None:
            print(f"  {label:<52} {note}")
        else:
            print(f"  {label:<52} {r['peer_us']:>11.2f} {r['ratio']:>15.1f}")
    if cedar and policy_prepared:
        print(
            f"  -> policy (compiled) is {cedar['ratio'] / policy_prepared['ratio']:.0f}× faster per decision "
            f"than cedarpy"
            + (f" and {zen['ratio'] / policy_prepared['ratio']:.0f}× faster than zen-engine 0.37.1" if zen else "")
            + " (ratios of ratios, each measured beside the floor)"
        )
    c = columnar(200_000 if args.quick else 1_000_000, repeats)
    print(
        f"\nColumnar (numpy, one core): {c['rows']:,} rows in {c['seconds']:.3f} s = "
        f"{c['decisions_per_s'] / 1e6:.2f} M decisions/s (encoding the columns once: {c['encode_s']:.2f} s; "
        f"hand-written loop: {c['reference_loop_per_s'] / 1e6:.2f} M/s)"
    )
    sizes = [10_000, 50_000, 200_000] if args.quick else [10_000, 100_000, 1_000_000]
    b = batch(sizes, 3)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        "\npolicy batch on JSON Lines (shipped rulebase, whole process with start-up) vs the floor "
        f"(read, parse, write a verdict per line); load average {load:.1f}; warm: with what a batch over "
        "another order book learned (policy.eval.batch_memo), cold: nothing learned:"
    )
    for k, v in b.items():
        print(
            f"  {k:>9,} lines: batch {v['batch_s']:.2f} s wall, {v['batch_cpu_s']:.2f} s CPU "
            f"({v['lines_per_s']:,.0f}/s); floor {v['floor_s']:.2f} s wall, {v['floor_cpu_s']:.2f} s CPU; "
            f"ratio wall {v['wall_ratio']:.2f}× (runs {v['wall_range'][0]:.2f}–{v['wall_range'][1]:.2f}), "
            f"CPU {v['cpu_ratio']:.2f}×; peak RSS {v['peak_rss_mb']:.0f} MB; cold {v['cold_s']:.2f} s = "
            f"{v['cold_ratio']:.2f}×; warm runs that met something new: {v['relearned']} of {v['runs']}"
        )
    s = load_and_scale(repeats)
    print(
        f"\nLoading (parse + validate + checks), then compiling for screening: shipped rulebase "
        f"{s['shipped_load_s']:.3f} s + {s['shipped_compile_s']:.3f} s; generated rulebase of "
        f"{s['big_rules']:,} rules {s['big_load_s']:.2f} s + {s['big_compile_s']:.2f} s"
    )
    print(
        f"Peak memory of a process that loads and compiles: shipped rulebase {s['shipped_rss_mb']:.0f} MB; "
        f"{s['big_rules']:,}-rule rulebase {s['big_rss_mb']:.0f} MB (the imports alone: {s['imports_rss_mb']:.0f} MB)"
    )
    print(
        f"Per-call screening: shipped rulebase {s['shipped_call_us']:.1f} µs; {s['big_rules']:,}-rule rulebase "
        f"{s['big_call_us']:.1f} µs"
    )
    e = exhaustive_diff(repeats)
    print(
        f"\nExhaustive diff over the whole shipped rulebase (empty -> shipped, {e['jurisdictions']} jurisdictions): "
        f"{e['combinations']:,} combinations, {e['regions']} regions, {e['seconds']:.2f} s "
        f"({e['seconds'] / 2.0:.2f}x the 2 s target; {e['cpu_seconds']:.2f} s CPU)"
    )
    from atlas import atlas, line  # benchmarks/atlas.py

    print("\n" + line(atlas()))
    st = startup(repeats)
    print(
        f"\nStart-up: `policy --help` {st['help_s']:.3f} s; "
        f"first verdict (`policy what-if`) {st['first_verdict_s']:.3f} s"
    )
    import cold_start  # benchmarks/cold_start.py: whole processes, the rulebase cache warm, cold and off

    runs = 5 if args.quick else 10
    cold = cold_start.measure(runs)
    print("\n" + cold_start.summary(cold, runs))
    import explained  # benchmarks/explained.py: the KR -> UA question in process

    ex = explained.measure(2000, 3 if args.quick else 5)
    print(
        f"\nExplained decision KR -> UA, ML3, 2023-01-30, in process: {ex['same e']:.1f} µs "
        f"(compiled {ex['same c']:.1f} µs); on 2,000 distinct days {ex['days e']:.1f} µs"
    )
    conv = next(r for label, r, _ in rows if label.startswith("policy: compiled, converting"))
    small, large = sizes[0], sizes[1:]
    checks = [
        (f"batch at {small:,} lines, start-up, warm", "≤ 3× floor", b[small]["wall_ratio"], 3.0, "×"),
        *((f"batch at {n:,} lines, warm", "≤ 1.0× floor", b[n]["wall_ratio"], 1.0, "×") for n in large),
        ("single call, converting fields", "≤ 2× floor", conv["ratio"] if conv else float("nan"), 2.0, "×"),
        ("explained decision KR -> UA", "≤ 50 µs", ex["same e"], 50.0, " µs"),
        ("exhaustive diff, empty -> shipped", "≤ 2 s", e["seconds"], 2.0, " s"),
        ("cold `policy what-if`, cache warm", "≤ 0.25 s", cold["warm"]["wall_s"], 0.25, " s"),
    ]
    print(f"\nIssue 19 targets (this run, load average {os.getloadavg()[0]:.1f}):")
    for name, target, got, limit, unit in checks:
        print(f"  {name:<44} {target:<14} {got:8.2f}{unit:<4} {'met' if got <= limit else 'NOT met'}")
    cold_ratios = ", ".join(f"{n:,} lines {v['cold_ratio']:.2f}×" for n, v in b.items())
    print(f"  (batch with nothing learned, the first run over these rules: {cold_ratios})")


if __name__ == "__main__":
    main()

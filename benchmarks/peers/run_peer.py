"""Check one peer engine against the hand-written reference, then time both.

    python benchmarks/peers/run_peer.py PEER --n 20000 --repeats 5 --seed 0

PEER is a module PEER_peer.py beside this file (cedar, zen, ruleengine, interp),
run with the Python of the venv that holds its engine (see setup_venvs.sh).
Prints one JSON line; exits 1 if the peer disagrees with the reference anywhere.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import json
import statistics
import sys
import time
from typing import Any, Callable

import reference

import scenarios

CHUNK = 500  # scenarios timed per turn, alternating reference and peer


def _loop(fn: Callable[[dict[str, Any]], Any], batch: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    for s in batch:
        fn(s)
    return time.perf_counter() - t0


def timed(peer: Callable, ss: list[dict[str, Any]], repeats: int) -> tuple[float, float, float]:
    """Median µs per decision of peer and reference, and median of per-repeat ratios.

    Within a repeat the two take turns chunk by chunk (who goes first alternates
    by repeat), so drift in machine speed hits both alike.
    """
    peer_us, ref_us, ratios = [], [], []
    for r in range(repeats):
        gc.collect()
        t_peer = t_ref = 0.0
        for i in range(0, len(ss), CHUNK):
            batch = ss[i : i + CHUNK]
            if r % 2:
                t_peer += _loop(peer, batch)
                t_ref += _loop(reference.decide, batch)
            else:
                t_ref += _loop(reference.decide, batch)
                t_peer += _loop(peer, batch)
        peer_us.append(t_peer / len(ss) * 1e6)
        ref_us.append(t_ref / len(ss) * 1e6)
        ratios.append(t_peer / t_ref)
    return statistics.median(peer_us), statistics.median(ref_us), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    mod = importlib.import_module(f"{args.peer}_peer")
    version = importlib.metadata.version(mod.PACKAGE) if mod.PACKAGE else "n/a"
    mod.load()
    reference.load()
    ss = scenarios.generate(args.n, args.seed)

    bad = [(i, got, want) for i, s in enumerate(ss) if (got := tuple(mod.decide(s))) != (want := reference.decide(s))]
    out: dict[str, Any] = {"peer": args.peer, "version": version, "n": args.n, "mismatches": len(bad)}
    if bad:
        for i, got, want in bad[:20]:
            print(f"scenario {i}: peer {got} != reference {want}\n  {ss[i]}", file=sys.stderr)
        print(json.dumps(out))
        return 1
    peer_us, ref_us, ratio = timed(mod.decide, ss, args.repeats)
    out |= {"peer_us": round(peer_us, 2), "reference_us": round(ref_us, 3), "ratio": round(ratio, 1)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

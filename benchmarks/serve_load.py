"""A bounded load test of `policy serve` on the loopback interface: what-if requests per second and
latency percentiles.

    python benchmarks/serve_load.py                      # 3,000 requests, 4 connections
    python benchmarks/serve_load.py --requests 500 --connections 2 --json

It starts `python -m policy serve` on 127.0.0.1 (a free port), sends a bounded number of what-if
requests over keep-alive connections (and stops early after --max-seconds), checks every answer,
stops the server, and prints requests/s and p50/p90/p99 latency. Only loopback traffic; nothing
else is contacted. The client shares the machine's cores with the server, so this is a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
QUESTIONS = [
    {"exporter": "KR", "recipient": "UA", "item": ["ML3"], "date": "2023-01-30"},
    {"exporter": "DE", "recipient": "UA", "item": ["ML6"], "date": "2022-03-15"},
    {"exporter": "CH", "recipient": "DE", "item": ["ML3"], "date": "2023-06-01", "transfer": "sale"},
    {"exporter": "KR", "recipient": "PL", "item": ["k2-tank"], "date": "2022-08-26"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.0
    >>> percentile([1.0, 2.0, 3.0, 4.0], 99)
    4.0
    """
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def start_server(port: int, rules: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "policy", "serve", "--host", HOST, "--port", str(port)]
    if rules:
        cmd += ["--rules", rules]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the server did not start")


def run(requests: int, connections: int, max_seconds: float, port: int) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: list[float] = []
        for i in counter:  # shared iterator: the total is bounded
            if time.monotonic() > deadline:
                break
            body = json.dumps(QUESTIONS[i % len(QUESTIONS)]).encode()
            t0 = time.perf_counter()
            conn.request("POST", "/what-if", body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != 200 or b'"verdict"' not in data:
                with lock:
                    errors.append(f"{resp.status}: {data[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    # warm-up: the first requests pay for imports and caches
    warm = http.client.HTTPConnection(HOST, port, timeout=30)
    for q in QUESTIONS:
        warm.request("POST", "/what-if", body=json.dumps(q).encode(), headers={"content-type": "application/json"})
        warm.getresponse().read()
    warm.close()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    lat = sorted(latencies)
    return {
        "requests": len(lat),
        "connections": connections,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 2),
        "p90_ms": round(percentile(lat, 90) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=3000, help="total requests (bounded)")
    ap.add_argument("--connections", type=int, default=4, help="concurrent keep-alive connections")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="stop sending after this long")
    ap.add_argument("--rules", default=None, help="rules folder (default: as `policy` chooses)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    port = free_port()
    proc = start_server(port, args.rules)
    try:
        result = run(args.requests, args.connections, args.max_seconds, port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"policy serve, POST /what-if on {HOST}: {result['requests']} requests over {result['connections']} "
            f"connections in {result['seconds']} s: {result['requests_per_s']} requests/s, "
            f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

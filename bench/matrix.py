"""The default matrix end to end: a cold and a warm (cached) run, and --jobs 2 against --jobs 1.

Run: python -m bench.matrix [--repeat N]. Prints medians and ratios measured in one invocation
and writes them to mhpcheck-out/bench-matrix.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mhpcheck", *args], env=env, capture_output=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"mhpcheck {' '.join(args)} exited {r.returncode}: {r.stderr.decode()[-400:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    env = dict(os.environ)
    runs: dict[str, list[float]] = {"cold": [], "warm": [], "jobs1": [], "jobs2": []}
    for _ in range(ns.repeat):
        with tempfile.TemporaryDirectory() as d:
            cache = ["--cache-dir", d, "--trace-dir", d]
            runs["cold"].append(timed(["check", *cache], env))
            runs["warm"].append(timed(["check", *cache], env))
            runs["jobs1"].append(timed(["check", "--no-cache", "--jobs", "1", "--trace-dir", d], env))
            runs["jobs2"].append(timed(["check", "--no-cache", "--jobs", "2", "--trace-dir", d], env))
    med = {k: statistics.median(v) for k, v in runs.items()}
    out = {
        "cpus": os.cpu_count(),
        "repeat": ns.repeat,
        "runs_s": runs,
        "median_s": med,
        "warm_over_cold": med["warm"] / med["cold"],
        "jobs2_over_jobs1": med["jobs2"] / med["jobs1"],
    }
    print(f"{'run':8s} {'median s':>9s}  runs")
    for k, v in runs.items():
        print(f"{k:8s} {med[k]:9.2f}  {' '.join(f'{x:.2f}' for x in v)}")
    print(f"warm / cold       {out['warm_over_cold']:.3f}")
    print(f"jobs 2 / jobs 1   {out['jobs2_over_jobs1']:.3f}")
    path = Path("mhpcheck-out/bench-matrix.json")
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    main()

"""Every era end to end (`check --variant eras`): cold and warm (cached), --jobs 2 against 1.

Run: python -m bench.matrix [--repeat N]. Prints medians and ratios measured in one invocation
and writes them to mhpcheck-out/bench-matrix.json. `python -m bench` reuses `measure()`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one `mhpcheck` run in a fresh interpreter; a failing run ends the bench."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mhpcheck", *args], env=env, capture_output=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"mhpcheck {' '.join(args)} exited {r.returncode}: {r.stderr.decode()[-400:]}")
    return time.perf_counter() - t0


def _burn(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - t0


def parallel_capacity(n: int = 10_000_000) -> float:
    """How much faster two CPU-bound processes finish than the same work done twice in a row.

    The bound on any --jobs 2 speedup on this machine right now: about 2 on two free cores,
    about 1 when other work holds one of them.
    """
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_burn, [1000, 1000])  # start both workers before timing
        t0 = time.perf_counter()
        pool.map(_burn, [n], chunksize=1)
        pool.map(_burn, [n], chunksize=1)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        pool.map(_burn, [n, n], chunksize=1)
        parallel = time.perf_counter() - t0
    return serial / parallel


def measure(repeat: int, select: list[str] | None = None, cache: bool = True) -> dict[str, Any]:
    """Medians of `repeat` runs of `mhpcheck check` (optionally a `select`ed part of the matrix).

    Each repeat runs --jobs 1 and --jobs 2 back to back, so their ratio is measured under the
    same load; with `cache`, a cold and a warm run on a fresh cache directory come first.
    """
    env = dict(os.environ)
    select = select or ["--variant", "eras"]  # every era, as CI runs it
    runs: dict[str, list[float]] = {"jobs1": [], "jobs2": []}
    if cache:
        runs = {"cold": [], "warm": [], **runs}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            if cache:
                cached = ["--cache-dir", d, "--trace-dir", d, *select]
                runs["cold"].append(timed(["check", *cached], env))
                runs["warm"].append(timed(["check", *cached], env))
            plain = ["check", "--no-cache", "--trace-dir", d, *select]
            runs["jobs1"].append(timed([*plain, "--jobs", "1"], env))
            runs["jobs2"].append(timed([*plain, "--jobs", "2"], env))
    med = {k: statistics.median(v) for k, v in runs.items()}
    capacity = parallel_capacity()
    out: dict[str, Any] = {
        "parallel_capacity": capacity,
        "cpus": os.cpu_count(),
        "repeat": repeat,
        "select": select,
        "runs_s": runs,
        "median_s": med,
        "jobs2_over_jobs1": med["jobs2"] / med["jobs1"],
        "speedup_jobs2": med["jobs1"] / med["jobs2"],
    }
    if cache:
        out["warm_over_cold"] = med["warm"] / med["cold"]
    return out


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as JSON atomically: a temporary file in the same directory, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    out = measure(ns.repeat)
    runs, med = out["runs_s"], out["median_s"]
    print(f"{'run':8s} {'median s':>9s}  runs")
    for k, v in runs.items():
        print(f"{k:8s} {med[k]:9.2f}  {' '.join(f'{x:.2f}' for x in v)}")
    print(f"warm / cold       {out['warm_over_cold']:.3f}")
    print(f"jobs 2 / jobs 1   {out['jobs2_over_jobs1']:.3f}")
    print(f"two CPU-bound processes vs one after the other: {out['parallel_capacity']:.2f}x")
    write_json(Path("mhpcheck-out/bench-matrix.json"), out)


if __name__ == "__main__":
    main()

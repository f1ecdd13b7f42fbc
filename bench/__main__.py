"""python -m bench [--quick]: the explicit engine against SPIN, symmetry, the symbolic engine, the matrix.

Prints one table per section and the goals of PERFORMANCE.md as measured ratios, and writes
everything to mhpcheck-out/bench.json (atomically). Run by hand, never as a timed test;
`--quick` is small enough for CI (under a minute on 2 cores). Ratios compare numbers measured
in the same invocation, under the same load.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import matrix, measure
from bench.peers import spin
from mhpcheck import __version__

FULL_SIZES = (measure.Size(3, 3), measure.Size(4, 3), measure.Size(5, 3))
QUICK_SIZES = (measure.Size(3, 2), measure.Size(4, 2), measure.Size(3, 3))
QUICK_MATRIX = ["--arch", "powerpc64-hash"]
SECTIONS = ("explicit", "spin", "symmetry", "symbolic", "matrix")


def _spin(sizes: tuple[measure.Size, ...], explicit: dict[str, Any], repeat: int) -> dict[str, Any]:
    """SPIN on every size, its counts checked equal to mhpcheck's; or why it could not run."""
    try:
        tools = spin.versions()
    except spin.SpinUnavailable as e:
        return {"available": False, "why": str(e)}
    rows = []
    for size in sizes:
        ours = explicit.get(size.label)
        expected = ours["states"] if ours is not None else None
        runs = [
            spin.run(size.sections, size.devices, size.max_device_sections, expected) for _ in range(repeat)
        ]
        states = runs[0].states
        if ours is not None and ours["states"] != states:
            raise SystemExit(
                f"SPIN and mhpcheck disagree on {size.label}: SPIN stored {states} states, "
                f"mhpcheck {ours['states']}; bench/peers/hotplug.pml no longer models the same "
                "configuration (bench/peers/README.md)"
            )
        run_s = statistics.median(r.run_s for r in runs)
        build_s = statistics.median(r.generate_s + r.compile_s for r in runs)
        row: dict[str, Any] = {
            "label": size.label,
            "states": states,
            "transitions": runs[0].transitions,
            "run_s": run_s,
            "build_s": build_s,
            "total_s": run_s + build_s,
            "states_per_s": states / run_s,
            "memory_mib": statistics.median(r.memory_mib for r in runs),
            "bytes_per_state": statistics.median(r.memory_mib for r in runs) * 2**20 / states,
        }
        if ours is not None:
            row["states_checked_equal"] = True
            # pan counts stored + matched states: every edge mhpcheck explores, plus the initial state
            row["transitions_match"] = runs[0].transitions == ours["transitions"] + 1
            row["ours_over_spin_states_per_s"] = ours["states_per_s"] / row["states_per_s"]
            row["ours_over_spin_time_excl_build"] = ours["seconds"] / run_s
            row["ours_over_spin_time_incl_build"] = ours["seconds"] / (run_s + build_s)
        rows.append(row)
    return {"available": True, "tools": tools, "sizes": rows}


def _goals(res: dict[str, Any]) -> list[dict[str, Any]]:
    """PERFORMANCE.md's goals, each as the ratio this run measured."""
    goals: list[dict[str, Any]] = []
    exp = res.get("explicit", [])
    sp = res.get("spin", {})
    if sp.get("available") and exp:
        big = sp["sizes"][-1]
        if "ours_over_spin_states_per_s" in big:
            goals.append(
                {
                    "goal": "explicit states/s ≥ 0.25× SPIN's",
                    "measured": f"{big['ours_over_spin_states_per_s']:.4f}× ({big['label']})",
                    "met": big["ours_over_spin_states_per_s"] >= 0.25,
                }
            )
    elif exp:
        goals.append({"goal": "explicit states/s ≥ 0.25× SPIN's", "measured": sp.get("why", ""), "met": None})
    if len(exp) >= 2:
        drop = 1 - exp[-1]["states_per_s"] / exp[0]["states_per_s"]
        goals.append(
            {
                "goal": "flat throughput: < 10 % drop from 0.3 M to 3 M states",
                "measured": f"states/s {exp[0]['states_per_s']:,.0f} → {exp[-1]['states_per_s']:,.0f} "
                f"({-drop:+.1%}) from {exp[0]['states']:,} to {exp[-1]['states']:,} states",
                "met": drop < 0.10 if exp[-1]["states"] >= 300_000 else None,
            }
        )
    if exp:
        bps = exp[-1]["bytes_per_state"]
        # below some 20,000 states the RSS grown is a few pages of the allocator's arenas: no figure
        measurable = exp[-1]["states"] >= 20_000
        goals.append(
            {
                "goal": "≤ 150 bytes per stored state",
                "measured": f"{bps:,.0f} B ({exp[-1]['label']}, {exp[-1]['states']:,} states)"
                + ("" if measurable else ": too few states to measure"),
                "met": bps <= 150 if measurable else None,
            }
        )
    sym = res.get("symmetry", [])
    if sym and sp.get("available"):
        by = {r["label"]: r for r in sp["sizes"]}
        last = sym[-1]
        if last["label"] in by:
            ratio = last["seconds"] / by[last["label"]]["run_s"]
            goals.append(
                {
                    "goal": "with symmetry: wall time ≤ 1.5× SPIN's without it",
                    "measured": f"{ratio:.1f}× ({last['label']}, SPIN's compile excluded)",
                    "met": ratio <= 1.5,
                }
            )
    syms = res.get("symbolic", [])
    if syms:
        total = sum(c["seconds"] for c in syms) / sum(c["explicit_seconds"] for c in syms)
        goals.append(
            {
                "goal": "symbolic verdicts ≤ 10× the explicit engine's time",
                "measured": f"{total:.1f}× over {len(syms)} cells, "
                f"{sum(not c['complete'] for c in syms)} cut short",
                "met": total <= 10 and all(c["complete"] for c in syms),
            }
        )
    mx = res.get("matrix")
    if mx:
        goals.append(
            {
                "goal": "matrix --jobs 2 ≥ 1.7× faster than --jobs 1",
                "measured": f"{mx['speedup_jobs2']:.2f}× (this machine ran two CPU-bound processes "
                f"{mx['parallel_capacity']:.2f}× faster than one after the other)",
                "met": mx["speedup_jobs2"] >= 1.7,
            }
        )
    return goals


def _render(res: dict[str, Any], console: Console) -> None:
    exp = {r["label"]: r for r in res.get("explicit", [])}
    if exp:
        t = Table(title=f"explicit engine: {measure.ARCH} {measure.VARIANT}, device memory, every state")
        for c in ("size", "states", "transitions", "s", "states/s", "trans/s", "peak MiB", "B/state"):
            t.add_column(c, justify="right")
        for r in exp.values():
            t.add_row(
                r["label"],
                f"{r['states']:,}",
                f"{r['transitions']:,}",
                f"{r['seconds']:.2f}",
                f"{r['states_per_s']:,.0f}",
                f"{r['transitions_per_s']:,.0f}",
                f"{r['peak_rss_mib']:.0f}",
                f"{r['bytes_per_state']:,.0f}",
            )
        console.print(t)
    sp = res.get("spin")
    if sp is not None:
        if not sp["available"]:
            console.print(f"[bold]SPIN[/bold]: not run: {sp['why']}")
        else:
            t = Table(title="SPIN 6.5.2 on bench/peers/hotplug.pml (gcc -O2 -DSAFETY), same state counts")
            for c in (
                "size",
                "states",
                "same edges",
                "run s",
                "build s",
                "states/s",
                "MiB",
                "ours/SPIN st/s",
                "time ×",
                "time × incl build",
            ):
                t.add_column(c, justify="right")
            for r in sp["sizes"]:
                t.add_row(
                    r["label"],
                    f"{r['states']:,}",
                    {True: "yes", False: "no", None: "?"}[r.get("transitions_match")],
                    f"{r['run_s']:.2f}",
                    f"{r['build_s']:.2f}",
                    f"{r['states_per_s']:,.0f}",
                    f"{r['memory_mib']:.0f}",
                    f"{r.get('ours_over_spin_states_per_s', 0):.4f}",
                    f"{r.get('ours_over_spin_time_excl_build', 0):.1f}",
                    f"{r.get('ours_over_spin_time_incl_build', 0):.1f}",
                )
            console.print(t)
    sym = res.get("symmetry", [])
    if sym:
        t = Table(title="symmetry reduction (device slots renumbered canonically)")
        for c in ("size", "states off", "states on", "s off", "s on", "states ÷", "time ÷"):
            t.add_column(c, justify="right")
        for r in sym:
            off = exp.get(r["label"])
            if off is None:
                continue
            t.add_row(
                r["label"],
                f"{off['states']:,}",
                f"{r['states']:,}",
                f"{off['seconds']:.2f}",
                f"{r['seconds']:.2f}",
                f"{off['states'] / r['states']:.2f}",
                f"{off['seconds'] / r['seconds']:.2f}",
            )
        console.print(t)
    syms = res.get("symbolic", [])
    if syms:
        t = Table(
            title="symbolic engine (all 64-bit altmap values) vs explicit, at check --engine symbolic's "
            "bounds (depth 2, no injected fault)"
        )
        for c in (
            "cell",
            "seqs",
            "paths",
            "queries",
            "escalated",
            "ms/query",
            "ms/seq",
            "s",
            "explicit s",
            "×",
            "complete",
        ):
            t.add_column(c, justify="right")
        for c in syms:
            t.add_row(
                f"{c['arch']} {c['variant']}",
                str(c["sequences"]),
                str(c["paths"]),
                str(c["queries"]),
                str(c["escalated"]),
                f"{c['s_per_query'] * 1000:.1f}",
                f"{c['s_per_sequence'] * 1000:.1f}",
                f"{c['seconds']:.2f}",
                f"{c['explicit_seconds']:.2f}",
                f"{c['over_explicit']:.1f}",
                "yes" if c["complete"] else f"no: {c['budget']}",
            )
        console.print(t)
    mx = res.get("matrix")
    if mx:
        t = Table(title=f"matrix: mhpcheck check {' '.join(mx['select']) or '(default)'}, --no-cache")
        for c in ("run", "median s", "runs"):
            t.add_column(c, justify="right")
        for k, v in mx["runs_s"].items():
            t.add_row(k, f"{mx['median_s'][k]:.2f}", " ".join(f"{x:.2f}" for x in v))
        t.add_row("jobs1 ÷ jobs2", f"{mx['speedup_jobs2']:.2f}", "")
        t.add_row("2 CPU-bound processes: serial ÷ parallel", f"{mx['parallel_capacity']:.2f}", "")
        console.print(t)
    t = Table(title="PERFORMANCE.md goals, as measured in this run")
    for c in ("goal", "measured", "met"):
        t.add_column(c)
    for g in res["goals"]:
        t.add_row(g["goal"], g["measured"], {True: "yes", False: "no", None: "n/a"}[g["met"]])
    console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each: for CI")
    ap.add_argument("--repeat", type=int, help="runs per measurement, medians reported (default 3, quick 1)")
    ap.add_argument("--matrix-repeat", type=int, default=1, help="runs of the matrix at each --jobs")
    ap.add_argument("--skip", action="append", default=[], choices=SECTIONS, help="leave a section out")
    ap.add_argument("--output", type=Path, default=Path("mhpcheck-out/bench.json"))
    ns = ap.parse_args()
    repeat = ns.repeat or (1 if ns.quick else 3)
    sizes = QUICK_SIZES if ns.quick else FULL_SIZES
    console = Console(width=None if sys.stdout.isatty() else 150)
    err = Console(stderr=True)
    todo = [s for s in SECTIONS if s not in ns.skip]
    res: dict[str, Any] = {
        "tool": f"mhpcheck {__version__}",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": ns.quick,
        "repeat": repeat,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # the machine may be shared: other work competing for the cores shows here
        "loadavg_start": os.getloadavg(),
    }
    t0 = time.perf_counter()
    explicit: dict[str, Any] = {}
    if "explicit" in todo or "spin" in todo or "symmetry" in todo:
        for size in sizes:
            err.print(f"explicit {size.label} ×{repeat}")
            explicit[size.label] = measure.explicit(size, False, repeat)
        res["explicit"] = list(explicit.values())
    if "spin" in todo:
        err.print("SPIN")
        res["spin"] = _spin(sizes, explicit, repeat)
    if "symmetry" in todo:
        res["symmetry"] = []
        for size in sizes:
            err.print(f"symmetry {size.label} ×{repeat}")
            res["symmetry"].append(measure.explicit(size, True, repeat))
    if "symbolic" in todo:
        res["symbolic"] = []
        for arch, variant in measure.symbolic_cells(ns.quick):
            err.print(f"symbolic {arch} {variant}")
            res["symbolic"].append(measure.symbolic(arch, variant))
    if "matrix" in todo:
        err.print("matrix --jobs 1 / --jobs 2")
        res["matrix"] = matrix.measure(ns.matrix_repeat, QUICK_MATRIX if ns.quick else None, cache=False)
    res["loadavg_end"] = os.getloadavg()
    res["goals"] = _goals(res)
    res["bench_seconds"] = time.perf_counter() - t0
    _render(res, console)
    matrix.write_json(ns.output, res)
    load = ", ".join(f"{x:.2f}" for x in res["loadavg_start"])
    console.print(f"written {ns.output} in {res['bench_seconds']:.0f} s (load average at start: {load})")


if __name__ == "__main__":
    main()

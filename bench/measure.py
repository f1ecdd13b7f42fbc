"""What the bench measures; each exploration runs in a fresh process, so its peak memory is its own."""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from mhpcheck.checker import DEFAULT_BOUNDS, SYMBOLIC_DEPTH, SYMBOLIC_FAULTS, CheckRequest, cells_of
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.symbolic.engine import check_symbolic
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES

ARCH, VARIANT = "x86_64", "v4.5"


@dataclass(frozen=True)
class Size:
    """One size of the shared configuration: x86_64 at v4.5, device memory only, explored to the end."""

    sections: int
    devices: int
    max_device_sections: int = 2

    def bounds(self) -> Bounds:
        # No RAM hot-add and no injected faults: bench/peers/README.md says why. The depth is
        # far beyond the diameter, so both tools explore every reachable state.
        return Bounds(
            sections=self.sections,
            devices=self.devices,
            max_device_sections=self.max_device_sections,
            ram=False,
            faults=0,
            depth=1000,
        )

    @property
    def label(self) -> str:
        return f"{self.sections}s/{self.devices}d/{self.max_device_sections}m"


def _explicit_child(size: Size, symmetry: bool) -> dict[str, Any]:
    """Run in a fresh process: one exploration, its wall time and its growth of peak RSS."""
    base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    r = explore(Cell(ARCH, VARIANT, size.bounds(), PROPERTIES), symmetry=symmetry)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not r.complete or r.depth >= size.bounds().depth:
        raise RuntimeError(f"{size.label}: the exploration did not reach every state")
    return {
        "states": r.states,
        "transitions": r.transitions,
        "depth": r.depth,
        "seconds": seconds,
        "peak_rss_mib": peak_kib / 1024,
        "rss_growth_bytes": (peak_kib - base_kib) * 1024,
    }


def explicit(size: Size, symmetry: bool, repeat: int) -> dict[str, Any]:
    """Medians of `repeat` explorations of `size`, each in its own process."""
    ctx = multiprocessing.get_context("spawn")
    runs = []
    for _ in range(repeat):
        with ctx.Pool(1) as pool:
            runs.append(pool.apply(_explicit_child, (size, symmetry)))
    if len({(x["states"], x["transitions"]) for x in runs}) != 1:
        raise SystemExit(f"{size.label}: runs disagree on the state space: {runs}")
    seconds = statistics.median(x["seconds"] for x in runs)
    states, transitions = runs[0]["states"], runs[0]["transitions"]
    growth = statistics.median(x["rss_growth_bytes"] for x in runs)
    return {
        "size": asdict(size),
        "label": size.label,
        "symmetry": symmetry,
        "states": states,
        "transitions": transitions,
        "depth": runs[0]["depth"],
        "seconds": seconds,
        "runs_s": [x["seconds"] for x in runs],
        "states_per_s": states / seconds,
        "transitions_per_s": transitions / seconds,
        "peak_rss_mib": statistics.median(x["peak_rss_mib"] for x in runs),
        # peak RSS grown during the run, over the states stored: the visited set, parent
        # pointers, the frontier and whatever the model allocated at its peak
        "bytes_per_state": growth / states,
    }


def symbolic_cells(quick: bool) -> list[tuple[str, str]]:
    """The cells the symbolic engine is measured on: the default matrix (v6.12), or two small ones."""
    if quick:
        return [("x86_64", "v4.3"), ("powerpc64-hash", "v4.13")]
    return cells_of(CheckRequest())[0]


def symbolic(arch: str, variant: str) -> dict[str, Any]:
    """The symbolic engine on one cell at `mhpcheck check --engine symbolic`'s bounds, and the
    explicit engine on the same cell and bounds."""
    b = replace(DEFAULT_BOUNDS, depth=SYMBOLIC_DEPTH, faults=SYMBOLIC_FAULTS)
    t0 = time.perf_counter()
    cell = check_symbolic(Cell(arch, variant, b, PROPERTIES, "symbolic"))
    sym_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    exp = explore(Cell(arch, variant, b, PROPERTIES))
    exp_s = time.perf_counter() - t0
    st = cell.stats
    return {
        "arch": arch,
        "variant": variant,
        "depth": b.depth,
        "complete": cell.complete,
        "budget": cell.budget,
        "sequences": st["sequences"],
        "paths": st["paths"],
        "queries": st["queries"],
        "escalated": st["escalated"],
        "solver_s": st["solver_seconds"],
        "seconds": sym_s,
        "s_per_query": st["solver_seconds"] / st["queries"] if st["queries"] else 0.0,
        "s_per_sequence": sym_s / st["sequences"] if st["sequences"] else 0.0,
        "explicit_seconds": exp_s,
        "explicit_states": exp.states,
        "over_explicit": sym_s / exp_s,
    }

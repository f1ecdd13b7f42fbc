"""What a patch file can replace, and which eras' paths run each of those functions.

Note: which functions a cell's paths run is measured by exploring it at small bounds with a
counting wrapper around every replaceable function (the same module-level indirection patch
files use); a function only deeper or larger bounds reach is missed there, and `check` and
`diff` then warn about a replacement that their own run never called.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mhpcheck import patching
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.model import kernel
from mhpcheck.model.arch import arch_named, archs
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import Variant

# Small enough to list every era in seconds, large enough for every path an add or a removal
# takes: two sections, two devices, a fault, sub-sections, RAM.
COVERAGE_BOUNDS = Bounds(sections=2, devices=2, max_device_sections=2, faults=1, depth=3)


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Count the calls of every replaceable function while the block runs."""
    counts: dict[str, int] = {}
    saved: list[tuple[Any, str, Callable[..., Any]]] = []
    for f in patching.catalogue():
        mod = sys.modules[f.module]
        fn = getattr(mod, f.attr)
        counts[f.name] = 0
        saved.append((mod, f.attr, fn))
        setattr(mod, f.attr, _counted(fn, f.name, counts))
    kernel.forget_kept()  # a result kept before would hide calls from the counts
    try:
        yield counts
    finally:
        for mod, attr, fn in saved:
            setattr(mod, attr, fn)


def _counted(fn: Callable[..., Any], name: str, counts: dict[str, int]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[name] += 1
        return fn(*args, **kwargs)

    return counted


def reached(cell: tuple[str, Variant]) -> frozenset[str]:
    """The replaceable functions some path of the cell runs, at COVERAGE_BOUNDS."""
    arch, variant = cell
    with counting() as counts:
        explore(Cell(arch, variant, COVERAGE_BOUNDS))
    return frozenset(name for name, n in counts.items() if n)


@dataclass(frozen=True)
class Listed:
    """A replaceable function and the eras whose paths run it, on some arch."""

    function: patching.ModelFunction
    eras: tuple[str, ...]


def listing(eras: Sequence[Variant], jobs: int = 1) -> list[Listed]:
    """Every replaceable function with the eras (of `eras`) whose paths run it."""
    cells = [(a.name, v) for v in eras for a in archs() if arch_named(a.name).supports(v)]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(reached, cells))
    else:
        runs = [reached(c) for c in cells]
    by_era: dict[str, set[str]] = {}
    for (_, v), names in zip(cells, runs, strict=True):
        by_era.setdefault(v.name, set()).update(names)
    return [
        Listed(f, tuple(v.name for v in eras if f.name in by_era.get(v.name, set())))
        for f in patching.catalogue()
    ]

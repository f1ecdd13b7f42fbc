"""Counterexample minimisation: fewer steps, then smaller values, while the same property still fails.

Breadth-first search already gives the fewest steps for the explicit engine; paths from
simulation are not shortest, so steps are dropped first. Values then shrink step by step,
each to the smallest alternative the environment offers in that state (lowest pfns, fewest
sections, smallest reserve and free, no injected fault) for which the property still fails.
"""

from __future__ import annotations

from mhpcheck.core.spec import Property
from mhpcheck.engines.cell import Cell, NotEnabled
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import AltmapChoice, Transition


def size(t: Transition) -> tuple[int, ...]:
    """The order in which values are preferred: field by field, smaller first, no fault first."""
    out: list[int] = []
    for name, value in t.args().items():
        if isinstance(value, AltmapChoice):
            out.append(value.base_offset + value.reserve + value.free + value.stale_alloc)
        elif value is None:
            out.append(-1)  # no altmap, no injected fault
        elif isinstance(value, int) and name != "dev":
            out.append(value)
    return tuple(out)


def _fails(cell: Cell, prop: Property, path: tuple[Transition, ...]) -> bool:
    try:
        _, failed_at, _ = cell.judge_path(prop, path)
    except NotEnabled:  # a shrunk path the environment cannot take is no counterexample
        return False
    return failed_at is not None


def _enabled(cell: Cell, path: tuple[Transition, ...]) -> tuple[Transition, ...]:
    """`path` less every step the environment no longer offers once earlier ones are gone (the
    removal of RAM whose add was dropped)."""
    kept: list[Transition] = []
    s = KernelState()
    for t in path:
        if t.enabled(cell.k, s, cell.bounds):
            kept.append(t)
            s = cell.step(s, t).after
    return tuple(kept)


def minimise(cell: Cell, prop: Property, path: tuple[Transition, ...]) -> tuple[Transition, ...]:
    """A path no longer and no larger than `path` on which `prop` still fails, every step enabled."""
    best = tuple(path)
    if not _fails(cell, prop, best):
        return best
    i = 0
    while i < len(best):  # drop steps (paths from simulation carry ones that do not matter)
        shorter = _enabled(cell, best[:i] + best[i + 1 :])
        if _fails(cell, prop, shorter):
            best = shorter
        else:
            i += 1
    for i in range(len(best)):
        s = KernelState()
        for st in cell.replay(best[:i]):
            s = st.after
        current = best[i]
        candidates = sorted(
            (c for c in type(current).choices(cell.k, s, cell.bounds) if size(c) < size(current)), key=size
        )
        cell.k.take_events()
        for c in candidates:
            trial = (*best[:i], c, *best[i + 1 :])
            if _fails(cell, prop, trial):
                best = trial
                break
    return best

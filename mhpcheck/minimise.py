"""Counterexample minimisation: fewer steps, then smaller values, while the same property still fails.

Breadth-first search already gives the fewest steps for the explicit engine; paths from
simulation are not shortest, so steps are dropped first. Values then shrink step by step,
each to the smallest alternative the environment offers in that state (lowest pfns, fewest
sections, smallest reserve and free, no injected fault) for which the property still fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from mhpcheck.explorer import judge_path
from mhpcheck.model import build
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import AltmapChoice, Bounds, Transition
from mhpcheck.spec import Property


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


def _fails(arch: str, variant: str, prop: Property, path: Sequence[Transition]) -> bool:
    try:
        _, failed_at, _ = judge_path(arch, variant, prop, path)
    except Exception:  # a shrunk path the model cannot run is not a counterexample
        return False
    return failed_at is not None


def minimise(
    arch: str, variant: str, prop: Property, path: Sequence[Transition], bounds: Bounds
) -> tuple[Transition, ...]:
    """A path no longer and no larger than `path` on which `prop` still fails."""
    best = tuple(path)
    if not _fails(arch, variant, prop, best):
        return best
    i = 0
    while i < len(best):  # drop steps (paths from simulation carry ones that do not matter)
        shorter = best[:i] + best[i + 1 :]
        if _fails(arch, variant, prop, shorter):
            best = shorter
        else:
            i += 1
    k = build(arch, variant)
    for i in range(len(best)):
        s = KernelState()
        for t in best[:i]:
            s, _ = t.apply(k, s)
        k.take_events()
        current = best[i]
        cls = type(current)
        candidates = sorted(
            (c for c in cls.choices(k, s, bounds) if size(c) < size(current)),  # type: ignore[attr-defined]
            key=size,
        )
        k.take_events()
        for c in candidates:
            trial = (*best[:i], c, *best[i + 1 :])
            if _fails(arch, variant, prop, trial):
                best = trial
                break
    return best

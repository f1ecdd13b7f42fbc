"""Verdict bisection over eras: the first era where a property's verdict flips, and the patch that did it."""

from __future__ import annotations

from dataclasses import dataclass

from mhpcheck.core.results import Verdict
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.pool import pool_map
from mhpcheck.engines.symbolic.engine import check_symbolic
from mhpcheck.model.arch import arch_named
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import ERAS, Patch, Variant
from mhpcheck.properties import property_named


@dataclass
class BisectResult:
    """Each era's verdict, the first flip, and the commit between the two eras that flipped it."""

    prop: str
    arch: str
    verdicts: list[tuple[str, Verdict]]
    flip: tuple[str, str] | None = None  # (era before, era after)
    patch: Patch | None = None


@dataclass(frozen=True)
class _Ask:
    """One verdict to compute, as it crosses the process pool."""

    arch: str
    variant: Variant
    prop: str
    bounds: Bounds
    engine: str
    time_budget: float | None
    max_states: int | None
    symmetry: bool


def _verdict(ask: _Ask) -> Verdict:
    # Recorded findings are not applied: a flip is a flip whether or not it is known.
    cell = Cell(ask.arch, ask.variant, ask.bounds, [property_named(ask.prop)], ask.engine)
    if ask.engine == "symbolic":
        result = check_symbolic(cell, ask.time_budget)
    else:
        result = explore(cell, ask.max_states, ask.time_budget, symmetry=ask.symmetry)
    if not result.properties:
        return Verdict.NOT_APPLICABLE
    return result.properties[0].verdict


def bisect(
    prop: str,
    arch: str,
    bounds: Bounds,
    engine: str = "explicit",
    time_budget: float | None = None,
    max_states: int | None = None,
    symmetry: bool = False,
    jobs: int = 1,
) -> BisectResult:
    """Walk the eras in order; at the first flip, add the later era's new commits one by one."""
    spec = arch_named(arch)
    eras = [v for v in ERAS if spec.supports(v)]

    def ask(v: Variant) -> _Ask:
        return _Ask(arch, v, prop, bounds, engine, time_budget, max_states, symmetry)

    if jobs > 1:
        verdicts: list[Verdict] = []
        pool_map(_verdict, [ask(v) for v in eras], min(jobs, len(eras)), verdicts.append)
    else:
        verdicts = [_verdict(ask(v)) for v in eras]
    res = BisectResult(prop, arch, [(v.name, x) for v, x in zip(eras, verdicts, strict=True)])
    for (a, va), (b, vb), before, after in zip(res.verdicts, res.verdicts[1:], eras, eras[1:], strict=False):
        if va == vb or Verdict.NOT_APPLICABLE in (va, vb) or Verdict.INCONCLUSIVE in (va, vb):
            continue
        res.flip = (a, b)
        added = [p for p in after.patches if p not in before.patches]
        kept = list(before.patches)
        for patch in added:
            kept.append(patch)
            step = Variant(
                f"{a}+{patch.key}", after.version, tuple(kept), keys=frozenset(x.key for x in kept)
            )
            if _verdict(ask(step)) == vb:
                res.patch = patch
                break
        break
    return res

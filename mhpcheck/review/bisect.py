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
from mhpcheck.model.variants import ERAS, Patch, Variant, asking
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


def _verdict(ask: _Ask) -> tuple[Verdict, dict[str, bool]]:
    """The property's verdict at the variant, and what the run asked of the variant (asking())."""
    # Recorded findings are not applied: a flip is a flip whether or not it is known.
    with asking() as asked:
        cell = Cell(ask.arch, ask.variant, ask.bounds, [property_named(ask.prop)], ask.engine)
        if ask.engine == "symbolic":
            result = check_symbolic(cell, ask.time_budget)
        else:
            result = explore(cell, ask.max_states, ask.time_budget, symmetry=ask.symmetry)
    verdict = result.properties[0].verdict if result.properties else Verdict.NOT_APPLICABLE
    return verdict, dict(asked)


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

    # (variant, what its run asked, its verdict): a variant with the same constants that answers
    # one run's questions alike makes that run (checker.as_era()), and has its verdict
    runs: list[tuple[Variant, dict[str, bool], Verdict]] = []

    def verdict_of(v: Variant) -> Verdict:
        for was, asked, verdict in runs:
            if verdict != Verdict.INCONCLUSIVE and spec.runs_alike(was, v, asked):
                return verdict
        verdict, asked = _verdict(ask(v))
        runs.append((v, asked, verdict))
        return verdict

    if jobs > 1:
        got: list[tuple[Verdict, dict[str, bool]]] = []
        pool_map(_verdict, [ask(v) for v in eras], min(jobs, len(eras)), got.append)
        runs.extend((v, asked, verdict) for v, (verdict, asked) in zip(eras, got, strict=True))
        verdicts = [verdict for verdict, _ in got]
    else:
        verdicts = [verdict_of(v) for v in eras]
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
            if verdict_of(step) == vb:
                res.patch = patch
                break
        break
    return res

"""Semantic diff of two variants: explore both over the same transition sequences, compare outcomes.

Each difference is classified: a fix (A violates a property that B holds on the same
sequence), a regression (B violates one that A holds) or a behaviour change (both hold, the
outcomes differ). For each class the first difference found is the shortest, by BFS.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from mhpcheck import patching
from mhpcheck.core.errors import InternalError
from mhpcheck.core.results import Step
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.pool import pool_map
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Bounds, Transition
from mhpcheck.properties import property_named
from mhpcheck.properties.findings import findings_for

FIX = "fix"
REGRESSION = "regression"
CHANGE = "behaviour change"


@dataclass
class Difference:
    """The shortest sequence on which the two variants differ in one class, and how."""

    kind: str
    path: tuple[Transition, ...]
    properties: tuple[str, ...]  # the properties one side violates and the other holds
    detail: str


@dataclass
class DiffResult:
    """The differences between variants A and B on one arch config."""

    arch: str
    a: str
    b: str
    differences: dict[str, Difference] = field(default_factory=dict)
    pairs: int = 0
    seconds: float = 0.0
    skipped: str = ""
    budget: str = ""  # the budget that cut the exploration short, if any

    @property
    def identical(self) -> bool:
        return not self.differences and not self.skipped


def _known(cell: Cell, names: frozenset[str]) -> frozenset[str]:
    """Those of `names` that are recorded findings of the kernel's era and arch, unless its variant
    claims them (a seed's pre-patch variant claims what the seed fixes)."""
    v = cell.variant
    return frozenset(
        n for n in names if findings_for(n, v.version, cell.arch) and v.name not in property_named(n).kills
    )


def _outcome(step: Step) -> tuple[int, bytes]:
    return step.ret, state_bytes(step.after)


def _describe(sa: Step, sb: Step) -> str:
    if sa.ret != sb.ret:
        return f"returns {sa.ret} on A, {sb.ret} on B"
    for name in KernelState.__dataclass_fields__:
        va, vb = getattr(sa.after, name), getattr(sb.after, name)
        if state_bytes(KernelState(**{name: va})) != state_bytes(KernelState(**{name: vb})):
            return f"{name} differs after the step"
    return "the states differ"


def diff(
    arch: str, a: str, b: str, bounds: Bounds, time_budget: float | None = None, max_states: int | None = None
) -> DiffResult:
    """Explore A and B in lock step over the transitions A offers and report their differences."""
    t0 = time.perf_counter()
    result = DiffResult(arch, a, b)
    ca, cb = Cell(arch, a, bounds), Cell(arch, b, bounds)
    ka, kb = ca.k, cb.k
    if not ca.supported or not cb.supported:
        result.skipped = f"no device memory on {arch} at {a} or {b}"
        return result
    init = KernelState()
    start = (state_bytes(init), state_bytes(init))
    seen = {start}
    queue: deque[tuple[KernelState, KernelState, tuple[Transition, ...]]] = deque([(init, init, ())])
    while queue:
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            result.budget = f"--time-budget {time_budget:g}s"
            break
        if max_states is not None and len(seen) >= max_states:
            result.budget = f"--max-states {max_states}"
            break
        sa, sb, path = queue.popleft()
        if len(path) >= bounds.depth:
            continue
        for cls in TRANSITIONS:
            # once the two have diverged, only what both environments offer is compared
            offered_b = set(cls.choices(kb, sb, bounds)) if sa is not sb else None
            for t in cls.choices(ka, sa, bounds):
                if offered_b is not None and t not in offered_b:
                    continue
                try:
                    stepa = ca.step(sa, t)
                    stepb = cb.step(sb, t)
                except Exception as e:
                    raise InternalError(f"{arch}: {t} raised {e!r}") from e
                a2, b2 = stepa.after, stepb.after
                result.pairs += 1
                here = (*path, t)
                va, vb = ca.violations(stepa), cb.violations(stepb)
                # Once one kernel refuses what the other did, their histories differ and what
                # each violates is no longer comparable: that step is a behaviour change, and the
                # pair is not explored on.
                same_answer = stepa.ret == stepb.ret
                if not same_answer:
                    va = vb = frozenset()
                if va - vb and FIX not in result.differences:
                    fixed = tuple(sorted(va - vb))
                    result.differences[FIX] = Difference(FIX, here, fixed, _describe(stepa, stepb))
                # B showing a recorded finding of its era in one more sequence is not a
                # regression of the change; A losing one is a fix.
                worse = vb - va - _known(cb, vb - va)
                if worse and REGRESSION not in result.differences:
                    result.differences[REGRESSION] = Difference(
                        REGRESSION, here, tuple(sorted(worse)), _describe(stepa, stepb)
                    )
                if (
                    _outcome(stepa) != _outcome(stepb)
                    and not (va - vb)
                    and not worse
                    and CHANGE not in result.differences
                ):
                    result.differences[CHANGE] = Difference(CHANGE, here, (), _describe(stepa, stepb))
                key = (state_bytes(a2), state_bytes(b2))
                if same_answer and key not in seen:
                    seen.add(key)
                    queue.append((a2, b2, here))
    result.seconds = time.perf_counter() - t0
    return result


@dataclass(frozen=True)
class DiffRequest:
    """One arch's diff, as it crosses the process pool: the patch file B's variant names, if any."""

    arch: str
    a: str
    b: str
    bounds: Bounds
    patch: str | None = None
    time_budget: float | None = None
    max_states: int | None = None


def run_diff(req: DiffRequest) -> DiffResult:
    if req.patch is not None:
        patching.activate(req.patch)
    return diff(req.arch, req.a, req.b, req.bounds, req.time_budget, req.max_states)


def diff_all(requests: list[DiffRequest], jobs: int) -> list[DiffResult]:
    """Every request's diff, in the order given, `jobs` at a time."""
    if jobs <= 1 or len(requests) <= 1:
        return [run_diff(r) for r in requests]
    results: list[DiffResult] = []
    pool_map(run_diff, requests, min(jobs, len(requests)), results.append)
    return results

"""Semantic diff of two variants: explore both over the same transition sequences, compare outcomes.

Each difference is classified: a fix (A violates a property that B holds on the same
sequence), a regression (B violates one that A holds) or a behaviour change (both hold, the
outcomes differ). For each class the first difference found is the shortest, by BFS.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mhpcheck.explorer import InternalError
from mhpcheck.model import build
from mhpcheck.model.arch import arch_named
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Bounds, Transition
from mhpcheck.properties import PROPERTIES, property_named
from mhpcheck.properties.findings import findings_for
from mhpcheck.results import Step
from mhpcheck.spec import INVARIANT, MONITOR, STEP, Property

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

    @property
    def identical(self) -> bool:
        return not self.differences and not self.skipped


def _known(k: Any, names: frozenset[str]) -> frozenset[str]:
    """Those of `names` that are recorded findings of the kernel's era and arch, unless its variant
    claims them (a seed's pre-patch variant claims what the seed fixes)."""
    return frozenset(
        n
        for n in names
        if findings_for(n, k.variant.version, k.arch.name) and k.variant.name not in property_named(n).kills
    )


def _violated(k: Any, props: list[Property], step: Step) -> frozenset[str]:
    """The properties `step` violates."""
    out = set()
    for p in props:
        if p.kind == INVARIANT:
            if p.first_failure(k, step.after) is not None:
                out.add(p.name)
        elif p.kind in (STEP, MONITOR) and p.first_failure(k, step) is not None:
            out.add(p.name)
    return frozenset(out)


def _outcome(step: Step) -> tuple[int, bytes]:
    return step.ret, state_bytes(step.after)


def _describe(sa: Step, sb: Step) -> str:
    if sa.ret != sb.ret:
        return f"returns {sa.ret} on A, {sb.ret} on B"
    for name in KernelState.__dataclass_fields__:
        va, vb = getattr(sa.after, name), getattr(sb.after, name)
        if va != vb:
            return f"{name} differs after the step"
    return "the states differ"


def diff(arch: str, a: str, b: str, bounds: Bounds) -> DiffResult:
    """Explore A and B in lock step over the transitions A offers and report their differences."""
    t0 = time.perf_counter()
    result = DiffResult(arch, a, b)
    ka, kb = build(arch, a), build(arch, b)
    spec = arch_named(arch)
    if not spec.supports(ka.variant) or not spec.supports(kb.variant):
        result.skipped = f"no device memory on {arch} at {a} or {b}"
        return result
    pa = [p for p in PROPERTIES if p.applies_to(spec, ka.variant) and p.kind != "reachable"]
    pb = [p for p in PROPERTIES if p.applies_to(spec, kb.variant) and p.kind != "reachable"]
    init = KernelState()
    start = (state_bytes(init), state_bytes(init))
    seen = {start}
    queue: deque[tuple[KernelState, KernelState, tuple[Transition, ...]]] = deque([(init, init, ())])
    while queue:
        sa, sb, path = queue.popleft()
        if len(path) >= bounds.depth:
            continue
        for cls in TRANSITIONS:
            # once the two have diverged, only what both environments offer is compared
            offered_b = set(cls.choices(kb, sb, bounds)) if sa is not sb else None  # type: ignore[attr-defined]
            for t in cls.choices(ka, sa, bounds):  # type: ignore[attr-defined]
                if offered_b is not None and t not in offered_b:
                    continue
                try:
                    a2, ra = t.apply(ka, sa)
                    stepa = Step(sa, t, ra, ka.take_events(), a2)
                    b2, rb = t.apply(kb, sb)
                    stepb = Step(sb, t, rb, kb.take_events(), b2)
                except Exception as e:
                    raise InternalError(f"{arch}: {t} raised {e!r}") from e
                result.pairs += 1
                here = (*path, t)
                va, vb = _violated(ka, pa, stepa), _violated(kb, pb, stepb)
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
                worse = vb - va - _known(kb, vb - va)
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

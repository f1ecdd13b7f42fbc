"""The explicit-state explorer: deterministic BFS over concrete kernel states, with budgets.

Note: the visited set holds `marshal`-packed canonical keys (bytes), never the dataclasses, and
the queue holds states only for the frontier. Counterexamples are rebuilt from parent pointers
and so are shortest by construction. Order is deterministic: transitions come from each
transition's `choices()` in the registry's order, never from set or dict iteration.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from mhpcheck.model import build
from mhpcheck.model.arch import arch_named
from mhpcheck.model.state import KernelState, state_bytes, symmetric_state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Bounds, Transition
from mhpcheck.model.variants import Variant
from mhpcheck.results import CellResult, PropertyResult, Step, Verdict
from mhpcheck.spec import INVARIANT, MONITOR, REACHABLE, STEP, Property

Progress = Callable[[int, int, int, float], None]


class InternalError(Exception):
    """The model raised while running a transition: a defect in mhpcheck, not a verdict."""


def applicable(properties: Sequence[Property], arch: Any, variant: Variant, bounds: Bounds) -> list[Property]:
    """The properties that concern this arch and era and that these bounds can exercise."""
    failures = bounds.faults > 0 or bounds.partial_failures
    return [
        p
        for p in properties
        if p.applies_to(arch, variant)
        and (p.needs != "faults" or bounds.faults > 0)
        and (p.needs != "failures" or failures)
    ]


def explore(
    arch: str,
    variant: str | Variant,
    bounds: Bounds,
    properties: Sequence[Property],
    max_states: int | None = None,
    time_budget: float | None = None,
    progress: Progress | None = None,
    on_state: Callable[[bytes, KernelState, bytes | None, Transition | None], None] | None = None,
    symmetry: bool = False,
    on_edge: Callable[[bytes, Transition, bytes], None] | None = None,
) -> CellResult:
    """Explore every state reachable within `bounds` and judge each property on it."""
    k = build(arch, variant)
    a = arch_named(arch)
    result = CellResult(arch, k.variant.name, "explicit", asdict(bounds))
    props = applicable(properties, a, k.variant, bounds)
    invariants = [p for p in props if p.kind == INVARIANT]
    steps = [p for p in props if p.kind in (STEP, MONITOR)]
    state_witnesses = [p for p in props if p.kind == REACHABLE and not p.over_steps]
    step_witnesses = [p for p in props if p.kind == REACHABLE and p.over_steps]
    found: dict[str, tuple[bytes, Transition | None, str]] = {}  # name -> (key, last step, message)

    t0 = time.perf_counter()
    init = KernelState()
    encode = symmetric_state_bytes if symmetry else state_bytes
    key0 = encode(init)
    parent: dict[bytes, tuple[bytes, Transition] | None] = {key0: None}
    if on_state:
        on_state(key0, init, None, None)
    queue: deque[tuple[KernelState, bytes, int]] = deque([(init, key0, 0)])

    def judge_state(s: KernelState, key: bytes) -> None:
        for p in invariants:
            if p.name not in found:
                msg = p.first_failure(k, s)
                if msg is not None:
                    found[p.name] = (key, None, msg)
        for p in state_witnesses:
            if p.name not in found and p.first_failure(k, s) is None:
                found[p.name] = (key, None, "reached")

    judge_state(init, key0)
    transitions = 0
    depth = 0
    gc_was = gc.isenabled()
    gc.disable()  # millions of short-lived tuples; nothing here makes cycles
    try:
        while queue:
            s, key, d = queue.popleft()
            depth = max(depth, d)
            if d >= bounds.depth:
                continue
            for cls in TRANSITIONS:
                for t in cls.choices(k, s, bounds):  # type: ignore[attr-defined]
                    transitions += 1
                    try:
                        s2, ret = t.apply(k, s)
                    except Exception as e:  # a model defect, reported as exit 4
                        raise InternalError(f"{arch} {variant}: {t} raised {e!r}") from e
                    events = k.take_events()
                    step = Step(s, t, ret, events, s2)
                    for p in steps:
                        if p.name not in found:
                            msg = p.first_failure(k, step)
                            if msg is not None:
                                found[p.name] = (key, t, msg)
                    for p in step_witnesses:
                        if p.name not in found and p.first_failure(k, step) is None:
                            found[p.name] = (key, t, "reached")
                    key2 = encode(s2)
                    if on_edge:
                        on_edge(key, t, key2)
                    if key2 in parent:
                        continue
                    parent[key2] = (key, t)
                    if on_state:
                        on_state(key2, s2, key, t)
                    judge_state(s2, key2)
                    queue.append((s2, key2, d + 1))
                    depth = max(depth, d + 1)
            if max_states is not None and len(parent) >= max_states:
                result.complete, result.budget = False, f"--max-states {max_states}"
                break
            if time_budget is not None and time.perf_counter() - t0 > time_budget:
                result.complete, result.budget = False, f"--time-budget {time_budget:g}s"
                break
            if progress is not None and len(parent) % 1024 == 0:
                progress(len(parent), transitions, depth, time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()

    result.states = len(parent)
    result.transitions = transitions
    result.depth = depth
    result.seconds = time.perf_counter() - t0

    def path_to(key: bytes) -> tuple[Transition, ...]:
        out: list[Transition] = []
        cur = parent[key]
        while cur is not None:
            pkey, t = cur
            out.append(t)
            cur = parent[pkey]
        return tuple(reversed(out))

    for p in props:
        hit = found.get(p.name)
        if p.kind == REACHABLE:
            if hit is not None:
                path = path_to(hit[0]) + ((hit[1],) if hit[1] is not None else ())
                result.properties.append(PropertyResult(p.name, p.kind, Verdict.HOLDS, "reached", path))
            elif result.complete:
                result.properties.append(
                    PropertyResult(p.name, p.kind, Verdict.VIOLATED, f"witness not reached: {p.doc}")
                )
            else:
                result.properties.append(
                    PropertyResult(
                        p.name, p.kind, Verdict.INCONCLUSIVE, f"not reached before {result.budget}"
                    )
                )
        elif hit is not None:
            path = path_to(hit[0]) + ((hit[1],) if hit[1] is not None else ())
            result.properties.append(PropertyResult(p.name, p.kind, Verdict.VIOLATED, hit[2], path))
        elif result.complete:
            result.properties.append(PropertyResult(p.name, p.kind, Verdict.HOLDS))
        else:
            result.properties.append(
                PropertyResult(p.name, p.kind, Verdict.INCONCLUSIVE, f"cut by {result.budget}")
            )
    return result


def replay(arch: str, variant: str, path: Sequence[Transition]) -> list[Step]:
    """Run `path` from the initial state and return its steps (states, return values, events)."""
    k = build(arch, variant)
    s = KernelState()
    out = []
    for t in path:
        s2, ret = t.apply(k, s)
        out.append(Step(s, t, ret, k.take_events(), s2))
        s = s2
    return out


def describe(arch: str, variant: str) -> dict[str, Any]:
    """The resolved constants of an arch config at a variant (for reports)."""
    k = build(arch, variant)
    return {n: getattr(k.arch, n) for n in ("PAGE_SHIFT", "SECTION_SIZE_BITS", "VMEMMAP_SHIFT")}


def judge_path(
    arch: str, variant: str | Variant, prop: Property, path: Sequence[Transition]
) -> tuple[list[Step], int | None, str]:
    """Replay `path` and judge one property along it, as the explorer would.

    Returns the steps, and the number of steps after which the property first fails (0: in
    the initial state) with its message; None if it holds along the whole path. For a witness
    the "failure" is the witness being reached.
    """
    k = build(arch, variant)
    s = KernelState()
    witness = prop.kind == REACHABLE

    def fails(*args: Any) -> str | None:
        msg = prop.first_failure(k, *args)
        if witness:
            return "reached" if msg is None else None
        return msg

    steps: list[Step] = []
    if prop.kind in (INVARIANT, REACHABLE) and not prop.over_steps:
        msg = fails(s)
        if msg is not None:
            return steps, 0, msg
    for t in path:
        s2, ret = t.apply(k, s)
        step = Step(s, t, ret, k.take_events(), s2)
        steps.append(step)
        if prop.kind in (STEP, MONITOR) or prop.over_steps:
            msg = fails(step)
        else:
            msg = fails(s2)
        if msg is not None:
            return steps, len(steps), msg
        s = s2
    return steps, None, ""

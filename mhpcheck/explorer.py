"""The explicit-state explorer: deterministic BFS over concrete kernel states, with budgets.

Note: the visited set and the queue hold `marshal`-packed canonical keys (bytes), never the
dataclasses: a state of the x86_64 model takes ~3 KiB as objects and ~0.4 KiB packed, and is
decoded once, when it is expanded. Under symmetry the visited key names a renumbered state, so
the queue holds the state's own packed encoding: counterexamples follow the states actually
reached. Counterexamples are rebuilt from parent pointers and so are shortest by construction.
Order is deterministic: transitions come from each transition's `choices()` in the registry's
order, never from set or dict iteration.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from mhpcheck.model import build
from mhpcheck.model.arch import arch_named
from mhpcheck.model.state import KernelState, state_bytes, state_from_bytes, symmetric_state_bytes
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
    found: dict[str, tuple[int, Transition | None, str]] = {}  # name -> (state index, last step, message)

    t0 = time.perf_counter()
    init = KernelState()
    encode = symmetric_state_bytes if symmetry else state_bytes
    key0 = encode(init)
    # The visited set maps each packed key to its index in `parents`/`via`, the parent pointers
    # kept as a machine-int array and a list of interned transitions: no per-state tuple, and
    # nothing the garbage collector has to walk.
    index: dict[bytes, int] = {key0: 0}
    parents = array("q", [-1])
    via: list[Transition | None] = [None]
    interned: dict[Transition, Transition] = {}
    if on_state:
        on_state(key0, init, None, None)
    # (packed state, index, depth, visited key): the packed state is the visited key itself
    # unless symmetry renumbers devices in the latter
    queue: deque[tuple[bytes, int, int, bytes]] = deque([(state_bytes(init), 0, 0, key0)])
    pending_inv = list(invariants)
    pending_sw = list(state_witnesses)
    pending_steps = list(steps)
    pending_stw = list(step_witnesses)

    def judge_state(s: KernelState, i: int) -> None:
        # Properties already decided are dropped from the pending lists: a property fails (or a
        # witness is reached) once, at the shallowest state BFS meets it.
        for p in tuple(pending_inv):
            msg = p.first_failure(k, s)
            if msg is not None:
                found[p.name] = (i, None, msg)
                pending_inv.remove(p)
        for p in tuple(pending_sw):
            if p.first_failure(k, s) is None:
                found[p.name] = (i, None, "reached")
                pending_sw.remove(p)

    judge_state(init, 0)
    transitions = 0
    depth = 0
    max_depth = bounds.depth
    take_events = k.take_events
    append = queue.append
    popleft = queue.popleft
    choosers = [cls.choices for cls in TRANSITIONS]  # type: ignore[attr-defined]
    gc_was = gc.isenabled()
    # Nothing the loop builds makes reference cycles, and the visited set holds bytes only:
    # collections would walk millions of live objects for nothing. Objects from before the
    # run (the model, its modules) are frozen so that a caller's collection skips them too.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        while queue:
            packed, i, d, key = popleft()
            if d > depth:
                depth = d
            if d >= max_depth:
                continue
            s = state_from_bytes(packed)
            d2 = d + 1
            for choices in choosers:
                for t in choices(k, s, bounds):
                    transitions += 1
                    try:
                        s2, ret = t.apply(k, s)
                    except Exception as e:  # a model defect, reported as exit 4
                        raise InternalError(f"{arch} {variant}: {t} raised {e!r}") from e
                    events = take_events()
                    if pending_steps or pending_stw:
                        step = Step(s, t, ret, events, s2)
                        for p in tuple(pending_steps):
                            msg = p.first_failure(k, step)
                            if msg is not None:
                                found[p.name] = (i, t, msg)
                                pending_steps.remove(p)
                        for p in tuple(pending_stw):
                            if p.first_failure(k, step) is None:
                                found[p.name] = (i, t, "reached")
                                pending_stw.remove(p)
                    key2 = encode(s2)
                    if on_edge:
                        on_edge(key, t, key2)
                    if key2 in index:
                        continue
                    i2 = len(parents)
                    index[key2] = i2
                    parents.append(i)
                    via.append(interned.setdefault(t, t))
                    if on_state:
                        on_state(key2, s2, key, t)
                    if pending_inv or pending_sw:
                        judge_state(s2, i2)
                    append((state_bytes(s2) if symmetry else key2, i2, d2, key2))
                    if d2 > depth:
                        depth = d2
            if max_states is not None and len(parents) >= max_states:
                result.complete, result.budget = False, f"--max-states {max_states}"
                break
            if time_budget is not None and time.perf_counter() - t0 > time_budget:
                result.complete, result.budget = False, f"--time-budget {time_budget:g}s"
                break
            if progress is not None and len(parents) % 1024 == 0:
                progress(len(parents), transitions, depth, time.perf_counter() - t0)
    finally:
        gc.unfreeze()
        if gc_was:
            gc.enable()

    result.states = len(parents)
    result.transitions = transitions
    result.depth = depth
    result.seconds = time.perf_counter() - t0

    def path_to(i: int) -> tuple[Transition, ...]:
        out: list[Transition] = []
        while i > 0:
            t = via[i]
            assert t is not None
            out.append(t)
            i = parents[i]
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

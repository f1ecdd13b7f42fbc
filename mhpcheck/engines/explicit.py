"""The explicit-state explorer: deterministic BFS over concrete kernel states, with budgets.

Note: the visited set holds a 128-bit blake2b fingerprint of each state's canonical `marshal`
encoding (hash compaction, as SPIN's -DHC: two distinct states share one with probability about
n^2 / 2^129, below 10^-24 for ten million states), and the queue holds the encoding itself,
zlib-compressed, decoded once when the state is expanded: a state of the x86_64 model takes ~3 KiB
as objects, ~0.4 KiB packed. Under symmetry the fingerprint is of the renumbered state, and the
queue holds the state's own encoding: counterexamples follow the states actually reached.
Counterexamples are rebuilt from parent pointers and so are shortest by construction. Order is
deterministic: transitions come from each transition's `choices()` in the registry's order,
never from set or dict iteration.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections import deque
from collections.abc import Callable
from hashlib import blake2b
from zlib import compress, decompress

from mhpcheck.core.errors import InputError, InternalError
from mhpcheck.core.results import CellResult, Step
from mhpcheck.engines.cell import Cell
from mhpcheck.model.state import KernelState, state_bytes, state_from_bytes, symmetric_state_bytes
from mhpcheck.model.transitions import TRANSITIONS, Transition

Progress = Callable[[int, int, int, float], None]
FINGERPRINT_BYTES = 16


def fingerprint(encoded: bytes) -> bytes:
    """The visited set's key of a state's canonical encoding: 128 bits of blake2b (hash compaction)."""
    return blake2b(encoded, digest_size=FINGERPRINT_BYTES).digest()


def explore(
    cell: Cell,
    max_states: int | None = None,
    time_budget: float | None = None,
    progress: Progress | None = None,
    on_state: Callable[[bytes, KernelState, bytes | None, Transition | None], None] | None = None,
    symmetry: bool = False,
    on_edge: Callable[[bytes, Transition, bytes], None] | None = None,
) -> CellResult:
    """Explore every state reachable within the cell's bounds and judge each property on it."""
    k, bounds = cell.k, cell.bounds
    result = cell.result("explicit")
    judge = cell.judgement()

    t0 = time.perf_counter()
    init = KernelState()
    canonical = symmetric_state_bytes if symmetry else state_bytes
    key0 = fingerprint(canonical(init))
    # The visited set holds each state's fingerprint; a state's index in `parents`/`via`, the
    # parent pointers kept as a machine-int array and a list of interned transitions, is its
    # order of discovery: no per-state tuple, and nothing the garbage collector has to walk.
    visited = {key0}
    parents = array("q", [-1])
    via: list[Transition | None] = [None]
    interned: dict[Transition, Transition] = {}
    if on_state:
        on_state(key0, init, None, None)
    # (packed state, index, depth, visited key): the packed state compressed while it waits (the
    # frontier is a good part of every state at BFS's widest level)
    queue: deque[tuple[bytes, int, int, bytes]] = deque([(compress(state_bytes(init), 1), 0, 0, key0)])
    # A hit is located by (state index, the step taken from it or None): a property fails (or a
    # witness is reached) once, at the shallowest state or step BFS meets it.
    judge.state(init, (0, None))
    transitions = 0
    depth = 0
    max_depth = bounds.depth
    take_events = k.take_events
    append = queue.append
    popleft = queue.popleft
    choosers = [cls.choices for cls in TRANSITIONS]
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
            s = state_from_bytes(decompress(packed))
            d2 = d + 1
            for choices in choosers:
                for t in choices(k, s, bounds):
                    transitions += 1
                    try:
                        s2, ret = t.apply(k, s)
                    except InputError:  # a patch file that went wrong: bad input, named
                        raise
                    except Exception as e:  # a model defect, reported as exit 4
                        raise InternalError(f"{cell.name}: {t} raised {e!r}") from e
                    events = take_events()
                    if judge.pending_steps:
                        judge.step(Step(s, t, ret, events, s2), (i, t))
                    packed2 = state_bytes(s2)
                    key2 = fingerprint(symmetric_state_bytes(s2) if symmetry else packed2)
                    if on_edge:
                        on_edge(key, t, key2)
                    if key2 in visited:
                        continue
                    i2 = len(parents)
                    visited.add(key2)
                    parents.append(i)
                    via.append(interned.setdefault(t, t))
                    if on_state:
                        on_state(key2, s2, key, t)
                    if judge.pending_states:
                        judge.state(s2, (i2, None))
                    append((compress(packed2, 1), i2, d2, key2))
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

    hits = {
        name: (path_to(i) + ((t,) if t is not None else ()), msg)
        for name, ((i, t), msg) in judge.hits.items()
    }
    result.properties = cell.verdicts(hits, result.complete, result.budget)
    return result

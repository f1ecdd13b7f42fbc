"""Semantic diff of two kernels: both explored over the same sequences, their outcomes compared.

Each difference is classified: a fix (A violates a property that B holds on the same
sequence), a regression (B violates one that A holds) or a behaviour change (both hold, the
outcomes differ). Nothing is masked: a recorded finding of the era that B shows on one more
sequence is a regression of that sequence. For each class the first difference found is the
shortest, by BFS.

Note: the step where A and B first answer differently is still judged (B accepting an invalid
altmap that A refused is a regression right there); after it their histories differ, and the
pair is not followed further. The environment offers what either kernel offers, with the
allocations either one makes as fault points. Where the two states and a step's outcomes are
byte for byte the same, the step's verdicts are too, and they are not judged again.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import cast

from mhpcheck import patching
from mhpcheck.cache import CellCache, cell_key
from mhpcheck.core.errors import InputError, InternalError
from mhpcheck.core.results import Step
from mhpcheck.engines.cell import Cell, CellRequest
from mhpcheck.engines.pool import ProcessEnded, deadline_for, isolated_map, pool_map
from mhpcheck.engines.schedule import expected_seconds
from mhpcheck.model.arch import arch_named
from mhpcheck.model.events import events_equal, events_key
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import Bounds, Transition, failable_calls
from mhpcheck.model.variants import asking, variant_named

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
    path_b: tuple[Transition, ...] = ()  # the same steps as B runs them (its index of a failing call)


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
    patch_calls: dict[str, int] = field(default_factory=dict)  # replaced function -> calls on B
    reused: bool = False  # taken from check's cached run of A, which reaches nothing B replaces
    # what the run asked of A's and B's variants, and the answers (asking()); None where a patch
    # file may read the variant otherwise (patching.asks_only())
    asked: dict[str, bool] | None = None
    as_era: str = ""  # the era whose diff this one is, taken from it (as_era())

    @property
    def identical(self) -> bool:
        return not self.differences and not self.skipped and not self.budget

    @property
    def verdict(self) -> str:
        """One word for the change: a fix only if it adds no violation."""
        if self.skipped:
            return "skipped"
        if REGRESSION in self.differences:
            return REGRESSION
        if FIX in self.differences:
            return FIX
        if CHANGE in self.differences:
            return CHANGE
        return "inconclusive" if self.budget else "identical"


def _describe(sa: Step, sb: Step) -> str:
    if sa.ret != sb.ret:
        return f"returns {sa.ret} on A, {sb.ret} on B"
    for name in KernelState.__dataclass_fields__:
        va, vb = getattr(sa.after, name), getattr(sb.after, name)
        if state_bytes(KernelState(**{name: va})) != state_bytes(KernelState(**{name: vb})):
            return f"{name} differs after the step"
    if events_key(sa.events) != events_key(sb.events):
        return "the kernel calls differ"
    return "the states differ"


def _same_call(calls_from: tuple[str, ...], i: int, calls_to: tuple[str, ...]) -> int | None:
    """The index, among `calls_to`, of the call `i` is among `calls_from`: the same name, the
    same ordinal among that name; None (nothing fails) where the other kernel never makes it.
    A patch that declares a new failure point shifts the index of every later call; the call,
    not its index, is what the two kernels are asked to fail."""
    if i >= len(calls_from):
        return None
    name, nth = calls_from[i], calls_from[:i].count(calls_from[i])
    seen = -1
    for j, other in enumerate(calls_to):
        if other == name:
            seen += 1
            if seen == nth:
                return j
    return None


def _offered(
    ca: Cell, sa: KernelState, cb: Cell, sb: KernelState, same: bool, patch: str | None
) -> list[tuple[Transition, Transition]]:
    """The steps to compare from (sa, sb), each as A runs it and as B runs it: what either
    environment offers (each kernel's allocations and declared points give faults, matched call
    for call), and once the states differ, only shapes both offer. `patch`: B is A with that
    patch file (what A offers calling no replaced function, B offers too)."""
    calls = patching.unpatched_calls(patch) if patch else -1
    mine = list(ca.choices(sa))
    untouched = same and calls == (patching.unpatched_calls(patch) if patch else -2)
    theirs = mine if untouched else list(cb.choices(sb))
    if untouched:
        return [(t, t) for t in mine]
    if not same:
        both = {t.shape() for t in mine} & {t.shape() for t in theirs}
        mine = [t for t in mine if t.shape() in both]
        theirs = [t for t in theirs if t.shape() in both]
    failable: dict[tuple[bool, Transition], tuple[str, ...]] = {}

    def calls_of(on_a: bool, t: Transition) -> tuple[str, ...]:
        base = replace(t, fail_alloc=None)  # type: ignore[type-var]
        if (on_a, base) not in failable:
            cell, s = (ca, sa) if on_a else (cb, sb)
            failable[(on_a, base)] = failable_calls(cell.k, s, base)
        return failable[(on_a, base)]

    pairs: list[tuple[Transition, Transition]] = []
    for on_a, offered in ((True, mine), (False, theirs)):
        for t in offered:
            i = getattr(t, "fail_alloc", None)
            if i is None:
                pairs.append((t, t))
                continue
            j = _same_call(calls_of(on_a, t), i, calls_of(not on_a, t))
            other = replace(t, fail_alloc=j)  # type: ignore[type-var]
            pairs.append((t, other) if on_a else (other, t))
    return list(dict.fromkeys(pairs))


def diff(
    arch: str, a: str, b: str, bounds: Bounds, time_budget: float | None = None, max_states: int | None = None
) -> DiffResult:
    """Explore A and B in lock step over the steps both environments offer; their differences."""
    t0 = time.perf_counter()
    result = DiffResult(arch, a, b)
    ca, cb = Cell(arch, a, bounds), Cell(arch, b, bounds)
    if not ca.supported or not cb.supported:
        result.skipped = f"no device memory on {arch} at {a} or {b}"
        return result
    same_props = [p.name for p in ca.properties] == [p.name for p in cb.properties]
    # B is A with a patch file: from the same state, a step of A that calls none of the functions
    # the patch replaces is B's step too (the model is deterministic, and the two run the same
    # code up to the first replaced function), and need not be run again.
    patch = cb.variant.user_patch
    b_is_patched_a = bool(patch) and cb.variant.name == f"{ca.variant.name}@{patch}"
    init = KernelState()
    key0 = state_bytes(init)
    seen = {(key0, key0)}
    Path = tuple[Transition, ...]
    queue: deque[tuple[KernelState, KernelState, bytes, bytes, Path, Path]] = deque(
        [(init, init, key0, key0, (), ())]
    )
    patching.count_calls(cb.variant.user_patch, reset=True)
    while queue:
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            result.budget = f"--time-budget {time_budget:g}s"
            break
        if max_states is not None and len(seen) >= max_states:
            result.budget = f"--max-states {max_states}"
            break
        sa, sb, ka, kb, path, path_b = queue.popleft()
        if len(path) >= bounds.depth:
            continue
        same = ka == kb
        for t, tb in _offered(ca, sa, cb, sb, same, patch if b_is_patched_a else None):
            try:
                calls = patching.unpatched_calls(patch) if b_is_patched_a else -1
                stepa = ca.step(sa, t)
                untouched = same and t == tb and calls == patching.unpatched_calls(patch)
                stepb = stepa if untouched else cb.step(sb, tb)
            except InputError:
                raise
            except Exception as e:
                raise InternalError(f"{arch}: {t} raised {e!r}") from e
            a2 = state_bytes(stepa.after)
            b2 = a2 if untouched else state_bytes(stepb.after)
            result.pairs += 1
            here, there = (*path, t), (*path_b, tb)
            outcome_same = untouched or (
                stepa.ret == stepb.ret and a2 == b2 and events_equal(stepa.events, stepb.events)
            )
            if same and outcome_same and same_props:
                va = vb = frozenset[str]()  # the same step judged twice would say the same
            else:
                va, vb = ca.violations(stepa), cb.violations(stepb)
            fixed, worse = va - vb, vb - va
            if fixed and FIX not in result.differences:
                result.differences[FIX] = Difference(
                    FIX, here, tuple(sorted(fixed)), _describe(stepa, stepb), there
                )
            if worse and REGRESSION not in result.differences:
                result.differences[REGRESSION] = Difference(
                    REGRESSION, here, tuple(sorted(worse)), _describe(stepa, stepb), there
                )
            if not outcome_same and not fixed and not worse and CHANGE not in result.differences:
                result.differences[CHANGE] = Difference(CHANGE, here, (), _describe(stepa, stepb), there)
            # Once one kernel refuses what the other did, their histories differ: not followed on.
            if stepa.ret == stepb.ret and (a2, b2) not in seen:
                seen.add((a2, b2))
                queue.append((stepa.after, stepb.after, a2, b2, here, there))
    result.patch_calls = patching.count_calls(cb.variant.user_patch) if cb.variant.user_patch else {}
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
    """One arch's diff, noting what it asked of the two variants where it can (as_era())."""
    if req.patch is not None and not patching.activate(req.patch).asks_only:
        return diff(req.arch, req.a, req.b, req.bounds, req.time_budget, req.max_states)
    with asking() as asked:
        result = diff(req.arch, req.a, req.b, req.bounds, req.time_budget, req.max_states)
    result.asked = dict(sorted(asked.items()))
    return result


def as_era(twin_req: DiffRequest, twin: DiffResult, req: DiffRequest) -> DiffResult | None:
    """The diff of `req`, A and A with a patch file at one era, from the same diff at another
    era: as checker.as_era() takes a cell, where the arch constants are the same and both of
    req's variants answer every question the twin's run asked as its variants did, the two
    kernels of req make the twin's runs, step for step. None where that cannot be said."""
    if req.patch is None or twin.asked is None or twin.budget or twin.skipped or twin.reused:
        return None
    if not patching.activate(req.patch).asks_only:
        return None
    name = patching.activate(req.patch).name
    if req.b != f"{req.a}@{name}" or twin_req.b != f"{twin_req.a}@{name}":
        return None
    if replace(req, a=twin_req.a, b=twin_req.b) != twin_req:
        return None
    spec = arch_named(req.arch)
    was, now = variant_named(twin_req.a), variant_named(req.a)
    if not (spec.runs_alike(was, now, twin.asked) and variant_named(req.b).answers(twin.asked)):
        return None
    return replace(twin, a=req.a, b=req.b, as_era=twin_req.a, differences=dict(twin.differences))


def overrun(req: DiffRequest) -> DiffResult:
    """A patched diff whose process was killed at its deadline: cut by the budget."""
    return DiffResult(
        req.arch, req.a, req.b, budget=f"--time-budget {req.time_budget:g}s (the patch file did not return)"
    )


def from_check(req: DiffRequest, store: CellCache) -> DiffResult | None:
    """The diff of A and A with a patch file, taken from check's cached result of A where that
    run called none of the functions the patch replaces: B then runs as A step for step (see
    checker.derived()), so the behaviour is identical and the step pairs are A's transitions.
    None where that cannot be said: nothing cached, a cut or budgeted run, a patch file that
    may do more when loaded than define its functions (patching.inert())."""
    if req.patch is None or req.max_states is not None or req.time_budget is not None:
        return None
    patch = patching.activate(req.patch)
    if req.b != f"{req.a}@{patch.name}":
        return None
    key = cell_key(CellRequest(req.arch, req.a, req.bounds), None)
    twin = store.get(key) if key is not None else None
    if twin is None or len(twin[0]) != 1:
        return None
    a = twin[0][0]
    if a.engine != "explicit" or not a.complete or not patching.out_of_reach(patch, a.stats):
        return None
    calls = dict.fromkeys(patch.names.values(), 0)
    return DiffResult(req.arch, req.a, req.b, pairs=a.transitions, patch_calls=calls, reused=True)


def diff_all(requests: list[DiffRequest], jobs: int, store: CellCache | None = None) -> list[DiffResult]:
    """Every request's diff, in the order given, `jobs` at a time; a patch file's apart, since it
    may end its process or never return. With `store`, check's cache: a diff the patch does not
    reach is taken from it (from_check())."""
    known = {
        i: d for i, r in enumerate(requests) if store is not None and (d := from_check(r, store)) is not None
    }
    ran = iter(_diff_each([r for i, r in enumerate(requests) if i not in known], jobs))
    return [known[i] if i in known else next(ran) for i in range(len(requests))]


def _diff_each(requests: list[DiffRequest], jobs: int) -> list[DiffResult]:
    if not requests:
        return []
    if any(r.patch is not None for r in requests):
        # one arch's eras one after the other: each may be taken from one before it (as_era())
        done: dict[tuple[str, str, str], DiffResult] = {}
        arches = {r.arch for r in requests}
        weight = {a: sum(expected_seconds(x.arch, x.a) for x in requests if x.arch == a) for a in arches}
        order = sorted(requests, key=lambda r: -weight[r.arch])  # the longest arches first

        def keep(d: DiffResult) -> None:
            done[(d.arch, d.a, d.b)] = d

        def earlier(r: DiffRequest) -> DiffResult | None:
            for t in reversed(requests[: requests.index(r)]):
                twin = done.get((t.arch, t.a, t.b))
                if t.arch == r.arch and twin is not None and (got := as_era(t, twin, r)) is not None:
                    return got
            return None

        try:
            deadline = deadline_for(requests[0].time_budget)
            chain = lambda r: r.arch  # noqa: E731
            isolated_map(run_diff, order, jobs, keep, deadline, overrun, chain, earlier)
        except ProcessEnded as e:
            r = cast(DiffRequest, e.item)
            raise patching.ended(r.patch, e.exitcode, f"{r.arch} {r.b}") from None
        return [done[(r.arch, r.a, r.b)] for r in requests]
    if jobs <= 1 or len(requests) <= 1:
        return [run_diff(r) for r in requests]
    results: list[DiffResult] = []
    pool_map(run_diff, requests, min(jobs, len(requests)), results.append)
    return results

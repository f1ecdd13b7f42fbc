"""The symbolic engine: the same model code over Z3 bit-vectors, verdicts for every 64-bit altmap.

Structure stays concrete (which devices, ranges and sections exist, which operation runs); the
values a driver hands the kernel — an altmap's base offset, reserve, free and stale alloc — are
64-bit unknowns, one set per step. For every sequence of operations up to the depth, each
operation is run once per feasible path (Z3Sem forks by re-execution, with the path so far as
assumptions), and Z3 is asked whether any property can fail on the path. A satisfiable query
gives values, which the concrete engine replays to the same violation before it is reported.

Note: no Z3 call per state of the explicit engine; here a query is per (path, property) whose
claim does not simplify to true, as an assumption on one solver per path holding its condition.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, cast

import z3

from mhpcheck.core.errors import InputError, InternalError
from mhpcheck.core.results import CellResult, Step
from mhpcheck.core.spec import Property
from mhpcheck.core.values import Sem, Word
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.symbolic.z3sem import (
    RLIMIT,
    Solving,
    SymbolicValueError,
    SymCond,
    SymWord,
    Z3Sem,
    all_paths,
    model_values,
    term_key,
)
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState, VmemAltmap
from mhpcheck.model.transitions import TRANSITIONS, AddDeviceMemory, AltmapChoice, Bounds, Transition

FIELDS = ("base_offset", "reserve", "free", "stale_alloc")
# Per query, a backstop: Z3's rlimit (semantics_z3.RLIMIT, about 2 s of work here) binds first,
# so an answer does not depend on the machine's speed or load. Most queries answer in
# milliseconds; an unknown is an honest "inconclusive" for that property.
SOLVER_TIMEOUT_MS = 60_000
# Paths of one operation. An add forks once per vmemmap allocation its altmap may run out at:
# 2-4 on PMD-mapped configs, 16 a section on arm64-64k, 256 on arm64-16k at v5.9 (1 GiB
# sections of 16 KiB base pages). Paths ending in the same state continue as one node.
MAX_PATHS = 1024


@dataclass(frozen=True, slots=True)
class SymbolicAltmap:
    """A driver's struct vmem_altmap whose fields may be any 64-bit values (named by step)."""

    step: int

    def names(self) -> tuple[str, ...]:
        return tuple(f"s{self.step}.{f}" for f in FIELDS)

    def words(self, k: Kernel) -> tuple[SymWord, ...]:
        return tuple(SymWord(z3.BitVec(n, 64)) for n in self.names())

    def build(self, k: Kernel, start_pfn: Word, nr_pages: Word) -> VmemAltmap:
        offset, reserve, free, stale_alloc = self.words(k)
        return VmemAltmap(start_pfn + offset, reserve, free, k.sem.word(0), stale_alloc)  # type: ignore[arg-type]

    def concrete(self, values: dict[str, int]) -> AltmapChoice:
        return AltmapChoice(*(values.get(n, 0) for n in self.names()))

    def __str__(self) -> str:
        return f"altmap(any base_offset, reserve, free, alloc: s{self.step}.*)"


def structural_choices(k: Kernel, s: KernelState, b: Bounds, step: int) -> list[Transition]:
    """The environment's choices with every altmap replaced by a symbolic one: one per shape."""
    out: dict[Any, Transition] = {}
    # Altmaps run out part-way by themselves here; injected faults come from the bounds, as in
    # the explicit engine (one fault choice per allocation index any concrete altmap reaches).
    plain = replace(b, partial_failures=True)
    for cls in TRANSITIONS:
        for t in cls.choices(k, s, plain):  # type: ignore[attr-defined]
            if isinstance(t, AddDeviceMemory) and t.altmap is not None:
                t = replace(t, altmap=SymbolicAltmap(step))  # type: ignore[arg-type]
            out.setdefault(t, t)
    return list(out)


def concretise(path: Sequence[Transition], values: dict[str, int]) -> tuple[Transition, ...]:
    return tuple(
        replace(t, altmap=t.altmap.concrete(values))  # type: ignore[attr-defined]
        if isinstance(t, AddDeviceMemory) and isinstance(t.altmap, SymbolicAltmap)
        else t
        for t in path
    )


def _names(path: Sequence[Transition]) -> list[str]:
    """The unknowns a path's altmaps introduced, in the order their values are minimised."""
    out: list[str] = []
    for t in path:
        altmap = getattr(t, "altmap", None)
        if isinstance(altmap, SymbolicAltmap):
            out.extend(altmap.names())
    return out


@dataclass
class _Node:
    state: KernelState
    cond: z3.BoolRef
    path: tuple[Transition, ...]
    # Conjuncts of claims proven to hold under `cond`, by AST id (the value keeps the term, so the
    # id stays its own). They hold under every extension of `cond`: a later step that leaves a
    # device's leaves alone does not ask Z3 about them again.
    proven: dict[int, z3.BoolRef] = field(default_factory=dict)


def _shape(x: Any) -> Any:
    """A state's identity with its symbolic words by term: equal shapes are the same state."""
    if isinstance(x, SymWord | SymCond):
        return term_key(x)
    if isinstance(x, Word):
        return (x.v,)  # as term_key() gives a constant
    if isinstance(x, tuple):
        return tuple(_shape(y) for y in x)
    if is_dataclass(x):
        return (type(x).__name__, *(_shape(getattr(x, f.name)) for f in fields(x)))
    return x


def _has_terms(x: Any) -> bool:
    """Whether a state holds a word that is not a constant."""
    if isinstance(x, SymWord):
        return x.c is None
    if isinstance(x, tuple):
        return any(_has_terms(y) for y in x)
    if is_dataclass(x) and not isinstance(x, Word):
        return any(_has_terms(getattr(x, f.name)) for f in fields(x))
    return False


def _expr(c: Any) -> z3.BoolRef:
    if isinstance(c, SymCond):
        return c.e
    return z3.BoolVal(bool(c.v))


class _Search:
    """One cell under the symbolic engine: what is found so far, and the solver's work."""

    def __init__(self, cell: Cell, timeout_ms: int, max_paths: int) -> None:
        self.cell, self.props, self.timeout_ms = cell, cell.properties, timeout_ms
        self.max_paths = max_paths
        # property -> the concrete path that hits it, replayed, and its message
        self.found: dict[str, tuple[tuple[Transition, ...], str]] = {}
        self.unsupported: dict[str, str] = {}  # property -> why Z3 cannot judge it
        self.unknown: dict[str, str] = {}  # property -> why Z3 gave no answer on some path
        self.stats: dict[str, Any] = {
            "sequences": 0,
            "paths": 0,
            "merged": 0,  # paths that joined another path's node: the same state after the same steps
            "reused": 0,  # claims whose every conjunct an earlier step proved on the same path
            "queries": 0,
            "escalated": 0,  # queries past FIRST_RLIMIT: int-blasting, then the full RLIMIT
            "solver_seconds": 0.0,
        }
        self.solving = Solving(timeout_ms, RLIMIT, 0, escalate=True)
        self.cut = ""  # why the cell stopped early, if it did

    def sat(self, solver: z3.Solver, query: z3.BoolRef) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """`query` on the path's solver as an assumption (escalating), and its model if sat."""
        queries, seconds, escalated = self.solving.queries, self.solving.seconds, self.solving.escalated
        r, m = self.solving.check(solver, query)
        self.stats["queries"] += self.solving.queries - queries
        self.stats["solver_seconds"] += self.solving.seconds - seconds
        self.stats["escalated"] += self.solving.escalated - escalated
        return r, m

    def solver(self, cond: z3.BoolRef) -> z3.Solver:
        """One solver per path holding its condition; each claim is checked as an assumption.

        Measured on arm64-64k v5.9, the first 80 sequences at depth 2 (1,046 claim queries): a
        fresh SolverFor("QF_BV") per claim 174 ms a query, this 2 ms, as all_paths() found for
        its feasibility checks (Z3's incremental core against bit-blasting).
        """
        s = self.solving.solver()
        s.add(cond)
        return s

    def run(self, node: _Node, t: Transition) -> Callable[[Z3Sem], tuple[KernelState, dict[str, Any]]]:
        """The transition and every property's claim on its outcome, as one function of the values."""

        def run(sem: Z3Sem) -> tuple[KernelState, dict[str, Any]]:
            k = self.cell.kernel(cast(Sem, sem))
            s2, ret = t.apply(k, node.state)
            step = Step(node.state, t, ret, k.take_events(), s2)
            claims: dict[str, Any] = {}
            for p in self.props:
                if p.name in self.found:
                    continue
                try:
                    claims[p.name] = self.cell.claim(p, k, step)
                except SymbolicValueError as e:
                    claims[p.name] = e
            return s2, claims

        return run

    def step(self, node: _Node, t: Transition) -> list[_Node]:
        """Run `t` from `node` on every feasible path; judge the properties on each; the new nodes."""
        ps = all_paths(
            self.run(node, t), assumptions=[node.cond], timeout_ms=self.timeout_ms, max_paths=self.max_paths
        )
        self.stats["sequences"] += 1
        self.stats["queries"] += ps.stats.queries
        self.stats["escalated"] += ps.stats.escalated
        self.stats["solver_seconds"] += ps.stats.seconds
        path = (*node.path, t)
        out: dict[Any, _Node] = {}
        for pa in ps.paths:
            self.stats["paths"] += 1
            if isinstance(pa.error, InputError):  # a patch file that went wrong: bad input, named
                raise pa.error
            if pa.error is not None:
                values = model_values(pa.cond, _names(path)) or {}
                steps = " → ".join(map(str, concretise(path, values)))
                raise InternalError(f"{self.cell.name}: the model raised {pa.error!r} along {steps}")
            s2, claims = pa.value
            solver: list[z3.Solver] = []  # made when a claim first needs Z3
            proven = dict(node.proven)
            for name, c in claims.items():
                self.judge(name, c, pa.cond, path, solver, proven)
            # Paths that end in the same state go on as one node (their conditions joined): an
            # altmap that runs out at any of arm64-16k's hundreds of base-page allocations is
            # rolled back to one state, and the next operation then runs once, not per path.
            key = _shape(s2)
            same = out.get(key)
            if same is None:
                out[key] = _Node(s2, pa.cond, path, proven)
            else:
                self.stats["merged"] += 1
                if _has_terms(s2):
                    same.cond = z3.Or(same.cond, pa.cond)
                    same.proven = {i: e for i, e in same.proven.items() if i in proven}
                # else the state holds no unknown of the earlier steps: what follows depends on the
                # later steps' unknowns only, and the first path is as good a way to reach it as any
                # (a condition over hundreds of disjuncts would only slow every later query).
        if len(ps.paths) >= self.max_paths:
            # forking on: every further sequence would re-run this operation as many times
            self.cut = f"more than {self.max_paths} paths in {t}"
        elif not ps.complete:
            for p in self.props:
                self.unknown.setdefault(p.name, ps.reason)
        return list(out.values())

    def judge(
        self,
        name: str,
        claim: Any,
        cond: z3.BoolRef,
        path: tuple[Transition, ...],
        solver: list[z3.Solver],
        proven: dict[int, z3.BoolRef],
    ) -> None:
        """Ask Z3 whether the claim can fail (a witness: hold) on the path; confirm what it finds."""
        if name in self.found:
            return
        if isinstance(claim, SymbolicValueError):
            self.unsupported.setdefault(name, str(claim))
            return
        prop = next(p for p in self.props if p.name == name)
        e = z3.simplify(_expr(claim))
        witness = prop.witness
        if (witness and z3.is_false(e)) or (not witness and z3.is_true(e)):
            return
        fresh: list[z3.BoolRef] = []
        if not witness:
            parts = e.children() if z3.is_and(e) else [e]
            fresh = [x for x in parts if x.get_id() not in proven]
            if not fresh:
                self.stats["reused"] += 1
                return
        claim_fails = e if witness else z3.Not(z3.And(*fresh))
        if not solver:
            solver.append(self.solver(cond))
        r, model = self.sat(solver[0], claim_fails)
        if r == z3.unsat:
            proven.update((x.get_id(), x) for x in fresh)
        elif r == z3.unknown:
            self.unknown.setdefault(name, "unknown on a path")
        elif r == z3.sat:
            query = z3.And(cond, claim_fails)
            self.found[name] = _confirm(self.cell, prop, path, query, model)

    def unsure(self) -> dict[str, str]:
        """The properties Z3 could not decide, and why."""
        out = {n: f"Z3: {why}" for n, why in self.unknown.items()}
        out.update((n, f"not checkable symbolically: {why}") for n, why in self.unsupported.items())
        return out


def check_symbolic(
    cell: Cell,
    time_budget: float | None = None,
    max_sequences: int | None = None,
    timeout_ms: int = SOLVER_TIMEOUT_MS,
    max_paths: int = MAX_PATHS,
) -> CellResult:
    """Every property on every path of every operation sequence up to bounds.depth, for all values."""
    kc, bounds = cell.k, cell.bounds
    result = cell.result("symbolic")
    search = _Search(cell, timeout_ms, max_paths)
    t0 = time.perf_counter()
    frontier = [_Node(KernelState(), z3.BoolVal(True), ())]
    depth = 0
    for d in range(1, bounds.depth + 1):
        nxt: list[_Node] = []
        for node in frontier:
            for t in structural_choices(kc, node.state, bounds, d):
                if time_budget is not None and time.perf_counter() - t0 > time_budget:
                    result.complete, result.budget = False, f"--time-budget {time_budget:g}s"
                elif max_sequences is not None and search.stats["sequences"] >= max_sequences:
                    result.complete, result.budget = False, f"{max_sequences} sequences"
                elif search.cut:
                    result.complete, result.budget = False, search.cut
                if not result.complete:
                    break
                nxt.extend(search.step(node, t))
            if not result.complete:
                break
        depth = d if nxt else depth
        frontier = nxt
        if not result.complete or not frontier:
            break
    if search.cut and result.complete:
        result.complete, result.budget = False, search.cut
    result.depth = depth
    result.states = search.stats["paths"]
    result.transitions = search.stats["sequences"]
    result.seconds = time.perf_counter() - t0
    result.stats = search.stats
    holds = f"holds for all values up to depth {depth}"
    result.properties = cell.verdicts(search.found, result.complete, result.budget, search.unsure(), holds)
    return result


def _confirm(
    cell: Cell,
    prop: Property,
    path: tuple[Transition, ...],
    query: z3.BoolRef,
    model: z3.ModelRef | None,
) -> tuple[tuple[Transition, ...], str]:
    """Concrete values for a satisfiable query, replayed by the concrete engine before reporting."""
    # The model that answered sat starts the minimisation: asking bit-blasting again for a query
    # it could not answer within FIRST_RLIMIT can run past every limit (the check of every era
    # once stopped there with an internal error).
    values = model_values(query, _names(path), witness=model)
    concrete = concretise(path, values)
    _, failed_at, message = cell.judge_path(prop, concrete)
    if failed_at is None:
        raise InternalError(
            f"engines disagree on {prop.name} ({cell.name}): Z3 says it "
            f"{'is reached' if prop.witness else 'fails'} with {values} along "
            f"{' → '.join(map(str, concrete))}, the concrete replay does not"
        )
    return concrete[:failed_at], message

"""The Z3 back end of the value API: Words as 64-bit bit-vectors, branches forked by re-execution.

The model's functions run unchanged: a `SymWord` has exactly the operators of `Word` (unsigned,
wrapping, shifts past 63 giving 0), comparisons give `SymCond`s, and `Z3Sem.branch` decides a
condition the values do not fix by following a decision script. `all_paths()` re-runs a function
once per feasible script, so every path comes out with its path condition (CrossHair's way of
forking Python code, without its interpreter hooks: the model only forks at `k.sem.branch`).

Note: a fresh solver per feasibility check, not push/pop: on small 64-bit queries like these a
fresh solver measured faster (../shared/PERFORMANCE.md: push/pop 2x slower on one query, 5-20x
over a bounded unrolling).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import z3

from mhpcheck.semantics import BITS_PER_LONG, MASK, Cond, Word

T = TypeVar("T")
_ACTIVE: ContextVar[Z3Sem | None] = ContextVar("mhpcheck_z3sem", default=None)


class SymbolicValueError(Exception):
    """A symbolic value was used where a concrete one is needed, outside k.sem (a model bug)."""


class TooManyValues(Exception):
    """Sem.concrete() met a value with more feasible values than the engine may fork on."""


def _bv(x: object) -> z3.BitVecRef:
    if type(x) is SymWord:
        return x.e  # type: ignore[union-attr]
    if type(x) is Word:
        return z3.BitVecVal(x.v, BITS_PER_LONG)  # type: ignore[union-attr]
    if type(x) is int:
        return z3.BitVecVal(x & MASK, BITS_PER_LONG)  # type: ignore[operator]
    raise TypeError(f"cannot mix a SymWord with {type(x).__name__}")


def _bool(c: object) -> z3.BoolRef:
    if type(c) is SymCond:
        return c.e  # type: ignore[union-attr]
    if type(c) is Cond:
        return z3.BoolVal(c.v)  # type: ignore[union-attr]
    raise TypeError(f"cannot combine a SymCond with {type(c).__name__}")


class SymCond:
    """A C truth value over symbolic words; `bool()` only when the values fix it."""

    __slots__ = ("e",)

    def __init__(self, e: z3.BoolRef) -> None:
        self.e = z3.simplify(e)

    def __and__(self, other: object) -> SymCond:
        return SymCond(z3.And(self.e, _bool(other)))

    __rand__ = __and__

    def __or__(self, other: object) -> SymCond:
        return SymCond(z3.Or(self.e, _bool(other)))

    __ror__ = __or__

    def __invert__(self) -> SymCond:
        return SymCond(z3.Not(self.e))

    def __bool__(self) -> bool:
        if z3.is_true(self.e):
            return True
        if z3.is_false(self.e):
            return False
        raise SymbolicValueError(f"branch on a symbolic condition outside k.sem.branch: {self.e}")

    def __repr__(self) -> str:
        return f"SymCond({self.e})"


class SymWord:
    """A C `unsigned long` as a 64-bit Z3 bit-vector, with Word's operators."""

    __slots__ = ("e",)

    def __init__(self, e: z3.BitVecRef) -> None:
        self.e = z3.simplify(e)

    @property
    def v(self) -> int:
        if z3.is_bv_value(self.e):
            return int(self.e.as_long())
        raise SymbolicValueError(f"the int value of a symbolic word: {self.e}")

    def __add__(self, o: object) -> SymWord:
        return SymWord(self.e + _bv(o))

    __radd__ = __add__

    def __sub__(self, o: object) -> SymWord:
        return SymWord(self.e - _bv(o))

    def __rsub__(self, o: object) -> SymWord:
        return SymWord(_bv(o) - self.e)

    def __mul__(self, o: object) -> SymWord:
        return SymWord(self.e * _bv(o))

    __rmul__ = __mul__

    def _divisor(self, o: object) -> z3.BitVecRef:
        d = z3.simplify(_bv(o))
        zero = d == 0
        if z3.is_bv_value(d):
            if d.as_long() == 0:
                raise ZeroDivisionError("unsigned long division by zero")
        else:
            sem = _ACTIVE.get()
            if sem is None:
                raise SymbolicValueError("division by a symbolic word outside a Z3Sem run")
            if sem.branch(SymCond(zero)):  # as Word raises, so does this path
                raise ZeroDivisionError("unsigned long division by zero")
        return d

    def __floordiv__(self, o: object) -> SymWord:
        return SymWord(z3.UDiv(self.e, self._divisor(o)))

    def __mod__(self, o: object) -> SymWord:
        return SymWord(z3.URem(self.e, self._divisor(o)))

    # bvshl and bvlshr give 0 for a shift of 64 or more, as Word does
    def __lshift__(self, o: object) -> SymWord:
        return SymWord(self.e << _bv(o))

    def __rshift__(self, o: object) -> SymWord:
        return SymWord(z3.LShR(self.e, _bv(o)))

    def __and__(self, o: object) -> SymWord:
        return SymWord(self.e & _bv(o))

    __rand__ = __and__

    def __or__(self, o: object) -> SymWord:
        return SymWord(self.e | _bv(o))

    __ror__ = __or__

    def __xor__(self, o: object) -> SymWord:
        return SymWord(self.e ^ _bv(o))

    __rxor__ = __xor__

    def __invert__(self) -> SymWord:
        return SymWord(~self.e)

    def __eq__(self, o: object) -> SymCond:  # type: ignore[override]
        return SymCond(self.e == _bv(o))

    def __ne__(self, o: object) -> SymCond:  # type: ignore[override]
        return SymCond(self.e != _bv(o))

    def __lt__(self, o: object) -> SymCond:
        return SymCond(z3.ULT(self.e, _bv(o)))

    def __le__(self, o: object) -> SymCond:
        return SymCond(z3.ULE(self.e, _bv(o)))

    def __gt__(self, o: object) -> SymCond:
        return SymCond(z3.UGT(self.e, _bv(o)))

    def __ge__(self, o: object) -> SymCond:
        return SymCond(z3.UGE(self.e, _bv(o)))

    def __hash__(self) -> int:
        return int(self.e.hash())

    def __repr__(self) -> str:
        return f"SymWord({self.e})"

    def align_up(self, a: object) -> SymWord:
        """ALIGN(x, a) for a power-of-two a: (x + a - 1) & ~(a - 1)."""
        av = _bv(a)
        return SymWord((self.e + av - 1) & ~(av - 1))

    def align_down(self, a: object) -> SymWord:
        """ALIGN_DOWN(x, a) for a power-of-two a."""
        return SymWord(self.e & ~(_bv(a) - 1))

    def lowest_set_bit(self) -> SymWord:
        """1UL << __ffs(x), 1 when x == 0: as Word.lowest_set_bit."""
        return SymWord(z3.If(self.e == 0, z3.BitVecVal(1, BITS_PER_LONG), self.e & -self.e))


@dataclass
class Stats:
    """Solver work of a set of runs."""

    queries: int = 0
    seconds: float = 0.0
    unknown: str = ""  # why a check was neither sat nor unsat, if one was


class Z3Sem:
    """A value back end whose branches follow a decision script and record the path condition."""

    symbolic = True

    def __init__(
        self,
        script: tuple[bool, ...] = (),
        assumptions: Iterable[z3.BoolRef] = (),
        stats: Stats | None = None,
        timeout_ms: int = 10_000,
        max_values: int = 64,
    ) -> None:
        self.script = script
        self.decisions: list[bool] = []
        self.path: list[z3.BoolRef] = list(assumptions)
        self.pending: list[tuple[bool, ...]] = []  # feasible scripts not taken on this run
        self.stats = stats if stats is not None else Stats()
        self.timeout_ms = timeout_ms
        self.max_values = max_values
        self.cut = False  # a loop ran past its bound on this path

    def var(self, name: str) -> SymWord:
        return SymWord(z3.BitVec(name, BITS_PER_LONG))

    def assume(self, cond: SymCond | Cond) -> None:
        self.path.append(_bool(cond))

    def feasible(self, extra: z3.BoolRef) -> bool:
        s = z3.Solver()
        s.set("timeout", self.timeout_ms)
        s.set("random_seed", 0)
        s.add(*self.path, extra)
        t0 = time.perf_counter()
        r = s.check()
        self.stats.queries += 1
        self.stats.seconds += time.perf_counter() - t0
        if r == z3.unknown:
            self.stats.unknown = s.reason_unknown()
            return True  # never pruned on an unknown: the path is kept, the run marked incomplete
        return bool(r == z3.sat)

    def word(self, value: int) -> SymWord:
        return SymWord(z3.BitVecVal(value & MASK, BITS_PER_LONG))

    def branch(self, cond: Cond | SymCond) -> bool:
        if type(cond) is Cond:
            return cond.v
        e = _bool(cond)
        if z3.is_true(e) or z3.is_false(e):
            return z3.is_true(e)
        i = len(self.decisions)
        if i < len(self.script):
            taken = self.script[i]
        else:
            yes, no = self.feasible(e), self.feasible(z3.Not(e))
            taken = yes
            if yes and no:
                self.pending.append((*self.decisions, False))
            if not yes and not no:  # the path itself became infeasible: cannot happen after checks
                raise SymbolicValueError("infeasible path")
        self.decisions.append(taken)
        self.path.append(e if taken else z3.Not(e))
        return taken

    def all(self, conds: Iterable[Cond | SymCond]) -> SymCond:
        return SymCond(z3.And(*[_bool(c) for c in conds]))

    def any(self, conds: Iterable[Cond | SymCond]) -> SymCond:
        return SymCond(z3.Or(*[_bool(c) for c in conds]))

    def true(self) -> SymCond:
        return SymCond(z3.BoolVal(True))

    def false(self) -> SymCond:
        return SymCond(z3.BoolVal(False))

    def min(self, a: Word | SymWord, b: Word | SymWord) -> SymWord:
        ea, eb = _bv(a), _bv(b)
        return SymWord(z3.If(z3.ULE(ea, eb), ea, eb))

    def range(self, n: Word | SymWord, bound: int) -> Iterator[int]:
        """The counts of `for (i = 0; i < n; i++)`, forking per count up to `bound`."""
        for i in range(bound):
            if not self.branch(n > i):
                return
            yield i
        if self.branch(n > bound):
            self.cut = True

    def concrete(self, w: Word | SymWord) -> int:
        """A value the model needs as structure: fixed, or forked over its feasible values."""
        if type(w) is Word:
            return w.v  # type: ignore[union-attr]
        e = _bv(w)
        if z3.is_bv_value(e):
            return int(e.as_long())
        for _ in range(self.max_values):
            # the least feasible value, not any model's: a re-run must meet the same values in
            # the same order, or its decision script would no longer line up
            opt = z3.Optimize()
            opt.set("timeout", self.timeout_ms)
            opt.add(*self.path)
            opt.minimize(e)
            self.stats.queries += 1
            if opt.check() != z3.sat:
                raise SymbolicValueError("no value on a feasible path")
            value = int(opt.model().eval(e, model_completion=True).as_long())
            if self.branch(SymCond(e == value)):
                return value
        raise TooManyValues(f"more than {self.max_values} values of {e}")


@dataclass
class Path(Generic[T]):
    """One feasible path of a run: its condition, and what the run returned or raised on it."""

    cond: z3.BoolRef
    result: T | None
    error: BaseException | None
    decisions: tuple[bool, ...]
    cut: bool


@dataclass
class PathSet(Generic[T]):
    paths: list[Path[T]] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    complete: bool = True
    reason: str = ""


def all_paths(
    run: Callable[[Z3Sem], T],
    *,
    assumptions: Iterable[z3.BoolRef] = (),
    max_paths: int = 10_000,
    timeout_ms: int = 10_000,
) -> PathSet[T]:
    """Every feasible path of `run`, found by re-running it once per decision script."""
    z3.set_param("smt.random_seed", 0)
    z3.set_param("sat.random_seed", 0)
    assumed = list(assumptions)
    out: PathSet[T] = PathSet()
    todo: list[tuple[bool, ...]] = [()]
    while todo:
        if len(out.paths) >= max_paths:
            out.complete, out.reason = False, f"more than {max_paths} paths"
            break
        script = todo.pop()
        sem = Z3Sem(script, assumed, out.stats, timeout_ms)
        token = _ACTIVE.set(sem)
        result: T | None = None
        error: BaseException | None = None
        try:
            result = run(sem)
        except (SymbolicValueError, TooManyValues):
            raise
        except Exception as e:  # a result on this path, as a C function's oops would be
            error = e
        finally:
            _ACTIVE.reset(token)
        todo.extend(reversed(sem.pending))  # depth first, the true side first: a stable order
        cond = z3.And(*sem.path) if sem.path else z3.BoolVal(True)
        out.paths.append(Path(cond, result, error, tuple(sem.decisions), sem.cut))
    if out.stats.unknown:
        out.complete, out.reason = False, f"Z3 unknown: {out.stats.unknown}"
    return out


def model_values(cond: z3.BoolRef, names: Iterable[str], timeout_ms: int = 10_000) -> dict[str, int] | None:
    """Values of the named variables satisfying `cond`, each as small as it can be in turn (lowest
    first by Optimize: readable counterexamples), or None if `cond` is unsatisfiable."""
    opt = z3.Optimize()
    opt.set("timeout", timeout_ms)
    opt.add(cond)
    vs = [z3.BitVec(n, BITS_PER_LONG) for n in names]
    for v in vs:
        opt.minimize(v)  # lexicographic: the first name is smallest first
    if opt.check() != z3.sat:
        return None
    m = opt.model()
    return {str(v): int(m.eval(v, model_completion=True).as_long()) for v in vs}

"""The Z3 back end of the value API: Words as 64-bit bit-vectors, paths forked by re-execution."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import z3

from mhpcheck.core.values import BITS_PER_LONG, MASK, Cond, ModelDefinitionError, Word

# The model's functions run unchanged: a SymWord has exactly Word's operators, comparisons give
# SymConds, and Z3Sem.branch decides a condition the values do not fix by following a decision
# script. all_paths() re-runs a function once per feasible script (CrossHair's way of forking
# Python code, without its interpreter hooks: the model only forks in k.sem), so every feasible
# path comes out with its condition and what the function returned or raised on it.
#
# What is a path's result and what is not: a model bug (bool() of a symbolic condition, .v of a
# symbolic word) raises SymbolicValueError out of all_paths(), as does ReplayDiverged (a re-run
# that leaves its script); anything else the function raises, TooManyValues and SolverUnknown
# included, is the result of the path it was raised on, as a C function's oops would be.

T = TypeVar("T")

_ACTIVE: ContextVar[Z3Sem | None] = ContextVar("mhpcheck_z3sem", default=None)

# Z3's resource limit per check, the deterministic cut (a timeout depends on the machine). The
# largest feasibility check on the model took 0.6 M; Z3 spends about 10 M a second here on the
# hardest claims, so 20 M binds long before the timeouts callers set, which are backstops.
RLIMIT = 20_000_000
# A query first gets this much of Z3's default bit-blasting core, which answers nearly all of the
# model's queries within it, in milliseconds. The hardest seen were chains of base-page
# allocations from one altmap where a claim holds only because no pfn on the way is ULONG_MAX
# (v4.5's altmap_alloc_block_buf() test, once applied at every era): those go to Z3's
# int-blasting core (bv.solver=2), then, if that cannot say either, back to bit-blasting with
# the full RLIMIT. On the 20 slowest claim queries of such a run (arm64-16k v6.12, z3 5.4.1):
# bit-blasting alone 33.5 s (0.4-4.3 s each), this 14.9 s (0.3-2.0 s); int-blasting for every
# query is slower overall (x86_64 v6.12 70 s against 45 s, arm64-64k v6.12 318 s against 113 s,
# 12 of its verdicts left unknown).
FIRST_RLIMIT = 3_000_000


class SymbolicValueError(ModelDefinitionError):
    """A symbolic value was used where Python needs a concrete one, outside `k.sem` (a model bug)."""


class TooManyValues(Exception):
    """`Sem.concrete()` met a word with more feasible values than the engine may fork on."""


class SolverUnknown(Exception):
    """Z3 answered unknown (timeout, rlimit) where the run needed a value: the path stops here."""


class ReplayDiverged(Exception):
    """A re-execution did not meet the branches its script records: the function is not deterministic."""


class _Infeasible(Exception):
    """The path condition became unsatisfiable (an assumption contradicts it): drop the run."""


# ---------------------------------------------------------------------------------------------
# values


class SymWord:
    """A C `unsigned long` as a 64-bit Z3 bit-vector, with exactly Word's operators.

    A constant keeps its int (`c`) and builds its Z3 expression only when one is asked for, so
    fully concrete values cost little more than `Word`s.
    """

    __slots__ = ("_e", "c")

    def __init__(self, e: z3.BitVecRef) -> None:
        if not (z3.is_bv(e) and e.size() == BITS_PER_LONG):
            raise TypeError(f"a SymWord is a 64-bit bit-vector, not {e!r}")
        e = z3.simplify(e)
        self._e: z3.BitVecRef | None = e
        self.c: int | None = e.as_long() if z3.is_bv_value(e) else None

    @classmethod
    def const(cls, v: int) -> SymWord:
        """The constant `v` modulo 2^64."""
        w = cls.__new__(cls)
        w._e = None
        w.c = v & MASK
        return w

    @property
    def e(self) -> z3.BitVecRef:
        """The Z3 expression (a BitVecVal for a constant)."""
        if self._e is None:
            c = self.c
            assert c is not None  # a symbolic word always has its expression
            e = _CONSTS.get(c)
            if e is None:
                if len(_CONSTS) >= _MEMO_MAX:
                    _CONSTS.clear()
                e = _CONSTS[c] = z3.BitVecVal(c, BITS_PER_LONG)
            self._e = e
        return self._e

    @property
    def v(self) -> int:
        """The int value of a constant; a symbolic word has none (use k.sem.concrete)."""
        if self.c is None:
            raise SymbolicValueError(
                f"the int value (.v) of the symbolic word {self.e}: the model must ask "
                "k.sem.concrete() or k.sem.branch(), and state_key() is for concrete states only"
            )
        return self.c

    # arithmetic: an int operand is converted as C converts a constant to unsigned long
    def __add__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c + b.c)
        return _word("+", self, b, lambda x, y: x + y)

    __radd__ = __add__

    def __sub__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c - b.c)
        return _word("-", self, b, lambda x, y: x - y)

    def __rsub__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        return b - self

    def __mul__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c * b.c)
        return _word("*", self, b, lambda x, y: x * y)

    __rmul__ = __mul__

    def __floordiv__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        _nonzero(b, "division")
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c // b.c)
        return _word("/", self, b, z3.UDiv)

    def __mod__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        _nonzero(b, "modulo")
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c % b.c)
        return _word("%", self, b, z3.URem)

    # bvshl and bvlshr give 0 for a shift of 64 or more, as Word does
    def __lshift__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c << b.c if b.c < BITS_PER_LONG else 0)
        return _word("<<", self, b, lambda x, y: x << y)

    def __rshift__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c >> b.c if b.c < BITS_PER_LONG else 0)
        return _word(">>", self, b, z3.LShR)

    # Word has no reflected //, %, <<, >>: `3 // w` fails there, so only a Word may come first
    def __rfloordiv__(self, o: object) -> SymWord:
        return SymWord.const(o.v) // self if type(o) is Word else NotImplemented

    def __rmod__(self, o: object) -> SymWord:
        return SymWord.const(o.v) % self if type(o) is Word else NotImplemented

    def __rlshift__(self, o: object) -> SymWord:
        return SymWord.const(o.v) << self if type(o) is Word else NotImplemented

    def __rrshift__(self, o: object) -> SymWord:
        return SymWord.const(o.v) >> self if type(o) is Word else NotImplemented

    def __and__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c & b.c)
        return _word("&", self, b, lambda x, y: x & y)

    __rand__ = __and__

    def __or__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c | b.c)
        return _word("|", self, b, lambda x, y: x | y)

    __ror__ = __or__

    def __xor__(self, o: object) -> SymWord:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymWord.const(self.c ^ b.c)
        return _word("^", self, b, lambda x, y: x ^ y)

    __rxor__ = __xor__

    def __invert__(self) -> SymWord:
        if self.c is not None:
            return SymWord.const(~self.c)
        return _word("~", self, self, lambda x, _: ~x)

    # comparisons give SymConds; z3py's own <, >, >> are signed, hence ULT, UGT, LShR
    def __eq__(self, o: object) -> SymCond:  # type: ignore[override]
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c == b.c)
        return _cmp("==", self, b, lambda x, y: x == y)

    def __ne__(self, o: object) -> SymCond:  # type: ignore[override]
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c != b.c)
        return _cmp("!=", self, b, lambda x, y: x != y)

    def __lt__(self, o: object) -> SymCond:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c < b.c)
        return _cmp("<", self, b, z3.ULT)

    def __le__(self, o: object) -> SymCond:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c <= b.c)
        return _cmp("<=", self, b, z3.ULE)

    def __gt__(self, o: object) -> SymCond:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c > b.c)
        return _cmp(">", self, b, z3.UGT)

    def __ge__(self, o: object) -> SymCond:
        b = _lift(o)
        if b is None:
            return NotImplemented
        if self.c is not None and b.c is not None:
            return SymCond.const(self.c >= b.c)
        return _cmp(">=", self, b, z3.UGE)

    def __hash__(self) -> int:
        # a constant hashes as the equal Word does; frozen dataclasses of SymWords stay hashable
        return hash(self.c) if self.c is not None else self.e.hash()

    def __repr__(self) -> str:
        return f"{self.c:#x}" if self.c is not None else f"SymWord({self.e})"

    # kernel helpers whose C spelling has no Python operator, as Word defines them
    def align_up(self, a: object) -> SymWord:
        """ALIGN(x, a) for a power-of-two a: (x + a - 1) & ~(a - 1)."""
        b = _lift(a)
        if b is None:
            raise TypeError(f"cannot mix a SymWord with {type(a).__name__}")
        return (self + b - 1) & ~(b - 1)

    def align_down(self, a: object) -> SymWord:
        """ALIGN_DOWN(x, a) for a power-of-two a."""
        b = _lift(a)
        if b is None:
            raise TypeError(f"cannot mix a SymWord with {type(a).__name__}")
        return self & ~(b - 1)

    def lowest_set_bit(self) -> SymWord:
        """1UL << __ffs(x), and 1 when x == 0 (x86 shifts by 64 mod 64), as Word.lowest_set_bit."""
        if self.c is not None:
            return SymWord.const(self.c & -self.c if self.c else 1)
        x = self.e
        return SymWord(z3.If(x == 0, z3.BitVecVal(1, BITS_PER_LONG), x & -x))


# Re-execution runs a path's prefix again for every path that forks off it, building the same
# expressions each time (AddDeviceMemory on arm64-16k: hundreds of altmap allocations per run,
# each a dozen operations with a z3.simplify). Z3 hash-conses terms, so an operation is keyed by
# its operands' AST ids and built once; the entry holds the operands, so their ids stay theirs.
# Bounded: cleared when full, which costs only rebuilding.
_MEMO: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}
_MEMO_MAX = 1 << 20
_CONSTS: dict[int, z3.BitVecRef] = {}


def _memo(op: str, a: Any, b: Any, make: Callable[[Any, Any], Any], wrap: Callable[[Any], Any]) -> Any:
    key = (op, term_key(a), term_key(b))
    hit = _MEMO.get(key)
    if hit is None:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        ea, eb = a.e, b.e
        hit = _MEMO[key] = (ea, eb, wrap(make(ea, eb)))
    return hit[2]


def term_key(x: SymWord | SymCond) -> int | tuple[bool | int]:
    """A value's identity while its expression lives: its constant, else its AST id (hash-consed)."""
    if x.c is not None:
        return (x.c,)
    return x.e.get_id()


def _negation(e: z3.BoolRef) -> z3.BoolRef:
    key = ("¬", e.get_id(), 0)
    hit = _MEMO.get(key)
    if hit is None:
        hit = _MEMO[key] = (e, None, z3.Not(e))
    return hit[2]  # type: ignore[no-any-return]


def _word(op: str, a: SymWord, b: SymWord, make: Callable[[Any, Any], Any]) -> SymWord:
    return _memo(op, a, b, make, SymWord)  # type: ignore[no-any-return]


def _cmp(op: str, a: SymWord, b: SymWord, make: Callable[[Any, Any], Any]) -> SymCond:
    return _memo(op, a, b, make, SymCond)  # type: ignore[no-any-return]


def _bool(op: str, a: SymCond, b: SymCond, make: Callable[[Any, Any], Any]) -> SymCond:
    return _memo(op, a, b, make, SymCond)  # type: ignore[no-any-return]


def _lift(x: object) -> SymWord | None:
    """A Word operand as a SymWord; None for a type Word refuses too (the caller gives NotImplemented)."""
    t = type(x)
    if t is SymWord:
        return x  # type: ignore[return-value]
    if t is Word:
        return SymWord.const(x.v)  # type: ignore[attr-defined]
    if t is int:
        return SymWord.const(x)  # type: ignore[arg-type]
    return None


def _nonzero(d: SymWord, what: str) -> None:
    """Word raises on a zero divisor: a constant 0 raises here, a symbolic one forks on `d == 0`."""
    # Forking rather than recording `d != 0` as a bare obligation: the side where d == 0 raises
    # ZeroDivisionError exactly where Word would (that path's result), the other side carries
    # d != 0 in its condition, so both back ends agree on every input, errors included.
    if d.c is not None:
        if d.c == 0:
            raise ZeroDivisionError(f"unsigned long {what} by zero")
        return
    sem = _ACTIVE.get()
    if sem is None:
        raise SymbolicValueError(
            f"{what} by the symbolic word {d.e} outside a Z3Sem run: run it under all_paths() "
            "or `with sem:` so that a zero divisor can fork"
        )
    if sem.branch(d == 0):
        raise ZeroDivisionError(f"unsigned long {what} by zero")


class SymCond:
    """A C truth value over symbolic words; combine with `&`, `|`, `~`; `bool()` only when fixed."""

    __slots__ = ("_e", "c")

    def __init__(self, e: z3.BoolRef) -> None:
        if not z3.is_bool(e):
            raise TypeError(f"a SymCond is a Z3 Boolean, not {e!r}")
        e = z3.simplify(e)
        self._e: z3.BoolRef | None = e
        self.c: bool | None = True if z3.is_true(e) else False if z3.is_false(e) else None

    @classmethod
    def const(cls, v: bool) -> SymCond:
        c = cls.__new__(cls)
        c._e = None
        c.c = bool(v)
        return c

    @property
    def e(self) -> z3.BoolRef:
        if self._e is None:
            self._e = z3.BoolVal(self.c)
        return self._e

    @property
    def v(self) -> bool:
        """The value of a fixed condition, as Cond.v; a symbolic one has none."""
        return self.__bool__()

    def __and__(self, o: object) -> SymCond:
        b = _cond(o)
        if b is None:
            return NotImplemented
        if self.c is False or b.c is False:
            return SymCond.const(False)
        if self.c is True:
            return b
        if b.c is True:
            return self
        return _bool("and", self, b, lambda x, y: z3.And(x, y))

    __rand__ = __and__

    def __or__(self, o: object) -> SymCond:
        b = _cond(o)
        if b is None:
            return NotImplemented
        if self.c is True or b.c is True:
            return SymCond.const(True)
        if self.c is False:
            return b
        if b.c is False:
            return self
        return _bool("or", self, b, lambda x, y: z3.Or(x, y))

    __ror__ = __or__

    def __invert__(self) -> SymCond:
        if self.c is not None:
            return SymCond.const(not self.c)
        return _bool("not", self, self, lambda x, _: z3.Not(x))

    def __bool__(self) -> bool:
        if self.c is None:
            raise SymbolicValueError(
                f"bool() of the symbolic condition {self.e}: branch with k.sem.branch(), and "
                "combine conditions with &, |, ~ rather than and, or, not"
            )
        return self.c

    def __repr__(self) -> str:
        return f"SymCond({self.c if self.c is not None else self.e})"


def _cond(x: object) -> SymCond | None:
    t = type(x)
    if t is SymCond:
        return x  # type: ignore[return-value]
    if t is Cond:
        return SymCond.const(x.v)  # type: ignore[attr-defined]
    return None


def _as_cond(x: object) -> SymCond:
    c = _cond(x)
    if c is None:
        raise TypeError(f"expected a Cond or SymCond, not {type(x).__name__}")
    return c


# ---------------------------------------------------------------------------------------------
# solving


class Solving:
    """The checks of one all_paths() call: solver settings, and what the checks cost."""

    def __init__(self, timeout_ms: int, rlimit: int | None, seed: int, *, escalate: bool = False) -> None:
        self.timeout_ms, self.rlimit, self.seed = timeout_ms, rlimit, seed
        # FIRST_RLIMIT, then int-blasting, then the full rlimit (needs an rlimit to escalate from)
        self.escalate = escalate and rlimit is not None and rlimit > FIRST_RLIMIT
        self.queries = 0
        self.escalated = 0  # queries the first limit did not answer
        self.seconds = 0.0
        self.reasons: list[str] = []  # why the enumeration is incomplete, first occurrence each

    def solver(self, bv_solver: int = 0) -> z3.Solver:
        s = z3.Solver()
        s.set("timeout", self.timeout_ms)
        s.set("random_seed", self.seed)
        if bv_solver:
            s.set("bv.solver", bv_solver)
        if self.rlimit is not None:
            # per check, not cumulative over the solver's checks
            s.set("rlimit", FIRST_RLIMIT if self.escalate and not bv_solver else self.rlimit)
        return s

    def _escalated(self, s: z3.Solver, extra: z3.BoolRef | None) -> tuple[Any, z3.Solver]:
        """A query `s` left unknown within FIRST_RLIMIT: int-blasting, then bit-blasting in full."""
        self.escalated += 1
        ib = self.solver(bv_solver=2)
        ib.add(*s.assertions())
        r = ib.check() if extra is None else ib.check(extra)
        if r != z3.unknown:
            return r, ib
        s.set("rlimit", self.rlimit)
        try:
            return (s.check() if extra is None else s.check(extra)), s
        finally:
            s.set("rlimit", FIRST_RLIMIT)

    def check(self, s: z3.Solver, extra: z3.BoolRef | None = None) -> tuple[Any, z3.ModelRef | None]:
        """`s` (and `extra`, as an assumption): sat with a model, unsat, or unknown (recorded)."""
        t0 = time.perf_counter()
        r = s.check() if extra is None else s.check(extra)
        if r == z3.unknown and self.escalate:
            r, s = self._escalated(s, extra)
        self.seconds += time.perf_counter() - t0
        self.queries += 1
        if r == z3.sat:
            return r, s.model()
        if r == z3.unknown:
            self.incomplete(f"Z3 unknown ({s.reason_unknown()})")
        return r, None

    def incomplete(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


# One solver per run, each feasibility check passing the side as an assumption, not a fresh
# z3.Solver() per check: the path prefix is asserted once per run, and checks with assumptions
# run Z3's incremental SMT core, which beat the default solver's bit-blasting tactic on these
# queries despite ../shared/PERFORMANCE.md's push/pop figures. Measured with all_paths() on the
# model (x86_64, z3 5.4.1, 2 cores, medians of 11, witness-guided: one query per new branch):
#
#   function                                        paths queries  fresh Solver()  one per run
#   vmem_altmap_alloc (6 free words)                    4       4         92 ms          57 ms
#   AddDeviceMemory v5.9, symbolic altmap, 1 section    7       9         76 ms          22 ms
#   AddDeviceMemory v5.9, symbolic altmap, 2 sections   9      12        171 ms          37 ms
#   AddDeviceMemory v4.5, symbolic altmap, 2 sections   6       8         76 ms          23 ms
#   AddDeviceMemory + RemoveDeviceMemory v5.9           7       9         74 ms          24 ms
#
# (A fresh z3.SimpleSolver(), the same SMT core without the reuse, took 65/24/56/41/25 ms.)


@dataclass(frozen=True)
class _Task:
    """A re-execution still to run: its decision script and a model of the path it ends on."""

    decisions: tuple[bool, ...]
    pins: tuple[int | None, ...]  # the value a concrete() decision compared against, else None
    witness: z3.ModelRef | None  # None when Z3 answered unknown for this side


class Z3Sem:
    """The symbolic back end: words are Z3 bit-vectors, branches follow a decision script.

    Created by `all_paths()` for each re-execution; usable alone too (`with Z3Sem() as sem:`),
    when it explores one path (the first feasible side at each branch) and keeps the others in
    `pending`.
    """

    symbolic = True

    def __init__(
        self,
        task: _Task | None = None,
        *,
        assumptions: Iterable[z3.BoolRef | SymCond | Cond] = (),
        max_values: int = 64,
        solving: Solving | None = None,
    ) -> None:
        self._task = task if task is not None else _Task((), (), None)
        self._solving = solving if solving is not None else Solving(10_000, None, 0)
        self.max_values = max_values
        self.decisions: list[bool] = []
        self.pins: list[int | None] = []
        self.path: list[z3.BoolRef] = []  # the path condition, as a conjunction
        self.pending: list[_Task] = []  # the feasible other sides of this run's new decisions
        self.cut = False  # a sem.range() loop stopped at its bound on this path
        self.witness: z3.ModelRef | None = None  # a model of `path`, once past the script
        self.verified = True  # `path` is known satisfiable (or unknown, already reported)
        self._token: Any = None
        self._solver: z3.Solver | None = None  # this run's, holding path[:_asserted]
        self._asserted = 0
        for a in assumptions:
            e = a if isinstance(a, z3.BoolRef) else _as_cond(a).e
            self.path.append(e)
        if not self._task.decisions:
            self.witness = self._task.witness
            self.verified = self.witness is not None or not self.path

    # -- the Sem protocol --------------------------------------------------------------------

    def word(self, value: int) -> SymWord:
        return SymWord.const(value)

    def branch(self, cond: Cond | SymCond) -> bool:
        """Which side the path takes: the value of a fixed condition, else the script's decision."""
        if type(cond) is Cond:
            return cond.v  # type: ignore[union-attr]
        c = _as_cond(cond)
        if c.c is not None:
            return c.c
        return self._decide(c.e, None)

    def all(self, conds: Iterable[Cond | SymCond]) -> SymCond:
        out = SymCond.const(True)
        for c in conds:
            out = out & _as_cond(c)
        return out

    def any(self, conds: Iterable[Cond | SymCond]) -> SymCond:
        out = SymCond.const(False)
        for c in conds:
            out = out | _as_cond(c)
        return out

    def true(self) -> SymCond:
        return SymCond.const(True)

    def false(self) -> SymCond:
        return SymCond.const(False)

    def min(self, a: Word | SymWord, b: Word | SymWord) -> SymWord:
        x, y = _lift(a), _lift(b)
        if x is None or y is None:
            raise TypeError("min() of words only")
        if x.c is not None and y.c is not None:
            return x if x.c <= y.c else y
        return SymWord(z3.If(z3.ULE(x.e, y.e), x.e, y.e))

    def range(self, n: Word | SymWord, bound: int) -> Iterator[int]:
        """The counts of `for (i = 0; i < n; i++)`: forks per count up to `bound`, then marks a cut.

        The path on which n > bound runs `bound` iterations and is marked `cut`: its result
        is kept, and the PathSet says it is incomplete.
        """
        w = _lift(n)
        if w is None:
            raise TypeError(f"range() over a word, not {type(n).__name__}")
        if w.c is not None:  # a known count runs in full, as concretely: the bound caps forking only
            yield from range(w.c)
            return
        for i in range(bound):
            if not self.branch(w > i):
                return
            yield i
        if self.branch(w > bound):
            self.cut = True

    def concrete(self, w: Word | SymWord) -> int:
        """A value the model needs as structure: fixed, or forked over its feasible values.

        Each value comes from the witness (or one query), then the run branches on `w == v`:
        the true side returns v, the false side's re-execution asks for the next value. More
        than `max_values` values on one path raises TooManyValues (that path's result).
        """
        x = _lift(w)
        if x is None:
            raise TypeError(f"concrete() of a word, not {type(w).__name__}")
        if x.c is not None:
            return x.c
        e = x.e
        for _ in range(self.max_values):
            i = len(self.decisions)
            if i < len(self._task.decisions):
                pin = self._task.pins[i]
                if pin is None:
                    raise ReplayDiverged(f"decision {i}: the script has a branch, the run asks concrete()")
                v = pin
            else:
                v = self._value(e)
            if self._decide(e == v, v):
                return v
        raise TooManyValues(f"{e} has more than {self.max_values} feasible values on this path")

    # -- beyond the protocol -----------------------------------------------------------------

    def var(self, name: str) -> SymWord:
        """A fresh 64-bit unknown named `name` (the same name is the same unknown)."""
        return SymWord(z3.BitVec(name, BITS_PER_LONG))

    def assume(self, cond: Cond | SymCond | z3.BoolRef) -> None:
        """Add `cond` to the path condition: the run goes on only where it holds."""
        c = SymCond(cond) if isinstance(cond, z3.BoolRef) else _as_cond(cond)
        if c.c is True:
            return
        if c.c is False:
            raise _Infeasible
        self.path.append(c.e)
        if self.witness is not None and not z3.is_true(self.witness.eval(c.e, model_completion=True)):
            self.witness = None
            self.verified = False

    def __enter__(self) -> Z3Sem:
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._token)

    # -- forking -----------------------------------------------------------------------------

    def _decide(self, e: z3.BoolRef, pin: int | None) -> bool:
        i = len(self.decisions)
        script = self._task.decisions
        if i < len(script):
            if self._task.pins[i] != pin:
                raise ReplayDiverged(
                    f"decision {i}: the script compared with {self._task.pins[i]}, not {pin}"
                )
            taken = script[i]
            self._take(taken, e, pin)
            if i + 1 == len(script):
                self.witness = self._task.witness
                self.verified = True  # the parent run checked this side
            return taken
        if self.witness is not None:
            # The witness (a model of the path so far) proves one side feasible for free, so only
            # the other side costs a query, and the model that query finds goes with the queued
            # script: its re-execution starts with a witness too. This halves the queries of
            # checking both sides, and the side taken first no longer matters (paths are sorted).
            side = bool(z3.is_true(self.witness.eval(e, model_completion=True)))
            r, m = self._check(z3.Not(e) if side else e)
            if r != z3.unsat:
                self.pending.append(_Task((*self.decisions, not side), (*self.pins, pin), m))
            self._take(side, e, pin)
            return side
        r1, m1 = self._check(e)
        r0, m0 = self._check(z3.Not(e))
        if r1 == z3.unsat and r0 == z3.unsat:
            raise _Infeasible
        taken = r1 != z3.unsat and not (r1 == z3.unknown and r0 == z3.sat)
        other, model = (r0, m0) if taken else (r1, m1)
        if other != z3.unsat:
            self.pending.append(_Task((*self.decisions, not taken), (*self.pins, pin), model))
        self._take(taken, e, pin)
        self.witness = m1 if taken else m0
        self.verified = True
        return taken

    def _take(self, taken: bool, e: z3.BoolRef, pin: int | None) -> None:
        self.decisions.append(taken)
        self.pins.append(pin)
        self.path.append(e if taken else _negation(e))

    def _value(self, e: z3.BitVecRef) -> int:
        if self.witness is None:
            r, m = self._check()
            if r == z3.unsat:
                raise _Infeasible
            if m is None:
                raise SolverUnknown(f"no value for {e}: Z3 answered unknown on this path")
            self.witness, self.verified = m, True
        return int(self.witness.eval(e, model_completion=True).as_long())

    def _finish(self) -> bool:
        """Whether the path is feasible (or unknown, already reported): one query if not yet known."""
        if self.verified:
            return True
        r, m = self._check()
        self.witness = m
        return r != z3.unsat

    def _check(self, extra: z3.BoolRef | None = None) -> tuple[Any, z3.ModelRef | None]:
        """The path condition (and `extra`) on this run's solver."""
        if self._solver is None:
            self._solver = self._solving.solver()
        if self._asserted < len(self.path):
            self._solver.add(*self.path[self._asserted :])
            self._asserted = len(self.path)
        return self._solving.check(self._solver, extra)


# ---------------------------------------------------------------------------------------------
# enumeration


@dataclass
class Path(Generic[T]):
    """One feasible path: its condition, and what the function returned or raised on it."""

    cond: z3.BoolRef
    result: T | BaseException
    decisions: tuple[bool, ...]
    cut: bool  # a sem.range() loop stopped at its bound: more iterations were feasible
    raised: bool = False  # `result` is the exception the function raised on this path
    witness: z3.ModelRef | None = None  # a model of `cond` found on the way, if Z3 gave one

    @property
    def error(self) -> BaseException | None:
        """The exception raised on this path, or None."""
        return self.result if self.raised else None  # type: ignore[return-value]

    @property
    def value(self) -> T:
        """What the function returned on this path; raises what it raised."""
        if self.raised:
            raise self.result  # type: ignore[misc]
        return self.result  # type: ignore[return-value]


@dataclass
class Stats:
    """Solver work in one record: checks, their seconds, and why Z3 answered unknown if it did."""

    queries: int
    seconds: float
    unknown: str
    escalated: int = 0  # queries past FIRST_RLIMIT


@dataclass
class PathSet(Generic[T]):
    """Every feasible path of one function, with what finding them cost."""

    paths: list[Path[T]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it may miss paths; empty: complete
    queries: int = 0
    escalated: int = 0
    solver_seconds: float = 0.0
    runs: int = 0  # executions of the function, infeasible ones included

    @property
    def incomplete(self) -> bool:
        """Whether some path may be missing or unexplored past a bound, per `reasons`."""
        return bool(self.reasons)

    @property
    def complete(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def stats(self) -> Stats:
        unknown = next((r for r in self.reasons if r.startswith("Z3 unknown")), "")
        return Stats(self.queries, self.solver_seconds, unknown, self.escalated)


def all_paths(
    run: Callable[[Z3Sem], T],
    *,
    assumptions: Iterable[z3.BoolRef | SymCond | Cond] = (),
    max_paths: int = 10_000,
    timeout_ms: int = 10_000,
    rlimit: int | None = RLIMIT,
    seed: int = 0,
    max_values: int = 64,
) -> PathSet[T]:
    """Every feasible path of `run`, each found by one execution following a decision script.

    Paths come sorted by their decisions (true side first), whatever order Z3's models found
    them in. The set is incomplete, with reasons, when Z3 answered unknown (the path is kept),
    a loop or concrete() stopped at its bound, or more than `max_paths` paths exist.
    """
    # Z3's seeds are global parameters: pinned here for every solver made from now on
    z3.set_param("smt.random_seed", seed)
    z3.set_param("sat.random_seed", seed)
    solving = Solving(timeout_ms, rlimit, seed, escalate=True)
    assumed = [a if isinstance(a, z3.BoolRef) else _as_cond(a).e for a in assumptions]
    out: PathSet[T] = PathSet()
    r, witness = z3.sat, None
    if assumed:
        root = solving.solver()
        root.add(*assumed)
        r, witness = solving.check(root)  # also the root run's witness
    todo: list[_Task] = [] if r == z3.unsat else [_Task((), (), witness)]
    found: list[tuple[tuple[tuple[int, bool], ...], Path[T]]] = []
    while todo:
        if len(found) >= max_paths:
            solving.incomplete(f"more than {max_paths} paths")
            break
        task = todo.pop()
        sem = Z3Sem(task, assumptions=assumed, max_values=max_values, solving=solving)
        out.runs += 1
        result: Any = None
        raised = infeasible = False
        token = _ACTIVE.set(sem)
        try:
            result = run(sem)
        except _Infeasible:
            infeasible = True
        except (SymbolicValueError, ReplayDiverged, z3.Z3Exception):
            raise  # a model or engine bug, not a property of the inputs
        except Exception as e:  # a result of this path, as a C function's oops would be
            result, raised = e, True
            if isinstance(e, TooManyValues):
                solving.incomplete(f"TooManyValues: {e}")
        finally:
            _ACTIVE.reset(token)
        todo.extend(reversed(sem.pending))  # depth first, the earliest fork's other side last
        if infeasible:
            continue
        if len(sem.decisions) < len(task.decisions):
            raise ReplayDiverged(
                f"the run ended after {len(sem.decisions)} of its {len(task.decisions)} decisions"
            )
        if not sem._finish():
            continue
        if sem.cut:
            solving.incomplete("a sem.range() loop reached its bound")
        cond = z3.And(*sem.path) if sem.path else z3.BoolVal(True)
        key = tuple((-1 if p is None else p, not d) for d, p in zip(sem.decisions, sem.pins, strict=True))
        found.append((key, Path(cond, result, tuple(sem.decisions), sem.cut, raised, sem.witness)))
    found.sort(key=lambda kp: kp[0])
    out.paths = [p for _, p in found]
    out.reasons = solving.reasons
    out.queries, out.solver_seconds, out.escalated = solving.queries, solving.seconds, solving.escalated
    return out


# ---------------------------------------------------------------------------------------------
# counterexample values


def model_values(
    cond: z3.BoolRef | SymCond,
    names: Iterable[str | SymWord],  # unknowns by name, or the SymWords Z3Sem.var() gave
    *,
    timeout_ms: int = 10_000,
    rlimit: int | None = RLIMIT,
    step_rlimit: int = 5_000_000,
    seed: int = 0,
    witness: z3.ModelRef | None = None,
) -> dict[str, int]:
    """Values of the named unknowns satisfying `cond`, each as small as it can be, in order.

    The first name is minimised first, then the next with the first fixed, and so on; a name
    `cond` does not mention gets 0. `witness`, a model of `cond` already in hand (Path.witness),
    saves the first check. Raises ValueError if `cond` is unsatisfiable, SolverUnknown if Z3
    cannot say. A minimising step that runs past `step_rlimit` keeps the least value
    proven so far: the values stay valid and deterministic, only perhaps not least.
    """
    # Bisection on an upper bound `x <= mid`, checked as an assumption on one solver, jumping to
    # each model's value, not z3.Optimize: the same least values, deterministic, and far faster.
    # On the 9 paths of AddDeviceMemory v5.9 with a symbolic altmap over 2 sections (4 unknowns,
    # values up to 2^64 - 1; 3-104 checks a path): Optimize 9.6 s, bisection with a fresh solver
    # per check 2.6 s, bisection on one solver 0.27 s. `x <= 0` is tried first: most unknowns
    # end at 0, and the hard checks are unsat ones just below the least value (proving
    # nr_pfns <= 1 impossible on a vmem_altmap_alloc() path took Z3 over 20 s), hence the
    # smaller per-step limit (5 M is about 1 s here; the largest step that succeeded took 2.7 M).
    solving = Solving(timeout_ms, rlimit, seed)
    c = cond.e if isinstance(cond, SymCond) else cond
    vs = [z3.BitVec(n, BITS_PER_LONG) if isinstance(n, str) else n.e for n in names]
    s = solving.solver()
    s.add(c)
    if witness is not None and not z3.is_true(witness.eval(c, model_completion=True)):
        raise ValueError("model_values(): the witness is not a model of the condition")
    r, m = (z3.sat, witness) if witness is not None else solving.check(s)
    if r == z3.unsat:
        raise ValueError("model_values() of an unsatisfiable condition")
    if m is None:
        raise SolverUnknown(f"model_values(): {'; '.join(solving.reasons)}")
    s.set("rlimit", step_rlimit)
    out: dict[str, int] = {}
    for v in vs:
        best = m.eval(v, model_completion=True).as_long()
        lo = mid = 0
        while lo < best:
            r, m2 = solving.check(s, z3.ULE(v, mid))
            if m2 is not None:
                m = m2
                best = m.eval(v, model_completion=True).as_long()
            elif r == z3.unsat:
                lo = mid + 1
            else:
                break
            mid = (lo + best) // 2
        s.add(v == best)
        out[str(v)] = int(best)
    return out

"""The Z3 back end computes what the concrete one does, for every 64-bit input, and forks soundly."""

from __future__ import annotations

import operator

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from mhpcheck.semantics import MASK, Word
from mhpcheck.semantics_z3 import SymbolicValueError, SymCond, SymWord, Z3Sem, all_paths, model_values

EDGES = [0, 1, 2, 63, 64, 65, 2**32, 2**63 - 1, 2**63, 2**63 + 1, MASK - 1, MASK]
words = st.one_of(st.sampled_from(EDGES), st.integers(0, MASK), st.integers(0, 70))
X, Y = z3.BitVec("x", 64), z3.BitVec("y", 64)


def at(e: z3.ExprRef, a: int, b: int) -> z3.ExprRef:
    """`e` with x := a, y := b, simplified to a constant."""
    return z3.simplify(z3.substitute(e, (X, z3.BitVecVal(a, 64)), (Y, z3.BitVecVal(b, 64))))


BINARY = [operator.add, operator.sub, operator.mul, operator.and_, operator.or_, operator.xor]
SHIFTS = [operator.lshift, operator.rshift]
COMPARE = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@settings(max_examples=150)
@given(a=words, b=words)
def test_every_operator_agrees_on_free_variables(a: int, b: int) -> None:
    x, y = SymWord(X), SymWord(Y)
    for op in BINARY:
        assert at(op(x, y).e, a, b).as_long() == op(Word(a), Word(b)).v, op
        assert at(op(x, b).e, a, b).as_long() == op(Word(a), b).v, op  # an int operand
        assert at(op(a, y).e, a, b).as_long() == op(a, Word(b)).v, op
    for op in SHIFTS:
        assert at(op(x, y).e, a, b).as_long() == op(Word(a), Word(b)).v, op
    for op in COMPARE:
        assert z3.is_true(at(op(x, y).e, a, b)) == op(Word(a), Word(b)).v, op
    assert at((~x).e, a, b).as_long() == (~Word(a)).v
    assert at(x.lowest_set_bit().e, a, b).as_long() == Word(a).lowest_set_bit().v
    align = 1 << (b % 64)
    assert at(x.align_up(align).e, a, b).as_long() == Word(a).align_up(align).v
    assert at(x.align_down(align).e, a, b).as_long() == Word(a).align_down(align).v


@settings(max_examples=60)
@given(a=words, b=words)
def test_division_forks_on_a_zero_divisor_as_word_raises(a: int, b: int) -> None:
    def divide(sem: Z3Sem) -> tuple[SymWord, SymWord]:
        x, y = sem.var("x"), sem.var("y")
        return x // y, x % y

    ps = all_paths(divide)
    assert ps.complete and len(ps.paths) == 2  # y == 0 raises, y != 0 divides
    (hit,) = [p for p in ps.paths if z3.is_true(at(p.cond, a, b))]
    if b == 0:
        assert isinstance(hit.error, ZeroDivisionError)
    else:
        assert hit.result is not None
        q, r = hit.result
        assert at(q.e, a, b).as_long() == (Word(a) // Word(b)).v
        assert at(r.e, a, b).as_long() == (Word(a) % Word(b)).v
    with pytest.raises(ZeroDivisionError):
        SymWord(X) // 0


def test_paths_partition_the_inputs() -> None:
    def clamp(sem: Z3Sem) -> SymWord:
        x = sem.var("x")
        if sem.branch(x + 2 < x):  # wraps past 2^64
            return sem.word(0)
        if sem.branch(x > 100):
            return sem.word(100)
        return x

    ps = all_paths(clamp)
    assert len(ps.paths) == 3 and ps.stats.queries > 0
    conds = [p.cond for p in ps.paths]
    s = z3.Solver()
    s.add(z3.Not(z3.Or(*conds)))
    assert s.check() == z3.unsat  # every input is on some path
    for i in range(3):
        for j in range(i + 1, 3):
            s = z3.Solver()
            s.add(conds[i], conds[j])
            assert s.check() == z3.unsat  # and on one only
    wrap = next(p for p in ps.paths if p.decisions[:1] == (True,))  # x + 2 wrapped
    assert model_values(wrap.cond, ["x"]) == {"x": MASK - 1}  # the smallest x that wraps


def test_concrete_forks_over_feasible_values_and_range_marks_the_cut() -> None:
    def section(sem: Z3Sem) -> int:
        x = sem.var("x")
        sem.assume(x < 3)
        return sem.concrete(x)

    ps = all_paths(section)
    assert sorted(p.result for p in ps.paths if p.result is not None) == [0, 1, 2]

    def loop(sem: Z3Sem) -> int:
        n = sem.var("n")
        return sum(1 for _ in sem.range(n, 4))

    ps2 = all_paths(loop)
    counts = sorted((p.result, p.cut) for p in ps2.paths if p.result is not None)
    assert counts == [(0, False), (1, False), (2, False), (3, False), (4, False), (4, True)]


def test_a_raw_branch_on_a_symbolic_condition_is_refused() -> None:
    def raw(sem: Z3Sem) -> bool:
        return bool(sem.var("x") < 4)

    with pytest.raises(SymbolicValueError):
        all_paths(raw)
    assert bool(SymCond(z3.BoolVal(True))) and SymWord(z3.BitVecVal(5, 64)).v == 5

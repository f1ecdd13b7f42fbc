"""The Z3 back end computes what Word does on every 64-bit input, and forks exactly the feasible paths."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from mhpcheck.core.values import CONCRETE, MASK, Cond, ModelDefinitionError, Word
from mhpcheck.engines.symbolic.z3sem import (
    Path,
    PathSet,
    SymbolicValueError,
    SymCond,
    SymWord,
    TooManyValues,
    Z3Sem,
    all_paths,
    model_values,
)
from mhpcheck.model.state import VmemAltmap

POW2 = [1 << k for k in range(64)]
EDGES = sorted(
    {0, 1, 2, 3, 63, 64, 65, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**63 + 1, MASK - 1, MASK}
    | set(POW2)
    | {p - 1 for p in POW2}
)
word = st.one_of(st.sampled_from(EDGES), st.integers(0, MASK), st.integers(0, 70))
# b chosen so that a + b, a - b, a * b sit right at the 2^64 boundary
pairs = st.one_of(
    st.tuples(word, word),
    word.map(lambda a: (a, MASK - a)),  # a + b == 2^64 - 1
    word.map(lambda a: (a, (MASK - a + 1) & MASK)),  # a + b wraps to 0
    word.map(lambda a: (a, (MASK - a + 2) & MASK)),  # a + b wraps to 1
    word.map(lambda a: (a, (a + 1) & MASK)),  # a - b == 2^64 - 1
    st.tuples(word, st.integers(0, 63).map(lambda k: 1 << k)),
    st.tuples(st.sampled_from(POW2), st.sampled_from(POW2)),  # products past 2^64
)

X, Y = z3.BitVec("x", 64), z3.BitVec("y", 64)
ARITH: list[Callable[[Any, Any], Any]] = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.and_,
    operator.or_,
    operator.xor,
    operator.lshift,
    operator.rshift,
]
COMPARE: list[Callable[[Any, Any], Any]] = [
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
]
# an int on the left: Word has reflected +, -, *, &, |, ^ (and comparisons reflect), not << >>
INT_LEFT = [op for op in ARITH + COMPARE if op not in (operator.lshift, operator.rshift)]
# a Word on the left hands these to SymWord's reflected operators (the others refuse a SymWord)
WORD_LEFT: list[Callable[[Any, Any], Any]] = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.and_,
    operator.or_,
    operator.eq,
    operator.ne,
]


def at(e: z3.ExprRef, a: int, b: int = 0) -> z3.ExprRef:
    """`e` with x := a and y := b, simplified (to a constant when e has no other unknowns)."""
    return z3.simplify(z3.substitute(e, (X, z3.BitVecVal(a, 64)), (Y, z3.BitVecVal(b, 64))))


def value(r: SymWord | SymCond, a: int, b: int = 0) -> int | bool:
    e = at(r.e, a, b)
    if z3.is_bool(e):
        assert z3.is_true(e) or z3.is_false(e), e
        return z3.is_true(e)
    assert z3.is_bv_value(e), e
    return int(e.as_long())


def concrete(r: Word | Cond) -> int | bool:
    return r.v


def raw_if(c: Any) -> int:
    if c:
        return 1
    return 0


def valid(f: z3.BoolRef) -> bool:
    s = z3.Solver()
    s.add(z3.Not(f))
    return s.check() == z3.unsat


def unsat(*fs: z3.BoolRef) -> bool:
    s = z3.Solver()
    s.add(*fs)
    return s.check() == z3.unsat


def assert_partition(ps: PathSet[Any]) -> None:
    """Every input lies on exactly one path: the disjunction is valid, each conjunction unsat."""
    conds = [p.cond for p in ps.paths]
    assert valid(z3.Or(*conds))
    for i in range(len(conds)):
        for j in range(i + 1, len(conds)):
            assert unsat(conds[i], conds[j]), (ps.paths[i].decisions, ps.paths[j].decisions)


def on(ps: PathSet[Any], a: int, b: int = 0) -> Path[Any]:
    """The one path whose condition holds for x := a, y := b."""
    hits = [p for p in ps.paths if z3.is_true(at(p.cond, a, b))]
    assert len(hits) == 1, [p.decisions for p in hits]
    return hits[0]


# ---------------------------------------------------------------------------------------------
# operators


@settings(max_examples=400)
@given(ab=pairs)
def test_every_operator_agrees_with_word_on_free_variables(ab: tuple[int, int]) -> None:
    a, b = ab
    x, y = SymWord(X), SymWord(Y)
    assert x.c is None and y.c is None  # really symbolic, not folded
    for op in ARITH + COMPARE:
        want = concrete(op(Word(a), Word(b)))
        assert value(op(x, y), a, b) == want, op
        assert value(op(x, b), a, b) == want, op  # an int operand, converted as C does
        assert value(op(x, Word(b)), a, b) == want, op  # a concrete Word operand
    for op in INT_LEFT:
        assert value(op(a, y), a, b) == concrete(op(a, Word(b))), op  # reflected, int on the left
    for op in WORD_LEFT:
        assert value(op(Word(a), y), a, b) == concrete(op(Word(a), Word(b))), op
    assert value(~x, a) == (~Word(a)).v
    assert value(x.lowest_set_bit(), a) == Word(a).lowest_set_bit().v
    # ALIGN is defined for any a, not only powers of two: both back ends compute the same bits
    assert value(x.align_up(y), a, b) == Word(a).align_up(Word(b)).v
    assert value(x.align_down(y), a, b) == Word(a).align_down(Word(b)).v
    assert value(x.align_up(b), a, b) == Word(a).align_up(b).v


@settings(max_examples=400)
@given(ab=pairs)
def test_every_operator_agrees_with_word_on_constants(ab: tuple[int, int]) -> None:
    a, b = ab
    folded = (SymWord.const(a), SymWord.const(b))  # the int fast path
    built = (SymWord(z3.BitVecVal(a, 64)), SymWord(z3.BitVecVal(b, 64)))  # simplify() path
    for x, y in (folded, built):
        assert x.c == a and x.v == a
        for op in ARITH + COMPARE:
            r = op(x, y)
            assert r.c is not None  # constants stay constants: no solver, no symbolic branch
            assert r.v == concrete(op(Word(a), Word(b))), op
            assert op(x, b).v == r.v, op
        for op in INT_LEFT:
            assert op(a, y).v == concrete(op(a, Word(b))), op
        if b:
            assert (x // y).v == (Word(a) // Word(b)).v
            assert (x % y).v == (Word(a) % Word(b)).v
            assert (x // b).v == a // b and (Word(a) // y).v == a // b and (Word(a) % y).v == a % b
        assert (~x).v == (~Word(a)).v
        assert x.lowest_set_bit().v == Word(a).lowest_set_bit().v
        assert x.align_up(y).v == Word(a).align_up(Word(b)).v
        assert x.align_down(y).v == Word(a).align_down(Word(b)).v
        assert hash(x) == hash(Word(a))  # a constant hashes as the equal Word


@settings(max_examples=200)
@given(ab=pairs)
def test_division_forks_where_word_raises(ab: tuple[int, int]) -> None:
    a, b = ab
    ps = _division_paths()
    assert ps.complete and len(ps.paths) == 2  # y == 0 raises, y != 0 divides
    hit = on(ps, a, b)
    if b == 0:
        with pytest.raises(ZeroDivisionError):
            Word(a) // Word(b)
        assert hit.raised and isinstance(hit.error, ZeroDivisionError)
    else:
        q, r = hit.value
        assert value(q, a, b) == (Word(a) // Word(b)).v
        assert value(r, a, b) == (Word(a) % Word(b)).v


_DIVISION: list[PathSet[Any]] = []


def _division_paths() -> PathSet[Any]:
    if not _DIVISION:

        def divide(sem: Z3Sem) -> tuple[SymWord, SymWord]:
            x, y = sem.var("x"), sem.var("y")
            return x // y, x % y

        _DIVISION.append(all_paths(divide))
    return _DIVISION[0]


def test_division_by_a_constant_zero_raises_as_word_does() -> None:
    for zero in (0, Word(0), SymWord.const(0), SymWord(z3.BitVecVal(0, 64))):
        with pytest.raises(ZeroDivisionError):
            SymWord(X) // zero
        with pytest.raises(ZeroDivisionError):
            SymWord(X) % zero
    with pytest.raises(ZeroDivisionError):
        Word(5) // SymWord.const(0)
    with pytest.raises(ZeroDivisionError):
        SymWord.const(2**64 - 1) % (2**64)  # an int is converted modulo 2^64, as Word does
    # a symbolic divisor outside a run has no path to fork
    with pytest.raises(SymbolicValueError):
        SymWord(X) // SymWord(Y)
    # a constant divisor needs no fork
    assert value(SymWord(X) // 64, 2**64 - 1) == (2**64 - 1) // 64


def test_shifts_of_64_or_more_give_zero_as_word_does() -> None:
    x = SymWord(X)
    for n in (63, 64, 65, 127, 2**63, MASK):
        for a in (1, MASK, 2**63):
            assert value(x << n, a) == (Word(a) << n).v
            assert value(x >> n, a) == (Word(a) >> n).v
            assert value(x << SymWord(Y), a, n) == (Word(a) << n).v
            assert value(x >> SymWord(Y), a, n) == (Word(a) >> n).v
    assert value(x.lowest_set_bit(), 0) == 1 == Word(0).lowest_set_bit().v


def test_mixing_with_other_types_is_refused_as_word_refuses() -> None:
    x = SymWord(X)
    for op in [*ARITH, operator.floordiv, operator.mod, *COMPARE[2:]]:
        with pytest.raises(TypeError):
            op(x, 1.5)
        with pytest.raises(TypeError):
            op(Word(1), 1.5)
    with pytest.raises(TypeError):
        3 // x  # type: ignore[operator]
    with pytest.raises(TypeError):
        1 << x  # type: ignore[operator]
    with pytest.raises(TypeError):
        1 << Word(3)  # type: ignore[operator]
    with pytest.raises(TypeError):
        3 // Word(1)  # type: ignore[operator]
    assert (x == "1") is False and (Word(1) == "1") is False  # not comparable: identity
    with pytest.raises(TypeError):
        SymWord(z3.BitVec("narrow", 32))


# ---------------------------------------------------------------------------------------------
# values that must stay symbolic


def test_a_symbolic_value_refuses_to_become_a_python_value() -> None:
    x = SymWord(X)
    with pytest.raises(SymbolicValueError, match="concrete"):
        _ = x.v
    with pytest.raises(SymbolicValueError, match="branch"):
        bool(x < 4)
    with pytest.raises(SymbolicValueError):
        raw_if((x < 4) & (x > 1))  # a model bug the concrete back end cannot see
    with pytest.raises(SymbolicValueError):
        _ = (x < 4).v
    assert issubclass(SymbolicValueError, ModelDefinitionError)
    # conditions the values fix are plain truth values
    assert bool(x == x) and not bool(x != x) and bool(x - x == 0) and bool(x <= MASK)
    assert bool(SymCond(z3.BoolVal(True))) and (x ^ x).v == 0 and (x * 0).v == 0


def test_conditions_combine_with_bitwise_operators_and_concrete_conds() -> None:
    x, y = SymWord(X), SymWord(Y)
    c = (x < y) & ~(x == 0) | (y == 7)
    for a, b in [(0, 1), (1, 2), (5, 7), (9, 7), (3, 3)]:
        assert value(c, a, b) == (((a < b) and a != 0) or b == 7)
    for t in (True, False):
        assert value(Cond(t) & (x < 5), 3) == t
        assert value((x < 5) | Cond(t), 9) == t
        assert value(Cond(t) | (x < 5), 9) == t
    assert ((x < 5) & Cond(False)).c is False and ((x < 5) | Cond(True)).c is True


def test_symbolic_words_hash_so_frozen_state_hashes() -> None:
    fields = (SymWord(X), SymWord(Y), SymWord(X + 1), SymWord.const(0), SymWord.const(5))
    a = VmemAltmap(*fields)  # type: ignore[arg-type]
    same = VmemAltmap(*(SymWord(w.e) for w in fields))  # type: ignore[arg-type]
    assert hash(a) == hash(same)
    # equal hashes, and == of the same expressions simplifies to true: the lookup needs no bool()
    assert {a: 1}[same] == 1
    assert hash(SymWord(X + 1)) != hash(SymWord(X + 2))


# ---------------------------------------------------------------------------------------------
# the rest of the Sem protocol against the concrete back end


@settings(max_examples=200)
@given(ab=pairs)
def test_min_all_any_agree_with_the_concrete_back_end(ab: tuple[int, int]) -> None:
    a, b = ab
    sem = Z3Sem()
    x, y = SymWord(X), SymWord(Y)
    assert value(sem.min(x, y), a, b) == CONCRETE.min(Word(a), Word(b)).v
    assert sem.min(SymWord.const(a), Word(b)).v == CONCRETE.min(Word(a), Word(b)).v
    conds = [x < y, x == y, y > 100]
    wants = [Word(a) < Word(b), Word(a) == Word(b), Word(b) > 100]
    assert value(sem.all(conds), a, b) == CONCRETE.all(wants).v
    assert value(sem.any(conds), a, b) == CONCRETE.any(wants).v
    assert sem.all([]).c is True and sem.any([]).c is False
    assert sem.true().c is True and sem.false().c is False
    assert sem.word(a).v == CONCRETE.word(a).v and sem.word(-1).v == MASK
    assert sem.symbolic and not CONCRETE.symbolic


# ---------------------------------------------------------------------------------------------
# forking


def test_a_two_branch_function_has_two_paths_partitioning_the_inputs() -> None:
    def clamp(sem: Z3Sem) -> SymWord:
        x = sem.var("x")
        if sem.branch(x > 100):
            return sem.word(100)
        return x

    ps = all_paths(clamp)
    assert ps.complete and len(ps.paths) == 2 and ps.runs == 2
    assert_partition(ps)
    assert [p.decisions for p in ps.paths] == [(True,), (False,)]  # sorted: the true side first
    for a in (0, 100, 101, MASK):
        assert value(on(ps, a).value, a) == min(a, 100)
    assert ps.queries >= 1 and ps.solver_seconds > 0


def test_infeasible_sides_are_never_returned() -> None:
    def nested(sem: Z3Sem) -> int:
        x = sem.var("x")
        if sem.branch(x + 2 < x):  # wraps: x >= 2^64 - 2
            if sem.branch(x < 5):  # cannot hold with the above
                return 1
            if sem.branch(x == MASK):
                return 2
            return 3
        if sem.branch(x > 100):
            return 4
        return 5

    ps = all_paths(nested)
    assert sorted(p.value for p in ps.paths) == [2, 3, 4, 5]
    assert_partition(ps)
    assert on(ps, MASK - 1).value == 3 and on(ps, MASK).value == 2 and on(ps, 7).value == 5
    for p in ps.paths:
        assert not unsat(p.cond)


def test_constant_branches_cost_no_solver_call() -> None:
    def fixed(sem: Z3Sem) -> int:
        a = sem.word(5)
        n = 0
        if sem.branch(a + MASK < a):  # 5 - 1 < 5, decided by arithmetic alone
            n += 1
        if sem.branch(sem.var("x") - sem.var("x") == 0):
            n += 2
        n += sum(1 for _ in sem.range(sem.word(3), 10)) + sum(1 for _ in sem.range(sem.word(12), 4))
        return n + sem.concrete(a * 2)

    ps = all_paths(fixed)
    # a known count runs in full, past the bound, which only caps forking, as concretely
    assert [p.value for p in ps.paths] == [1 + 2 + 3 + 12 + 10]
    assert sum(1 for _ in CONCRETE.range(Word(12), 4)) == 12
    assert ps.queries == 0 and ps.complete and not ps.paths[0].cut


def test_concrete_forks_over_exactly_the_feasible_values() -> None:
    def section(sem: Z3Sem) -> int:
        x = sem.var("x")
        sem.assume((x < 6) & (x != 2))
        return sem.concrete(x)

    ps = all_paths(section)
    assert ps.complete
    assert sorted(p.value for p in ps.paths) == [0, 1, 3, 4, 5]
    for p in ps.paths:  # each path pins x to its value
        assert valid(z3.Implies(p.cond, p.value == X))
    assert valid(z3.Implies(z3.And(z3.ULT(X, 6), X != 2), z3.Or(*[p.cond for p in ps.paths])))


def test_concrete_past_its_limit_raises_too_many_values_on_that_path() -> None:
    def section(sem: Z3Sem) -> int:
        return sem.concrete(sem.var("x") >> 60)  # 16 feasible values

    ps = all_paths(section, max_values=5)
    assert ps.incomplete and "TooManyValues" in ps.reason
    values = [p.value for p in ps.paths if not p.raised]
    assert len(values) == 5 and len(set(values)) == 5
    (over,) = [p for p in ps.paths if p.raised]
    assert isinstance(over.error, TooManyValues)
    assert all(p.decisions[-1] for p in ps.paths if not p.raised)
    assert_partition(ps)
    ps16 = all_paths(section, max_values=16)
    assert ps16.complete and sorted(p.value for p in ps16.paths) == list(range(16))


def test_range_forks_per_count_and_marks_the_cut() -> None:
    def loop(sem: Z3Sem) -> int:
        n = sem.var("n")
        sem.assume(n != 1)
        return sum(1 for _ in sem.range(n, 4))

    ps = all_paths(loop)
    got = sorted((p.value, p.cut) for p in ps.paths)
    assert got == [(0, False), (2, False), (3, False), (4, False), (4, True)]
    assert ps.incomplete and "bound" in ps.reason
    for p in ps.paths:
        count = z3.BitVec("n", 64)
        if p.cut:
            assert valid(z3.Implies(p.cond, z3.UGT(count, 4)))
        else:
            assert valid(z3.Implies(p.cond, count == p.value))
    bounded = all_paths(lambda sem: _count_below(sem, 3))
    assert bounded.complete and sorted(p.value for p in bounded.paths) == [0, 1, 2, 3]


def _count_below(sem: Z3Sem, most: int) -> int:
    n = sem.var("n")
    sem.assume(n <= most)
    return sum(1 for _ in sem.range(n, 8))


def test_an_exception_is_the_result_of_its_path() -> None:
    def check(sem: Z3Sem) -> str:
        x = sem.var("x")
        if sem.branch(x > 3):
            raise ValueError("too big")
        return "ok"

    ps = all_paths(check)
    assert ps.complete and len(ps.paths) == 2
    bad, good = ps.paths
    assert bad.raised and isinstance(bad.result, ValueError) and bad.error is bad.result
    assert not good.raised and good.value == "ok" and good.error is None
    with pytest.raises(ValueError, match="too big"):
        _ = bad.value
    assert valid(bad.cond == z3.UGT(X, 3))


def test_a_raw_branch_on_a_symbolic_condition_stops_the_enumeration() -> None:
    def raw(sem: Z3Sem) -> bool:
        return bool(sem.var("x") < 4)

    with pytest.raises(SymbolicValueError):
        all_paths(raw)


def test_assumptions_restrict_every_path_and_contradictions_give_none() -> None:
    def clamp(sem: Z3Sem) -> bool:
        return sem.branch(sem.var("x") > 100)

    ps = all_paths(clamp, assumptions=[z3.ULT(X, 50)])
    assert [p.value for p in ps.paths] == [False]
    assert all_paths(clamp, assumptions=[z3.ULT(X, 0)]).paths == []

    def contradicts(sem: Z3Sem) -> int:
        x = sem.var("x")
        sem.assume(x < 10)
        if sem.branch(x < 5):
            sem.assume(x > 7)  # impossible on this side
            return 1
        return 2

    assert [p.value for p in all_paths(contradicts).paths] == [2]


def test_unknown_keeps_both_sides_and_marks_the_set_incomplete() -> None:
    def hard(sem: Z3Sem) -> int:
        x, y = sem.var("x"), sem.var("y")
        if sem.branch((x * y == 12345678901) & (x > 1) & (x < 1_000_000) & (y > 1)):
            return 1
        return 0

    ps = all_paths(hard, rlimit=1)
    assert ps.incomplete and "unknown" in ps.reason
    assert sorted(p.value for p in ps.paths) == [0, 1]  # unknown is never taken for unsat
    full = all_paths(hard)
    assert full.complete and sorted(p.value for p in full.paths) == [0, 1]

    def factor(sem: Z3Sem) -> int:
        x, y = sem.var("x"), sem.var("y")
        if sem.branch(x > 5):  # easy: decided, and its model becomes the witness
            # hard (factoring without wrap-around): the side the witness does not take is unknown
            if sem.branch((x * y == 12345678901) & (x < 1_000_000) & (y < 2**40) & (y > 1)):
                return 2
            return 1
        return 0

    ps = all_paths(factor, rlimit=20_000)
    assert ps.incomplete and "unknown" in ps.reason
    assert [(p.decisions, p.value) for p in ps.paths] == [
        ((True, True), 2),
        ((True, False), 1),
        ((False,), 0),
    ]


def test_max_paths_cuts_the_enumeration_and_says_so() -> None:
    def many(sem: Z3Sem) -> int:
        return sem.concrete(sem.var("x") & 7)

    ps = all_paths(many, max_paths=3)
    assert len(ps.paths) == 3 and ps.incomplete and "3 paths" in ps.reason


def test_the_enumeration_is_deterministic() -> None:
    def f(sem: Z3Sem) -> tuple[int, SymWord]:
        x, y = sem.var("x"), sem.var("y")
        n = sem.concrete((x + y) & 3)
        if sem.branch(x > y):
            return n, x - y
        return n, y - x

    one, two = all_paths(f, seed=7), all_paths(f, seed=7)
    assert [(p.decisions, p.cond.sexpr(), p.value[0]) for p in one.paths] == [
        (p.decisions, p.cond.sexpr(), p.value[0]) for p in two.paths
    ]
    assert len(one.paths) == 8
    assert_partition(one)


# ---------------------------------------------------------------------------------------------
# counterexample values


def test_model_values_are_the_least_satisfying_ones_in_order() -> None:
    assert model_values(SymWord(X) + 2 < SymWord(X), ["x"]) == {"x": MASK - 1}
    c = z3.And(z3.UGT(X, 100), z3.UGT(Y, X), (Y & 0xF) == 3)
    got = model_values(c, ["x", "y"])
    assert got == {"x": 101, "y": 115}
    # the order decides which unknown is least when they trade off
    c2 = z3.And(z3.UGT(X, 100), z3.UGT(Y, 10), X + Y == 2000)
    assert model_values(c2, ["x", "y"]) == {"x": 101, "y": 1899}
    assert model_values(c2, ["y", "x"]) == {"y": 11, "x": 1989}
    assert model_values(z3.BoolVal(True), ["x", SymWord(Y)]) == {"x": 0, "y": 0}
    with pytest.raises(ValueError, match="unsatisfiable"):
        model_values(z3.And(z3.ULT(X, 3), z3.UGT(X, 5)), ["x"])

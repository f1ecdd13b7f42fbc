"""Word and Cond behave as C unsigned long arithmetic and truth values."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mhpcheck.core.values import CONCRETE, MASK, Cond, ModelDefinitionError, Word

u64 = st.integers(min_value=0, max_value=MASK)
shift = st.integers(min_value=0, max_value=70)


@given(u64, u64)
def test_arithmetic_wraps_modulo_2_64(a, b):
    wa, wb = Word(a), Word(b)
    assert (wa + wb).v == (a + b) & MASK
    assert (wa - wb).v == (a - b) & MASK
    assert (wa * wb).v == (a * b) & MASK
    assert (wa & wb).v == a & b
    assert (wa | wb).v == a | b
    assert (~wa).v == ~a & MASK


@given(u64, u64)
def test_comparisons_are_unsigned(a, b):
    wa, wb = Word(a), Word(b)
    assert (wa < wb).v == (a < b)
    assert (wa <= wb).v == (a <= b)
    assert (wa > wb).v == (a > b)
    assert (wa >= wb).v == (a >= b)
    assert (wa == wb).v == (a == b)
    assert (wa != wb).v == (a != b)


@given(u64, st.integers(min_value=1, max_value=MASK))
def test_division_and_modulo_are_unsigned(a, b):
    assert (Word(a) // b).v == a // b
    assert (Word(a) % b).v == a % b


@given(u64, shift)
def test_shifts_are_logical(a, n):
    assert (Word(a) >> n).v == (a >> n if n < 64 else 0)
    assert (Word(a) << n).v == ((a << n) & MASK if n < 64 else 0)


def test_high_bit_values_compare_unsigned():
    top = Word(1 << 63)
    assert (top > 1).v
    assert (Word(0) - 1 == MASK).v


@given(st.integers(min_value=1, max_value=MASK))
def test_lowest_set_bit_is_the_largest_power_of_two_dividing(x):
    low = Word(x).lowest_set_bit().v
    assert x % low == 0
    assert (x // low) % 2 == 1


@given(u64, st.integers(min_value=0, max_value=40))
def test_align_up_and_down(x, bits):
    a = 1 << bits
    assert Word(x).align_down(a).v == x - x % a
    up = Word(x).align_up(a).v
    assert up == ((x + a - 1) & MASK) & ~(a - 1)


def test_conds_combine_with_bitwise_operators():
    t, f = Cond(True), Cond(False)
    assert (t & t).v
    assert not (t & f).v
    assert (t | f).v
    assert (~f).v
    assert CONCRETE.branch(CONCRETE.all([t, t]))
    assert not CONCRETE.branch(CONCRETE.any([f, f]))


def test_mixing_a_word_with_a_float_is_refused():
    with pytest.raises(TypeError):
        Word(1) + 1.5  # type: ignore[operator]


def test_the_truth_of_a_word_or_a_cond_is_refused():
    # a raw `if`, `and`, `or` or `not` would pass concretely and fail symbolically: refused in both
    with pytest.raises(ModelDefinitionError, match="branch"):
        bool(Word(3) < Word(4))
    with pytest.raises(ModelDefinitionError, match="branch"):
        bool(Word(3))

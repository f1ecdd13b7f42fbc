"""Word, Cond and Sem: the value API the kernel model is written against, with its concrete back end.

The model's kernel functions are written once against this API. The explicit explorer runs
them with `ConcreteSem` (Python ints modulo 2^64); the symbolic engine runs the same functions
with a back end whose words are Z3 bit-vectors. Model code therefore never builds a `Word`
directly and never branches on a comparison except through `Sem.branch`.

Note: `bool()` of a `Cond` or a `Word` raises, concretely as symbolically: a raw `if`, `while`,
`and`, `or` or `not` on one (or `==` between states, `in` over Words, `min()` of Words) is a
definition error at the line that does it, whichever engine runs it. Engine code compares
states by their packed encoding, and values by `.v`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, Union

BITS_PER_LONG = 64
MASK = (1 << BITS_PER_LONG) - 1
ULONG_MAX_INT = MASK


class ModelDefinitionError(Exception):
    """The model, a property or a patch file is written wrongly (raised at definition time)."""


class Cond:
    """A C truth value produced by a comparison; combine with `&`, `|`, `~`, never and/or/not."""

    __slots__ = ("v",)

    def __init__(self, v: bool) -> None:
        self.v = v

    def __and__(self, other: Cond) -> Cond:
        if not isinstance(other, Cond):
            return NotImplemented
        return TRUE if self.v and other.v else FALSE

    def __or__(self, other: Cond) -> Cond:
        if not isinstance(other, Cond):
            return NotImplemented
        return TRUE if self.v or other.v else FALSE

    def __invert__(self) -> Cond:
        return FALSE if self.v else TRUE

    def __bool__(self) -> bool:
        raise ModelDefinitionError(
            "a Cond is a C truth value: branch on it with k.sem.branch(cond) and combine with & | ~, "
            "never if/while/and/or/not"
        )

    def __repr__(self) -> str:
        return f"Cond({self.v})"


# A concrete Cond is one of two values, never changed once made: comparisons return these two
# rather than allocating one per comparison (the explorer makes millions).
TRUE = Cond(True)
FALSE = Cond(False)


def _v(x: object) -> int:
    if type(x) is Word:
        return x.v  # type: ignore[union-attr]
    if type(x) is int:
        return x & MASK  # type: ignore[operator, arg-type]
    raise TypeError(f"cannot mix a Word with {type(x).__name__}")


WordLike = Union["Word", int]
_new = object.__new__


class Word:
    """A C `unsigned long`: arithmetic wraps modulo 2^64; `<`, `>>`, `//`, `%` are unsigned."""

    __slots__ = ("v",)

    def __init__(self, v: int) -> None:
        self.v = v & MASK

    # Arithmetic: an int operand is converted as C converts a constant to unsigned long.
    # The operators run millions of times per exploration, so they test `type(o)` inline and
    # build their result with object.__new__ and one slot store rather than calling Word(),
    # whose __init__ costs a Python frame; the result is masked exactly where Word() would
    # (a result already below 2^64, as of `>>` or of `&` on two Words, needs no mask).
    def __add__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = (self.v + o.v) & MASK  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = (self.v + o) & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = (self.v - o.v) & MASK  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = (self.v - o) & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    def __rsub__(self, o: WordLike) -> Word:
        return Word(_v(o) - self.v)

    def __mul__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = (self.v * o.v) & MASK  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = (self.v * o) & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, o: WordLike) -> Word:
        if type(o) is not Word and type(o) is not int:
            return NotImplemented
        d = _v(o)
        if d == 0:
            raise ZeroDivisionError("unsigned long division by zero")
        r = _new(Word)
        r.v = self.v // d
        return r

    def __mod__(self, o: WordLike) -> Word:
        if type(o) is not Word and type(o) is not int:
            return NotImplemented
        d = _v(o)
        if d == 0:
            raise ZeroDivisionError("unsigned long modulo by zero")
        r = _new(Word)
        r.v = self.v % d
        return r

    def __lshift__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            n = o.v  # type: ignore[union-attr]
        elif t is int:
            n = o & MASK  # type: ignore[operator]
        else:
            return NotImplemented
        r = _new(Word)
        r.v = (self.v << n) & MASK if n < BITS_PER_LONG else 0
        return r

    def __rshift__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            n = o.v  # type: ignore[union-attr]
        elif t is int:
            n = o & MASK  # type: ignore[operator]
        else:
            return NotImplemented
        r = _new(Word)
        r.v = self.v >> n if n < BITS_PER_LONG else 0
        return r

    def __and__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = self.v & o.v  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = self.v & o & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    __rand__ = __and__

    def __or__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = self.v | o.v  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = (self.v | o) & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    __ror__ = __or__

    def __xor__(self, o: WordLike) -> Word:
        t = type(o)
        if t is Word:
            r = _new(Word)
            r.v = self.v ^ o.v  # type: ignore[union-attr]
            return r
        if t is int:
            r = _new(Word)
            r.v = (self.v ^ o) & MASK  # type: ignore[operator, assignment]
            return r
        return NotImplemented

    __rxor__ = __xor__

    def __invert__(self) -> Word:
        r = _new(Word)
        r.v = ~self.v & MASK
        return r

    # comparisons give Conds, one of the two shared ones
    def __eq__(self, o: object) -> Cond:  # type: ignore[override]
        t = type(o)
        if t is Word:
            return TRUE if self.v == o.v else FALSE  # type: ignore[attr-defined]
        if t is int:
            return TRUE if self.v == o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __ne__(self, o: object) -> Cond:  # type: ignore[override]
        t = type(o)
        if t is Word:
            return TRUE if self.v != o.v else FALSE  # type: ignore[attr-defined]
        if t is int:
            return TRUE if self.v != o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __lt__(self, o: WordLike) -> Cond:
        t = type(o)
        if t is Word:
            return TRUE if self.v < o.v else FALSE  # type: ignore[union-attr]
        if t is int:
            return TRUE if self.v < o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __le__(self, o: WordLike) -> Cond:
        t = type(o)
        if t is Word:
            return TRUE if self.v <= o.v else FALSE  # type: ignore[union-attr]
        if t is int:
            return TRUE if self.v <= o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __gt__(self, o: WordLike) -> Cond:
        t = type(o)
        if t is Word:
            return TRUE if self.v > o.v else FALSE  # type: ignore[union-attr]
        if t is int:
            return TRUE if self.v > o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __ge__(self, o: WordLike) -> Cond:
        t = type(o)
        if t is Word:
            return TRUE if self.v >= o.v else FALSE  # type: ignore[union-attr]
        if t is int:
            return TRUE if self.v >= o & MASK else FALSE  # type: ignore[operator]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.v)

    def __bool__(self) -> bool:
        raise ModelDefinitionError(
            "a Word is a C unsigned long: compare it (w != 0) and branch with k.sem.branch(), never "
            "test its truth with if/while/and/or/not"
        )

    def __repr__(self) -> str:
        return f"{self.v:#x}"

    # kernel helpers whose C spelling has no Python operator
    def align_up(self, a: WordLike) -> Word:
        """ALIGN(x, a) for a power-of-two a: (x + a - 1) & ~(a - 1)."""
        av = _v(a)
        return Word((self.v + av - 1) & ~(av - 1))

    def align_down(self, a: WordLike) -> Word:
        """ALIGN_DOWN(x, a) for a power-of-two a."""
        return Word(self.v & ~(_v(a) - 1))

    def lowest_set_bit(self) -> Word:
        """1UL << find_first_bit(&x, BITS_PER_LONG); x86 shifts by 64 mod 64 when x == 0."""
        if self.v == 0:
            return Word(1)
        return Word(self.v & -self.v)


class Sem(Protocol):
    """What model code may do with values: make words, branch, combine conditions, loop."""

    symbolic: bool  # Words are terms of the symbolic engine rather than ints

    def word(self, value: int) -> Word: ...

    def branch(self, cond: Cond) -> bool: ...

    def all(self, conds: Iterable[Cond]) -> Cond: ...

    def any(self, conds: Iterable[Cond]) -> Cond: ...

    def true(self) -> Cond: ...

    def false(self) -> Cond: ...

    def min(self, a: Word, b: Word) -> Word: ...

    def range(self, n: Word, bound: int) -> Iterator[int]: ...

    def concrete(self, w: Word) -> int: ...


class ConcreteSem:
    """The concrete back end: Words are Python ints modulo 2^64, branch returns the value."""

    __slots__ = ()
    symbolic = False

    def word(self, value: int) -> Word:
        w = _new(Word)
        w.v = value & MASK
        return w

    def branch(self, cond: Cond) -> bool:
        return cond.v

    def all(self, conds: Iterable[Cond]) -> Cond:
        return TRUE if all(c.v for c in conds) else FALSE

    def any(self, conds: Iterable[Cond]) -> Cond:
        return TRUE if any(c.v for c in conds) else FALSE

    def true(self) -> Cond:
        return TRUE

    def false(self) -> Cond:
        return FALSE

    def min(self, a: Word, b: Word) -> Word:
        return a if a.v <= b.v else b

    def range(self, n: Word, bound: int) -> Iterator[int]:
        """Loop counts of a C `for (i = 0; i < n; i++)`; `bound` caps symbolic forking."""
        return iter(range(n.v))

    def concrete(self, w: Word) -> int:
        """The int value of a word the model needs as structure (a section number, a count)."""
        return w.v


CONCRETE = ConcreteSem()

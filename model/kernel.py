"""The kernel context every model function receives as `k`: value semantics, arch, variant, tracepoints."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from mhpcheck.model.events import AllocationFailed, Call, CallFailed, Event

if TYPE_CHECKING:
    from mhpcheck.core.values import Sem
    from mhpcheck.model.arch import ArchConfig
    from mhpcheck.model.variants import Variant


class Kernel:
    """One kernel build: an architecture config at a variant, run under one value back end."""

    __slots__ = (
        "__weakref__",
        "allocs",
        "arch",
        "events",
        "fail_alloc",
        "last_step",
        "memo",
        "point_names",
        "points",
        "sem",
        "variant",
    )

    def __init__(self, sem: Sem, arch: ArchConfig, variant: Variant) -> None:
        self.sem = sem
        self.arch = arch
        self.variant = variant
        self.events: list[Event] = []
        self.allocs = 0  # calls that may fail attempted in this step: vmemmap allocations, points
        self.points: list[int] = []  # which of them are declared failure points (may_fail)
        self.point_names: list[str] = []  # and what each of those calls is
        self.fail_alloc: int | None = None  # the one the environment makes fail, if any
        # (transition, calls that may fail it made, which of them were failure points)
        self.last_step: tuple[object, int, tuple[int, ...]] | None = None
        # results of this kernel's @memoised functions, by function name and key (concrete values)
        self.memo: dict[tuple[str, Hashable], Any] = {}
        _KEEPING.add(self)

    def begin_step(self, fail_alloc: int | None = None) -> None:
        """Start a transition: count its vmemmap allocations afresh, maybe failing one of them."""
        self.allocs = 0
        self.points = []
        self.point_names = []
        self.fail_alloc = fail_alloc

    def may_fail(self, point: str) -> bool:
        """Whether this call, a declared failure point (a kernel call that can fail, such as a
        device registration), is the one the environment makes fail. Every failure point a
        step passes is explored with --faults, beside the first, second, middle and last
        vmemmap allocation."""
        n = self.allocs
        self.allocs += 1
        self.points.append(n)
        self.point_names.append(point)
        if self.fail_alloc != n:
            return False
        self.events.append(CallFailed(n, point))
        return True

    def allocation_fails(self, size: int, altmap: int | None) -> bool:
        """Whether this vmemmap allocation is the one the environment makes fail (fault injection)."""
        n = self.allocs
        self.allocs += 1
        if self.fail_alloc != n:
            return False
        # the n-th vmemmap allocation, as its docstring says: not counting declared points, so a
        # patch that declares one before it leaves the event as it was
        nth = n - len(self.points)
        self.events.append(AllocationFailed(nth, size, altmap if altmap is not None else -1))
        return True

    def trace(self, event: Event) -> None:
        """Record a tracepoint of the step being run."""
        self.events.append(event)

    def call(self, function: str, **args: object) -> None:
        """Record that a kernel function was entered, so traces show the call path."""
        self.events.append(Call(function, tuple(args.items())))

    def take_events(self) -> tuple[Event, ...]:
        events = tuple(self.events)
        self.events.clear()
        return events


F = TypeVar("F", bound=Callable[..., Any])
_MISSING: Any = object()
_MEMO_MAX = 1 << 16  # entries a kernel keeps before it starts again
# Calls of functions a user patch replaces, counted by its dispatchers (mhpcheck.patching): how
# often each runs tells which steps the patch can change, so no call that made one is kept.
replaced_calls = [0]
_KEEPING: weakref.WeakSet[Kernel] = weakref.WeakSet()  # every kernel alive, for forget_kept()


def memoised(key: Callable[..., Hashable | None]) -> Callable[[F], F]:
    """Mark a model function whose result, on concrete values, follows from its arguments and the
    kernel build alone: each kernel keeps its results by `key(*args)` (the arguments after `k`)
    and gives them again instead of running it.

    `key` returns None where an argument is not concrete (a term of the symbolic engine), and
    the call runs. A call that touches the kernel (an event, a call that may fail) or runs a
    function a user patch replaces is not kept: what it does is part of the step. The explorer
    makes the same few hundred base-page allocations from the same altmaps in thousands of
    states; this is what makes them cheap.
    """

    def deco(fn: F) -> F:
        name = f"{fn.__module__}.{fn.__qualname__}"  # a name, not fn: a kernel stays picklable

        @functools.wraps(fn)
        def call(k: Kernel, *args: Any) -> Any:
            kk = key(*args)
            if kk is None:
                return fn(k, *args)
            memo = k.memo
            got = memo.get((name, kk), _MISSING)
            if got is not _MISSING:
                return got
            before = (len(k.events), k.allocs, replaced_calls[0])
            got = fn(k, *args)
            if (len(k.events), k.allocs, replaced_calls[0]) == before:
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[(name, kk)] = got
            return got

        return call  # type: ignore[return-value]

    return deco


def forget_kept() -> None:
    """Drop every kernel's kept results: model functions were just replaced or wrapped (a patch
    file's dispatchers, call counting), and a result kept before ran none of the new code."""
    for k in list(_KEEPING):
        k.memo.clear()

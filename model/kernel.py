"""The kernel context every model function receives as `k`: value semantics, arch, variant, tracepoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mhpcheck.model.events import AllocationFailed, Call, CallFailed, Event

if TYPE_CHECKING:
    from mhpcheck.core.values import Sem
    from mhpcheck.model.arch import ArchConfig
    from mhpcheck.model.variants import Variant


class Kernel:
    """One kernel build: an architecture config at a variant, run under one value back end."""

    __slots__ = (
        "allocs",
        "arch",
        "events",
        "fail_alloc",
        "last_step",
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

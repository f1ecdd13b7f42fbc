"""The kernel context every model function receives as `k`: value semantics, arch, variant, tracepoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mhpcheck.model.events import Call, Event

if TYPE_CHECKING:
    from mhpcheck.model.arch import ArchConfig
    from mhpcheck.model.variants import Variant
    from mhpcheck.semantics import Sem


class Kernel:
    """One kernel build: an architecture config at a variant, run under one value back end."""

    __slots__ = ("arch", "events", "sem", "variant")

    def __init__(self, sem: Sem, arch: ArchConfig, variant: Variant) -> None:
        self.sem = sem
        self.arch = arch
        self.variant = variant
        self.events: list[Event] = []

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

"""What kernel functions report as they run: the model's tracepoints, read by monitors and traces."""

from __future__ import annotations

from dataclasses import dataclass

from mhpcheck.core.records import fast_init
from mhpcheck.core.values import Word


@fast_init
@dataclass(frozen=True, slots=True)
class Event:
    """Base of every tracepoint the model emits."""


@fast_init
@dataclass(frozen=True, slots=True)
class Call(Event):
    """A kernel function was entered, with the arguments a reader needs to follow the trace."""

    function: str
    args: tuple[tuple[str, object], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class SectionRemoved(Event):
    """__remove_section() / sparse_remove_section() ran for a section with this map_offset."""

    section_nr: int
    map_offset: Word | None  # None from v6.5, where sparse_remove_section() has no such argument


@fast_init
@dataclass(frozen=True, slots=True)
class VmemmapAllocated(Event):
    """A vmemmap leaf was populated from an altmap (dev >= 0) or system memory (dev == SYSMEM)."""

    index: int
    leaf_shift: int
    source: int
    pfn: Word


@fast_init
@dataclass(frozen=True, slots=True)
class VmemmapFreed(Event):
    """A vmemmap leaf was freed: `source` is where it came from, `to` where the kernel gave it."""

    index: int
    leaf_shift: int
    source: int
    to: int
    pfn: Word


@fast_init
@dataclass(frozen=True, slots=True)
class AltmapReleased(Event):
    """A dev_pagemap was torn down; the kernel WARNs "failed to free all reserved pages" if alloc != 0."""

    dev: int
    alloc: Word


@fast_init
@dataclass(frozen=True, slots=True)
class ResourceReleased(Event):
    """release_mem_region_adjustable() or the driver released an iomem resource."""

    start_pfn: Word
    nr_pages: Word
    by_mm: bool
    owner: int


@fast_init
@dataclass(frozen=True, slots=True)
class MemmapInitialised(Event):
    """memmap_init_zone() / memmap_init_zone_device() initialised struct pages of [start, end)."""

    start_pfn: Word
    end_pfn: Word
    zone: int


@fast_init
@dataclass(frozen=True, slots=True)
class BadPageAccess(Event):
    """A kernel function read a struct page whose memmap is not populated (an oops in the kernel)."""

    function: str
    pfn: Word


@fast_init
@dataclass(frozen=True, slots=True)
class AltmapFallback(Event):
    """An arch gave up on the altmap for a vmemmap page on purpose and used system memory."""

    index: int
    # powerpc: "cross-boundary" or "exhausted"; x86 (v5.3): "sub-section", a range smaller than
    # a section gets base pages from RAM
    reason: str
    leaf_shift: int  # the size of the leaf `index` counts in


@fast_init
@dataclass(frozen=True, slots=True)
class AllocationFailed(Event):
    """The environment made the n-th vmemmap allocation of this step fail (fault injection)."""

    n: int
    size: int
    source: int  # the altmap's dev it was asked of, or -1 for system memory


@fast_init
@dataclass(frozen=True, slots=True)
class CallFailed(Event):
    """A declared failure point failed, as the environment chose (fault injection)."""

    n: int
    point: str


@fast_init
@dataclass(frozen=True, slots=True)
class PagesOnlined(Event):
    """online_pages() handed [start_pfn, start_pfn + nr_pages) to the page allocator."""

    start_pfn: Word
    nr_pages: Word


@fast_init
@dataclass(frozen=True, slots=True)
class PageRead(Event):
    """A kernel function working on [start_pfn, end_pfn) read the struct page of `pfn`."""

    function: str
    pfn: Word
    start_pfn: Word
    end_pfn: Word


@fast_init
@dataclass(frozen=True, slots=True)
class MemoryBlockReleased(Event):
    """memory_block_release() freed a memory block; it WARNs if `altmap` is still set (v6.6+)."""

    section_nr: int
    altmap: int | None  # the mhp_altmap_ref() mem->altmap still names, or None


def _plain(x: object) -> object:
    if isinstance(x, Word):
        return x.v
    if isinstance(x, tuple):
        return tuple(_plain(y) for y in x)
    return x


def events_key(events: tuple[Event, ...]) -> tuple[object, ...]:
    """The events of a step as plain values: equal keys, the same kernel calls and tracepoints."""
    out = []
    for e in events:
        names: tuple[str, ...] = e.__slots__  # type: ignore[attr-defined]
        out.append((type(e).__name__, *(_plain(getattr(e, n)) for n in names)))
    return tuple(out)


def events_equal(a: tuple[Event, ...], b: tuple[Event, ...]) -> bool:
    """Whether two steps made the same kernel calls and tracepoints (events_key(a) ==
    events_key(b), without building either)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if type(x) is not type(y):
            return False
        names: tuple[str, ...] = x.__slots__  # type: ignore[attr-defined]
        for name in names:
            u, v = getattr(x, name), getattr(y, name)
            if u is v:
                continue
            if type(u) is Word:
                if u.v != v.v:
                    return False
            elif _plain(u) != _plain(v):
                return False
    return True

"""The kernel state hotplug touches: device ranges and their altmaps, sections, vmemmap leaves, iomem."""

from __future__ import annotations

import marshal
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

from mhpcheck.core.records import fast_init
from mhpcheck.core.values import Word

SYSMEM = -1  # a vmemmap leaf backed by the page allocator, not by any altmap
RAM_OWNER = -1  # sections and resources of ordinary hot-added RAM (add_memory), not of a device
# Where a freed vmemmap leaf went when only its first page reached the page allocator and the
# rest went nowhere (x86 v6.19: pagetable_free() of a block that is not a compound page)
FIRST_PAGE_ONLY = -3


def mhp_altmap_ref(section_nr: int) -> int:
    """The reference of the memmap_on_memory altmap of the memory block starting at `section_nr`.

    Device altmaps are referred to by their device (>= 0); a memory block's by a number <= -2,
    so that one int names either kind, as a `struct vmem_altmap *` does in the kernel.
    """
    return -2 - section_nr


def is_mhp_altmap(ref: int) -> bool:
    """Whether `ref` names a memory block's memmap_on_memory altmap rather than a device's."""
    return ref <= -2


class Zone(IntEnum):
    """include/linux/mmzone.h:enum zone_type as of v4.3 (033fbae988fc), the zones hotplug uses."""

    ZONE_NORMAL = 0
    ZONE_MOVABLE = 1
    ZONE_DEVICE = 2


@fast_init
@dataclass(frozen=True, slots=True)
class VmemAltmap:
    """include/linux/memremap.h:struct vmem_altmap as of v4.5 (4b94ffdc4163)."""

    base_pfn: Word
    reserve: Word  # "pages mapped, but reserved for driver use (relative to @base)"
    free: Word  # "free pages set aside in the mapping for memmap storage"
    align: Word  # "pages reserved to meet allocation alignments"
    alloc: Word  # "track pages consumed, private to vmemmap_populate()"


@fast_init
@dataclass(frozen=True, slots=True)
class DeviceRange:
    """include/linux/memremap.h:struct dev_pagemap with its struct resource, as of v4.5 (4b94ffdc4163)."""

    dev: int  # the driver instance; ranges are kept sorted by it
    start_pfn: Word
    nr_pages: Word
    altmap: VmemAltmap | None
    vmemmap_shift: int = 0  # pgmap->vmemmap_shift (v5.17): compound pages of 2^shift base pages


@fast_init
@dataclass(frozen=True, slots=True)
class MemoryBlock:
    """include/linux/memory.h:struct memory_block as of v5.15 (a08a2ae34613), of hot-added RAM."""

    start_section_nr: int
    nr_vmemmap_pages: int  # memmap pages at the block's start (memmap_on_memory), else 0
    altmap: int | None  # mhp_altmap_ref() of the altmap its memmap came from, if any
    zone: Zone | None  # where it is online; None while offline


@fast_init
@dataclass(frozen=True, slots=True)
class MemSection:
    """include/linux/mmzone.h:struct mem_section as of v4.5: present, with a memmap, in a zone."""

    section_nr: int
    zone: Zone | None  # None until move_pfn_range_to_zone() (v4.13+) places it
    owner: int  # the device whose range held it when it was added, or RAM_OWNER
    # ms->usage->subsection_map (v5.3, ba72b4c8cf60): bit i = 2 MiB sub-section i is present;
    # 0 in eras before sub-sections, where a section is all or nothing
    subsection_map: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class VmemmapLeaf:
    """Populated vmemmap leaves (PMD, 16 MiB hash page or base page) and the memory backing them.

    A record is a run of `count` base pages at consecutive indices, from one source at
    consecutive pfns: page i of the run maps index + i, backed by pfn + i. A larger leaf, or a
    reused page, is a run of one.
    """

    # Abstraction: page tables are not modelled; a leaf is its vmemmap page number and size,
    # and consecutive base pages are kept as one run (pgtable.py keeps runs as long as they go,
    # so equal page tables are equal tuples): a base-page memmap is hundreds of leaves a
    # section, which every state, property and encoding would walk.
    index: int  # (vmemmap address - VMEMMAP_START) >> leaf_shift, of the run's first leaf
    leaf_shift: int
    source: int  # the device whose altmap backs it, or SYSMEM
    pfn: Word  # first backing pfn
    reused: bool = False  # maps a page another leaf owns (compound devmap tail pages, v5.17)
    count: int = 1  # base pages in the run


@fast_init
@dataclass(frozen=True, slots=True)
class PfnInterval:
    """A run of pfns [start_pfn, end_pfn) whose struct pages were initialised, and in which zone."""

    start_pfn: Word
    end_pfn: Word
    zone: Zone
    # Abstraction: struct pages initialised by one call are forgotten when the memmap of the
    # call's first section is freed (calls are per section before v4.16, per range after).
    section_nr: int


@fast_init
@dataclass(frozen=True, slots=True)
class Resource:
    """kernel/resource.c:struct resource under iomem_resource, as far as hotplug touches it."""

    start_pfn: Word
    nr_pages: Word
    owner: int  # the device that requested it, or RAM_OWNER for "System RAM"


@fast_init
@dataclass(frozen=True, slots=True)
class KernelState:
    """Everything the checker explores; equal states are the same state."""

    device_ranges: tuple[DeviceRange, ...] = ()  # sorted by dev
    sections: tuple[MemSection, ...] = ()  # sorted by section_nr
    vmemmap: tuple[VmemmapLeaf, ...] = ()  # sorted by first described pfn
    memmap_init: tuple[PfnInterval, ...] = ()  # in the order memmap_init_zone() ran
    resources: tuple[Resource, ...] = ()  # sorted by owner then start
    sysmem_vmemmap_pages: int = 0  # base pages the page allocator gave to the memmap
    memory_blocks: tuple[MemoryBlock, ...] = ()  # sorted by start_section_nr
    # memmap_on_memory altmaps by mhp_altmap_ref(); sorted by ref, highest (lowest block) first
    mhp_altmaps: tuple[tuple[int, VmemAltmap], ...] = ()
    # /proc/vmstat nr_memmap_pages (v6.11): memmap pages wherever they live; not in state_key()
    nr_memmap_pages: int = 0
    # Abstraction: how many allocation failures the environment has injected so far, so that
    # --faults bounds them along a path; not kernel state.
    faults_injected: int = 0

    def range_of(self, dev: int) -> DeviceRange | None:
        for r in self.device_ranges:
            if r.dev == dev:
                return r
        return None

    def section(self, section_nr: int) -> MemSection | None:
        for ms in self.sections:
            if ms.section_nr == section_nr:
                return ms
        return None

    def altmap_of(self, ref: int) -> VmemAltmap | None:
        """The altmap `ref` names: a device's (ref = dev) or a memory block's (mhp_altmap_ref)."""
        if is_mhp_altmap(ref):
            for r, a in self.mhp_altmaps:
                if r == ref:
                    return a
            return None
        dr = self.range_of(ref)
        return dr.altmap if dr is not None else None

    def memory_block(self, section_nr: int) -> MemoryBlock | None:
        for mb in self.memory_blocks:
            if mb.start_section_nr == section_nr:
                return mb
        return None

    def with_altmap(self, dev: int, altmap: VmemAltmap) -> KernelState:
        # A device's altmap through the generated setter, not evolve(): this runs for every
        # vmemmap page allocated from or freed to it, and evolve()'s keyword arguments cost a
        # third of the call.
        if is_mhp_altmap(dev):
            altmaps = tuple((r, altmap if r == dev else a) for r, a in self.mhp_altmaps)
            return evolve(self, mhp_altmaps=altmaps)
        ranges = self.device_ranges
        for i, r in enumerate(ranges):
            if r.dev == dev:
                r = DeviceRange(r.dev, r.start_pfn, r.nr_pages, altmap, r.vmemmap_shift)
                return _set_device_ranges(self, (*ranges[:i], r, *ranges[i + 1 :]))
        return self


def state_key(s: KernelState) -> tuple[Any, ...]:
    """The canonical, hashable, GC-untracked-friendly encoding of a concrete state (ints only)."""
    # tuple([...]) rather than tuple(genexpr): the explorer encodes every successor it meets,
    # and a list comprehension is the cheaper way to build each part.
    return (
        tuple(
            (
                r.dev,
                r.start_pfn.v,
                r.nr_pages.v,
                None
                if r.altmap is None
                else (
                    r.altmap.base_pfn.v,
                    r.altmap.reserve.v,
                    r.altmap.free.v,
                    r.altmap.align.v,
                    r.altmap.alloc.v,
                ),
                r.vmemmap_shift,
            )
            for r in s.device_ranges
        ),
        tuple(
            (m.section_nr, -1 if m.zone is None else int(m.zone), m.owner, m.subsection_map)
            for m in s.sections
        ),
        tuple((x.index, x.leaf_shift, x.source, x.pfn.v, x.reused, x.count) for x in s.vmemmap),
        tuple((iv.start_pfn.v, iv.end_pfn.v, int(iv.zone), iv.section_nr) for iv in s.memmap_init),
        tuple((x.start_pfn.v, x.nr_pages.v, x.owner) for x in s.resources),
        s.sysmem_vmemmap_pages,
        s.faults_injected,
        tuple(
            (b.start_section_nr, b.nr_vmemmap_pages, b.altmap, -1 if b.zone is None else int(b.zone))
            for b in s.memory_blocks
        ),
        tuple((ref, a.base_pfn.v, a.reserve.v, a.free.v, a.align.v, a.alloc.v) for ref, a in s.mhp_altmaps),
        # Abstraction: nr_memmap_pages is left out. No kernel path the model follows reads it, so
        # states that differ only in it behave alike and change it alike; the explorer keeps one
        # of them (its counter read as 0), and the counter is judged by how each step changes it
        # (nr_memmap_pages_count_the_memmap_mapped). Replays and predictions keep its real value.
    )


def state_bytes(s: KernelState) -> bytes:
    """The canonical packed encoding of a concrete state: equal states give equal bytes."""
    # marshal version 2: from version 3 on, an object shared by reference is written as a
    # back-reference, so equal states built differently would encode differently.
    return marshal.dumps(state_key(s), 2)


_ZONE_OF = {-1: None, **{int(z): z for z in Zone}}


def state_from_key(key: tuple[Any, ...]) -> KernelState:
    """The concrete state whose state_key() is `key`: the explorer's queue holds keys, not states."""
    ranges, sections, leaves, intervals, resources, sysmem, faults, blocks, altmaps = key
    w = Word

    def altmap(a: tuple[int, ...]) -> VmemAltmap:
        return VmemAltmap(w(a[0]), w(a[1]), w(a[2]), w(a[3]), w(a[4]))

    return KernelState(
        device_ranges=tuple(
            [
                DeviceRange(dev, w(start), w(nr), None if a is None else altmap(a), shift)
                for dev, start, nr, a, shift in ranges
            ]
        ),
        sections=tuple([MemSection(nr, _ZONE_OF[z], owner, sub) for nr, z, owner, sub in sections]),
        vmemmap=tuple([VmemmapLeaf(i, sh, src, w(pfn), ru, n) for i, sh, src, pfn, ru, n in leaves]),
        memmap_init=tuple([PfnInterval(w(a), w(b), Zone(z), nr) for a, b, z, nr in intervals]),
        resources=tuple([Resource(w(a), w(n), owner) for a, n, owner in resources]),
        sysmem_vmemmap_pages=sysmem,
        memory_blocks=tuple([MemoryBlock(nr, pages, ref, _ZONE_OF[z]) for nr, pages, ref, z in blocks]),
        mhp_altmaps=tuple([(ref, altmap(a)) for ref, *a in altmaps]),
        faults_injected=faults,
    )


def state_from_bytes(b: bytes) -> KernelState:
    """The concrete state whose state_bytes() is `b`."""
    return state_from_key(marshal.loads(b))


def symmetric_state_bytes(s: KernelState) -> bytes:
    """state_bytes() of `s` with its devices renumbered canonically: devices are interchangeable.

    Devices never overlap physically, so each is named by the lowest pfn anything of it holds
    (its range, a section it added, a vmemmap page it backs, its resource); renumbering them in
    that order maps every permutation of the same configuration to one key.
    """
    if not s.device_ranges and not s.resources and not s.sections:
        return state_bytes(s)
    lowest: dict[int, int] = {}

    def see(dev: int, pfn: int) -> None:
        if dev >= 0 and (dev not in lowest or pfn < lowest[dev]):
            lowest[dev] = pfn

    for r in s.device_ranges:
        see(r.dev, r.start_pfn.v)
    for x in s.resources:
        see(x.owner, x.start_pfn.v)
    for m in s.sections:
        see(m.owner, m.section_nr << 40)  # a section number, scaled above any pfn of a range
    for leaf in s.vmemmap:
        see(leaf.source, leaf.pfn.v)
    order = sorted(lowest, key=lambda d: (lowest[d], d))
    ren = {d: i for i, d in enumerate(order)}
    if all(ren[d] == d for d in ren):
        return state_bytes(s)
    key = state_key(s)
    ranges = tuple(sorted(((ren[d], *rest) for d, *rest in key[0]), key=lambda t: t[0]))
    sections = tuple((nr, z, ren.get(o, o), sub) for nr, z, o, sub in key[1])
    leaves = tuple((i, sh, ren.get(src, src), pfn, ru, n) for i, sh, src, pfn, ru, n in key[2])
    resources = tuple((a, n, ren.get(o, o)) for a, n, o in key[4])
    return marshal.dumps((ranges, sections, leaves, key[3], resources, *key[5:]), 2)


_KEEP: Any = object()  # an argument of a generated evolver that was not given
_EVOLVERS: dict[type, Callable[..., Any]] = {}
_SETTERS: dict[type, dict[str, Callable[[Any, Any], Any]]] = {}


def _evolver(cls: type) -> Callable[..., Any]:
    """A replace() for one frozen class, generated once: keyword arguments straight into the
    constructor, with none of dataclasses.replace()'s per-call walk over the fields."""
    names = [f.name for f in fields(cls)]
    params = ", ".join(f"{n}=_KEEP" for n in names)
    args = ", ".join(f"obj.{n} if {n} is _KEEP else {n}" for n in names)
    scope: dict[str, Any] = {"cls": cls, "_KEEP": _KEEP}
    exec(f"def evolve(obj, *, {params}):\n    return cls({args})\n", scope)
    fn: Callable[..., Any] = scope["evolve"]
    _EVOLVERS[cls] = fn
    return fn


def evolve(obj: Any, **changes: Any) -> Any:
    """dataclasses.replace() for the model's frozen state, without its per-call introspection."""
    if len(changes) == 1:  # most calls change one field: its own setter, called positionally
        for name, value in changes.items():
            try:
                set_field = _SETTERS[type(obj)][name]
            except KeyError:
                set_field = setter(type(obj), name)
            return set_field(obj, value)
    fn = _EVOLVERS.get(type(obj))
    if fn is None:
        fn = _evolver(type(obj))
    return fn(obj, **changes)


def setter(cls: type, name: str) -> Callable[[Any, Any], Any]:
    """evolve() of field `name` of `cls`, generated once: the constructor called positionally."""
    by_name = _SETTERS.setdefault(cls, {})
    fn = by_name.get(name)
    if fn is None:
        if name not in {f.name for f in fields(cls)}:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        args = ", ".join("value" if f.name == name else f"obj.{f.name}" for f in fields(cls))
        scope: dict[str, Any] = {"cls": cls}
        exec(f"def set_field(obj, value):\n    return cls({args})\n", scope)
        fn = by_name[name] = scope["set_field"]
    return fn


_set_device_ranges = setter(KernelState, "device_ranges")

"""What the environment may do: drivers adding and removing device memory, RAM hot-add and remove."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import TypeVar

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EINVAL, ENXIO
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import acpi_memhotplug, memory, memory_hotplug, memremap, pfn_devs, resource
from mhpcheck.model.state import RAM_OWNER, KernelState, VmemAltmap, Zone
from mhpcheck.model.variants import patches


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much the explorer may do: the window of hot-pluggable sections and how it is used."""

    sections: int = 3  # hot-pluggable sections, from the arch's HOTPLUG_BASE_PFN
    devices: int = 2  # device slots (drivers that may hold a dev_pagemap at once)
    max_device_sections: int = 2  # the largest device range, in sections
    ram: bool = True  # whether ordinary RAM hot-add / remove is part of the environment
    partial_failures: bool = False  # altmaps that run out after the first section of an add
    faults: int = 1  # vmemmap allocations the environment may make fail along a path
    depth: int = 4  # the longest transition sequence explored
    # from v5.3, device ranges that are not section aligned: a section less its first 2 MiB
    # sub-section (a namespace whose start moved past an info block) and that sub-section alone
    subsections: bool = True
    # from v5.3, nvdimm namespaces as wide as a device range, at a few alignments, whose altmap
    # the pfn driver lays out (nd_pfn_init(), __nvdimm_setup_pfn()) beside the hand-picked ones
    namespaces: bool = False

    @property
    def failures(self) -> bool:
        """Whether an add can fail part-way: an injected fault, or an altmap that runs out."""
        return self.faults > 0 or self.partial_failures


@dataclass(frozen=True, slots=True)
class AltmapChoice:
    """The struct vmem_altmap a driver passes (nd_pfn: reserve = info block, free = memmap)."""

    base_offset: int  # base_pfn - start_pfn: 0 for a valid altmap
    reserve: int
    free: int
    stale_alloc: int = 0  # alloc left over from an earlier use of the same altmap
    # > 0: a namespace of the range laid out by the pfn driver with this alignment (--align);
    # the driver computes base, reserve and free, and the fields above are unused
    namespace_align: int = 0

    def words(self, k: Kernel) -> tuple[Word, Word, Word, Word]:
        """base_offset, reserve, free and stale_alloc as the kernel's unsigned longs."""
        w = k.sem.word
        return w(self.base_offset), w(self.reserve), w(self.free), w(self.stale_alloc)

    def build(self, k: Kernel, start_pfn: Word, nr_pages: Word) -> VmemAltmap | None:
        """The altmap the driver passes; None where the pfn driver cannot lay the namespace out."""
        if self.namespace_align:
            # ndctl create-namespace --map=dev: nd_pfn_init() writes the info block, then
            # nvdimm_setup_pfn() builds the altmap from it
            start = k.sem.concrete(start_pfn) << k.arch.PAGE_SHIFT
            size = k.sem.concrete(nr_pages) << k.arch.PAGE_SHIFT
            sb, _ = pfn_devs.nd_pfn_init(k, start, size, pfn_devs.PFN_MODE_PMEM, self.namespace_align)
            return pfn_devs._nvdimm_setup_pfn(k, sb, start) if sb is not None else None
        offset, reserve, free, stale_alloc = self.words(k)
        return VmemAltmap(start_pfn + offset, reserve, free, k.sem.word(0), stale_alloc)


class Transition:
    """One step of the environment; subclasses are frozen dataclasses of their choices."""

    __slots__ = ()

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[Transition]:
        """Every instance of this transition the environment offers in `s`, in a fixed order."""
        raise NotImplementedError

    def shape(self) -> Transition:
        """This step with the values a driver or the environment may pick freely set aside: an
        altmap's numbers (the symbolic engine takes any) and which allocation fails."""
        changes: dict[str, object] = {}
        if getattr(self, "altmap", None) is not None:
            changes["altmap"] = ANY_ALTMAP
        if getattr(self, "fail_alloc", None) is not None:
            changes["fail_alloc"] = None
        return replace(self, **changes) if changes else self  # type: ignore[type-var]

    def enabled(self, k: Kernel, s: KernelState, b: Bounds) -> bool:
        """Whether the environment offers this step in `s` under `b`: its shape is one of
        choices(), and an injected fault hits an allocation the step makes, within the budget."""
        shape = self.shape()
        if not any(c.shape() == shape for c in type(self).choices(k, s, replace(b, faults=0))):
            return False
        fail = getattr(self, "fail_alloc", None)
        if fail is None:
            return True
        if s.faults_injected >= b.faults:
            return False
        replace(self, fail_alloc=None).apply(k, s)  # type: ignore[type-var]
        k.take_events()
        return 0 <= fail < k.allocs

    def apply(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        """Run the step: its kernel entry point, with the allocation failure it injects, if any."""
        fail = getattr(self, "fail_alloc", None)
        k.begin_step(fail)
        s2, ret = self.call(k, s)
        if fail is not None and k.allocs > fail:
            s2 = replace(s2, faults_injected=s2.faults_injected + 1)
        k.last_step = (self, k.allocs, tuple(k.points))
        return s2, ret

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        raise NotImplementedError

    def args(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts = []
        for name, value in self.args().items():
            if (value is None and name == "fail_alloc") or (
                not value and name in ("memmap_on_memory", "vmemmap_shift")
            ):
                continue
            if isinstance(value, AltmapChoice) and value.namespace_align:
                parts.append(f"nd_pfn(align={value.namespace_align:#x})")
            elif isinstance(value, AltmapChoice):
                stale = f", alloc={value.stale_alloc:#x}" if value.stale_alloc else ""
                parts.append(
                    f"altmap(base=start+{value.base_offset:#x}, reserve={value.reserve:#x}, "
                    f"free={value.free:#x}{stale})"
                )
            elif isinstance(value, int) and name.endswith(("pfn", "pages")):
                parts.append(f"{name}={value:#x}")
            else:
                parts.append(f"{name}={value}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _window_pfn(k: Kernel, section: int) -> int:
    return k.arch.HOTPLUG_BASE_PFN + section * k.arch.PAGES_PER_SECTION


def altmap_choices(k: Kernel, start_pfn: int, nr_pages: int, b: Bounds) -> tuple[AltmapChoice, ...]:
    """A driver's altmaps for a range: fitting, exhausted part-way, empty, and two invalid ones."""
    leaf = k.arch.vmemmap_leaf_pages
    sections = nr_pages // k.arch.PAGES_PER_SECTION
    memmap_pages = sections * k.arch.memmap_pages_per_section
    leaves = max(1, -(-memmap_pages // leaf))
    out: list[AltmapChoice] = []
    for reserve in (0, 2):  # no info block; an 8 KiB (4K pages) / 128 KiB (64K pages) one
        first = start_pfn + reserve
        pad = (-first) % leaf  # ALIGN(pfn, nr_align) - pfn for the first leaf
        enough = pad + leaves * leaf
        frees = {enough, 0}
        if sections == 1 or b.partial_failures:
            # Past the first section a failing add leaves its earlier sections behind
            # (__add_pages() does not roll back): that is explored with partial_failures.
            frees.add(enough - 1)  # one pfn short: the last vmemmap page does not fit
        for free in sorted(frees):
            if reserve + free <= nr_pages:
                out.append(AltmapChoice(0, reserve, free))
    if sections == 1:
        # a dev_pagemap re-enabled with the count of its last use: __add_pages() resets alloc
        out.append(AltmapChoice(0, 0, leaves * leaf + leaf, stale_alloc=leaf))
    out.append(AltmapChoice(0, 0, nr_pages))  # vmem_altmap_offset() == nr_pages: still valid
    out.append(AltmapChoice(0, 2, nr_pages))  # vmem_altmap_offset() > nr_pages: -EINVAL
    out.append(AltmapChoice(1, 0, leaf))  # base_pfn != start: -EINVAL
    if b.namespaces and k.variant.has(patches.SUBSECTION_HOTPLUG):
        out.extend(namespace_choices(k, start_pfn, nr_pages))
    return tuple(dict.fromkeys(out))


def namespace_choices(k: Kernel, start_pfn: int, nr_pages: int) -> list[AltmapChoice]:
    """Namespaces of the range at ndctl's alignments: the default (2 MiB, or 16 MiB where
    memremap_compat_align() says so), a PMD of the arch's vmemmap, and a section; only those the
    pfn driver can lay out (nd_pfn_init() leaves room for data)."""
    # Abstraction: laid out as from v5.7 (memremap_compat_align(), 9ffc1d19fc4a) at every era
    # from v5.3; an alignment below memremap_compat_align() is raised to it, so it is one choice.
    compat = (k.arch.memremap_compat_align or pfn_devs.memremap_compat_align)(k)
    wanted = (1 << k.arch.VMEMMAP_SHIFT, k.arch.PAGES_PER_SECTION << k.arch.PAGE_SHIFT)
    aligns = sorted({compat, *(max(a, compat) for a in wanted)})
    start, size = start_pfn << k.arch.PAGE_SHIFT, nr_pages << k.arch.PAGE_SHIFT
    out = []
    for align in aligns:
        sb, _ = pfn_devs.nd_pfn_init(k, start, size, pfn_devs.PFN_MODE_PMEM, align)
        if sb is not None and sb.end_trunc == 0:
            out.append(AltmapChoice(0, 0, 0, namespace_align=align))
    return out


T = TypeVar("T", bound=Transition)

# The altmap of a step's shape: some altmap, whatever its numbers (Transition.shape)
ANY_ALTMAP = AltmapChoice(-1, -1, -1, -1)


def with_faults(k: Kernel, s: KernelState, b: Bounds, t: T) -> Iterator[T]:
    """`t`, then `t` with one of its vmemmap allocations failing, while the fault budget lasts."""
    yield t
    if s.faults_injected >= b.faults:
        return
    # How many allocations the add makes: the explorer has just run `t`; anyone else gets it
    # run here on the side. Failing the first, the second, the middle and the last one covers
    # a chunk's first allocation, a part-populated chunk, and a later section after earlier
    # ones succeeded.
    if k.last_step is not None and k.last_step[0] is t:
        n, points = k.last_step[1], k.last_step[2]
    else:
        failable_calls(k, s, t)  # the dry run leaves the counts on k
        n, points = k.allocs, tuple(k.points)
    # ... and every declared failure point the step passes (Kernel.may_fail)
    for i in sorted(({0, 1, n // 2, n - 1} & set(range(n))) | set(points)):
        yield replace(t, fail_alloc=i)  # type: ignore[type-var]


VMEMMAP_ALLOCATION = "vmemmap allocation"


def failable_calls(k: Kernel, s: KernelState, t: Transition) -> tuple[str, ...]:
    """What each call that may fail is, in the order `t` run from `s` without a fault makes
    them: a declared failure point's name, or VMEMMAP_ALLOCATION. `fail_alloc` counts these
    calls; two kernels are compared call for call by the name and the ordinal among its name."""
    replace(t, fail_alloc=None).apply(k, s)  # type: ignore[type-var]
    k.take_events()
    names = [VMEMMAP_ALLOCATION] * k.allocs
    for i, name in zip(k.points, k.point_names, strict=True):
        names[i] = name
    return tuple(names)


@dataclass(frozen=True, slots=True)
class AddDeviceMemory(Transition):
    """A driver claims a range and maps it: request_mem_region() then devm_memremap_pages()."""

    dev: int
    start_pfn: int
    nr_pages: int
    altmap: AltmapChoice | None
    fail_alloc: int | None = None  # the vmemmap allocation of this add that fails, if any
    vmemmap_shift: int = 0  # device-dax compound pages (pgmap->vmemmap_shift, v5.17)

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[AddDeviceMemory]:
        # An id stays taken while anything of its device remains (a leaked section or page).
        taken = (
            {r.dev for r in s.device_ranges}
            | {x.owner for x in s.resources}
            | {m.owner for m in s.sections}
            | {x.source for x in s.vmemmap}
        )
        free_slots = [d for d in range(b.devices) if d not in taken]
        if not free_slots:
            return
        dev = free_slots[0]  # slots are interchangeable: always take the lowest free one
        pps = k.arch.PAGES_PER_SECTION
        with_altmap = k.variant.at_least(4, 5)
        for first in range(b.sections):
            for n in range(1, b.max_device_sections + 1):
                if first + n > b.sections:
                    break
                start = _window_pfn(k, first)
                yield from with_faults(k, s, b, AddDeviceMemory(dev, start, n * pps, None))
                if with_altmap:
                    for a in altmap_choices(k, start, n * pps, b):
                        yield from with_faults(k, s, b, AddDeviceMemory(dev, start, n * pps, a))
        if b.subsections and k.variant.has(patches.SUBSECTION_HOTPLUG):
            start, sub = _window_pfn(k, 0), k.arch.PAGES_PER_SUBSECTION
            tail = pps - sub
            # an altmap with room for the tail's memmap, in whole vmemmap pages
            need = -(-tail * k.arch.STRUCT_PAGE_SIZE >> k.arch.PAGE_SHIFT)
            free = min(tail, -(-need // k.arch.vmemmap_leaf_pages) * k.arch.vmemmap_leaf_pages)
            for t in (
                AddDeviceMemory(dev, start + sub, tail, None),
                AddDeviceMemory(dev, start + sub, tail, AltmapChoice(0, 0, free)),
                AddDeviceMemory(dev, start, sub, None),
            ):
                yield from with_faults(k, s, b, t)

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        w = k.sem.word
        start, nr = w(self.start_pfn), w(self.nr_pages)
        s, ret = resource.request_mem_region(k, s, start, nr, self.dev)  # devm_request_mem_region
        if ret:
            return s, ret
        altmap = self.altmap.build(k, start, nr) if self.altmap is not None else None
        if self.altmap is not None and altmap is None:
            # nd_pfn_init(): "unable to satisfy requested alignment": the probe fails
            s, _ = resource.release_mem_region_adjustable(k, s, start, nr, False)
            return s, -ENXIO
        s, ret = memremap.devm_memremap_pages(k, s, self.dev, start, nr, altmap, self.vmemmap_shift)
        if ret:
            # probe failed: devres releases the driver's region
            s, _ = resource.release_mem_region_adjustable(k, s, start, nr, False)
        return s, ret


@dataclass(frozen=True, slots=True)
class RemoveDeviceMemory(Transition):
    """A driver unbinds: devm_memremap_pages_release(), then its own devm_release_mem_region()."""

    dev: int

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[RemoveDeviceMemory]:
        for r in s.device_ranges:
            yield RemoveDeviceMemory(r.dev)

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        r = s.range_of(self.dev)
        if r is None:
            return s, -EINVAL
        s, ret = memremap.devm_memremap_pages_release(k, s, self.dev)
        s, _ = resource.release_mem_region_adjustable(k, s, r.start_pfn, r.nr_pages, False)
        return s, ret


@dataclass(frozen=True, slots=True)
class AddMemory(Transition):
    """Firmware reports new RAM (ACPI memory hotplug): add_memory()."""

    start_pfn: int
    nr_pages: int
    fail_alloc: int | None = None
    # the boot parameter memory_hotplug.memmap_on_memory (from v5.13)
    memmap_on_memory: bool = False

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[AddMemory]:
        if not b.ram or any(x.owner == RAM_OWNER for x in s.resources):
            return
        pps = k.arch.PAGES_PER_SECTION
        # Where the arch has no memmap_on_memory (ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE), or
        # mhp_supports_memmap_on_memory() refuses every block (arm64 with 16K or 64K pages, radix:
        # the memmap does not fill a pageblock), the boot parameter and the DIMM's size change
        # nothing: one block, parameter off, covers them.
        if not memory_hotplug._memmap_on_memory_possible(k):
            for first in range(b.sections):
                yield from with_faults(k, s, b, AddMemory(_window_pfn(k, first), pps))
            return
        # From v5.15 a DIMM may span several memory blocks, and memmap_on_memory is on or off.
        for first in range(b.sections):
            for n in range(1, b.max_device_sections + 1):
                if first + n > b.sections:
                    break
                # A DIMM of several blocks without memmap_on_memory adds nothing new: only the
                # parameter on tells v6.1's fallback from v6.12's per-block altmaps.
                for mom in (False, True) if n == 1 else (True,):
                    t = AddMemory(_window_pfn(k, first), n * pps, memmap_on_memory=mom)
                    yield from with_faults(k, s, b, t)

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        w = k.sem.word
        if k.variant.has(patches.MEMMAP_ON_MEMORY):
            start, nr = w(self.start_pfn), w(self.nr_pages)
            return acpi_memhotplug.acpi_memory_enable_device(k, s, start, nr, self.memmap_on_memory)
        return memory_hotplug.add_memory(k, s, 0, w(self.start_pfn), w(self.nr_pages))


@dataclass(frozen=True, slots=True)
class RemoveMemory(Transition):
    """Firmware ejects hot-added RAM (already offline): remove_memory()."""

    start_pfn: int
    nr_pages: int

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[RemoveMemory]:
        for x in s.resources:
            if x.owner == RAM_OWNER:
                yield RemoveMemory(k.sem.concrete(x.start_pfn), k.sem.concrete(x.nr_pages))

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        w = k.sem.word
        return memory_hotplug.remove_memory(k, s, 0, w(self.start_pfn), w(self.nr_pages))


@dataclass(frozen=True, slots=True)
class OnlineMemoryBlock(Transition):
    """User space onlines an offline block of hot-added RAM: echo online_movable > .../state."""

    section_nr: int

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[OnlineMemoryBlock]:
        # Abstraction: onlining is explored where memmap_on_memory makes it matter (a block's
        # memmap can live on it); elsewhere a block's memmap is the same online or offline.
        if not memory_hotplug._memmap_on_memory_possible(k):
            return
        for mb in s.memory_blocks:
            if mb.zone is None:
                yield OnlineMemoryBlock(mb.start_section_nr)

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        # Abstraction: blocks are onlined movable only, as the conformance runs do.
        return memory.memory_block_online(k, s, self.section_nr, Zone.ZONE_MOVABLE)


@dataclass(frozen=True, slots=True)
class OfflineMemoryBlock(Transition):
    """User space offlines an online block: echo offline > /sys/devices/system/memory/memoryN/state."""

    section_nr: int

    @staticmethod
    def choices(k: Kernel, s: KernelState, b: Bounds) -> Iterator[OfflineMemoryBlock]:
        for mb in s.memory_blocks:
            if mb.zone is not None:
                yield OfflineMemoryBlock(mb.start_section_nr)

    def call(self, k: Kernel, s: KernelState) -> tuple[KernelState, int]:
        return memory.memory_block_offline(k, s, self.section_nr)


TRANSITIONS = (
    AddDeviceMemory,
    RemoveDeviceMemory,
    AddMemory,
    RemoveMemory,
    OnlineMemoryBlock,
    OfflineMemoryBlock,
)

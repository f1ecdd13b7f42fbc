"""mm/page_alloc.c: initialising the struct pages of hot-added memory."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.events import MemmapInitialised
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, memremap
from mhpcheck.model.state import DeviceRange, KernelState, PfnInterval, VmemAltmap, Zone, evolve
from mhpcheck.model.variants import mutants, patches


@helper
def _initialise(
    k: Kernel, s: KernelState, start_pfn: Word, end_pfn: Word, zone: Zone, section_nr: int
) -> KernelState:
    """Record that the struct pages of [start_pfn, end_pfn) were initialised (__init_single_page)."""
    if k.sem.branch(start_pfn >= end_pfn):
        return s
    k.trace(MemmapInitialised(start_pfn, end_pfn, int(zone)))
    iv = PfnInterval(start_pfn, end_pfn, zone, section_nr)
    return evolve(s, memmap_init=(*s.memmap_init, iv))


def memmap_init_zone(
    k: Kernel,
    s: KernelState,
    size: int | Word,
    nid: int,
    zone: Zone,
    start_pfn: Word,
    altmap: int | None,
) -> KernelState:
    """mm/page_alloc.c:memmap_init_zone() as of v4.5 (03f8ac62, seed 000)."""
    end_pfn = start_pfn + size
    section_nr = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    if not k.variant.has(patches.EXPLICIT_ALTMAP):
        altmap = None
        if k.variant.has(patches.ALTMAP_RESERVE):
            # "struct vmem_altmap *altmap = to_vmem_altmap(__pfn_to_phys(start_pfn));"
            # The argument is a physical address, yet to_vmem_altmap() takes a struct page *.
            altmap = memremap.to_vmem_altmap(k, s, start_pfn << k.arch.PAGE_SHIFT)
    a = _altmap(s, altmap)
    if zone is Zone.ZONE_DEVICE and k.variant.has(patches.MEMMAP_INIT_ZONE_DEVICE):
        # "We limit the total number of pages to initialize to just those that might contain
        # the memory mapping. We will defer the ZONE_DEVICE page initialization until after
        # we have released the hotplug lock."
        if a is None:
            return s
        end_pfn = a.base_pfn + memremap.vmem_altmap_offset(k, a)
    if a is not None and k.variant.has(patches.ALTMAP_RESERVE):
        # "Honor reservation requested by the driver for this ZONE_DEVICE memory"
        at_base = start_pfn == a.base_pfn
        if k.variant.mutated(mutants.RESERVE_SKIP_INVERTED):
            at_base = start_pfn != a.base_pfn
        if k.sem.branch(at_base):
            start_pfn = start_pfn + a.reserve
    return _initialise(k, s, start_pfn, end_pfn, zone, section_nr)


def memmap_init_zone_device(
    k: Kernel, s: KernelState, zone: Zone, start_pfn: Word, nr_pages: Word, pgmap: DeviceRange
) -> KernelState:
    """mm/page_alloc.c:memmap_init_zone_device() as of v4.20 (966cf44f637e)."""
    end_pfn = start_pfn + nr_pages
    section_nr = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    a = pgmap.altmap
    if a is not None:
        # "The call to memmap_init_zone should have already taken care of the pages reserved
        # for the memmap, so we can just jump to the end of that region"
        start_pfn = a.base_pfn + memremap.vmem_altmap_offset(k, a)
    if k.variant.mutated(mutants.MEMMAP_INIT_FIRST_SECTION_ONLY):
        end_pfn = _min(k, end_pfn, memory_hotplug.section_nr_to_pfn(k, section_nr + 1))
    return _initialise(k, s, start_pfn, end_pfn, zone, section_nr)


@helper
def _min(k: Kernel, a: Word, b: Word) -> Word:
    """min(a, b) of two unsigned longs."""
    return b if k.sem.branch(b < a) else a


@helper
def _altmap(s: KernelState, dev: int | None) -> VmemAltmap | None:
    """The altmap that `dev` (a device, or a memory block's altmap reference) names, if any."""
    if dev is None:
        return None
    return s.altmap_of(dev)

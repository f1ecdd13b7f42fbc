"""kernel/memremap.c (mm/memremap.c from v5.0): dev_pagemap setup and teardown, altmap lookups."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EINVAL
from mhpcheck.model.events import AltmapReleased, PageRead
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, page_alloc
from mhpcheck.model.state import DeviceRange, KernelState, VmemAltmap, Zone, evolve
from mhpcheck.model.variants import mutants, patches

NUMA_NO_NODE = 0  # Abstraction: one node; the model has no NUMA topology.


def vmem_altmap_offset(k: Kernel, altmap: VmemAltmap | None) -> Word:
    """kernel/memremap.c:vmem_altmap_offset() as of v4.5 (4b94ffdc4163)."""
    # "number of pfns from base where pfn_to_page() is valid"
    if altmap is None:
        return k.sem.word(0)
    return altmap.reserve + altmap.free


def page_to_pfn(k: Kernel, page: Word) -> Word:
    """include/asm-generic/memory_model.h:page_to_pfn() as of v4.5 (4b94ffdc4163)."""
    # "(unsigned long)((page) - vmemmap)": pointer difference in units of struct page.
    return (page - k.arch.VMEMMAP_START) // k.arch.STRUCT_PAGE_SIZE


def pfn_to_page(k: Kernel, pfn: Word) -> Word:
    """include/asm-generic/memory_model.h:pfn_to_page() as of v4.5 (4b94ffdc4163)."""
    return pfn * k.arch.STRUCT_PAGE_SIZE + k.arch.VMEMMAP_START


def find_dev_pagemap(k: Kernel, s: KernelState, phys: Word) -> DeviceRange | None:
    """kernel/memremap.c:find_dev_pagemap() as of v4.5 (4b94ffdc4163)."""
    if k.variant.has(patches.SUBSECTION_HOTPLUG):
        # v5.3: "xa_load(&pgmap_array, PHYS_PFN(phys))", keyed by pfn: two devices may share a
        # section, each owning its sub-sections
        pfn = phys >> k.arch.PAGE_SHIFT
        for r in s.device_ranges:
            if k.sem.branch((r.start_pfn <= pfn) & (pfn < r.start_pfn + r.nr_pages)):
                return r
        return None
    # "radix_tree_lookup(&pgmap_radix, phys >> PA_SECTION_SHIFT)": keyed by section
    page_shift, section_shift, branch = k.arch.PAGE_SHIFT, k.arch.PA_SECTION_SHIFT, k.sem.branch
    key = phys >> section_shift
    for r in s.device_ranges:
        lo = (r.start_pfn << page_shift) >> section_shift
        hi = ((r.start_pfn + r.nr_pages) << page_shift) >> section_shift
        if branch((lo <= key) & (key < hi)):
            return r
    return None


def to_vmem_altmap(k: Kernel, s: KernelState, memmap_start: Word) -> int | None:
    """kernel/memremap.c:to_vmem_altmap() as of v4.5 (4b94ffdc4163)."""
    # "'memmap_start' is the virtual address for the first "struct page" in this range of the
    # vmemmap array": the argument is cast to struct page * whatever the caller passed.
    pfn = page_to_pfn(k, memmap_start)
    pgmap = find_dev_pagemap(k, s, pfn << k.arch.PAGE_SHIFT)
    if pgmap is None or pgmap.altmap is None:
        return None
    return pgmap.dev


def devm_memremap_pages(
    k: Kernel,
    s: KernelState,
    dev: int,
    start_pfn: Word,
    nr_pages: Word,
    altmap: VmemAltmap | None,
    vmemmap_shift: int = 0,
) -> tuple[KernelState, int]:
    """kernel/memremap.c:devm_memremap_pages() as of v4.5 (4b94ffdc4163)."""
    k.call("devm_memremap_pages", dev=dev, start_pfn=start_pfn, nr_pages=nr_pages)
    # Abstraction: before v5.3 the explorer's ranges are section-aligned (it adds sub-section
    # ranges only from v5.3, where pgmaps are looked up by pfn), and the driver's
    # request_mem_region() already refused any overlap with RAM or another device, so
    # region_intersects() and the pgmap_radix collision check (-EBUSY) cannot fail here.
    pgmap = DeviceRange(dev, start_pfn, nr_pages, altmap, vmemmap_shift)
    if k.variant.has(patches.EXPLICIT_ALTMAP):
        return memremap_pages(k, s, pgmap)
    s = _pgmap_insert(s, pgmap)  # pgmap_radix_insert per section, before arch_add_memory
    s, error = k.arch.arch_add_memory(k, s, NUMA_NO_NODE, start_pfn, nr_pages, True, None)
    if error:
        # "err_add_memory: err_radix: pgmap_radix_release(res); devres_free(page_map);"
        return _pgmap_delete(s, dev), error
    if k.variant.has(patches.ZONES_AT_ONLINE):
        s = memory_hotplug.move_pfn_range_to_zone(k, s, Zone.ZONE_DEVICE, start_pfn, nr_pages, None)
    return s, 0


def memremap_pages(k: Kernel, s: KernelState, pgmap: DeviceRange) -> tuple[KernelState, int]:
    """mm/memremap.c:memremap_pages() as of v5.9 (01091d25).

    From v5.12 (bca3feaa0764) its pagemap_range() refuses a range mhp_range_allowed() does not.
    """
    k.call("memremap_pages", dev=pgmap.dev)
    # Abstraction: a pgmap has one range (nr_range == 1). From v5.10 (b7b3c01b1915) a pgmap may
    # have several, and pagemap_range() refuses an altmap on any but the first: "if
    # (WARN_ONCE(pgmap_altmap(pgmap) && range_id > 0, "altmap not supported for multiple
    # ranges\n")) return -EINVAL;" -- so range 0 is the one this models.
    altmap = pgmap.dev if pgmap.altmap is not None else None  # pgmap_altmap(pgmap)
    # "error = xa_err(xa_store_range(&pgmap_array, PHYS_PFN(range->start), PHYS_PFN(range->end),
    # pgmap, GFP_KERNEL));" (pgmap_radix_insert before v5.0): inside memremap_pages(), so a
    # replacement that fails before it leaves no range behind
    s = _pgmap_insert(s, pgmap)
    # pagemap_range() from v5.12 (bca3feaa0764): "if (!mhp_range_allowed(range->start,
    # range_len(range), !is_private)) { error = -EINVAL; goto err_kasan; }"
    if k.variant.has(patches.MHP_RANGE_ALLOWED) and not memory_hotplug.mhp_range_allowed(
        k, pgmap.start_pfn, pgmap.nr_pages, True
    ):
        return _pgmap_delete(s, pgmap.dev), -EINVAL
    s, error = k.arch.arch_add_memory(k, s, NUMA_NO_NODE, pgmap.start_pfn, pgmap.nr_pages, True, altmap)
    if not error:
        s = memory_hotplug.move_pfn_range_to_zone(
            k, s, Zone.ZONE_DEVICE, pgmap.start_pfn, pgmap.nr_pages, altmap
        )
    if error:
        # "err_add_memory: kasan_remove_zero_shadow(); err_kasan: untrack_pfn();
        # err_pfn_remap: pgmap_array_delete(res);" -- sections already added stay.
        return _pgmap_delete(s, pgmap.dev), error
    r = s.range_of(pgmap.dev)
    assert r is not None
    s = page_alloc.memmap_init_zone_device(k, s, Zone.ZONE_DEVICE, r.start_pfn, r.nr_pages, r)
    return s, 0


def devm_memremap_pages_release(k: Kernel, s: KernelState, dev: int) -> tuple[KernelState, int]:
    """kernel/memremap.c:devm_memremap_pages_release() as of v4.5 (4b94ffdc4163)."""
    r = s.range_of(dev)
    if r is None:
        return s, -EINVAL
    k.call("devm_memremap_pages_release", dev=dev)
    if k.variant.has(patches.EXPLICIT_ALTMAP):
        return memunmap_pages(k, s, dev)
    # "pages are dead and unused, undo the arch mapping"
    s, ret = k.arch.arch_remove_memory(k, s, r.start_pfn, r.nr_pages, None)
    r = s.range_of(dev)
    assert r is not None
    if r.altmap is not None:
        # dev_WARN_ONCE(dev, pgmap->altmap && pgmap->altmap->alloc, "failed to free all ...")
        k.trace(AltmapReleased(dev, r.altmap.alloc))
    return _pgmap_delete(s, dev), ret


def memunmap_pages(k: Kernel, s: KernelState, dev: int) -> tuple[KernelState, int]:
    """mm/memremap.c:memunmap_pages() as of v5.9 (01091d25)."""
    r = s.range_of(dev)
    assert r is not None
    altmap = dev if r.altmap is not None else None  # pgmap_altmap(pgmap)
    # v5.3: "nid = page_to_nid(pfn_to_page(PHYS_PFN(res->start)));"; from 77e080e7680e (v5.4)
    # "/* make sure to access a memmap that was actually initialized */ first_page =
    # pfn_to_page(pfn_first(pgmap));" and its zone is read (page_zone(first_page)).
    # Abstraction: the zone is read, not shrunk (remove_pfn_range_from_zone()).
    first = r.start_pfn
    if k.variant.has(patches.MEMUNMAP_PFN_FIRST):
        first = pfn_first(k, r)
    if k.variant.mutated(mutants.MEMUNMAP_READS_RESERVE):
        first = r.start_pfn
    k.trace(PageRead("memunmap_pages", first, r.start_pfn, r.start_pfn + r.nr_pages))
    s, ret = k.arch.arch_remove_memory(k, s, r.start_pfn, r.nr_pages, altmap)
    r = s.range_of(dev)
    assert r is not None
    s = _pgmap_delete(s, dev)  # pgmap_array_delete(res), after arch_remove_memory
    if r.altmap is not None:
        # WARN_ONCE(pgmap->altmap.alloc, "failed to free all reserved pages\n")
        k.trace(AltmapReleased(dev, r.altmap.alloc))
    return s, ret


def pfn_first(k: Kernel, pgmap: DeviceRange) -> Word:
    """mm/memremap.c:pfn_first() as of v5.3 (ba72b4c8cf60)."""
    # "return PHYS_PFN(res->start) + vmem_altmap_offset(pgmap_altmap(pgmap));" (range 0)
    return pgmap.start_pfn + vmem_altmap_offset(k, pgmap.altmap)


@helper
def _pgmap_insert(s: KernelState, pgmap: DeviceRange) -> KernelState:
    """The state with `pgmap` inserted among the device ranges, kept sorted by device."""
    ranges = tuple(sorted((*s.device_ranges, pgmap), key=lambda r: r.dev))
    return evolve(s, device_ranges=ranges)


@helper
def _pgmap_delete(s: KernelState, dev: int) -> KernelState:
    """The state without device `dev`'s range."""
    return evolve(s, device_ranges=tuple(r for r in s.device_ranges if r.dev != dev))

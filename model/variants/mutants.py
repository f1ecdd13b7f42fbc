"""Seeded bugs: one-line deliberate changes, each guarded at its line by k.variant.mutated(M)."""

from __future__ import annotations

from dataclasses import dataclass

from mhpcheck.model.variants import patches as p
from mhpcheck.model.variants.patches import Patch


@dataclass(frozen=True, slots=True)
class Mutant:
    """A deliberately wrong one-line change to the model of `breaks`, with what the bug is."""

    name: str
    breaks: Patch
    where: str  # kernel file:function whose line it changes
    why: str
    era: str = "v4.5"  # the era it is applied to in the kill matrix
    archs: tuple[str, ...] = ("x86_64",)  # the archs whose code has the mutated line
    partial_failures: bool = False  # whether the kill needs adds that fail part-way
    faults: int = 0  # injected allocation failures the kill needs
    namespaces: bool = False  # whether the kill needs namespaces laid out by the pfn driver
    max_device_sections: int = 2


MAP_OFFSET_EVERY_SECTION = Mutant(
    "map-offset-every-section",
    p.ALTMAP_HOTPLUG,
    "mm/memory_hotplug.c:__remove_pages",
    "map_offset is kept for every section instead of being cleared after the first",
    era="v5.9",
)
RESERVE_SKIP_INVERTED = Mutant(
    "reserve-skip-inverted",
    p.ALTMAP_RESERVE,
    "mm/page_alloc.c:memmap_init_zone",
    "the reserve is skipped only when start_pfn != base_pfn, i.e. never in the first section",
    era="v5.9",
)
ALLOC_NOT_RESET = Mutant(
    "alloc-not-reset",
    p.ALTMAP_HOTPLUG,
    "mm/memory_hotplug.c:__add_pages",
    "altmap->alloc is not reset on add, so a re-added pgmap starts from a stale count",
)
ALTMAP_FREED_TO_BUDDY = Mutant(
    "altmap-freed-to-page-allocator",
    p.X86_ALTMAP,
    "arch/*:vmemmap_free",
    "a vmemmap leaf backed by the altmap is handed to the page allocator on removal",
    archs=("x86_64",),
)
BOUNDS_CHECK_GE = Mutant(
    "altmap-bounds-ge",
    p.ALTMAP_HOTPLUG,
    "mm/memory_hotplug.c:__add_pages",
    "the altmap bounds check uses >= for >, rejecting an altmap whose offset equals nr_pages",
)
ALIGN_NOT_COUNTED = Mutant(
    "align-not-counted",
    p.X86_ALTMAP,
    "mm/sparse-vmemmap.c:vmem_altmap_alloc",  # its body, _altmap_bump(), lives on at v4.16+
    "alignment padding is skipped but not added to altmap->align, so later blocks overlap",
)
NR_FREE_IGNORES_ALIGN = Mutant(
    "nr-free-ignores-align",
    p.X86_ALTMAP,
    "mm/sparse-vmemmap.c:vmem_altmap_nr_free",
    "vmem_altmap_nr_free() forgets the alignment padding, so an allocation can run past free",
    partial_failures=True,
)
BASE_CHECK_DROPPED = Mutant(
    "altmap-base-check-dropped",
    p.ALTMAP_HOTPLUG,
    "mm/memory_hotplug.c:__add_pages",
    "__add_pages() no longer rejects an altmap whose base_pfn is not the range start",
)
RESOURCE_RELEASED_FOR_DEVICE = Mutant(
    "device-resource-released",
    p.ZONE_DEVICE,
    "mm/memory_hotplug.c:__remove_pages",
    "__remove_pages() releases the iomem resource of a ZONE_DEVICE range, which the driver owns",
    era="v4.3",
)
POPULATED_CHECK_DROPPED = Mutant(
    "vmemmap-populated-ignored",
    p.POWERPC_ALTMAP,
    "arch/powerpc/mm/init_64.c:vmemmap_free",
    "vmemmap_free() frees a shared vmemmap page although other sections it describes are valid",
    era="v4.13",
    archs=("powerpc64-hash",),
)
ALTMAP_NOT_FREED = Mutant(
    "altmap-free-skipped",
    p.ARM64_ALTMAP,
    "arch/*:vmemmap_free",
    "vmemmap_free() unmaps an altmap-backed leaf without vmem_altmap_free(), leaking altmap pages",
    era="v5.9",
    archs=("arm64-4k", "arm64-64k"),
)

ZONE_FROM_PAGE_PAST_END = Mutant(
    "zone-from-page-past-end",
    p.ZONE_DEVICE,
    "arch/x86/mm/init_64.c:arch_remove_memory",
    "arch_remove_memory() reads the zone from pfn_to_page(start_pfn + nr_pages), one past the range",
    era="v4.3",
)
CROSS_BOUNDARY_IGNORED = Mutant(
    "cross-boundary-ignored",
    p.ALTMAP_END_PFN,
    "arch/powerpc/mm/init_64.c:vmemmap_populate",
    "vmemmap_populate() uses the altmap for a vmemmap page that also describes other devices",
    era="v5.9",
    archs=("powerpc64-hash", "powerpc64-radix"),
)
CROSS_BOUNDARY_END_INCLUSIVE = Mutant(
    "cross-boundary-end-inclusive",
    p.POWERPC_CROSS_BOUNDARY_END,
    "arch/powerpc/mm/init_64.c:altmap_cross_boundary",
    "the page's end, not its last pfn, is compared with the inclusive end_pfn: a page ending on the "
    "namespace's last pfn counts as crossing it and is taken from system memory",
    era="v6.12",
    archs=("powerpc64-radix",),
    max_device_sections=4,  # a radix base page of memmap describes 4 sections of 16 MiB
)

ENOMEM_SWALLOWED = Mutant(
    "enomem-swallowed",
    p.SUBSECTION_HOTPLUG,
    "mm/memory_hotplug.c:__add_pages",
    "__add_pages() treats -ENOMEM like the old -EEXIST and carries on, returning 0 with a hole",
    era="v5.9",
    faults=1,
)
POPULATE_ERROR_EINVAL = Mutant(
    "populate-error-einval",
    p.SUBSECTION_HOTPLUG,
    "mm/sparse.c:section_activate",
    "section_activate() reports a failed memmap population as -EINVAL instead of -ENOMEM",
    era="v5.9",
    faults=1,
)
ACTIVATE_NO_ROLLBACK = Mutant(
    "activate-no-rollback",
    p.SUBSECTION_HOTPLUG,
    "mm/sparse.c:section_activate",
    "section_activate() returns -ENOMEM without section_deactivate(), leaking a part-populated memmap",
    era="v5.9",
    archs=("arm64-64k",),
    faults=1,
    max_device_sections=1,
)


ONLINE_INCLUDES_VMEMMAP = Mutant(
    "online-includes-vmemmap",
    p.MEMMAP_ON_MEMORY,
    "drivers/base/memory.c:memory_block_online",
    "online_pages() is given the whole block, so its memmap_on_memory pages go to the page allocator",
    era="v5.15",
)
MEMMAP_ON_MEMORY_ANY_SIZE = Mutant(
    "memmap-on-memory-any-size",
    p.MEMMAP_ON_MEMORY,
    "mm/memory_hotplug.c:mhp_supports_memmap_on_memory",
    "the 'a) We span a single memory block' check accepts any multiple of the block size, so one "
    "altmap at the first block holds the memmap of the blocks after it",
    era="v6.1",
)
MHP_ALTMAP_NOT_PASSED = Mutant(
    "mhp-altmap-not-passed",
    p.MEMMAP_ON_MEMORY_PER_BLOCK,
    "mm/memory_hotplug.c:remove_memory_blocks_and_altmaps",
    "arch_remove_memory() gets NULL for the block's altmap, so vmemmap_free() hands the block's "
    "own pages to the page allocator (the error path fixed after 6b8f0798b85a had this shape)",
    era="v6.12",
)

MEMMAP_NOT_UNCOUNTED = Mutant(
    "memmap-not-uncounted",
    p.NR_MEMMAP,
    "mm/sparse.c:depopulate_section_memmap",
    "depopulate_section_memmap() frees the memmap without memmap_pages_add(-...), so "
    "nr_memmap_pages keeps counting removed memory",
    era="v6.12",
    # where no add fails without an injected fault (powerpc falls back to RAM), the era holds
    archs=("powerpc64-hash",),
)

MHP_ERROR_PATH_NULL_ALTMAP = Mutant(
    "mhp-error-path-null-altmap",
    p.MHP_ERROR_PATH_ALTMAP,
    "mm/memory_hotplug.c:create_altmaps_and_memory_blocks",
    "when create_memory_block_devices() fails, arch_remove_memory() gets NULL for the block's "
    "altmap, so vmemmap_free() hands the block's own memmap pages to the page allocator (the "
    "v6.8 error path)",
    era="v7.2",
    faults=1,
)
MEM_ALTMAP_BEFORE_REGISTRATION = Mutant(
    "mem-altmap-before-registration",
    p.MEMORY_BLOCK_ALTMAP_AFTER_REGISTRATION,
    "drivers/base/memory.c:add_memory_block",
    "mem->altmap is set before __add_memory_block(), so a failed registration releases the "
    "block with its altmap still set (WARN_ON(mem->altmap) in memory_block_release())",
    era="v7.2",
    faults=1,
)

ALTMAP_FREE_NO_LOWER_BOUND = Mutant(
    "altmap-free-no-lower-bound",
    p.POWERPC_ALTMAP_FALLBACK,
    "arch/powerpc/mm/init_64.c:vmemmap_free",
    "vmemmap_free() tests only 'base_pfn < alt_end', so a vmemmap page from boot RAM below the "
    "device is credited to the device's altmap",
    era="v6.12",
    archs=("powerpc64-hash",),
)

MEMUNMAP_READS_RESERVE = Mutant(
    "memunmap-reads-reserve-page",
    p.MEMUNMAP_PFN_FIRST,
    "mm/memremap.c:memunmap_pages",
    "memunmap_pages() reads the struct page of the range's first pfn, an altmap reserve pfn "
    "whose struct page was never initialised, instead of pfn_first()",
    era="v5.9",
)

MEMMAP_INIT_FIRST_SECTION_ONLY = Mutant(
    "memmap-init-first-section-only",
    p.MEMMAP_INIT_ZONE_DEVICE,
    "mm/page_alloc.c:memmap_init_zone_device",
    "memmap_init_zone_device() stops at the end of the range's first section, so the struct "
    "pages of every later section of a device are never initialised",
    era="v5.9",
)

INFO_BLOCK_OUTSIDE_RESERVE = Mutant(
    "info-block-outside-reserve",
    p.SUBSECTION_HOTPLUG,
    "drivers/nvdimm/pfn_devs.c:nd_info_block_reserve",
    "nd_info_block_reserve() rounds SZ_8K down to a page: 0 on a 64 KiB page kernel, so the "
    "namespace's info block lies in the altmap's free area, where the memmap goes",
    era="v6.12",
    archs=("powerpc64-hash",),
    namespaces=True,
)

POWERPC_NO_RAM_FALLBACK = Mutant(
    "powerpc-no-ram-fallback",
    p.POWERPC_ALTMAP_FALLBACK,
    "arch/powerpc/mm/init_64.c:vmemmap_populate",
    "vmemmap_populate() returns -ENOMEM when the altmap cannot back a 16 MiB page instead of "
    "falling back to system memory, so a valid add fails",
    era="v5.3",
    archs=("powerpc64-hash",),
)

MUTANTS = (
    MAP_OFFSET_EVERY_SECTION,
    RESERVE_SKIP_INVERTED,
    ALLOC_NOT_RESET,
    ALTMAP_FREED_TO_BUDDY,
    BOUNDS_CHECK_GE,
    ALIGN_NOT_COUNTED,
    NR_FREE_IGNORES_ALIGN,
    BASE_CHECK_DROPPED,
    RESOURCE_RELEASED_FOR_DEVICE,
    POPULATED_CHECK_DROPPED,
    ALTMAP_NOT_FREED,
    ZONE_FROM_PAGE_PAST_END,
    CROSS_BOUNDARY_IGNORED,
    CROSS_BOUNDARY_END_INCLUSIVE,
    ENOMEM_SWALLOWED,
    POPULATE_ERROR_EINVAL,
    ACTIVATE_NO_ROLLBACK,
    ONLINE_INCLUDES_VMEMMAP,
    MEMMAP_ON_MEMORY_ANY_SIZE,
    MHP_ALTMAP_NOT_PASSED,
    MEMMAP_NOT_UNCOUNTED,
    MHP_ERROR_PATH_NULL_ALTMAP,
    MEM_ALTMAP_BEFORE_REGISTRATION,
    ALTMAP_FREE_NO_LOWER_BOUND,
    MEMUNMAP_READS_RESERVE,
    MEMMAP_INIT_FIRST_SECTION_ONLY,
    INFO_BLOCK_OUTSIDE_RESERVE,
    POWERPC_NO_RAM_FALLBACK,
)

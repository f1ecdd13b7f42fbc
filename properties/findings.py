"""Kernel findings: violations the model shows in real kernel eras, each explained with its source.

A finding is a verdict the checker expects: the property is violated on those (era, arch)
cells, exactly as recorded. The checker reports it as a finding rather than a failure, and
reports a recorded finding that no longer reproduces (on an era variant) as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """A kernel behaviour that violates a property at some eras, and why."""

    id: str
    title: str
    properties: tuple[str, ...]
    eras: tuple[str, ...]
    archs: tuple[str, ...]
    detail: str
    fixed_by: str = ""
    needs_failures: bool = False  # shows only when adds can fail part-way (--faults, --partial-failures)
    # ... except on these archs, where an altmap with no room already fails an add
    shows_without_faults: tuple[str, ...] = ()
    needs_subsections: bool = False  # shows only with ranges that are not section aligned (--subsections)
    engines: tuple[str, ...] = ("explicit", "symbolic")  # which engines can show it


_ALL = ("x86_64", "powerpc64-hash", "powerpc64-radix", "arm64-4k", "arm64-16k", "arm64-64k")
_X86_PPC = ("x86_64", "powerpc64-hash", "powerpc64-radix")
_PPC = ("powerpc64-hash", "powerpc64-radix")
# What goes wrong when one of two devices sharing a section (sub-section hotplug) frees memmap
# the other still uses, and the eras with both sub-sections and arm64 device memory
_SHARED_SECTION = (
    "altmap_leaves_describe_own_device",
    "removal_returns_every_leaf_to_its_source",
    "altmap_fully_freed_on_release",
    "present_sections_have_memmap",
    "system_memory_never_over_freed",
    "nothing_left_when_all_removed",
    "altmap_frees_only_its_own_pages",
    "device_data_pfns_initialised",
)
_ARM64_SUBSECTION_ERAS = ("v5.9", "v5.15", "v6.1", "v6.12")
_EVERY_ERA = (
    "v4.3",
    "v4.5",
    "v4.13",
    "v5.3",
    "v5.9",
    "v5.15",
    "v6.1",
    "v6.12",
    "v6.14",
    "v6.17",
    "v6.19",
    "v7.2",
)
# nr_memmap_pages (v6.11) up to the 7.2 fix
_NR_MEMMAP_UNDERFLOW_ERAS = ("v6.12", "v6.14", "v6.17", "v6.19")

FINDINGS: tuple[Finding, ...] = (
    Finding(
        "reserve-skip-dead",
        "memmap_init_zone() never skips the altmap reserve before v4.16",
        ("reserve_pfns_never_initialised",),
        ("v4.5", "v4.13"),
        _X86_PPC,
        "Seed 000 looks the altmap up with to_vmem_altmap(__pfn_to_phys(start_pfn)): a physical "
        "address where to_vmem_altmap() expects a struct page pointer. page_to_pfn() of it is far "
        "beyond MAX_PHYSMEM_BITS, the lookup returns NULL, and the reserve's struct pages are "
        "initialised. Harmless in practice (their memmap exists); the skip works once the altmap "
        "is passed explicitly.",
        fixed_by="v4.16: mm: pass the vmem_altmap to memmap_init_zone (Christoph Hellwig)",
    ),
    Finding(
        "altmap-offset-equals-range",
        "arch_remove_memory() reads the struct page past the range when reserve + free == nr_pages",
        (
            "no_struct_page_read_outside_memmap",
            "device_resource_left_to_driver",
            "map_offset_first_section_only",
        ),
        ("v4.5", "v4.13", "v5.3"),
        _X86_PPC,
        "__add_pages() accepts vmem_altmap_offset() == nr_pages ('>' only). On removal "
        "arch_remove_memory() does 'page += vmem_altmap_offset(altmap); zone = page_zone(page)', "
        "the struct page one past the range: unmapped (an oops) or another range's. Before v4.16, "
        "read as a non-device zone, __remove_pages() then releases the driver's iomem resource and "
        "passes map_offset 0. From v4.16 the altmap is passed in, 'struct page *page = "
        "pfn_to_page(start_pfn) + vmem_altmap_offset(altmap); struct zone *zone = "
        "page_zone(page);', and the read stays (v5.3) though __remove_pages() only shrinks the "
        "zone with it.",
        fixed_by="feee6b298916 mm/memory_hotplug: shrink zones when offlining memory (v5.5): "
        "arch_remove_memory() reads no zone",
    ),
    Finding(
        "powerpc-altmap-lookup-at-page-start",
        "powerpc uses a device's altmap only if the device owns the first section of the vmemmap page",
        ("altmap_device_memmap_not_from_system_memory",),
        ("v4.13",),
        _PPC,
        "Seed 002 looks the altmap up with to_vmem_altmap(SECTION_ALIGN_DOWN(start)) where start "
        "is the start of the 16 MiB (hash) or 2 MiB (radix) vmemmap page: a device that does not "
        "own that page's first section gets its memmap from system memory.",
        fixed_by="7b73d978a5d0 mm: pass the vmem_altmap to vmemmap_populate (v4.16)",
    ),
    Finding(
        "powerpc-shared-vmemmap-page",
        "a device's altmap backs another device's struct pages, and outlives its removal",
        (
            "altmap_leaves_describe_own_device",
            "altmap_leaves_belong_to_present_devices",
            "altmap_fully_freed_on_release",
            "removal_returns_every_leaf_to_its_source",
            "nothing_left_when_all_removed",
            "system_memory_never_over_freed",
        ),
        ("v4.13", "v5.3"),
        _PPC,
        "One vmemmap page describes 1024 (hash) or 128 (radix) sections. The first device to "
        "populate it backs it from its altmap; a second device in the same span reuses it. When "
        "the first is removed, vmemmap_populated() keeps the page for the second: its struct "
        "pages live on departed device memory and the WARN 'failed to free all reserved pages' "
        "fires. Removing the second then frees the page: to_vmem_altmap() of the page's first "
        "section finds no device, PageReserved() holds, and the departed device's pages are "
        "handed to the page allocator with free_reserved_page().",
        fixed_by="cf387d9644d8 libnvdimm/altmap: Track namespace boundaries in altmap (v5.5)",
    ),
)


FINDINGS = (
    *FINDINGS,
    Finding(
        "failed-add-leaks-sections",
        "an add that fails after its first section leaves the earlier sections present",
        (
            "failed_add_leaves_nothing_behind",
            "nothing_left_when_all_removed",
            "altmap_leaves_belong_to_present_devices",
        ),
        _EVERY_ERA,
        _ALL,
        "__add_pages() breaks out of its section loop on the first error and returns it; the "
        "sections added before stay, with their memmap. devm_memremap_pages() / memremap_pages() "
        "then only drop the pgmap (pgmap_radix_release / pgmap_array_delete) and add_memory() only "
        "the resource: nobody calls arch_remove_memory(). The memmap of those sections stays, in "
        "system memory or in the altmap of a device that is gone. Before v5.3 a section whose own "
        "memmap population failed part-way also keeps the pages already populated.",
        needs_failures=True,
    ),
    Finding(
        "powerpc-populated-first-subsection",
        "powerpc at v5.3 maps a vmemmap page a second time when its first section has only later sub-sections",
        ("present_sections_have_memmap",),
        ("v5.3",),
        _PPC,
        "Sub-section hotplug (v5.3) made pfn_valid() answer per sub-section ('return "
        "early_section(ms) || pfn_section_valid(ms, pfn);'), but powerpc's vmemmap_populated() "
        "still walks the 16 MiB (hash) or 2 MiB (radix) vmemmap page section by section: 'for (; "
        "start < end; start += (PAGES_PER_SECTION * sizeof(struct page))) if "
        "(pfn_valid(page_to_pfn((struct page *)start))) return 1;', looking at each section's first "
        "sub-section only. A device that starts past a section's first 2 MiB populates the page; a "
        "second device in the same span then finds it 'unpopulated', allocates another backing "
        "page and maps it over the first (vmemmap_list_populate() keeps both), so the first "
        "device's struct pages are replaced, and on removal a page still in use by such a section "
        "is freed.",
        fixed_by="powerpc/nvdimm: Update vmemmap_populated to check sub-section range (Aneesh Kumar K.V, "
        "v5.5; mainline id not found)",
        needs_subsections=True,
    ),
    Finding(
        "leaked-sections-reused",
        "a re-add over leaked sections reuses their memmap, and its removal frees it to the wrong pool",
        (
            "removal_returns_every_leaf_to_its_source",
            "altmap_fully_freed_on_release",
            "system_memory_never_over_freed",
            "altmap_frees_only_its_own_pages",
        ),
        ("v4.5", "v4.13"),
        _X86_PPC,
        "Before v5.3 __add_pages() swallows -EEXIST ('EEXIST is finally dealt with by ioresource "
        "collision check'), so a device added over sections leaked by a failed add succeeds "
        "without populating them. Removing it frees their memmap by the backing page's device: "
        "the new device's altmap is credited with pages it never gave (alloc wraps), or another "
        "device's altmap pages go to the page allocator.",
        needs_failures=True,
    ),
    Finding(
        "altmap-offset-wraps",
        "__add_pages() accepts an altmap whose reserve + free wraps past 2^64",
        (
            "altmap_leaves_inside_free_area",
            "altmap_leaves_below_next_pfn",
            "reserve_pfns_never_initialised",
            "altmap_frees_only_its_own_pages",
            "device_data_pfns_initialised",
        ),
        _EVERY_ERA[1:],
        _ALL,
        "The altmap is validated with 'altmap->base_pfn != pfn || vmem_altmap_offset(altmap) > "
        "nr_pages', and vmem_altmap_offset() is reserve + free in unsigned long (from seed 001, "
        "4b94ffdc4163, to today's mhp_params version). A reserve + free that wraps to at most "
        "nr_pages passes: the bump allocator then hands out pfns past base + reserve + free, or "
        "below base, and from v4.16 memmap_init_zone_device() starts at base + the wrapped offset, "
        "over the reserve; and the data pfns the altmap declares, [start + reserve, end), wrap to "
        "begin below start (at pfn 0 for a reserve of -start), where no struct page was "
        "initialised. Only values no driver computes from a real namespace reach it (the "
        "nd_pfn info block bounds both), so it needs the symbolic engine to see: the explicit "
        "engine's altmaps are drawn from what drivers do.",
        engines=("symbolic",),
    ),
    Finding(
        "arm64-subsection-pmd-memmap",
        "arm64 (4K pages) maps a sub-section's memmap with a whole-section PMD block and unmaps it with either device",
        _SHARED_SECTION,
        _ARM64_SUBSECTION_ERAS,
        ("arm64-4k",),
        "From v5.3 (ba72b4c8cf60) two device ranges may share a section, each adding only its "
        "2 MiB sub-sections. x86 populates a range smaller than a section with base pages; arm64's "
        "vmemmap_populate() maps PMD blocks whatever the range, so the first device's altmap (or "
        "RAM) backs 2 MiB of memmap: the struct pages of the whole section, the other device's "
        "included. Removing either device runs vmemmap_free() over its 32 KiB of the range, and "
        "unmap_hotplug_range() clears and frees the whole PMD block: the remaining device's "
        "memmap is unmapped, and the block goes back to whichever pool the remover's altmap says.",
        fixed_by="d4234d131b0a arm64: mm: Populate vmemmap at the page level if not section aligned "
        "(v6.14; Fixes: ba72b4c8cf60, Cc stable v5.4+). Reproduced under QEMU on 6.12.118 built "
        "with d4234d131b0a reverted (an oops touching the remaining device's struct pages), not "
        "with it kept, nor on Debian's 6.12.95 and 7.2.13 arm64 kernels",
        needs_subsections=True,
    ),
    Finding(
        "arm64-subsection-shared-vmemmap-page",
        "arm64 (16K, 64K pages) frees a base page of memmap that neighbouring sub-sections still use",
        _SHARED_SECTION,
        (*_ARM64_SUBSECTION_ERAS, "v6.14", "v6.17", "v6.19", "v7.2"),
        ("arm64-16k", "arm64-64k"),
        "With 16 KiB pages a 2 MiB sub-section has 8 KiB of struct pages, with 64 KiB pages 2 KiB: "
        "a vmemmap base page holds the struct pages of several sub-sections, and two devices "
        "sharing a section share it. vmemmap_populate_basepages() backs it from the first "
        "device's altmap (or RAM) and the second finds it mapped. Removing either device, or "
        "rolling back its failed add, runs vmemmap_free() over its own range, and arm64's "
        "unmap_hotplug_pte_range() clears and frees every page the range touches, with no check "
        "that the rest of the page is unused (x86's remove_pte_table() keeps a partly used page "
        "until it is all PAGE_INUSE-free): the other device's struct pages are unmapped. "
        "Unchanged in 7.2.13 arch/arm64/mm/mmu.c: 'do { ... __pte_clear(&init_mm, addr, ptep); if "
        "(free_mapped) { ... free_hotplug_page_range(pte_page(pte), PAGE_SIZE, altmap); } } while "
        "(addr += PAGE_SIZE, addr < end);'; the 4K fix (arm64-subsection-pmd-memmap) does not cover "
        "it. Reproduced under QEMU on Debian's 7.2.13+deb14-arm64-16k (and 6.12.95+deb12-arm64-16k): "
        "two devdax namespaces of 18 MiB share the 16 KiB vmemmap page of 0xc1000000; destroying "
        "one, then touching the other, oopses in dax_set_mapping() at that page's struct page.",
        needs_subsections=True,
    ),
)

FINDINGS = (
    *FINDINGS,
    Finding(
        "nr-memmap-failed-add-underflow",
        "a failed add takes its chunk's memmap off nr_memmap_pages although it never counted it",
        ("nr_memmap_pages_count_the_memmap_mapped",),
        _NR_MEMMAP_UNDERFLOW_ERAS,
        _ALL,
        "nr_memmap_pages (v6.11, 15995a352474) is counted once a chunk's memmap is populated, in "
        "__populate_section_memmap() after 'if (r < 0) return NULL;' (v6.11-v6.16), then in "
        "section_activate() after 'if (!memmap) { section_deactivate(pfn, nr_pages, altmap); "
        "return ERR_PTR(-ENOMEM); }' (c3576889d87b, v6.17). The failure path's "
        "section_deactivate() takes it back all the same: 'memmap_pages_add(-1L * "
        "(DIV_ROUND_UP(end - start, PAGE_SIZE)));' in depopulate_section_memmap() (v6.11-v6.16), "
        "'memmap_pages_add(-1L * (DIV_ROUND_UP(nr_pages * sizeof(struct page), PAGE_SIZE)));' in "
        "section_deactivate() (v6.17-v7.1). Each add that fails to populate a chunk lowers the "
        "counter by that chunk's memmap, below zero on a fresh system.",
        fixed_by="mm/sparse-vmemmap: fix vmemmap accounting underflow (Muchun Song, 7.2; Fixes: "
        "c3576889d87b; mainline id not found): populate_section_memmap() counts whatever the "
        "outcome, depopulate_section_memmap() takes back",
        needs_failures=True,
        # an altmap one page short fails the add with no fallback; powerpc falls back to RAM
        shows_without_faults=("x86_64", "arm64-4k", "arm64-16k", "arm64-64k"),
    ),
)

FINDINGS = (
    *FINDINGS,
    Finding(
        "x86-pmd-vmemmap-leak",
        "x86 frees a 2 MiB vmemmap block from RAM as its first page and leaks the other 511",
        ("removal_returns_every_leaf_to_its_source", "nothing_left_when_all_removed"),
        ("v6.19",),
        ("x86_64",),
        "bf9e4e30f353 'x86/mm: use pagetable_free()' (v6.19) changed free_pagetable()'s last "
        "branch from 'free_pages((unsigned long)page_address(page), order);' to "
        "'pagetable_free(page_ptdesc(page));', which is '__free_pages(page, compound_order(page));'. "
        "free_hugepage_table() still frees vmemmap PMDs from RAM through it ('else "
        "free_pagetable(page, get_order(PMD_SIZE));'), and a vmemmap block is not a compound page: "
        "removing a device or RAM without an altmap returns one page of each 2 MiB of memmap to "
        "the page allocator and loses the other 511.",
        fixed_by="x86/mm: fix freeing of PMD-sized vmemmap pages (David Hildenbrand; Fixes: "
        "bf9e4e30f353; in 7.2, mainline id not found): free_vmemmap_pages(page, PMD_ORDER, altmap) "
        "ends in '__free_pages(page, order);'",
    ),
)

# memmap_on_memory split per memory block (6b8f0798b85a, v6.8) up to the 2026 fixes
_MEMORY_BLOCK_ERAS = ("v6.12", "v6.14", "v6.17", "v6.19")
# where a memory block's memmap can live on the block at those eras
_MEMMAP_ON_MEMORY_ARCHS = ("x86_64", "arm64-4k")

FINDINGS = (
    *FINDINGS,
    Finding(
        "mhp-add-error-path-null-altmap",
        "a failed memory-block registration frees the memmap_on_memory pages to the page allocator",
        (
            "removal_returns_every_leaf_to_its_source",
            "system_memory_never_over_freed",
        ),
        ("v5.15", "v6.1"),
        _MEMMAP_ON_MEMORY_ARCHS,
        "add_memory_resource() (a08a2ae34613, v5.15) undoes an add whose "
        "create_memory_block_devices() failed with 'arch_remove_memory(start, size, NULL);', "
        "although with MHP_MEMMAP_ON_MEMORY the memmap came from mhp_altmap: vmemmap_free() "
        "hands those pages, inside the memory being unplugged, to the page allocator.",
        fixed_by="f42ce5f087eb mm/memory_hotplug: fix error handling in add_memory_resource() "
        "(v6.7): 'arch_remove_memory(start, size, params.altmap);'",
        needs_failures=True,
    ),
    Finding(
        "mhp-error-path-null-altmap",
        "a failed memory-block registration frees the block's own memmap to the page allocator",
        (
            "removal_returns_every_leaf_to_its_source",
            "system_memory_never_over_freed",
        ),
        _MEMORY_BLOCK_ERAS,
        _MEMMAP_ON_MEMORY_ARCHS,
        "create_altmaps_and_memory_blocks() (6b8f0798b85a, v6.8) undoes a block whose "
        "create_memory_block_devices() failed with 'arch_remove_memory(cur_start, memblock_size, "
        "NULL);'. The block's memmap came from params.altmap, inside the block; with no altmap "
        "vmemmap_free() gives those pages to the page allocator ('free_pagetable()' on x86, "
        "'free_hotplug_page_range()' on arm64), pages of memory that is about to be unplugged.",
        fixed_by="mm/memory_hotplug: Fix incorrect altmap passing in error path (Muchun Song; "
        "Fixes: 6b8f0798b85a; in 7.2, mainline id not found): 'arch_remove_memory(cur_start, "
        "memblock_size, params.altmap);'",
        needs_failures=True,
    ),
    Finding(
        "memory-block-altmap-before-registration",
        "a memory block whose registration fails is released with mem->altmap still set",
        ("memory_block_released_without_altmap",),
        _MEMORY_BLOCK_ERAS,
        _MEMMAP_ON_MEMORY_ARCHS,
        "add_memory_block() (1a8c64e11043, v6.6) sets 'mem->altmap = altmap;' before "
        "'ret = __add_memory_block(mem);'. When the xa_store() (or device_register()) in "
        "__add_memory_block() fails, device_unregister() / put_device() end in "
        "memory_block_release(), whose 'WARN_ON(mem->altmap);' fires.",
        fixed_by="a2b8d7827f48 drivers/base/memory: set mem->altmap after successful device "
        "registration (v7.1 or v7.2)",
        needs_failures=True,
    ),
)

FINDINGS = (
    *FINDINGS,
    Finding(
        "memunmap-reads-reserve-page",
        "memunmap_pages() reads the struct page of a reserve pfn, which was never initialised",
        ("struct_pages_read_are_initialised",),
        ("v5.3",),
        _X86_PPC,
        "memunmap_pages() (v5.3) looks up the node with 'nid = "
        "page_to_nid(pfn_to_page(PHYS_PFN(res->start)));'. With an altmap the range starts with "
        "the driver's reserve (the nd_pfn info block), whose struct pages memmap_init_zone() "
        "skips ('if (start_pfn == altmap->base_pfn) start_pfn += altmap->reserve;') and "
        "memmap_init_zone_device() never reaches: the node read is garbage.",
        fixed_by="77e080e7680e mm/memunmap: don't access uninitialized memmap in memunmap_pages() "
        "(v5.4): 'first_page = pfn_to_page(pfn_first(pgmap));'",
    ),
)


def findings_for(
    prop: str, era: str, arch: str, failures: bool = True, engine: str = "explicit"
) -> Finding | None:
    for f in FINDINGS:
        if (
            f.needs_failures and not failures and arch not in f.shows_without_faults
        ) or engine not in f.engines:
            continue
        if prop in f.properties and era in f.eras and arch in f.archs:
            return f
    return None

"""arch/powerpc/mm/init_64.c and mem.c: book3s64 constants and the shared 16 MiB / 2 MiB vmemmap."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model import pgtable
from mhpcheck.model.arch import Arch, Capability, Constant, const
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.events import AltmapFallback
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, memremap, sparse_vmemmap
from mhpcheck.model.state import SYSMEM, KernelState, VmemmapLeaf
from mhpcheck.model.variants import mutants, patches


def arch_add_memory(
    k: Kernel,
    s: KernelState,
    nid: int,
    start_pfn: Word,
    nr_pages: Word,
    for_device: bool,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/mem.c:arch_add_memory() as of v4.13 (d85431d1, seed 002)."""
    k.call("arch_add_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    # create_section_mapping(): the linear map is not modelled.
    return memory_hotplug._add_pages(k, s, nid, None, start_pfn, nr_pages, altmap)


def arch_remove_memory(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/mem.c:arch_remove_memory() as of v4.13 (d85431d1, seed 002).

    From v4.16 (24e6d5a59ac7) the altmap is passed in rather than looked up; from v5.5
    (feee6b298916) the zone is no longer read here at all.
    """
    k.call("arch_remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    zone = None
    if not k.variant.has(patches.SHRINK_ZONES):
        page_pfn = start_pfn
        if k.variant.has(patches.EXPLICIT_ALTMAP):
            # v4.16-v5.4: "struct page *page = pfn_to_page(start_pfn) + vmem_altmap_offset(altmap);
            # __remove_pages(page_zone(page), start_pfn, nr_pages, altmap);"
            dev = altmap
        else:
            dev = None
            if k.variant.has(patches.POWERPC_ALTMAP):
                # "With altmap the first mapped page is offset from @start"
                dev = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, start_pfn))
        if dev is not None:
            page_pfn = page_pfn + memremap.vmem_altmap_offset(k, s.altmap_of(dev))
        zone = memory_hotplug.page_zone(k, s, page_pfn, "arch_remove_memory")
    return memory_hotplug._remove_pages(k, s, zone, start_pfn, nr_pages, altmap)


def vmemmap_section_start(k: Kernel, page: int) -> int:
    """arch/powerpc/mm/init_64.c:vmemmap_section_start() as of v4.13 (d85431d1, seed 002)."""
    return (page // k.arch.STRUCT_PAGE_SIZE) & ~(k.arch.PAGES_PER_SECTION - 1)


def vmemmap_populated(k: Kernel, s: KernelState, start: int, page_size: int) -> bool:
    """arch/powerpc/mm/init_64.c:vmemmap_populated() as of v4.13 (d85431d1, seed 002).

    From v5.3 (ba72b4c8cf60) pfn_valid() answers for the sub-section of the pfn it is given, so
    the section-by-section walk looks at each section's first sub-section only; from v5.5
    (powerpc-populated-subsection) it walks every sub-section of the span.
    """
    # "for (; start < end; start += (PAGES_PER_SECTION * sizeof(struct page)))
    #      if (pfn_valid(page_to_pfn((struct page *)start))) return 1;"
    first = vmemmap_section_start(k, start) >> k.arch.PFN_SECTION_SHIFT
    count = max(1, page_size // (k.arch.PAGES_PER_SECTION * k.arch.STRUCT_PAGE_SIZE))
    first_subsection_only = k.variant.has(patches.SUBSECTION_HOTPLUG) and not k.variant.has(
        patches.POWERPC_POPULATED_SUBSECTION
    )
    for ms in s.sections:
        # v5.3: pfn_valid() of the section's first pfn is "return early_section(ms) ||
        # pfn_section_valid(ms, pfn);", its sub-section 0 bit
        if first <= ms.section_nr < first + count and (not first_subsection_only or ms.subsection_map & 1):
            return True
    # From v5.5: "for (; (unsigned long)start < vmemmap_end; start += PAGES_PER_SUBSECTION)
    # if (pfn_valid(page_to_pfn(start))) return 1;" -- any valid sub-section of the span, i.e. any
    # present section (a section is present while its sub-section map is not empty).
    return False


def altmap_cross_boundary(k: Kernel, s: KernelState, altmap: int, start: int, page_size: int) -> bool:
    """arch/powerpc/mm/init_64.c:altmap_cross_boundary() as of v5.5 (cf387d9644d8).

    From v6.5 (c8eebc4a99f1) the page's last pfn, not the one past it, is compared with end_pfn.
    """
    r = s.range_of(altmap)
    assert r is not None and r.altmap is not None
    nr_pfn = page_size // k.arch.STRUCT_PAGE_SIZE
    start_pfn = k.sem.word(start // k.arch.STRUCT_PAGE_SIZE)  # page_to_pfn((struct page *)start)
    # Abstraction: altmap->end_pfn is not a field of the model's altmap; nvdimm sets it to the
    # namespace's last pfn (inclusive), which is the range's last pfn here.
    end_pfn = r.start_pfn + r.nr_pages - 1
    last = start_pfn + nr_pfn
    if k.variant.has(patches.POWERPC_CROSS_BOUNDARY_END) and not k.variant.mutated(
        mutants.CROSS_BOUNDARY_END_INCLUSIVE
    ):
        last = last - 1  # "if ((start_pfn + nr_pfn - 1) > altmap->end_pfn)"
    # before v6.5: "if ((start_pfn + nr_pfn) > altmap->end_pfn)", a page ending on the
    # namespace's last pfn counts as crossing it
    return k.sem.branch((last > end_pfn) | (start_pfn < r.altmap.base_pfn))


def vmemmap_populate(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/init_64.c:vmemmap_populate() as of v4.13 (d85431d1, seed 002).

    From v6.6 (368a0590d954) radix goes to radix__vmemmap_populate() and hash to the same loop,
    renamed __vmemmap_populate().
    """
    if k.arch.has.radix_vmemmap:  # "if (radix_enabled()) return radix__vmemmap_populate(...)"
        return radix__vmemmap_populate(k, s, start, end, node, altmap)
    page_size = 1 << k.arch.VMEMMAP_SHIFT
    start = start & ~(page_size - 1)  # _ALIGN_DOWN(start, page_size)
    while start < end:
        if vmemmap_populated(k, s, start, page_size):
            start += page_size
            continue
        use = None
        if k.variant.has(patches.POWERPC_ALTMAP):
            if k.variant.has(patches.EXPLICIT_ALTMAP):
                use = altmap
            else:
                # "altmap lookups only work at section boundaries"
                # altmap = to_vmem_altmap(SECTION_ALIGN_DOWN(start))
                aligned = (k.arch.VMEMMAP_START + start) & ~(k.arch.PAGES_PER_SECTION - 1)
                use = memremap.to_vmem_altmap(k, s, k.sem.word(aligned))
            if (
                use is not None
                and k.variant.has(patches.ALTMAP_END_PFN)
                and altmap_cross_boundary(k, s, use, start, page_size)
                and not k.variant.mutated(mutants.CROSS_BOUNDARY_IGNORED)
            ):
                k.trace(AltmapFallback(start >> k.arch.VMEMMAP_SHIFT, "cross-boundary", k.arch.VMEMMAP_SHIFT))
                use = None
        s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, use)
        fallback = k.variant.has(patches.POWERPC_ALTMAP_FALLBACK)
        if k.variant.mutated(mutants.POWERPC_NO_RAM_FALLBACK):
            fallback = False
        if src is None and use is not None and fallback:
            # "This may fail due to alignment issues when using 16MB hugepages, so fall back
            # to system memory"
            k.trace(AltmapFallback(start >> k.arch.VMEMMAP_SHIFT, "exhausted", k.arch.VMEMMAP_SHIFT))
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, None)
        if src is None:
            return s, -ENOMEM
        # vmemmap_list_populate(__pa(p), start, node); vmemmap_create_mapping()
        s = pgtable.set_leaf(k, s, start >> k.arch.VMEMMAP_SHIFT, k.arch.VMEMMAP_SHIFT, src, pfn)
        start += page_size
    return s, 0


def vmemmap_free(k: Kernel, s: KernelState, start: int, end: int, altmap: int | None) -> KernelState:
    """arch/powerpc/mm/init_64.c:vmemmap_free() as of v4.13 (d85431d1, seed 002).

    From v5.0 (9ef34630a461) a page is given back to the altmap by its backing pfn; the bound of
    that test lost its alloc + align in v6.5 (6722b2571205). From v6.6 (368a0590d954) radix goes
    to radix__vmemmap_free().
    """
    if k.arch.has.radix_vmemmap:  # "if (radix_enabled()) return radix__vmemmap_free(...)"
        return radix__vmemmap_free(k, s, start, end, altmap)
    page_size = 1 << k.arch.VMEMMAP_SHIFT
    nr_pages = page_size >> k.arch.PAGE_SHIFT  # 1 << page_order
    start = start & ~(page_size - 1)
    while start < end:
        # "the section has already be marked as invalid, so vmemmap_populated() true means
        # some other sections still in this page, so skip it."
        if vmemmap_populated(k, s, start, page_size) and not k.variant.mutated(
            mutants.POPULATED_CHECK_DROPPED
        ):
            start += page_size
            continue
        leaf = pgtable.leaf_at(s, start)  # addr = vmemmap_list_free(start)
        if leaf is None:
            start += page_size
            continue
        owner = None
        if k.variant.has(patches.POWERPC_ALTMAP):
            if k.variant.has(patches.POWERPC_ALTMAP_FALLBACK):
                owner = _altmap_owning_pfn(k, s, altmap, leaf.pfn)
            else:
                # section_base = pfn_to_page(vmemmap_section_start(start));
                # altmap = to_vmem_altmap((unsigned long) section_base);
                section_base = memremap.pfn_to_page(k, k.sem.word(vmemmap_section_start(k, start)))
                owner = memremap.to_vmem_altmap(k, s, section_base)
        if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
            owner = None
        if owner is not None:
            s = sparse_vmemmap.vmem_altmap_free(k, s, owner, nr_pages)
            to = owner
        else:
            # PageReserved(page) ? free_reserved_page() : free_pages()
            # Abstraction: both hand the backing pages to the page allocator.
            to = SYSMEM
        s = pgtable.clear_leaf(k, s, leaf, to)  # vmemmap_remove_mapping()
        start += page_size
    return s


def radix__vmemmap_populate(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_populate() as of v6.6 (368a0590d954).

    From v6.15 (9cf7e13fecba) start is aligned down to PAGE_SIZE and a PMD is mapped only at a
    PMD-aligned address, altmap or not; from v6.17 (f5164797284d) start is aligned down to
    PMD_SIZE without an altmap, and the PMD test is for altmaps only again. (58450938f771, also
    v6.17, changed the control flow of a failed PMD allocation, not where it ends.)
    """
    page_size, pmd_size = 1 << k.arch.PAGE_SHIFT, 1 << k.arch.PMD_SHIFT
    align_only = k.variant.has(patches.RADIX_VMEMMAP_ALIGN) and not k.variant.has(
        patches.RADIX_VMEMMAP_ALIGN_RAM
    )
    if k.variant.has(patches.RADIX_VMEMMAP_ALIGN_RAM):
        # "if (altmap) start = ALIGN_DOWN(start, PAGE_SIZE); else start = ALIGN_DOWN(start, PMD_SIZE);"
        start = start & ~((page_size if altmap is not None else pmd_size) - 1)
    elif align_only:
        start = start & ~(page_size - 1)  # "start = ALIGN_DOWN(start, PAGE_SIZE);"
    addr = start
    while addr < end:
        nxt = min(((addr >> k.arch.PMD_SHIFT) + 1) << k.arch.PMD_SHIFT, end)  # pmd_addr_end(addr, end)
        if pgtable.pmd_none(s, addr, k.arch.PMD_SHIFT):  # pmd_none(READ_ONCE(*pmd))
            unaligned = addr & (pmd_size - 1) != 0
            if align_only:
                # "if (!IS_ALIGNED(addr, PMD_SIZE) || (altmap && altmap_cross_boundary(altmap, addr,
                # PMD_SIZE)))"
                base = unaligned or (
                    altmap is not None and altmap_cross_boundary(k, s, altmap, addr, pmd_size)
                )
            else:
                # "if (altmap && (!IS_ALIGNED(addr, PMD_SIZE) || altmap_cross_boundary(altmap, addr,
                # PMD_SIZE))) goto base_mapping;"
                base = altmap is not None and (
                    unaligned or altmap_cross_boundary(k, s, altmap, addr, pmd_size)
                )
            if not base:
                s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, pmd_size, node, altmap)
                if src is not None:
                    # vmemmap_set_pmd(pmd, p, node, addr, next): the PMD holding addr
                    s = pgtable.set_leaf(k, s, addr >> k.arch.PMD_SHIFT, k.arch.PMD_SHIFT, src, pfn)
                    addr = nxt
                    continue
                # "A vmemmap block allocation can fail ... Try base mapping on failure."
        elif pgtable.pmd_leaf(s, addr, k.arch.PMD_SHIFT):  # vmemmap_check_pmd(): "pmd_leaf(*pmdp)"
            addr = nxt
            continue
        # base_mapping: "pte = radix__vmemmap_pte_populate(pmd, addr, node, altmap, NULL);"
        s, err = radix__vmemmap_pte_populate(k, s, addr, node, altmap)
        if err:
            return s, -ENOMEM
        addr = addr + page_size  # "next = addr + PAGE_SIZE;"
    return s, 0


def radix__vmemmap_pte_populate(
    k: Kernel, s: KernelState, addr: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_pte_populate() as of v6.6 (368a0590d954)."""
    page_shift = k.arch.PAGE_SHIFT
    if pgtable.leaf_at(s, addr) is not None:  # "if (pte_none(*pte))"
        return s, 0
    use = altmap
    # "make sure we don't create altmap mappings covering things outside the device."
    if use is not None and altmap_cross_boundary(k, s, use, addr, 1 << page_shift):
        k.trace(AltmapFallback(addr >> page_shift, "cross-boundary", page_shift))
        use = None
    s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << page_shift, node, use)
    if src is None and use is not None:
        # "if (!p && altmap) p = vmemmap_alloc_block_buf(PAGE_SIZE, node, NULL);"
        k.trace(AltmapFallback(addr >> page_shift, "exhausted", page_shift))
        s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << page_shift, node, None)
    if src is None:
        return s, -ENOMEM
    # "set_pte_at(&init_mm, addr, pte, entry);": the page holding addr
    return pgtable.set_leaf(k, s, addr >> page_shift, page_shift, src, pfn), 0


def radix__vmemmap_free(k: Kernel, s: KernelState, start: int, end: int, altmap: int | None) -> KernelState:
    """arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_free() as of v6.6 (368a0590d954)."""
    # remove_pagetable(start, end, false, altmap) -> remove_pmd_table() / remove_pte_table()
    freed = []
    for leaf in pgtable.leaves_in(s, start, end):
        lo = leaf.index << leaf.leaf_shift
        size = 1 << leaf.leaf_shift
        # PMD leaf: "if (IS_ALIGNED(addr, PMD_SIZE) && IS_ALIGNED(next, PMD_SIZE)) ... else if
        # (!direct && vmemmap_pmd_is_unused(addr, next))"; PTE: the same with PAGE_ALIGNED() and
        # vmemmap_page_is_unused(): "return !vmemmap_populated(ALIGN_DOWN(addr, ...), ...);"
        whole = start <= lo and lo + size <= end
        if (
            not whole
            and vmemmap_populated(k, s, lo, size)
            and not k.variant.mutated(mutants.POPULATED_CHECK_DROPPED)
        ):
            continue
        s, to = free_vmemmap_pages(k, s, leaf, altmap)
        freed.append((leaf, to))
    return pgtable.clear_leaves(k, s, freed)  # pte_clear(&init_mm, addr, ...)


def free_vmemmap_pages(
    k: Kernel, s: KernelState, leaf: VmemmapLeaf, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/book3s64/radix_pgtable.c:free_vmemmap_pages() as of v6.6 (368a0590d954)."""
    nr_pages = 1 << (leaf.leaf_shift - k.arch.PAGE_SHIFT)
    if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
        altmap = None
    a = s.altmap_of(altmap) if altmap is not None else None
    if a is not None:
        # "alt_start = altmap->base_pfn; alt_end = altmap->base_pfn + altmap->reserve +
        #  altmap->free; if (base_pfn >= alt_start && base_pfn < alt_end) {
        #  vmem_altmap_free(altmap, nr_pages); return; }"
        assert altmap is not None
        if k.sem.branch((leaf.pfn >= a.base_pfn) & (leaf.pfn < a.base_pfn + a.reserve + a.free)):
            return sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages), altmap
    # "if (PageReserved(page)) free_reserved_page(page++); else __free_pages(page, order);"
    return s, SYSMEM


@helper
def _altmap_owning_pfn(k: Kernel, s: KernelState, altmap: int | None, pfn: Word) -> int | None:
    """The altmap test of vmemmap_free() from v5.0 (9ef34630a461): is the backing pfn inside the altmap?"""
    # "alt_start = altmap->base_pfn; alt_end = altmap->base_pfn + altmap->reserve +
    #  altmap->free + altmap->alloc + altmap->align;
    #  if (base_pfn >= alt_start && base_pfn < alt_end) vmem_altmap_free(altmap, nr_pages);"
    if altmap is None:
        return None
    r = s.range_of(altmap)
    assert r is not None and r.altmap is not None
    a = r.altmap
    alt_start = a.base_pfn
    alt_end = a.base_pfn + a.reserve + a.free
    if not k.variant.has(patches.POWERPC_ALTMAP_BOUNDARY):
        # v6.5 (6722b2571205): "altmap->free includes the entire free space from which altmap
        # blocks can be allocated", so "alt_end = altmap->base_pfn + altmap->reserve + altmap->free;"
        alt_end = alt_end + a.alloc + a.align
    inside = (pfn >= alt_start) & (pfn < alt_end)
    if k.variant.mutated(mutants.ALTMAP_FREE_NO_LOWER_BOUND):
        inside = pfn < alt_end
    if k.sem.branch(inside):
        return altmap
    return None


_COMMON = (
    ("PAGE_SHIFT", const(16, "arch/powerpc/include/asm/page.h (CONFIG_PPC_64K_PAGES)")),
    ("SECTION_SIZE_BITS", const(24, "arch/powerpc/include/asm/sparsemem.h")),
    (
        "MAX_PHYSMEM_BITS",
        Constant(
            (("v4.0", 46), ("v5.9", 51)),
            "arch/powerpc/include/asm/sparsemem.h; book3s/64/pgtable.h (H_/R_MAX_PHYSMEM_BITS) from v5.9",
        ),
    ),
    ("STRUCT_PAGE_SIZE", const(64, "include/linux/mm_types.h: sizeof(struct page)")),
    ("HOTPLUG_BASE_PFN", const(0x40000, "model choice: 16 GiB, a hash vmemmap page boundary")),
)


def arch_supports_memmap_on_memory(k: Kernel, vmemmap_size: int) -> bool:
    """arch/powerpc/include/asm/pgtable.h:arch_supports_memmap_on_memory() as of v6.6 (603fd64dfa45)."""
    # "if (!radix_enabled()) return false; ... if (IS_ENABLED(CONFIG_PPC_4K_PAGES)) return
    # IS_ALIGNED(vmemmap_size, PMD_SIZE); return true;" -- the configs here have 64K pages
    return k.arch.has.memmap_on_memory


def memremap_compat_align(k: Kernel) -> int:
    """arch/powerpc/mm/book3s64/pgtable.c:memremap_compat_align() as of v5.7 (9ffc1d19fc4a)."""
    # "if (!radix_enabled()) { unsigned int shift = mmu_psize_defs[mmu_linear_psize].shift;
    #  return max(SUBSECTION_SIZE, 1UL << shift); }" -- the hash config's own copy; radix
    # returns SUBSECTION_SIZE like the generic one. mmu_linear_psize is MMU_PAGE_16M on the
    # machines whose vmemmap pages are 16 MiB.
    return max(1 << k.arch.SUBSECTION_SHIFT, 1 << k.arch.VMEMMAP_SHIFT)


_FUNCTIONS = (
    ("arch_add_memory", arch_add_memory),
    ("arch_remove_memory", arch_remove_memory),
    ("vmemmap_populate", vmemmap_populate),
    ("vmemmap_free", vmemmap_free),
    ("arch_supports_memmap_on_memory", arch_supports_memmap_on_memory),
)

_CAPABILITIES = (
    (
        "altmap",
        Capability(patches.POWERPC_ALTMAP, "arch/powerpc/mm/init_64.c: vmemmap_populate() (seed 002)"),
    ),
    (
        "altmap_falls_back_to_ram",
        Capability(patches.POWERPC_ALTMAP_FALLBACK, "arch/powerpc/mm/init_64.c: vmemmap_populate()"),
    ),
    (
        "vmemmap_page_spans_sections",
        Capability(None, "arch/powerpc/mm/init_64.c: a 16 MiB (hash) or 2 MiB (radix) vmemmap page"),
    ),
)

POWERPC64_HASH = Arch(
    name="powerpc64-hash",
    description="book3s64 hash MMU, 64 KiB pages: one 16 MiB vmemmap page describes 1024 sections",
    constants=(
        *_COMMON,
        (
            "VMEMMAP_START",
            Constant(
                (("v4.0", 0xF000000000000000), ("v5.2", 0xC00C000000000000)),
                "arch/powerpc/include/asm/book3s/64/hash.h: H_VMEMMAP_BASE, H_VMEMMAP_START from v5.2",
            ),
        ),
        (
            "VMEMMAP_SHIFT",
            const(
                24,
                "arch/powerpc/mm/hash_utils_64.c: mmu_vmemmap_psize = MMU_PAGE_16M (16M pages, >= 1 GiB RAM)",
            ),
        ),
    ),
    zone_device_since="v4.13",
    zone_device_source="arch/powerpc/Kconfig: select ARCH_HAS_ZONE_DEVICE if PPC_BOOK3S_64",
    functions=(*_FUNCTIONS, ("memremap_compat_align", memremap_compat_align)),
    capabilities=_CAPABILITIES,
)

POWERPC64_RADIX = Arch(
    name="powerpc64-radix",
    description="book3s64 radix MMU, 64 KiB pages: one 2 MiB vmemmap page describes 128 sections",
    constants=(
        *_COMMON,
        (
            "VMEMMAP_START",
            Constant(
                (("v4.0", 0xC00A000000000000), ("v5.2", 0xC00C000000000000)),
                "arch/powerpc/include/asm/book3s/64/radix.h: RADIX_VMEMMAP_BASE, _START from v5.2",
            ),
        ),
        ("VMEMMAP_SHIFT", const(21, "arch/powerpc/mm/pgtable-radix.c: mmu_vmemmap_psize = MMU_PAGE_2M")),
        ("PMD_SHIFT", const(21, "arch/powerpc/include/asm/book3s/64/radix-64k.h: RADIX_PTE_INDEX_SIZE 5")),
        (
            "pageblock_order",
            const(
                5,
                "mm/mm_init.c:set_pageblock_order(): HUGETLB_PAGE_ORDER, with hpage_shift the 2 MiB "
                "page (arch/powerpc/mm/book3s64/hugetlbpage.c; radix has no 16M or 1M)",
            ),
        ),
    ),
    zone_device_since="v4.13",
    zone_device_source="arch/powerpc/Kconfig: select ARCH_HAS_ZONE_DEVICE if PPC_BOOK3S_64",
    functions=_FUNCTIONS,
    capabilities=(
        *_CAPABILITIES,
        (
            "memmap_on_memory",
            Capability(
                patches.RADIX_MEMMAP_ON_MEMORY,
                "arch/powerpc/Kconfig: select ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE if PPC_RADIX_MMU",
            ),
        ),
        (
            "radix_vmemmap",
            Capability(
                patches.RADIX_VMEMMAP,
                "arch/powerpc/mm/init_64.c: vmemmap_populate(): if (radix_enabled()) return "
                "radix__vmemmap_populate(...)",
            ),
        ),
        (
            "optimize_dax_vmemmap",
            Capability(
                patches.RADIX_DAX_VMEMMAP,
                "arch/powerpc/Kconfig: select ARCH_WANT_OPTIMIZE_DAX_VMEMMAP if PPC_RADIX_MMU",
            ),
        ),
    ),
)

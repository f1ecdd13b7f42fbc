"""arch/x86/mm/init_64.c: x86_64 constants, memory add/remove and the PMD-mapped vmemmap."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model import pgtable
from mhpcheck.model.arch import Arch, Capability, const
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.events import AltmapFallback
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, memremap, sparse_vmemmap
from mhpcheck.model.state import FIRST_PAGE_ONLY, SYSMEM, KernelState, VmemmapLeaf
from mhpcheck.model.variants import mutants, patches

PMD_SHIFT = 21  # arch/x86/include/asm/pgtable_64_types.h
HAS_PSE = True  # boot_cpu_has(X86_FEATURE_PSE): every x86_64 CPU the model considers


def arch_add_memory(
    k: Kernel,
    s: KernelState,
    nid: int,
    start_pfn: Word,
    nr_pages: Word,
    for_device: bool,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:arch_add_memory() as of v4.5 (4b94ffdc4163)."""
    k.call("arch_add_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    zone = None
    if not k.variant.has(patches.ZONES_AT_ONLINE):
        zone = memory_hotplug.zone_for_memory(k, nid, for_device)
    # init_memory_mapping(start, start + size): the direct map is not modelled.
    return memory_hotplug._add_pages(k, s, nid, zone, start_pfn, nr_pages, altmap)


def arch_remove_memory(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:arch_remove_memory() as of v4.5 (4b94ffdc4163).

    From v4.16 (24e6d5a59ac7) the altmap is passed in rather than looked up; from v5.5
    (feee6b298916) the zone is no longer read here at all.
    """
    k.call("arch_remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    zone = None
    if not k.variant.has(patches.SHRINK_ZONES):
        # "With altmap the first mapped page is offset from @start"
        page_pfn = start_pfn
        if k.variant.mutated(mutants.ZONE_FROM_PAGE_PAST_END):
            page_pfn = start_pfn + nr_pages
        if k.variant.has(patches.EXPLICIT_ALTMAP):
            # v4.16-v5.4: "struct page *page = pfn_to_page(start_pfn) + vmem_altmap_offset(altmap);"
            dev = altmap
        else:
            dev = None
            if k.variant.has(patches.X86_ALTMAP):
                dev = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, start_pfn))
        if dev is not None:
            page_pfn = page_pfn + memremap.vmem_altmap_offset(k, s.altmap_of(dev))
        zone = memory_hotplug.page_zone(k, s, page_pfn, "arch_remove_memory")  # zone = page_zone(page)
    return memory_hotplug._remove_pages(k, s, zone, start_pfn, nr_pages, altmap)


def vmemmap_populate(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:vmemmap_populate() as of v4.5 (4b94ffdc4163)."""
    if not k.variant.has(patches.EXPLICIT_ALTMAP):
        altmap = None
        if k.variant.has(patches.X86_ALTMAP):
            altmap = memremap.to_vmem_altmap(k, s, k.sem.word(k.arch.VMEMMAP_START + start))
    if (
        k.variant.has(patches.SUBSECTION_HOTPLUG)
        and end - start < k.arch.PAGES_PER_SECTION * k.arch.STRUCT_PAGE_SIZE
    ):
        # "if (end - start < PAGES_PER_SECTION * sizeof(struct page))
        #  err = vmemmap_populate_basepages(start, end, node, NULL);" (ba72b4c8cf60): a
        # sub-section range gets base pages from RAM, whatever its altmap
        if altmap is not None:
            for index in range(start >> k.arch.PAGE_SHIFT, -(-end >> k.arch.PAGE_SHIFT)):
                k.trace(AltmapFallback(index, "sub-section", k.arch.PAGE_SHIFT))
        return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, None)
    if HAS_PSE:
        if k.variant.has(patches.GENERIC_VMEMMAP_HUGEPAGES):
            return sparse_vmemmap.vmemmap_populate_hugepages(k, s, start, end, node, altmap)
        return vmemmap_populate_hugepages(k, s, start, end, node, altmap)
    if altmap is not None:
        return s, -ENOMEM  # pr_err_once("%s: no cpu support for altmap allocations\n")
    return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, None)


def vmemmap_populate_hugepages(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:vmemmap_populate_hugepages() as of v4.5 (4b94ffdc4163).

    x86's own copy until v6.2 (2045a3b8911b) made it the generic one in mm/sparse-vmemmap.c.
    """
    addr = start
    while addr < end:
        nxt = min(((addr >> PMD_SHIFT) + 1) << PMD_SHIFT, end)  # pmd_addr_end(addr, end)
        leaf = pgtable.leaf_at(s, addr)
        if pgtable.pmd_none(s, addr, PMD_SHIFT):  # pmd_none(*pmd)
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << PMD_SHIFT, node, altmap)
            if src is not None:
                s = pgtable.set_leaf(k, s, addr >> PMD_SHIFT, PMD_SHIFT, src, pfn)
                addr = nxt
                continue
            if altmap is not None:
                return s, -ENOMEM  # "no fallback"
        elif leaf is not None and leaf.leaf_shift == PMD_SHIFT:  # pmd_large(*pmd): vmemmap_verify()
            addr = nxt
            continue
        # pr_warn_once("vmemmap: falling back to regular page backing\n")
        s, err = sparse_vmemmap.vmemmap_populate_basepages(k, s, addr, nxt, node, None)
        if err:
            return s, -ENOMEM
        addr = nxt
    return s, 0


def vmemmap_check_pmd(k: Kernel, s: KernelState, addr: int, end: int) -> bool:
    """arch/x86/mm/init_64.c:vmemmap_check_pmd() as of v6.2 (2045a3b8911b)."""
    # "int large = pmd_leaf(*pmd); if (pmd_leaf(*pmd)) { vmemmap_verify(...);
    #  vmemmap_use_sub_pmd(addr, next); } return large;" -- the sub-PMD bookkeeping is not modelled
    return pgtable.pmd_leaf(s, addr, PMD_SHIFT)


def vmemmap_free(k: Kernel, s: KernelState, start: int, end: int, altmap: int | None) -> KernelState:
    """arch/x86/mm/init_64.c:vmemmap_free() as of v4.5 (4b94ffdc4163)."""
    # remove_pagetable(start, end, false) walks every leaf mapping [start, end)
    freed = []
    meeting = [
        x for x in s.vmemmap if x.index << x.leaf_shift < end and (x.index + x.count) << x.leaf_shift > start
    ]
    for leaf in [x for run in meeting for x in pgtable.leaves_of(run)]:
        lo = leaf.index << leaf.leaf_shift
        hi = lo + (1 << leaf.leaf_shift)
        if hi <= start or lo >= end:
            continue
        if lo >= start and hi <= end:  # IS_ALIGNED(addr, PMD_SIZE) && IS_ALIGNED(next, PMD_SIZE)
            s, to = remove_pmd_table(k, s, leaf, altmap)
            freed.append((leaf, to))
        # Abstraction: a partly covered leaf is only filled with PAGE_INUSE; section memmaps
        # are whole PMDs on x86_64, so that path frees nothing the model tracks.
    return pgtable.clear_leaves(k, s, freed)


def remove_pmd_table(
    k: Kernel, s: KernelState, leaf: VmemmapLeaf, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:remove_pmd_table() as of v4.5 (4b94ffdc4163).

    From v4.16 (24e6d5a59ac7) a PMD goes through free_hugepage_table(); from 7.2
    (x86-vmemmap-free) every vmemmap page through free_vmemmap_pages().
    """
    nr_pages = 1 << (leaf.leaf_shift - k.arch.PAGE_SHIFT)
    if k.variant.has(patches.X86_VMEMMAP_FREE):
        # 7.2: "free_vmemmap_pages(pmd_page(*pmd), PMD_ORDER, altmap);", and from
        # remove_pte_table() "/* We never populate base pages from the altmap. */
        # free_vmemmap_pages(pte_page(*pte), 0, NULL);"
        return free_vmemmap_pages(k, s, nr_pages, altmap if leaf.leaf_shift == PMD_SHIFT else None)
    if k.variant.has(patches.EXPLICIT_ALTMAP) and leaf.leaf_shift == PMD_SHIFT:
        return free_hugepage_table(k, s, altmap)
    # PTE leaves (remove_pte_table) and, before v4.16, PMD leaves too: free_pagetable()
    return free_pagetable(k, s, leaf.pfn, nr_pages)


def free_pagetable(
    k: Kernel, s: KernelState, backing_pfn: Word | None, nr_pages: int
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:free_pagetable() as of v4.5 (4b94ffdc4163).

    From v6.19 (bf9e4e30f353) a page that is not reserved goes to pagetable_free().
    """
    altmap = None
    if (
        backing_pfn is not None
        and k.variant.has(patches.X86_ALTMAP)
        and not k.variant.has(patches.EXPLICIT_ALTMAP)
    ):
        # "struct vmem_altmap *altmap = to_vmem_altmap((unsigned long) page);"
        altmap = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, backing_pfn))
    if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
        altmap = None
    if altmap is not None:
        return sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages), altmap
    # "bootmem page has reserved flag" / free_pages(): back to the page allocator
    if k.variant.has(patches.X86_PAGETABLE_FREE) and nr_pages > 1:
        # v6.19 (bf9e4e30f353): "pagetable_free(page_ptdesc(page));" is "__free_pages(page,
        # compound_order(page));", and a vmemmap block is not a compound page: its first page
        # goes back, the other nr_pages - 1 go nowhere
        return s, FIRST_PAGE_ONLY
    return s, SYSMEM  # free_pages(): accounted when the leaf is cleared


def free_hugepage_table(k: Kernel, s: KernelState, altmap: int | None) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:free_hugepage_table() as of v4.16 (24e6d5a59ac7)."""
    nr_pages = 1 << (PMD_SHIFT - k.arch.PAGE_SHIFT)
    if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
        altmap = None
    if altmap is not None:
        return sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages), altmap
    # "else free_pagetable(page, get_order(PMD_SIZE));"
    return free_pagetable(k, s, None, nr_pages)


def free_vmemmap_pages(
    k: Kernel, s: KernelState, nr_pages: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/x86/mm/init_64.c:free_vmemmap_pages() as of v7.2 (x86-vmemmap-free)."""
    if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
        altmap = None
    if altmap is not None:
        # "if (altmap) { vmem_altmap_free(altmap, nr_pages); }"
        return sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages), altmap
    # "else if (PageReserved(page)) { ... free_reserved_pages(page, nr_pages); } else {
    # __free_pages(page, order); }"
    return s, SYSMEM  # accounted when the leaf is cleared


X86_64 = Arch(
    name="x86_64",
    description="x86_64, 4 KiB pages, 4-level paging, PSE: 2 MiB PMD vmemmap leaves",
    constants=(
        ("PAGE_SHIFT", const(12, "arch/x86/include/asm/page_types.h")),
        ("SECTION_SIZE_BITS", const(27, "arch/x86/include/asm/sparsemem.h")),
        ("MAX_PHYSMEM_BITS", const(46, "arch/x86/include/asm/sparsemem.h (4-level)")),
        ("VMEMMAP_START", const(0xFFFFEA0000000000, "arch/x86/include/asm/pgtable_64_types.h")),
        ("VMEMMAP_SHIFT", const(PMD_SHIFT, "arch/x86/include/asm/pgtable_64_types.h: PMD_SHIFT")),
        ("STRUCT_PAGE_SIZE", const(64, "include/linux/mm_types.h: sizeof(struct page)")),
        ("HOTPLUG_BASE_PFN", const(0x140000, "model choice: 5 GiB, above boot RAM")),
        ("PMD_SHIFT", const(PMD_SHIFT, "arch/x86/include/asm/pgtable_64_types.h")),
        ("pageblock_order", const(9, "include/linux/pageblock-flags.h: HUGETLB_PAGE_ORDER")),
    ),
    zone_device_since="v4.3",
    zone_device_source="mm/Kconfig: config ZONE_DEVICE depends on X86_64 (seed 004)",
    functions=(
        ("arch_add_memory", arch_add_memory),
        ("arch_remove_memory", arch_remove_memory),
        ("vmemmap_populate", vmemmap_populate),
        ("vmemmap_free", vmemmap_free),
        ("vmemmap_check_pmd", vmemmap_check_pmd),
    ),
    capabilities=(
        ("altmap", Capability(patches.X86_ALTMAP, "arch/x86/mm/init_64.c: vmemmap_populate_hugepages()")),
        (
            "pmd_falls_back_to_base_pages",
            Capability(None, 'arch/x86/mm/init_64.c: "vmemmap: falling back to regular page backing"'),
        ),
        (
            "memmap_on_memory",
            Capability(
                patches.MEMMAP_ON_MEMORY, "arch/x86/Kconfig: ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE (f91ef2223dc4)"
            ),
        ),
        (
            "optimize_dax_vmemmap",
            Capability(
                None,
                "arch/x86/Kconfig: select ARCH_WANT_OPTIMIZE_DAX_VMEMMAP if X86_64 (the HVO option "
                "87a7ae75d738 tested in v6.4)",
            ),
        ),
    ),
)

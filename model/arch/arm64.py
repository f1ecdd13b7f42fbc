"""arch/arm64/mm/mmu.c: arm64 constants per granule, memory add/remove, PMD and base-page vmemmap."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model import pgtable
from mhpcheck.model.arch import Arch, Capability, Constant, const
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, sparse_vmemmap
from mhpcheck.model.state import SYSMEM, KernelState
from mhpcheck.model.variants import mutants, patches

PMD_SHIFT_4K = 21  # arch/arm64/include/asm/pgtable-hwdef.h with 4K pages


def arch_add_memory(
    k: Kernel,
    s: KernelState,
    nid: int,
    start_pfn: Word,
    nr_pages: Word,
    for_device: bool,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """arch/arm64/mm/mmu.c:arch_add_memory() as of v5.9 (01091d25, seed 003)."""
    k.call("arch_add_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    # __create_pgd_mapping() of the linear map is not modelled.
    return memory_hotplug._add_pages(k, s, nid, None, start_pfn, nr_pages, altmap)


def arch_remove_memory(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/arm64/mm/mmu.c:arch_remove_memory() as of v5.9 (01091d25, seed 003)."""
    k.call("arch_remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    # __remove_pages(start_pfn, nr_pages, altmap); __remove_pgd_mapping(): linear map not modelled
    return memory_hotplug._remove_pages(k, s, None, start_pfn, nr_pages, altmap)


def vmemmap_populate(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/arm64/mm/mmu.c:vmemmap_populate() as of v5.9 (01091d25, seed 003).

    From v5.11 (9f84f39f5515) a PMD that cannot be allocated is populated with base pages, from
    the same altmap if there is one; from v6.2 (2045a3b8911b) the PMD loop is the generic
    vmemmap_populate_hugepages(); from v6.14 (d4234d131b0a) a range smaller than a section gets
    base pages, from its altmap if it has one.
    """
    if not k.variant.has(patches.ARM64_ALTMAP):
        altmap = None  # before seed 003 the altmap argument is ignored
    if k.arch.VMEMMAP_SHIFT != PMD_SHIFT_4K:  # !ARM64_SWAPPER_USES_SECTION_MAPS
        return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, altmap)
    if (
        k.variant.has(patches.ARM64_SUBSECTION_BASEPAGES)
        and end - start < k.arch.PAGES_PER_SECTION * k.arch.STRUCT_PAGE_SIZE
    ):
        # v6.14: "if (!IS_ENABLED(CONFIG_ARM64_4K_PAGES) || (end - start < PAGES_PER_SECTION *
        # sizeof(struct page))) return vmemmap_populate_basepages(start, end, node, altmap);"
        return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, altmap)
    if k.variant.has(patches.GENERIC_VMEMMAP_HUGEPAGES):
        # "else return vmemmap_populate_hugepages(start, end, node, altmap);"
        return sparse_vmemmap.vmemmap_populate_hugepages(k, s, start, end, node, altmap)
    addr = start
    while addr < end:
        nxt = min(((addr >> PMD_SHIFT_4K) + 1) << PMD_SHIFT_4K, end)  # pmd_addr_end()
        if pgtable.pmd_none(s, addr, PMD_SHIFT_4K):  # pmd_none(READ_ONCE(*pmdp))
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << PMD_SHIFT_4K, node, altmap)
            if src is None:
                if not k.variant.has(patches.ARM64_VMEMMAP_FALLBACK):
                    return s, -ENOMEM
                # v5.11: "if (!p) { if (vmemmap_populate_basepages(addr, next, node, altmap))
                # return -ENOMEM; continue; }"
                s, err = sparse_vmemmap.vmemmap_populate_basepages(k, s, addr, nxt, node, altmap)
                if err:
                    return s, -ENOMEM
                addr = nxt
                continue
            s = pgtable.set_leaf(
                k, s, addr >> PMD_SHIFT_4K, PMD_SHIFT_4K, src, pfn
            )  # pmd_set_huge(pmdp, __pa(p), __pgprot(PROT_SECT_NORMAL))
        # else: vmemmap_verify((pte_t *)pmdp, node, addr, next), whatever the PMD holds
        addr = nxt
    return s, 0


def vmemmap_check_pmd(k: Kernel, s: KernelState, addr: int, end: int) -> bool:
    """arch/arm64/mm/mmu.c:vmemmap_check_pmd() as of v6.2 (2045a3b8911b)."""
    # "vmemmap_verify((pte_t *)pmdp, node, addr, next); return 1;": any PMD that is not none,
    # a PTE table too, counts as populated. 7.2 removed this copy for the generic one, which
    # tests pmd_leaf().
    if k.variant.has(patches.GENERIC_VMEMMAP_PMD):
        return sparse_vmemmap.vmemmap_check_pmd(k, s, addr, end)
    return True


def vmemmap_free(k: Kernel, s: KernelState, start: int, end: int, altmap: int | None) -> KernelState:
    """arch/arm64/mm/mmu.c:vmemmap_free() as of v5.9 (01091d25, seed 003)."""
    if not k.variant.has(patches.ARM64_ALTMAP):
        altmap = None
    # unmap_hotplug_range(start, end, true, altmap); free_empty_tables(start, end, ...)
    freed = []
    for leaf in pgtable.leaves_in(s, start, end):
        # A PMD leaf is cleared and freed even when [addr, next) covers only part of it; so is a
        # base page ("do { ... } while (addr += PAGE_SIZE, addr < end);").
        s, to = free_hotplug_page_range(k, s, leaf.leaf_shift, altmap)
        freed.append((leaf, to))
    return pgtable.clear_leaves(k, s, freed)


def free_hotplug_page_range(
    k: Kernel, s: KernelState, leaf_shift: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/arm64/mm/mmu.c:free_hotplug_page_range() as of v5.9 (01091d25, seed 003)."""
    nr_pages = 1 << (leaf_shift - k.arch.PAGE_SHIFT)
    if k.variant.mutated(mutants.ALTMAP_FREED_TO_BUDDY):
        altmap = None
    if altmap is not None:
        if k.variant.mutated(mutants.ALTMAP_NOT_FREED):
            return s, altmap
        return sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages), altmap
    return s, SYSMEM  # free_pages(): accounted when the leaf is cleared


@helper
def _arm64(
    name: str, page_shift: int, vmemmap_shift: int, bits_after_5_12: int, desc: str, vmemmap_start: int
) -> Arch:
    """The Arch record of one arm64 page-size configuration."""
    return Arch(
        name=name,
        description=desc,
        constants=(
            ("PAGE_SHIFT", const(page_shift, "arch/arm64/include/asm/page-def.h")),
            (
                "SECTION_SIZE_BITS",
                Constant(
                    (("v4.0", 30), ("v5.12", bits_after_5_12)),
                    "arch/arm64/include/asm/sparsemem.h (f0b13ee23241, v5.12, reduced it)",
                ),
            ),
            ("MAX_PHYSMEM_BITS", const(48, "arch/arm64/include/asm/sparsemem.h: CONFIG_ARM64_PA_BITS")),
            ("VMEMMAP_START", const(vmemmap_start, "arch/arm64/include/asm/memory.h, VA_BITS=48")),
            ("VMEMMAP_SHIFT", const(vmemmap_shift, "arch/arm64/mm/mmu.c: PMD maps with 4K, else base pages")),
            ("STRUCT_PAGE_SIZE", const(64, "include/linux/mm_types.h: sizeof(struct page)")),
            ("HOTPLUG_BASE_PFN", const((1 << 36) >> page_shift, "model choice: 64 GiB")),
            (
                "PMD_SHIFT",
                const(
                    (page_shift - 3) * 2 + 3,
                    "arch/arm64/include/asm/pgtable-hwdef.h: ARM64_HW_PGTABLE_LEVEL_SHIFT(2)",
                ),
            ),
            (
                "pageblock_order",
                const(
                    (page_shift - 3) * 2 + 3 - page_shift,
                    "include/linux/pageblock-flags.h: MIN_T(HUGETLB_PAGE_ORDER, MAX_PAGE_ORDER); "
                    "arch/arm64/Kconfig ARCH_FORCE_MAX_ORDER 10, 11, 13 does not cut PMD_SHIFT - PAGE_SHIFT",
                ),
            ),
        ),
        zone_device_since="v5.7",
        zone_device_source="arch/arm64/Kconfig: select ARCH_ENABLE_MEMORY_HOTREMOVE (bbd6ec605c0f), "
        "which mm/Kconfig's ZONE_DEVICE depends on",
        functions=(
            ("arch_add_memory", arch_add_memory),
            ("arch_remove_memory", arch_remove_memory),
            ("vmemmap_populate", vmemmap_populate),
            ("vmemmap_free", vmemmap_free),
            ("vmemmap_check_pmd", vmemmap_check_pmd),
        ),
        capabilities=(
            (
                "altmap",
                Capability(patches.ARM64_ALTMAP, "arch/arm64/mm/mmu.c: vmemmap_populate() (seed 003)"),
            ),
            *(_PMD_FALLBACKS if vmemmap_shift == PMD_SHIFT_4K else ()),
            (
                "memmap_on_memory",
                Capability(
                    patches.MEMMAP_ON_MEMORY,
                    "arch/arm64/Kconfig: ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE (ca6e51d592d2)",
                ),
            ),
        ),
    )


# With 4K pages the vmemmap is mapped with PMDs, and a PMD that cannot be allocated falls back
_PMD_FALLBACKS = (
    (
        "pmd_falls_back_to_base_pages",
        Capability(
            patches.ARM64_VMEMMAP_FALLBACK,
            "arch/arm64/mm/mmu.c: vmemmap_populate() (9f84f39f5515); from v6.2 the generic "
            "vmemmap_populate_hugepages()",
        ),
    ),
    (
        "altmap_pmd_falls_back_to_base_pages",
        Capability(
            patches.ARM64_VMEMMAP_FALLBACK,
            "arch/arm64/mm/mmu.c: vmemmap_populate(): vmemmap_populate_basepages(addr, next, node, "
            "altmap) (9f84f39f5515), until the generic loop's 'No fallback' (2045a3b8911b)",
            until=patches.GENERIC_VMEMMAP_HUGEPAGES,
        ),
    ),
)


ARM64_4K = _arm64(
    "arm64-4k", 12, PMD_SHIFT_4K, 27, "arm64, 4 KiB granule: 2 MiB PMD vmemmap leaves", 0xFFFFFDFFFE000000
)
ARM64_16K = _arm64(
    "arm64-16k",
    14,
    14,
    27,
    "arm64, 16 KiB granule: base-page vmemmap (vmemmap_populate_basepages)",
    0xFFFFFDFFFE000000,
)
ARM64_64K = _arm64(
    "arm64-64k",
    16,
    16,
    29,
    "arm64, 64 KiB granule: base-page vmemmap (vmemmap_populate_basepages)",
    0xFFFFFDFFFE000000,
)

"""Re-introduces into 7.2 what 39406c05f8f1 ("x86/mm: Fix freeing of PMD-sized vmemmap pages",
David Hildenbrand; Fixes: bf9e4e30f353, Cc stable) fixed: since bf9e4e30f353 (v6.19) a 2 MiB
vmemmap block from RAM went back through free_pagetable(), whose pagetable_free() is
"__free_pages(page, compound_order(page))"; a vmemmap block is not a compound page, so its first
page was freed and the other 511 leaked. 39406c05f8f1 is the Commit-ID of the x86/mm branch of
tip (tip-bot2, 2026-05-27); the model's patch record (x86-vmemmap-free) has no mainline id.

arch/x86/mm/init_64.c before the fix:

    static void __meminit free_hugepage_table(struct page *page,
                    struct vmem_altmap *altmap)
    {
            if (altmap)
                    vmem_altmap_free(altmap, PMD_SIZE / PAGE_SIZE);
            else
                    free_pagetable(page, get_order(PMD_SIZE));
    }

with free_pagetable() ending in "pagetable_free(page_ptdesc(page));", and in remove_pte_table()
"free_pagetable(pte_page(*pte), 0);". After it remove_pmd_table() calls
"free_vmemmap_pages(pmd_page(*pmd), PMD_ORDER, altmap);", which ends in
"__free_pages(page, order);".
"""

from mhpcheck.model.arch import x86_64
from mhpcheck.model.state import SYSMEM
from mhpcheck.patching import replaces


@replaces("arch/x86/mm/init_64.c:remove_pmd_table")
def remove_pmd_table(k, s, leaf, altmap):
    if leaf.leaf_shift == x86_64.PMD_SHIFT:
        return x86_64.free_hugepage_table(k, s, altmap)  # free_hugepage_table(pmd_page(*pmd), altmap)
    nr_pages = 1 << (leaf.leaf_shift - k.arch.PAGE_SHIFT)  # remove_pte_table(): free_pagetable(page, 0)
    return x86_64.free_pagetable(k, s, leaf.pfn if leaf.source != SYSMEM else None, nr_pages)

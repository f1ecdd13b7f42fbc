"""Re-introduces into v6.17 what 9cf7e13fecba ("book3s64/radix : Align section vmemmap start
address to PAGE_SIZE", Donet Tom, v6.15; Fixes: 368a0590d954) fixed: with 64 KiB pages one base
page of vmemmap holds the struct pages of four sections, and a section's memmap need not start
on a page. radix__vmemmap_populate() ran its altmap boundary test on the unaligned start, so it
saw only the new namespace's pfns and took from that namespace's altmap a page whose first
struct pages belong to the namespace before it.

arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_populate() before the fix (v6.14):

        for (addr = start; addr < end; addr = next) {
                next = pmd_addr_end(addr, end);

after it (v6.15), and as f5164797284d (v6.17) kept it for an altmap:

        if (altmap)
                start = ALIGN_DOWN(start, PAGE_SIZE);
        else
                start = ALIGN_DOWN(start, PMD_SIZE);

        for (addr = start; addr < end; addr = next) {

The patch drops the altmap half of that alignment and keeps the rest of the v6.17 loop:

                        if (altmap && (!IS_ALIGNED(addr, PMD_SIZE) ||
                            altmap_cross_boundary(altmap, addr, PMD_SIZE))) {
                                goto base_mapping;
                        }
"""

from mhpcheck.model import pgtable
from mhpcheck.model.arch import powerpc64
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_populate")
def radix__vmemmap_populate(k, s, start, end, node, altmap):
    page_size, pmd_size = 1 << k.arch.PAGE_SHIFT, 1 << k.arch.PMD_SHIFT
    if altmap is None:
        start = start & ~(pmd_size - 1)  # "start = ALIGN_DOWN(start, PMD_SIZE);"
    # with an altmap start stays where the section's memmap begins: the bug
    addr = start
    while addr < end:
        nxt = min(((addr >> k.arch.PMD_SHIFT) + 1) << k.arch.PMD_SHIFT, end)  # pmd_addr_end(addr, end)
        if pgtable.pmd_none(s, addr, k.arch.PMD_SHIFT):
            unaligned = addr & (pmd_size - 1) != 0
            if not (
                altmap is not None
                and (unaligned or powerpc64.altmap_cross_boundary(k, s, altmap, addr, pmd_size))
            ):
                s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, pmd_size, node, altmap)
                if src is not None:
                    s = pgtable.set_leaf(k, s, addr >> k.arch.PMD_SHIFT, k.arch.PMD_SHIFT, src, pfn)
                    addr = nxt
                    continue
        elif pgtable.pmd_leaf(s, addr, k.arch.PMD_SHIFT):  # vmemmap_check_pmd()
            addr = nxt
            continue
        # base_mapping: radix__vmemmap_pte_populate(pmd, addr, node, altmap, NULL)
        s, err = powerpc64.radix__vmemmap_pte_populate(k, s, addr, node, altmap)
        if err:
            return s, -ENOMEM
        addr = addr + page_size  # "next = addr + PAGE_SIZE;"
    return s, 0

"""Re-introduces into v5.15 what 9f84f39f5515 ("arm64/mm: add fallback option to allocate
virtually contiguous memory", Sudarshan Rajagopalan, v5.11) changed: with 4K pages a 2 MiB PMD of
vmemmap that could not be allocated failed the whole hot-add, where base pages would have done.

arch/arm64/mm/mmu.c:vmemmap_populate() before the fix (v5.10):

                pmdp = pmd_offset(pudp, addr);
                if (pmd_none(READ_ONCE(*pmdp))) {
                        void *p = NULL;

                        p = vmemmap_alloc_block_buf(PMD_SIZE, node, altmap);
                        if (!p)
                                return -ENOMEM;

                        pmd_set_huge(pmdp, __pa(p), __pgprot(PROT_SECT_NORMAL));
                } else
                        vmemmap_verify((pte_t *)pmdp, node, addr, next);

after it:

                        p = vmemmap_alloc_block_buf(PMD_SIZE, node, altmap);
                        if (!p) {
                                if (vmemmap_populate_basepages(addr, next, node, altmap))
                                        return -ENOMEM;
                                continue;
                        }

No property says that an add must succeed while base pages are to be had. What the model sees
is what the failure costs: __add_pages() stops at the failing section and nobody removes the
sections it added before it (finding failed-add-leaks-sections), on a sequence where the
kernel with the fix falls back and succeeds.
"""

from mhpcheck.model import pgtable
from mhpcheck.model.arch import arm64
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("arch/arm64/mm/mmu.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    if k.arch.VMEMMAP_SHIFT != arm64.PMD_SHIFT_4K:  # !ARM64_SWAPPER_USES_SECTION_MAPS
        return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, altmap)
    shift = arm64.PMD_SHIFT_4K
    addr = start
    while addr < end:
        nxt = min(((addr >> shift) + 1) << shift, end)  # pmd_addr_end(addr, end)
        if pgtable.pmd_none(s, addr, shift):
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << shift, node, altmap)
            if src is None:
                return s, -ENOMEM  # no fallback
            s = pgtable.set_leaf(k, s, addr >> shift, shift, src, pfn)  # pmd_set_huge()
        addr = nxt
    return s, 0

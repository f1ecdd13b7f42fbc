"""radix__vmemmap_populate()'s failed PMD allocation as it was before 58450938f771
("book3s64/radix : Handle error conditions properly in radix_vmemmap_populate", Donet Tom, v6.17),
written back into the v6.17 model. The commit made every failed PMD allocation jump to the base
mapping; before it only one with an altmap jumped, and one without fell out of the pmd_none()
block onto the same label. A reviewer's cleanup: diff must call it identical.

arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_populate() before it:

                        p = vmemmap_alloc_block_buf(PMD_SIZE, node, altmap);
                        if (p) {
                                vmemmap_set_pmd(pmd, p, node, addr, next);
                                pr_debug("PMD_SIZE vmemmap mapping\\n");
                                continue;
                        } else if (altmap) {
                                goto base_mapping;
                        }
                } else if (vmemmap_check_pmd(pmd, node, addr, next)) {
                        continue;
                }
base_mapping:

after it: "} else { goto base_mapping; }".
"""

from mhpcheck.model import pgtable
from mhpcheck.model.arch import powerpc64
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/book3s64/radix_pgtable.c:radix__vmemmap_populate")
def radix__vmemmap_populate(k, s, start, end, node, altmap):
    page_size, pmd_size = 1 << k.arch.PAGE_SHIFT, 1 << k.arch.PMD_SHIFT
    # f5164797284d (v6.17): "if (altmap) start = ALIGN_DOWN(start, PAGE_SIZE); else start =
    # ALIGN_DOWN(start, PMD_SIZE);"
    start = start & ~((page_size if altmap is not None else pmd_size) - 1)
    addr = start
    while addr < end:
        nxt = min(((addr >> k.arch.PMD_SHIFT) + 1) << k.arch.PMD_SHIFT, end)  # pmd_addr_end(addr, end)
        if pgtable.pmd_none(s, addr, k.arch.PMD_SHIFT):
            unaligned = addr & (pmd_size - 1) != 0
            if altmap is not None and (
                unaligned or powerpc64.altmap_cross_boundary(k, s, altmap, addr, pmd_size)
            ):
                pass  # goto base_mapping
            else:
                s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, pmd_size, node, altmap)
                if src is not None:
                    s = pgtable.set_leaf(k, s, addr >> k.arch.PMD_SHIFT, k.arch.PMD_SHIFT, src, pfn)
                    addr = nxt
                    continue
                # "} else if (altmap) { goto base_mapping; }": and without an altmap the failed
                # allocation falls out of the if/else chain onto base_mapping all the same
        elif pgtable.pmd_leaf(s, addr, k.arch.PMD_SHIFT):  # vmemmap_check_pmd()
            addr = nxt
            continue
        # base_mapping:
        s, err = powerpc64.radix__vmemmap_pte_populate(k, s, addr, node, altmap)
        if err:
            return s, -ENOMEM
        addr = addr + page_size  # "next = addr + PAGE_SIZE;"
    return s, 0

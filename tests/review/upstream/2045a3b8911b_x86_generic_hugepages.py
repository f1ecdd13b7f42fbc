"""x86's vmemmap_populate_hugepages() as 2045a3b8911b ("mm/sparse-vmemmap: generalise
vmemmap_populate_hugepages()", Feiyang Chen, v6.2) made it: the generic loop with the
vmemmap_set_pmd() and vmemmap_check_pmd() hooks, whose base-page fallback now passes the altmap.

mm/sparse-vmemmap.c:vmemmap_populate_hugepages() as of 6.12:

                pmd = pmd_offset(pud, addr);
                if (pmd_none(pmdp_get(pmd))) {
                        void *p;

                        p = vmemmap_alloc_block_buf(PMD_SIZE, node, altmap);
                        if (p) {
                                vmemmap_set_pmd(pmd, p, node, addr, next);
                                continue;
                        } else if (altmap) {
                                return -ENOMEM;
                        }
                } else if (vmemmap_check_pmd(pmd, node, addr, next))
                        continue;
                if (vmemmap_populate_basepages(addr, next, node, altmap))
                        return -ENOMEM;

where x86's own loop (6.1) ended "if (vmemmap_populate_basepages(addr, next, node, NULL))".
The fallback runs with an altmap only over a PMD already mapped by base pages, which a
whole-section range never meets: a reviewer's refactor, and diff must call it identical.
"""

from mhpcheck.model import pgtable
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces

PMD_SHIFT = 21


def vmemmap_set_pmd(k, s, addr, src, pfn):
    return pgtable.set_leaf(k, s, addr >> PMD_SHIFT, PMD_SHIFT, src, pfn)


def vmemmap_check_pmd(leaf):
    return leaf.leaf_shift == PMD_SHIFT  # pmd_leaf(*pmd)


@replaces("arch/x86/mm/init_64.c:vmemmap_populate_hugepages")
def vmemmap_populate_hugepages(k, s, start, end, node, altmap):
    addr = start
    while addr < end:
        nxt = min(((addr >> PMD_SHIFT) + 1) << PMD_SHIFT, end)
        leaf = pgtable.leaf_at(s, addr)
        if leaf is None:
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, 1 << PMD_SHIFT, node, altmap)
            if src is not None:
                s = vmemmap_set_pmd(k, s, addr, src, pfn)
                addr = nxt
                continue
            if altmap is not None:
                return s, -ENOMEM
        elif vmemmap_check_pmd(leaf):
            addr = nxt
            continue
        s, err = sparse_vmemmap.vmemmap_populate_basepages(k, s, addr, nxt, node, altmap)
        if err:
            return s, -ENOMEM
        addr = nxt
    return s, 0

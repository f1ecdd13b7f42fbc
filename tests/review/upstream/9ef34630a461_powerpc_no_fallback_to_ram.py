"""Re-introduces into v5.9 what 9ef34630a461 ("powerpc/mm: Fallback to RAM if the altmap is
unusable", v5.0) fixed: an altmap that cannot back a 16 MiB (hash) or 2 MiB (radix) vmemmap
page failed the add with -ENOMEM, and vmemmap_free() gave every page back to the caller's
altmap, RAM-backed ones included. The v5.9 end_pfn test (cf387d9644d8) is kept.

arch/powerpc/mm/init_64.c as of v5.9 (the fix):

                if (altmap && !altmap_cross_boundary(altmap, start, page_size)) {
                        p = altmap_alloc_block_buf(page_size, altmap);
                        if (!p)
                                pr_debug("altmap block allocation failed, falling back to system memory");
                }
                if (!p)
                        p = vmemmap_alloc_block_buf(page_size, node);

and in vmemmap_free():

                if (base_pfn >= alt_start && base_pfn < alt_end) {
                        vmem_altmap_free(altmap, nr_pages);
"""

from mhpcheck.model import pgtable
from mhpcheck.model.arch import powerpc64
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.events import AltmapFallback
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.model.state import SYSMEM
from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/init_64.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    page_size = 1 << k.arch.VMEMMAP_SHIFT
    start = start & ~(page_size - 1)
    while start < end:
        if powerpc64.vmemmap_populated(k, s, start, page_size):
            start += page_size
            continue
        use = altmap
        if use is not None and powerpc64.altmap_cross_boundary(k, s, use, start, page_size):
            k.trace(AltmapFallback(start >> k.arch.VMEMMAP_SHIFT, "cross-boundary", k.arch.VMEMMAP_SHIFT))
            use = None  # v5.9: the page describes pfns outside the device
        s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, use)
        if src is None:
            return s, -ENOMEM  # no fallback
        s = pgtable.set_leaf(k, s, start >> k.arch.VMEMMAP_SHIFT, k.arch.VMEMMAP_SHIFT, src, pfn)
        start += page_size
    return s, 0


@replaces("arch/powerpc/mm/init_64.c:vmemmap_free")
def vmemmap_free(k, s, start, end, altmap):
    page_size = 1 << k.arch.VMEMMAP_SHIFT
    nr_pages = page_size >> k.arch.PAGE_SHIFT
    start = start & ~(page_size - 1)
    while start < end:
        if powerpc64.vmemmap_populated(k, s, start, page_size):
            start += page_size
            continue
        leaf = pgtable.leaf_at(s, start)
        if leaf is None:
            start += page_size
            continue
        if altmap is not None:  # "if (altmap) vmem_altmap_free(altmap, nr_pages);"
            s = sparse_vmemmap.vmem_altmap_free(k, s, altmap, nr_pages)
            to = altmap
        else:
            to = SYSMEM
        s = pgtable.clear_leaf(k, s, leaf, to)
        start += page_size
    return s

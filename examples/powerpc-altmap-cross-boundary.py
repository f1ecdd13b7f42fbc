"""Design review of a powerpc change: never back another namespace's struct pages from an altmap.

Modelled on the upstream fix by Aneesh Kumar K.V (2019) that gave struct vmem_altmap an end_pfn
and made powerpc's vmemmap_populate() test altmap_cross_boundary(): a 16 MiB (hash) or 2 MiB
(radix) vmemmap page describes 1024 or 128 sections, so the first device to populate it could
back its neighbours' struct pages from its own altmap. Applied here to the v4.13 model:

    mhpcheck diff --variant v4.13 --patch examples/powerpc-altmap-cross-boundary.py --arch powerpc64-hash
"""

from mhpcheck.model import pgtable
from mhpcheck.model.arch import powerpc64
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.events import AltmapFallback
from mhpcheck.model.ops import memremap, sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/init_64.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    page_size = 1 << k.arch.VMEMMAP_SHIFT
    start = start & ~(page_size - 1)
    while start < end:
        if powerpc64.vmemmap_populated(k, s, start, page_size):
            start += page_size
            continue
        # altmap = to_vmem_altmap(SECTION_ALIGN_DOWN(start)), as at v4.13
        aligned = (k.arch.VMEMMAP_START + start) & ~(k.arch.PAGES_PER_SECTION - 1)
        use = memremap.to_vmem_altmap(k, s, k.sem.word(aligned))
        # the change: an altmap only backs a vmemmap page whose pfns all lie in its namespace
        index = start >> k.arch.VMEMMAP_SHIFT
        if use is not None and powerpc64.altmap_cross_boundary(k, s, use, start, page_size):
            # the deliberate fallback, traced
            k.trace(AltmapFallback(index, "cross-boundary", k.arch.VMEMMAP_SHIFT))
            use = None
        s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, use)
        if src is None and use is not None:  # and falls back to system memory
            k.trace(AltmapFallback(index, "exhausted", k.arch.VMEMMAP_SHIFT))
            s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, None)
        if src is None:
            return s, -ENOMEM
        s = pgtable.set_leaf(k, s, start >> k.arch.VMEMMAP_SHIFT, k.arch.VMEMMAP_SHIFT, src, pfn)
        start += page_size
    return s, 0

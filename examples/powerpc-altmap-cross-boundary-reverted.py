# Patch file for mhpcheck: arch/powerpc/mm/init_64.c:vmemmap_populate() as the model runs it at v6.12
# (from model/arch/powerpc64.py). Edit the body to follow the C change, keep the signature, then:
#   mhpcheck diff --variant v6.12 --patch <this file>
#   mhpcheck check --variant v6.12 --patch <this file>
#
# The C change under review (against Debian linux-source-6.12 6.12.118-1~deb12u1, 6.12.118):
#   --- a/arch/powerpc/mm/init_64.c
#   +++ b/arch/powerpc/mm/init_64.c
#   @@ -228,7 +228,7 @@
#    		 * fail due to alignment issues when using 16MB hugepages, so
#    		 * fall back to system memory if the altmap allocation fail.
#    		 */
#   -		if (altmap && !altmap_cross_boundary(altmap, start, page_size)) {
#   +		if (altmap) {
#    			p = vmemmap_alloc_block_buf(page_size, node, altmap);
#    			if (!p)
#    				pr_debug("altmap block allocation failed, falling back to system memory");

from __future__ import annotations

from mhpcheck.model import pgtable
from mhpcheck.model.arch.powerpc64 import vmemmap_populated
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.events import AltmapFallback
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memremap, sparse_vmemmap
from mhpcheck.model.state import KernelState
from mhpcheck.model.variants import patches
from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/init_64.c:vmemmap_populate")
def vmemmap_populate(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: int | None
) -> tuple[KernelState, int]:
    """arch/powerpc/mm/init_64.c:vmemmap_populate() as of v4.13 (d85431d1, seed 002)."""
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
            # the change under review: no altmap_cross_boundary() test
        s, src, pfn = sparse_vmemmap.vmemmap_alloc_block_buf(k, s, page_size, node, use)
        if src is None and use is not None and k.variant.has(patches.POWERPC_ALTMAP_FALLBACK):
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

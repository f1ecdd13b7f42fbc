"""Re-introduces into v5.9 what cf387d9644d8 ("libnvdimm/altmap: Track namespace boundaries in
altmap", Aneesh Kumar K.V, v5.5) fixed: powerpc took a vmemmap page from a namespace's altmap
even when the page describes pfns of other namespaces.

arch/powerpc/mm/init_64.c:vmemmap_populate(), before the fix:

                if (altmap) {
                        p = altmap_alloc_block_buf(page_size, altmap);

after it:

                if (altmap && !altmap_cross_boundary(altmap, start, page_size)) {

with altmap_cross_boundary() true when [start_pfn, start_pfn + nr_pfn) leaves
[altmap->base_pfn, altmap->end_pfn). The patch makes the test say "never crosses".
"""

from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/init_64.c:altmap_cross_boundary")
def altmap_cross_boundary(k, s, altmap, start, page_size):
    return False

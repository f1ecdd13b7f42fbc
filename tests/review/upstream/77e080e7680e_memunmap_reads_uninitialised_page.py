"""Re-introduces into v5.9 what 77e080e7680e ("mm/memunmap: don't access uninitialized memmap in
memunmap_pages()", v5.5) fixed: memunmap_pages() looked at the struct page of the range's first
pfn, which with an altmap is the driver's reserve (the nd_pfn info block), whose struct pages
memmap_init_zone() skips and memmap_init_zone_device() never reaches.

mm/memremap.c:memunmap_pages() before the fix (v5.3):

        /* pages are dead and unused, undo the arch mapping */
        nid = page_to_nid(pfn_to_page(PHYS_PFN(res->start)));

after it (v5.5):

        /* make sure to access a memmap that was actually initialized */
        first_page = pfn_to_page(pfn_first(pgmap));

        /* pages are dead and unused, undo the arch mapping */
        nid = page_to_nid(first_page);
"""

from mhpcheck.model.events import AltmapReleased, PageRead
from mhpcheck.model.ops import memremap
from mhpcheck.patching import replaces


@replaces("mm/memremap.c:memunmap_pages")
def memunmap_pages(k, s, dev):
    r = s.range_of(dev)
    altmap = dev if r.altmap is not None else None
    # the bug: the struct page of PHYS_PFN(res->start)
    k.trace(PageRead("memunmap_pages", r.start_pfn, r.start_pfn, r.start_pfn + r.nr_pages))
    s, ret = k.arch.arch_remove_memory(k, s, r.start_pfn, r.nr_pages, altmap)
    r = s.range_of(dev)
    s = memremap._pgmap_delete(s, dev)
    if r.altmap is not None:
        k.trace(AltmapReleased(dev, r.altmap.alloc))
    return s, ret

"""Re-introduces into v5.9 what 77e080e7680e ("mm/memunmap: don't access uninitialized memmap in
memunmap_pages()", Aneesh Kumar K.V and David Hildenbrand, v5.4; Fixes: 2c2a5af6fed2) fixed:
memunmap_pages() reads the node and zone from the struct page of the range's first pfn. With an
altmap that pfn is the driver's reserve (the nd_pfn info block), whose struct page
memmap_init_zone() skips and memmap_init_zone_device() never reaches, so the read is garbage
("kernel BUG at include/linux/mm.h" when a namespace was destroyed).

mm/memremap.c:memunmap_pages() before the fix (v5.3):

        /* pages are dead and unused, undo the arch mapping */
        nid = page_to_nid(pfn_to_page(PHYS_PFN(res->start)));

        mem_hotplug_begin();
        if (pgmap->type == MEMORY_DEVICE_PRIVATE) {
                pfn = PHYS_PFN(res->start);
                __remove_pages(page_zone(pfn_to_page(pfn)), pfn,
                                 PHYS_PFN(resource_size(res)), NULL);

after it (6.1's pageunmap_range(), the same lines per range):

        /* make sure to access a memmap that was actually initialized */
        first_page = pfn_to_page(pfn_first(pgmap, range_id));
        ...
        remove_pfn_range_from_zone(page_zone(first_page), PHYS_PFN(range->start),
                                   PHYS_PFN(range_len(range)));
"""

from mhpcheck.model.events import AltmapReleased, PageRead
from mhpcheck.model.ops import memremap
from mhpcheck.patching import replaces


@replaces("mm/memremap.c:memunmap_pages")
def memunmap_pages(k, s, dev):
    r = s.range_of(dev)
    altmap = dev if r.altmap is not None else None  # pgmap_altmap(pgmap)
    # the bug: "nid = page_to_nid(pfn_to_page(PHYS_PFN(res->start)));"
    first = r.start_pfn
    k.trace(PageRead("memunmap_pages", first, r.start_pfn, r.start_pfn + r.nr_pages))
    s, ret = k.arch.arch_remove_memory(k, s, r.start_pfn, r.nr_pages, altmap)
    r = s.range_of(dev)
    s = memremap._pgmap_delete(s, dev)
    if r.altmap is not None:
        # WARN_ONCE(pgmap->altmap.alloc, "failed to free all reserved pages\n")
        k.trace(AltmapReleased(dev, r.altmap.alloc))
    return s, ret

"""Re-introduces into v5.9 what feee6b298916 ("mm/memory_hotplug: shrink zones when offlining
memory", David Hildenbrand, v5.5) removed: arch_remove_memory() read the zone from the struct
page just past the altmap area. __add_pages() accepts an altmap whose vmem_altmap_offset() is
the whole range ("vmem_altmap_offset(altmap) > nr_pages" refuses only more), so that struct page
is the one after the range: another range's, or in a section with no memmap at all.

arch/x86/mm/init_64.c:arch_remove_memory() before the fix (v5.4):

        struct page *page = pfn_to_page(start_pfn) + vmem_altmap_offset(altmap);
        struct zone *zone = page_zone(page);

        __remove_pages(zone, start_pfn, nr_pages, altmap);

arch/powerpc/mm/mem.c:arch_remove_memory() before the fix:

        struct page *page = pfn_to_page(start_pfn) + vmem_altmap_offset(altmap);
        int ret;

        __remove_pages(page_zone(page), start_pfn, nr_pages, altmap);

after it, both: "__remove_pages(start_pfn, nr_pages, altmap);". The zone __remove_pages() then
shrank is not modelled from v5.5 on; the read is what the patch puts back.
"""

from mhpcheck.model.ops import memory_hotplug, memremap
from mhpcheck.patching import replaces


def _zone_of_first_mapped_page(k, s, start_pfn, altmap):
    page_pfn = start_pfn  # pfn_to_page(start_pfn)
    if altmap is not None:
        page_pfn = page_pfn + memremap.vmem_altmap_offset(
            k, s.altmap_of(altmap)
        )  # + vmem_altmap_offset(altmap)
    return memory_hotplug.page_zone(k, s, page_pfn, "arch_remove_memory")  # page_zone(page)


@replaces("arch/x86/mm/init_64.c:arch_remove_memory")
def arch_remove_memory(k, s, start_pfn, nr_pages, altmap):
    k.call("arch_remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    zone = _zone_of_first_mapped_page(k, s, start_pfn, altmap)
    return memory_hotplug._remove_pages(k, s, zone, start_pfn, nr_pages, altmap)


@replaces("arch/powerpc/mm/mem.c:arch_remove_memory")
def powerpc_arch_remove_memory(k, s, start_pfn, nr_pages, altmap):
    k.call("arch_remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    zone = _zone_of_first_mapped_page(k, s, start_pfn, altmap)
    return memory_hotplug._remove_pages(k, s, zone, start_pfn, nr_pages, altmap)

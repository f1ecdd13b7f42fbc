"""Re-introduces what c8eebc4a99f1 ("powerpc/mm/dax: Fix the condition when checking if altmap
vmemap can cross-boundary", v6.5; Fixes: cf387d9644d8) fixed, into the v6.12 model.

altmap->end_pfn is the namespace's last pfn, inclusive; before the fix the page's end, one past
its last pfn, was compared with it, so a vmemmap page ending on the namespace's last pfn counted
as crossing the boundary and was taken from system memory ("Without this fix, the last
subsection vmemmap can end up in memory even if the namespace is created with -M mem and has
sufficient space in the altmap area"). At v6.12 radix tests every base page of the memmap
(radix__vmemmap_pte_populate(): "if (altmap && altmap_cross_boundary(altmap, addr, PAGE_SIZE))
altmap = NULL;"); a 64 KiB page describes 4 sections of 16 MiB, so a device of 4 aligned
sections shows it. Before the fix (arch/powerpc/mm/init_64.c):

    if ((start_pfn + nr_pfn) > altmap->end_pfn)
        return true;

after it:

    if ((start_pfn + nr_pfn - 1) > altmap->end_pfn)
        return true;
"""

from mhpcheck.patching import replaces


@replaces("arch/powerpc/mm/init_64.c:altmap_cross_boundary")
def altmap_cross_boundary(k, s, altmap, start, page_size):
    r = s.range_of(altmap)
    nr_pfn = page_size // k.arch.STRUCT_PAGE_SIZE
    start_pfn = k.sem.word(start // k.arch.STRUCT_PAGE_SIZE)  # page_to_pfn((struct page *)start)
    end_pfn = r.start_pfn + r.nr_pages - 1  # altmap->end_pfn: the namespace's last pfn
    # "if ((start_pfn + nr_pfn) > altmap->end_pfn) return true;"
    # "if (start_pfn < altmap->base_pfn) return true;"
    return k.sem.branch((start_pfn + nr_pfn > end_pfn) | (start_pfn < r.altmap.base_pfn))

"""__populate_section_memmap() before 6cda72047ea4 ("mm/sparse: only sub-section aligned range
would be populated", Wei Yang, v5.9), which dropped a re-alignment to sub-sections that
check_pfn_span() had made redundant: written back into the v5.9 model, diff must call it
identical.

mm/sparse-vmemmap.c:__populate_section_memmap() before the cleanup:

        /*
         * The minimum granularity of memmap extensions is
         * PAGES_PER_SUBSECTION as allocations are tracked in the
         * 'subsection_map' bitmap of the section.
         */
        end = ALIGN(pfn + nr_pages, PAGES_PER_SUBSECTION);
        pfn &= PAGE_SUBSECTION_MASK;
        nr_pages = end - pfn;

        start = (unsigned long) pfn_to_page(pfn);
        end = start + nr_pages * sizeof(struct page);
"""

from mhpcheck.model.ops import sparse
from mhpcheck.patching import replaces

MODEL = sparse.populate_section_memmap


@replaces("mm/sparse.c:populate_section_memmap")
def populate_section_memmap(k, s, pfn, nr_pages, nid, altmap):
    sub = k.arch.PAGES_PER_SUBSECTION
    end = (pfn + nr_pages).align_up(sub)
    pfn = pfn.align_down(sub)
    nr_pages = k.sem.concrete(end - pfn)
    return MODEL(k, s, pfn, nr_pages, nid, altmap)

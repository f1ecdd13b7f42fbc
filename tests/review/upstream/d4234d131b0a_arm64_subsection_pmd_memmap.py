"""Re-introduces into v6.14 what d4234d131b0a ("arm64: mm: Populate vmemmap at the page level if
not section aligned", Zhenhua Huang, v6.14; Fixes: ba72b4c8cf60) fixed: with 4K pages arm64 mapped
a sub-section's memmap with the whole-section 2 MiB PMD block, so two devices sharing a section
shared one PMD, backed by the first device's altmap, and removing either one unmapped and freed
it under the other.

arch/arm64/mm/mmu.c:vmemmap_populate() before the fix (up to v6.13):

        WARN_ON((start < VMEMMAP_START) || (end > VMEMMAP_END));

        if (!IS_ENABLED(CONFIG_ARM64_4K_PAGES))
                return vmemmap_populate_basepages(start, end, node, altmap);
        else
                return vmemmap_populate_hugepages(start, end, node, altmap);

after it:

        /* [start, end] should be within one section */
        WARN_ON_ONCE(end - start > PAGES_PER_SECTION * sizeof(struct page));

        if (!IS_ENABLED(CONFIG_ARM64_4K_PAGES) ||
            (end - start < PAGES_PER_SECTION * sizeof(struct page)))
                return vmemmap_populate_basepages(start, end, node, altmap);
"""

from mhpcheck.model.arch import arm64
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("arch/arm64/mm/mmu.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    if k.arch.VMEMMAP_SHIFT != arm64.PMD_SHIFT_4K:  # !IS_ENABLED(CONFIG_ARM64_4K_PAGES)
        return sparse_vmemmap.vmemmap_populate_basepages(k, s, start, end, node, altmap)
    return sparse_vmemmap.vmemmap_populate_hugepages(k, s, start, end, node, altmap)

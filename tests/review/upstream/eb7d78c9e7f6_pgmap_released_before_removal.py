"""Re-introduces into v4.5 what eb7d78c9e7f6 ("devm_memremap_pages: fix vmem_altmap lifetime +
alignment handling", Dan Williams, v4.5-rc3) fixed: the release path dropped the dev_pagemap
from the radix before tearing the memmap down, so every to_vmem_altmap() during
arch_remove_memory() found nothing.

kernel/memremap.c:devm_memremap_pages_release(), before the fix (9476df7d80df):

        pgmap_radix_release(res);

        /* pages are dead and unused, undo the arch mapping */
        align_start = res->start & ~(SECTION_SIZE - 1);
        align_size = ALIGN(resource_size(res), SECTION_SIZE);
        arch_remove_memory(align_start, align_size);

after it (v4.5):

        arch_remove_memory(align_start, align_size);
        pgmap_radix_release(res);
"""

from mhpcheck.model.errno import EINVAL
from mhpcheck.model.events import AltmapReleased
from mhpcheck.model.ops import memremap
from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:devm_memremap_pages_release")
def devm_memremap_pages_release(k, s, dev):
    r = s.range_of(dev)
    if r is None:
        return s, -EINVAL
    k.call("devm_memremap_pages_release", dev=dev)
    s = memremap._pgmap_delete(s, dev)  # pgmap_radix_release(res) first: the bug
    s, ret = k.arch.arch_remove_memory(k, s, r.start_pfn, r.nr_pages, None)
    if r.altmap is not None:
        k.trace(AltmapReleased(dev, r.altmap.alloc))
    return s, ret

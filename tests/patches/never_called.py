"""A patch to vmem_altmap_alloc(), which v4.16 merged into altmap_alloc_block_buf(): no path of
a later era calls it."""

from mhpcheck.patching import replaces


@replaces("mm/sparse-vmemmap.c:vmem_altmap_alloc")
def vmem_altmap_alloc(k, altmap, nr_pfns):
    raise RuntimeError("never called")

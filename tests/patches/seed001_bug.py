"""Re-introduces seed 001's bug: __remove_pages() gives map_offset 0 to the first section too."""

from mhpcheck.model.ops import sparse
from mhpcheck.patching import replaces

ORIGINAL = sparse.sparse_remove_section


@replaces("mm/sparse.c:sparse_remove_section")
def sparse_remove_section(k, s, pfn, nr_pages, map_offset, altmap):
    return ORIGINAL(k, s, pfn, nr_pages, k.sem.word(0), altmap)

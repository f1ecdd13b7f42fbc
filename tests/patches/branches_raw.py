"""A patch that tests a Word's truth with a raw `if`: refused where it runs, whichever engine."""

from mhpcheck.patching import replaces


@replaces("mm/sparse-vmemmap.c:vmem_altmap_nr_free")
def vmem_altmap_nr_free(k, altmap):
    free = altmap.free - altmap.alloc
    if free:
        return free
    return k.sem.word(0)

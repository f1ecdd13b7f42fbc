"""A patch that never returns: a loop whose exit condition the edit got wrong."""

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    n = 0
    while n >= 0:
        n += 1

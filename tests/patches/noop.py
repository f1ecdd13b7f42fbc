"""A patch that changes nothing: vmem_altmap_offset() as the kernel writes it."""

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    if altmap is None:
        return k.sem.word(0)
    return altmap.reserve + altmap.free

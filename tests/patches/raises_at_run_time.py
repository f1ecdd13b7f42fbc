"""A patch that loads but raises while the model runs it."""

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    raise ValueError("not yet written")

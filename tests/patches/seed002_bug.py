"""Re-introduces seed 002's bug: powerpc vmemmap_populate() takes every page from system memory."""

from mhpcheck.model.arch import powerpc64
from mhpcheck.patching import replaces

ORIGINAL = powerpc64.vmemmap_populate


@replaces("arch/powerpc/mm/init_64.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    return ORIGINAL(k, s, start, end, node, None)

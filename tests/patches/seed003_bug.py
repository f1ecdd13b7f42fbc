"""Re-introduces seed 003's bug: arm64 vmemmap_populate() ignores the altmap."""

from mhpcheck.model.arch import arm64
from mhpcheck.patching import replaces

ORIGINAL = arm64.vmemmap_populate


@replaces("arch/arm64/mm/mmu.c:vmemmap_populate")
def vmemmap_populate(k, s, start, end, node, altmap):
    return ORIGINAL(k, s, start, end, node, None)

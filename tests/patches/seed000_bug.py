"""Re-introduces seed 000's bug: memmap_init_zone() initialises the altmap's reserve."""

from mhpcheck.model.ops import page_alloc
from mhpcheck.model.state import VmemAltmap
from mhpcheck.patching import replaces

ORIGINAL = page_alloc.memmap_init_zone


@replaces("mm/page_alloc.c:memmap_init_zone")
def memmap_init_zone(k, s, size, nid, zone, start_pfn, altmap):
    r = s.range_of(altmap) if altmap is not None else None
    if r is None or r.altmap is None:
        return ORIGINAL(k, s, size, nid, zone, start_pfn, altmap)
    a = r.altmap
    # the same altmap with no reserve, from the first pfn: the reserve is initialised too
    no_reserve = VmemAltmap(a.base_pfn, k.sem.word(0), a.reserve + a.free, a.align, a.alloc)
    s2 = s.with_altmap(altmap, no_reserve)
    s2 = ORIGINAL(k, s2, size, nid, zone, start_pfn, altmap)
    return s2.with_altmap(altmap, a)

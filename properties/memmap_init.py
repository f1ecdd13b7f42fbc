"""Struct pages are initialised before the kernel reads them."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, monitor
from mhpcheck.model.events import PageRead
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState
from mhpcheck.properties.common import has_altmaps, hexw


@monitor(kills=("memunmap-reads-reserve-page",), applies=has_altmaps)
def struct_pages_read_are_initialised(k: Kernel, step: Step) -> Iterator[Claim]:
    """No kernel function reads a struct page of its range that was never initialised: memunmap_pages() reads pfn_first(), past the altmap's reserve (77e080e7680e, mm/memremap.c)."""
    # A read past the range (pfn_first() == end when reserve + free == nr_pages) is
    # no_struct_page_read_outside_memmap's concern.
    for e in step.events:
        if isinstance(e, PageRead):
            inside = (e.start_pfn <= e.pfn) & (e.pfn < e.end_pfn)
            init = k.sem.any((iv.start_pfn <= e.pfn) & (e.pfn < iv.end_pfn) for iv in step.before.memmap_init)
            yield check(
                ~inside | init,
                lambda: f"{e.function}() read the struct page of pfn {hexw(e.pfn)}, never initialised",
            )


@invariant(kills=("memmap-init-first-section-only",))
def device_data_pfns_initialised(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Every data pfn of a present device, [start + reserve, end), has an initialised struct page (memmap_init_zone(), memmap_init_zone_device() from v4.20, mm/page_alloc.c)."""
    for r in s.device_ranges:
        lo = r.start_pfn + r.altmap.reserve if r.altmap is not None else r.start_pfn
        hi = r.start_pfn + r.nr_pages
        # [lo, hi) is covered iff lo and every interval's end inside it lie in some interval:
        # the first pfn left out would be one of them
        for p in (lo, *(iv.end_pfn for iv in s.memmap_init)):
            yield check(
                ~((lo <= p) & (p < hi))
                | k.sem.any((iv.start_pfn <= p) & (p < iv.end_pfn) for iv in s.memmap_init),
                lambda: f"dev {r.dev}: the struct page of pfn {hexw(p)} was never initialised",
            )

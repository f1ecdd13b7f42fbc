"""Struct pages are initialised before the kernel reads them."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, monitor
from mhpcheck.model.events import PageRead
from mhpcheck.model.kernel import Kernel
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

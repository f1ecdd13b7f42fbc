"""kernel/resource.c: the iomem resources that hotplug requests and releases."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EBUSY, EINVAL
from mhpcheck.model.events import ResourceReleased
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState, Resource, evolve


def request_mem_region(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, owner: int
) -> tuple[KernelState, int]:
    """include/linux/ioport.h:request_mem_region() as of v4.5 (4b94ffdc4163)."""
    end_pfn = start_pfn + nr_pages
    for res in s.resources:
        if k.sem.branch((start_pfn < res.start_pfn + res.nr_pages) & (res.start_pfn < end_pfn)):
            return s, -EBUSY  # "conflict": the region is already claimed
    res = Resource(start_pfn, nr_pages, owner)
    return evolve(s, resources=(*s.resources, res)), 0


def release_mem_region_adjustable(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, by_mm: bool
) -> tuple[KernelState, int]:
    """kernel/resource.c:release_mem_region_adjustable() as of v4.5 (4b94ffdc4163)."""
    # Abstraction: hotplug always releases a whole resource it requested; splitting a resource
    # ("adjustable") is not modelled.
    for res in s.resources:
        if k.sem.branch((res.start_pfn == start_pfn) & (res.nr_pages == nr_pages)):
            k.trace(ResourceReleased(start_pfn, nr_pages, by_mm, res.owner))
            rest = tuple(x for x in s.resources if x is not res)
            return evolve(s, resources=rest), 0
    return s, -EINVAL

"""nr_memmap_pages (/proc/vmstat, v6.11) counts the memmap of hot-added memory, chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, step_property
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, sparse, sparse_vmemmap
from mhpcheck.model.state import DeviceRange, KernelState
from mhpcheck.model.transitions import AddDeviceMemory, AddMemory, RemoveDeviceMemory, RemoveMemory
from mhpcheck.model.variants import Variant, patches


def has_nr_memmap(arch: ArchConfig, v: Variant) -> bool:
    """The counter exists from v6.11 (15995a352474)."""
    return v.has(patches.NR_MEMMAP)


def _map(k: Kernel, s: KernelState, pfn: int) -> int:
    ms = s.section(pfn >> k.arch.PFN_SECTION_SHIFT)
    return ms.subsection_map if ms is not None else 0


def _pages(k: Kernel, nr_pages: int, pgmap: DeviceRange | None) -> int:
    """The memmap pages a chunk of nr_pages maps: DIV_ROUND_UP(nr_pages * sizeof(struct page),
    PAGE_SIZE), or VMEMMAP_RESERVE_NR a compound page where its tail pages are shared."""
    if pgmap is not None and sparse_vmemmap.vmemmap_can_optimize(k, None, pgmap):
        return sparse_vmemmap.VMEMMAP_RESERVE_NR * nr_pages // (1 << pgmap.vmemmap_shift)
    return -(-(nr_pages * k.arch.STRUCT_PAGE_SIZE) // (1 << k.arch.PAGE_SHIFT))


@step_property(kills=("memmap-not-uncounted",), applies=has_nr_memmap)
def nr_memmap_pages_count_the_memmap_mapped(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add or remove changes nr_memmap_pages by the memmap pages of each (sub-)section chunk it maps or unmaps, DIV_ROUND_UP(nr_pages * sizeof(struct page), PAGE_SIZE) (VMEMMAP_RESERVE_NR a compound page where its tail pages are shared), and not at all for a chunk it fails to map: the counter equals the memmap pages mapped (mm/sparse-vmemmap.c)."""
    t = step.transition
    b, a = step.before, step.after
    pgmap: DeviceRange | None = None
    if isinstance(t, AddDeviceMemory):
        start, nr = t.start_pfn, t.nr_pages
        if t.altmap is None and t.vmemmap_shift:
            pgmap = DeviceRange(t.dev, k.sem.word(start), k.sem.word(nr), None, t.vmemmap_shift)
    elif isinstance(t, AddMemory | RemoveMemory):
        start, nr = t.start_pfn, t.nr_pages
    elif isinstance(t, RemoveDeviceMemory):
        r = b.range_of(t.dev)
        if r is None:
            return
        start, nr = k.sem.concrete(r.start_pfn), k.sem.concrete(r.nr_pages)
        pgmap = r if r.altmap is None else None
    else:
        return
    expected = 0
    for pfn, cur in memory_hotplug._section_chunks(k, k.sem.word(start), k.sem.word(nr)):
        first = k.sem.concrete(pfn)
        mask = sparse.subsection_mask_set(k, pfn, cur)
        was, now = _map(k, b, first) & mask, _map(k, a, first) & mask
        if was == 0 and now == mask:
            expected += _pages(k, cur, pgmap)
        elif was == mask and now == 0:
            expected -= _pages(k, cur, pgmap)
    delta = a.nr_memmap_pages - b.nr_memmap_pages
    yield check(
        k.sem.true() if delta == expected else k.sem.false(),
        lambda: (
            f"{t} changed nr_memmap_pages by {delta:+d} ({b.nr_memmap_pages} to {a.nr_memmap_pages}), "
            f"but mapped and unmapped {expected:+d} pages of memmap"
        ),
    )

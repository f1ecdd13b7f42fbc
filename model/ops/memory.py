"""drivers/base/memory.c: memory block devices of hot-added RAM, and onlining them."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EINVAL
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug
from mhpcheck.model.state import KernelState, MemoryBlock, Zone, evolve
from mhpcheck.model.variants import mutants


def memory_block_size_bytes(k: Kernel) -> int:
    """drivers/base/memory.c:memory_block_size_bytes() as of v5.15 (a08a2ae34613)."""
    # Abstraction: one section per block: MIN_MEMORY_BLOCK_SIZE, and what x86's
    # probe_memory_block_size() gives below 64 GiB of boot RAM (128 MiB on the QEMU machines).
    return k.arch.PAGES_PER_SECTION << k.arch.PAGE_SHIFT


def create_memory_block_devices(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, altmap: int | None, nr_vmemmap_pages: int
) -> KernelState:
    """drivers/base/memory.c:create_memory_block_devices() as of v5.15 (a08a2ae34613)."""
    first = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    count = k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    new = [
        MemoryBlock(first + i, nr_vmemmap_pages if i == 0 else 0, altmap if i == 0 else None, None)
        for i in range(count)
    ]
    blocks = tuple(sorted((*s.memory_blocks, *new), key=lambda b: b.start_section_nr))
    return evolve(s, memory_blocks=blocks)


def remove_memory_block_devices(k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word) -> KernelState:
    """drivers/base/memory.c:remove_memory_block_devices() as of v5.15 (a08a2ae34613)."""
    first = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    last = first + k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    kept = tuple(b for b in s.memory_blocks if not first <= b.start_section_nr < last)
    return evolve(s, memory_blocks=kept)


@helper
def _set_zone(s: KernelState, block: MemoryBlock, zone: Zone | None) -> KernelState:
    """The state with memory block `block` in `zone` (None: offline)."""
    blocks = tuple(
        MemoryBlock(b.start_section_nr, b.nr_vmemmap_pages, b.altmap, zone) if b is block else b
        for b in s.memory_blocks
    )
    return evolve(s, memory_blocks=blocks)


def memory_block_online(k: Kernel, s: KernelState, section_nr: int, zone: Zone) -> tuple[KernelState, int]:
    """drivers/base/memory.c:memory_block_online() as of v5.15 (a08a2ae34613)."""
    mem = s.memory_block(section_nr)
    if mem is None or mem.zone is not None:
        return s, -EINVAL
    k.call("memory_block_online", section_nr=section_nr)
    start_pfn = memory_hotplug.section_nr_to_pfn(k, section_nr)
    nr_pages = k.arch.PAGES_PER_SECTION  # PAGES_PER_SECTION * sections_per_block
    nr_vmemmap_pages = mem.nr_vmemmap_pages
    if nr_vmemmap_pages:
        s = memory_hotplug.mhp_init_memmap_on_memory(k, s, start_pfn, nr_vmemmap_pages, zone)
    skip = nr_vmemmap_pages
    if k.variant.mutated(mutants.ONLINE_INCLUDES_VMEMMAP):
        skip = 0
    s, ret = memory_hotplug.online_pages(k, s, start_pfn + skip, k.sem.word(nr_pages - skip), zone)
    if ret:
        return s, ret
    # "Account once onlining succeeded": adjust_present_page_count(..., nr_vmemmap_pages); the
    # zone's present and managed pages are read off the online blocks (zone_page_counts()).
    return _set_zone(s, mem, zone), 0


def memory_block_offline(k: Kernel, s: KernelState, section_nr: int) -> tuple[KernelState, int]:
    """drivers/base/memory.c:memory_block_offline() as of v5.15 (a08a2ae34613)."""
    mem = s.memory_block(section_nr)
    if mem is None or mem.zone is None:
        return s, -EINVAL
    k.call("memory_block_offline", section_nr=section_nr)
    start_pfn = memory_hotplug.section_nr_to_pfn(k, section_nr)
    nr_pages = k.arch.PAGES_PER_SECTION
    nr_vmemmap_pages = mem.nr_vmemmap_pages
    # adjust_present_page_count(..., -nr_vmemmap_pages), then offline_pages() of the rest
    s = memory_hotplug.offline_pages(k, s, start_pfn + nr_vmemmap_pages, nr_pages - nr_vmemmap_pages)
    if nr_vmemmap_pages:
        s = memory_hotplug.mhp_deinit_memmap_on_memory(k, s, start_pfn, nr_vmemmap_pages)
    mem = s.memory_block(section_nr)
    assert mem is not None
    return _set_zone(s, mem, None), 0

"""drivers/dax/kmem.c: a device-dax range handed to the page allocator as hot-added RAM."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import ENOSPC
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory, memory_hotplug
from mhpcheck.model.state import KernelState
from mhpcheck.model.variants import patches


def dax_kmem_range(k: Kernel, start: int, end: int) -> tuple[int, int]:
    """drivers/dax/kmem.c:dax_kmem_range() as of v6.8 (4eca0ef49af9)."""
    block = memory.memory_block_size_bytes(k)
    # "memory_block_size_bytes() aligned": only whole memory blocks are added
    r_start = -(-start // block) * block
    r_end = ((end + 1) // block) * block - 1
    return r_start, r_end


def dev_dax_kmem_probe(
    k: Kernel, s: KernelState, start: int, end: int, dax_memmap_on_memory: bool, memmap_on_memory: bool
) -> tuple[KernelState, int, Word, Word]:
    """drivers/dax/kmem.c:dev_dax_kmem_probe() as of v6.8 (4eca0ef49af9)."""
    r_start, r_end = dax_kmem_range(k, start, end)
    if r_start >= r_end:
        return s, -ENOSPC, k.sem.word(0), k.sem.word(0)
    mhp_flags = 0
    # "if (dev_dax->memmap_on_memory) mhp_flags |= MHP_MEMMAP_ON_MEMORY;" (v6.8); before, kmem
    # never asked for it, whatever the boot parameter says
    if k.variant.has(patches.KMEM_MEMMAP_ON_MEMORY) and dax_memmap_on_memory:
        mhp_flags |= memory_hotplug.MHP_MEMMAP_ON_MEMORY
    start_pfn = k.sem.word(r_start >> k.arch.PAGE_SHIFT)
    nr_pages = k.sem.word((r_end + 1 - r_start) >> k.arch.PAGE_SHIFT)
    # add_memory_driver_managed(numa_node, range.start, range_len(&range), kmem_name, mhp_flags)
    s, ret = memory_hotplug.add_memory(k, s, 0, start_pfn, nr_pages, mhp_flags, memmap_on_memory)
    return s, ret, start_pfn, nr_pages

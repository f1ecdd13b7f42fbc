"""drivers/acpi/acpi_memhotplug.c: firmware-reported DIMMs handed to add_memory()."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug
from mhpcheck.model.state import KernelState
from mhpcheck.model.variants import patches


def acpi_memory_enable_device(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, memmap_on_memory: bool
) -> tuple[KernelState, int]:
    """drivers/acpi/acpi_memhotplug.c:acpi_memory_enable_device() as of v5.15 (a08a2ae34613)."""
    mhp_flags = 0
    if k.variant.has(patches.MEMMAP_ON_MEMORY_PER_BLOCK):
        # v6.8: "mhp_flags |= MHP_MEMMAP_ON_MEMORY;" add_memory_resource() decides per block
        mhp_flags |= memory_hotplug.MHP_MEMMAP_ON_MEMORY
    elif k.variant.has(patches.MEMMAP_ON_MEMORY):
        size = k.sem.concrete(nr_pages) << k.arch.PAGE_SHIFT
        # "if (mhp_supports_memmap_on_memory(info->length)) mhp_flags |= MHP_MEMMAP_ON_MEMORY;":
        # a DIMM of several blocks quietly gets its memmap from RAM
        if memory_hotplug.mhp_supports_memmap_on_memory(k, size, memmap_on_memory):
            mhp_flags |= memory_hotplug.MHP_MEMMAP_ON_MEMORY
    return memory_hotplug.add_memory(k, s, 0, start_pfn, nr_pages, mhp_flags, memmap_on_memory)

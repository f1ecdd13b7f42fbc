"""What /proc/meminfo, /proc/zoneinfo and /proc/vmstat would show of the model's state."""

from __future__ import annotations

from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState, Zone


def zone_page_counts(k: Kernel, s: KernelState, zone: Zone) -> tuple[int, int]:
    """A zone's present and managed pages of hot-added memory blocks (/proc/zoneinfo).

    memory_block_online() adds the block's memmap_on_memory pages to present
    (adjust_present_page_count()) but online_pages() never hands them to the buddy, so they are
    not managed; MemTotal is the sum of managed pages.
    """
    present = managed = 0
    for b in s.memory_blocks:
        if b.zone is zone:
            present += k.arch.PAGES_PER_SECTION
            managed += k.arch.PAGES_PER_SECTION - b.nr_vmemmap_pages
    return present, managed


def mem_total_pages(k: Kernel, s: KernelState) -> int:
    """Pages of hot-added memory counted in MemTotal (totalram_pages(): managed pages)."""
    return sum(zone_page_counts(k, s, z)[1] for z in (Zone.ZONE_NORMAL, Zone.ZONE_MOVABLE))


def memmap_ram_pages(k: Kernel, s: KernelState) -> int:
    """Base pages of system RAM the memmap of hot-added memory holds (MemFree's loss)."""
    # Abstraction: page-table pages of the vmemmap mapping are not counted (a few KiB per GiB).
    return s.sysmem_vmemmap_pages

"""drivers/base/memory.c: memory block devices of hot-added RAM, and onlining them."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EEXIST, EINVAL, ENOMEM
from mhpcheck.model.events import MemoryBlockReleased
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug
from mhpcheck.model.state import KernelState, MemoryBlock, Zone, evolve
from mhpcheck.model.variants import mutants, patches


def memory_block_size_bytes(k: Kernel) -> int:
    """drivers/base/memory.c:memory_block_size_bytes() as of v5.15 (a08a2ae34613)."""
    # Abstraction: one section per block: MIN_MEMORY_BLOCK_SIZE, and what x86's
    # probe_memory_block_size() gives below 64 GiB of boot RAM (128 MiB on the QEMU machines).
    return k.arch.PAGES_PER_SECTION << k.arch.PAGE_SHIFT


def create_memory_block_devices(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word, altmap: int | None, nr_vmemmap_pages: int
) -> tuple[KernelState, int]:
    """drivers/base/memory.c:create_memory_block_devices() as of v5.15 (a08a2ae34613)."""
    first = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    count = k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    ret = 0
    done = 0
    for i in range(count):
        # Abstraction: one section per block (memory_block_size_bytes()); the memmap_on_memory
        # pages and altmap of a v5.15-v6.7 request, which spans one block, go to its first.
        s, ret = add_memory_block(
            k, s, first + i, nr_vmemmap_pages if i == 0 else 0, altmap if i == 0 else None
        )
        if ret:
            break
        done += 1
    if ret:
        # "end_block_id = block_id; for (block_id = start_block_id; ...) remove_memory_block(mem);"
        for i in range(done):
            mem = s.memory_block(first + i)
            if mem is None:  # WARN_ON_ONCE(!mem)
                continue
            s = remove_memory_block(k, s, mem)
    return s, ret


def add_memory_block(
    k: Kernel, s: KernelState, section_nr: int, nr_vmemmap_pages: int, altmap: int | None
) -> tuple[KernelState, int]:
    """drivers/base/memory.c:add_memory_block() as of v5.15 (a08a2ae34613).

    From v6.6 (1a8c64e11043) the block keeps the altmap, set before the device is registered;
    from a2b8d7827f48 only once registration succeeded.
    """
    if s.memory_block(section_nr) is not None:  # find_memory_block_by_id()
        return s, -EEXIST
    after = k.variant.has(patches.MEMORY_BLOCK_ALTMAP_AFTER_REGISTRATION)
    if k.variant.mutated(mutants.MEM_ALTMAP_BEFORE_REGISTRATION):
        after = False
    # v6.6: "mem->altmap = altmap;" among the fields set before __add_memory_block(mem)
    early = altmap if not after and k.variant.has(patches.MEMORY_BLOCK_ALTMAP) else None
    mem = MemoryBlock(section_nr, nr_vmemmap_pages, early, None)
    ret = _add_memory_block(k, mem)
    if ret:
        return s, ret
    # Abstraction: before v6.6 the block keeps nr_vmemmap_pages only; the model names the
    # altmap from the start (see add_memory_resource()).
    mem = MemoryBlock(section_nr, nr_vmemmap_pages, altmap, None)
    blocks = tuple(sorted((*s.memory_blocks, mem), key=lambda b: b.start_section_nr))
    return evolve(s, memory_blocks=blocks), 0


def _add_memory_block(k: Kernel, mem: MemoryBlock) -> int:
    """drivers/base/memory.c:__add_memory_block() as of v5.15 (a08a2ae34613)."""
    # "ret = device_register(&memory->dev); if (ret) { put_device(&memory->dev); return ret; }
    #  ret = xa_err(xa_store(&memory_blocks, memory->dev.id, memory, GFP_KERNEL));
    #  if (ret) device_unregister(&memory->dev);"
    # Abstraction: the two failures are one failure point; both end in memory_block_release().
    if k.may_fail("xa_store"):
        memory_block_release(k, mem)
        return -ENOMEM
    return 0


def memory_block_release(k: Kernel, mem: MemoryBlock) -> None:
    """drivers/base/memory.c:memory_block_release() as of v6.6 (1a8c64e11043)."""
    # "/* Verify that the altmap is freed */ WARN_ON(mem->altmap); kfree(mem);"
    k.trace(MemoryBlockReleased(mem.start_section_nr, mem.altmap))


def remove_memory_block(k: Kernel, s: KernelState, mem: MemoryBlock) -> KernelState:
    """drivers/base/memory.c:remove_memory_block() as of v5.15 (a08a2ae34613)."""
    # xa_erase(&memory_blocks, ...); put_device(); device_unregister() -> memory_block_release()
    memory_block_release(k, mem)
    kept = tuple(b for b in s.memory_blocks if b.start_section_nr != mem.start_section_nr)
    return evolve(s, memory_blocks=kept)


def remove_memory_block_devices(k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word) -> KernelState:
    """drivers/base/memory.c:remove_memory_block_devices() as of v5.15 (a08a2ae34613)."""
    first = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    last = first + k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    for mem in [b for b in s.memory_blocks if first <= b.start_section_nr < last]:
        s = remove_memory_block(k, s, mem)
    return s


@helper
def set_block_altmap(s: KernelState, block: MemoryBlock, altmap: int | None) -> KernelState:
    """The state with memory block `block`'s mem->altmap set to `altmap`."""
    blocks = tuple(
        MemoryBlock(b.start_section_nr, b.nr_vmemmap_pages, altmap, b.zone) if b is block else b
        for b in s.memory_blocks
    )
    return evolve(s, memory_blocks=blocks)


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

"""mm/memory_hotplug.c: adding and removing pages section by section, zones, RAM hotplug."""

from __future__ import annotations

from mhpcheck.model.errno import E2BIG, EEXIST, EINVAL, ENOMEM
from mhpcheck.model.events import BadPageAccess, SectionRemoved
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memremap, page_alloc, resource, sparse
from mhpcheck.model.state import RAM_OWNER, KernelState, Zone, evolve
from mhpcheck.model.variants import mutants, patches
from mhpcheck.semantics import Word


def pfn_to_section_nr(k: Kernel, pfn: Word) -> int:
    """include/linux/mmzone.h:pfn_to_section_nr() as of v4.5 (4b94ffdc4163)."""
    return k.sem.concrete(pfn >> k.arch.PFN_SECTION_SHIFT)


def section_nr_to_pfn(k: Kernel, section_nr: int) -> Word:
    """include/linux/mmzone.h:section_nr_to_pfn() as of v4.5 (4b94ffdc4163)."""
    return k.sem.word(section_nr << k.arch.PFN_SECTION_SHIFT)


def zone_for_memory(k: Kernel, nid: int, for_device: bool) -> Zone:
    """mm/memory_hotplug.c:zone_for_memory() as of v4.3 (8c8c1c5c86e9, seed 004)."""
    if k.variant.has(patches.ZONE_DEVICE) and for_device:
        return Zone.ZONE_DEVICE
    # Abstraction: should_add_memory_movable() is false (no movable_node); RAM goes to NORMAL.
    return Zone.ZONE_NORMAL


def is_dev_zone(k: Kernel, zone: Zone | None) -> bool:
    """include/linux/mmzone.h:is_dev_zone() as of v4.3 (8c8c1c5c86e9, seed 004)."""
    return zone is Zone.ZONE_DEVICE


def _add_zone(k: Kernel, s: KernelState, zone: Zone, phys_start_pfn: Word) -> KernelState:
    """mm/memory_hotplug.c:__add_zone() as of v4.5 (4b94ffdc4163)."""
    nr_pages = k.arch.PAGES_PER_SECTION
    return page_alloc.memmap_init_zone(k, s, nr_pages, 0, zone, phys_start_pfn, None)


def _add_section(
    k: Kernel, s: KernelState, nid: int, zone: Zone | None, phys_start_pfn: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:__add_section() as of v4.5 (4b94ffdc4163)."""
    if s.section(pfn_to_section_nr(k, phys_start_pfn)) is not None:  # pfn_valid()
        return s, -EEXIST
    s, ret = sparse.sparse_add_one_section(k, s, zone, phys_start_pfn)
    if ret < 0:
        return s, ret
    if zone is not None:  # before v4.13 the zone is known at add time
        s = _add_zone(k, s, zone, phys_start_pfn)
    return s, 0


def check_hotplug_memory_addressable(k: Kernel, pfn: Word, nr_pages: Word) -> int:
    """mm/memory_hotplug.c:check_hotplug_memory_addressable() as of v5.9 (01091d25)."""
    max_addr = ((pfn + nr_pages) << k.arch.PAGE_SHIFT) - 1
    if k.sem.branch((max_addr >> k.arch.MAX_PHYSMEM_BITS) != 0):
        return -E2BIG  # "Hotplugged memory exceeds maximum addressable address"
    return 0


def _add_pages(
    k: Kernel,
    s: KernelState,
    nid: int,
    zone: Zone | None,
    phys_start_pfn: Word,
    nr_pages: Word,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:__add_pages() as of v4.5 (614186c0, seed 001)."""
    k.call("__add_pages", pfn=phys_start_pfn, nr_pages=nr_pages)
    explicit = k.variant.has(patches.EXPLICIT_ALTMAP)
    if explicit:
        err = check_hotplug_memory_addressable(k, phys_start_pfn, nr_pages)
        if err:
            return s, err
    elif k.variant.has(patches.ALTMAP_HOTPLUG):
        altmap = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, phys_start_pfn))
    if altmap is not None and k.variant.has(patches.ALTMAP_HOTPLUG):
        r = s.range_of(altmap)
        assert r is not None and r.altmap is not None
        a = r.altmap
        offset = memremap.vmem_altmap_offset(k, a)
        # "Validate altmap is within bounds of the total request"
        bad_base = a.base_pfn != phys_start_pfn
        if k.variant.mutated(mutants.BASE_CHECK_DROPPED):
            bad_base = k.sem.false()
        too_big = offset > nr_pages
        if k.variant.mutated(mutants.BOUNDS_CHECK_GE):
            too_big = offset >= nr_pages
        if k.sem.branch(bad_base | too_big):
            return s, -EINVAL  # pr_warn_once("memory add fail, invalid altmap\n")
        if not k.variant.mutated(mutants.ALLOC_NOT_RESET):
            s = s.with_altmap(altmap, evolve(a, alloc=k.sem.word(0)))
    start_sec = pfn_to_section_nr(k, phys_start_pfn)
    end_sec = pfn_to_section_nr(k, phys_start_pfn + nr_pages - 1)
    err = 0
    for i in range(start_sec, end_sec + 1):
        if explicit:
            s, err = sparse.sparse_add_section(
                k, s, nid, section_nr_to_pfn(k, i), k.arch.PAGES_PER_SECTION, altmap
            )
        else:
            s, err = _add_section(k, s, nid, zone, section_nr_to_pfn(k, i))
        if not k.variant.has(patches.SUBSECTION_HOTPLUG) and err == -EEXIST:
            # "EEXIST is finally dealt with by ioresource collision check."
            err = 0
        if k.variant.mutated(mutants.ENOMEM_SWALLOWED) and err == -ENOMEM:
            err = 0
        if err:
            break
    return s, err


def move_pfn_range_to_zone(
    k: Kernel, s: KernelState, zone: Zone, start_pfn: Word, nr_pages: Word, altmap: int | None
) -> KernelState:
    """mm/memory_hotplug.c:move_pfn_range_to_zone() as of v5.9 (01091d25)."""
    first = pfn_to_section_nr(k, start_pfn)
    last = pfn_to_section_nr(k, start_pfn + nr_pages - 1)
    sections = tuple(evolve(ms, zone=zone) if first <= ms.section_nr <= last else ms for ms in s.sections)
    s = evolve(s, sections=sections)
    return page_alloc.memmap_init_zone(k, s, nr_pages, 0, zone, start_pfn, altmap)


def _remove_section(
    k: Kernel, s: KernelState, zone: Zone | None, section_nr: int, map_offset: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:__remove_section() as of v4.5 (614186c0, seed 001)."""
    if s.section(section_nr) is None:  # !valid_section(ms)
        return s, -EINVAL
    k.trace(SectionRemoved(section_nr, map_offset))
    return sparse.sparse_remove_one_section(k, s, zone, section_nr, map_offset), 0


def _remove_pages(
    k: Kernel,
    s: KernelState,
    zone: Zone | None,
    phys_start_pfn: Word,
    nr_pages: Word,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:__remove_pages() as of v4.5 (614186c0, seed 001)."""
    k.call("__remove_pages", pfn=phys_start_pfn, nr_pages=nr_pages)
    map_offset = k.sem.word(0)
    explicit = k.variant.has(patches.EXPLICIT_ALTMAP)
    ret = 0
    if explicit:
        # v5.3+: "map_offset = vmem_altmap_offset(altmap);" for every caller
        if altmap is not None and k.variant.has(patches.ALTMAP_HOTPLUG):
            r = s.range_of(altmap)
            assert r is not None
            map_offset = memremap.vmem_altmap_offset(k, r.altmap)
    elif is_dev_zone(k, zone) and not k.variant.mutated(mutants.RESOURCE_RELEASED_FOR_DEVICE):
        # "In the ZONE_DEVICE case device driver owns the memory region"
        if k.variant.has(patches.ALTMAP_HOTPLUG):
            dev = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, phys_start_pfn))
            if dev is not None:
                r = s.range_of(dev)
                assert r is not None
                map_offset = memremap.vmem_altmap_offset(k, r.altmap)
    else:
        s, ret = resource.release_mem_region_adjustable(k, s, phys_start_pfn, nr_pages, True)
    nr_sections = k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    first = pfn_to_section_nr(k, phys_start_pfn)
    for i in range(nr_sections):
        if explicit:
            # __remove_section() is void from v5.3: an absent section is WARNed and skipped
            s, _ = sparse.sparse_remove_section(k, s, first + i, k.arch.PAGES_PER_SECTION, map_offset, altmap)
        else:
            s, ret = _remove_section(k, s, zone, first + i, map_offset)
        if not k.variant.mutated(mutants.MAP_OFFSET_EVERY_SECTION):
            map_offset = k.sem.word(0)
        if ret:
            break
    return s, ret


def add_memory(
    k: Kernel, s: KernelState, nid: int, start_pfn: Word, nr_pages: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:add_memory() as of v4.5 (4b94ffdc4163)."""
    k.call("add_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    s, ret = resource.request_mem_region(k, s, start_pfn, nr_pages, RAM_OWNER)
    if ret:
        return s, -EEXIST  # register_memory_resource(): "System RAM resource ... cannot be added"
    s, ret = k.arch.arch_add_memory(k, s, nid, start_pfn, nr_pages, False, None)
    if ret < 0:
        # "error: ... release_memory_resource(res);" -- sections already added stay.
        s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
        return s, ret
    if k.variant.has(patches.ZONES_AT_ONLINE):
        # Abstraction: onlining is not modelled; memory is placed in its zone at add time.
        s = move_pfn_range_to_zone(k, s, Zone.ZONE_NORMAL, start_pfn, nr_pages, None)
    return s, 0


def remove_memory(
    k: Kernel, s: KernelState, nid: int, start_pfn: Word, nr_pages: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:remove_memory() as of v4.5 (4b94ffdc4163)."""
    k.call("remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    s, ret = k.arch.arch_remove_memory(k, s, start_pfn, nr_pages, None)
    if k.variant.has(patches.EXPLICIT_ALTMAP):
        # try_remove_memory(): "release_mem_region_adjustable(&iomem_resource, start, size)"
        s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
    return s, ret


def page_zone(k: Kernel, s: KernelState, pfn: Word, caller: str) -> Zone | None:
    """include/linux/mm.h:page_zone() as of v4.5 (4b94ffdc4163)."""
    # Compared with each present section rather than made concrete: the pfn can be any value an
    # unvalidated altmap makes it, and only the sections the state holds matter.
    nr = pfn >> k.arch.PFN_SECTION_SHIFT
    ms = next((m for m in s.sections if k.sem.branch(nr == m.section_nr)), None)
    if ms is None:
        # The struct page of a pfn in an absent section is not mapped: the kernel oopses, or
        # reads a stale page. Abstraction: the model records the access and carries on with
        # zone 0, which is not ZONE_DEVICE.
        k.trace(BadPageAccess(caller, pfn))
        return None
    return ms.zone

"""mm/sparse.c: making sections present with a memmap, and tearing them down again."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import EEXIST, EINVAL, ENOMEM
from mhpcheck.model.events import SectionRemoved
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, memremap, sparse_vmemmap
from mhpcheck.model.state import RAM_OWNER, DeviceRange, KernelState, MemSection, Zone, evolve
from mhpcheck.model.variants import mutants, patches


@helper
def _memmap_range(k: Kernel, pfn: int, nr_pages: int) -> tuple[int, int]:
    """The vmemmap byte offsets of [pfn, pfn + nr_pages)'s memmap: pfn_to_page(pfn) .. pfn_to_page(pfn+nr)."""
    size = k.arch.STRUCT_PAGE_SIZE
    return pfn * size, (pfn + nr_pages) * size


@helper
def _mark_present(s: KernelState, ms: MemSection) -> KernelState:
    """The state with section `ms` present, in section order (replacing none: it was absent)."""
    sections = tuple(sorted((*s.sections, ms), key=lambda x: x.section_nr))
    return evolve(s, sections=sections)


@helper
def _mark_absent(s: KernelState, section_nr: int) -> KernelState:
    """The state without section `section_nr`."""
    return evolve(s, sections=tuple(x for x in s.sections if x.section_nr != section_nr))


def sparse_mem_map_populate(
    k: Kernel, s: KernelState, pnum: int, nid: int, altmap: int | None
) -> tuple[KernelState, int]:
    """mm/sparse-vmemmap.c:sparse_mem_map_populate() as of v4.5 (4b94ffdc4163)."""
    start, end = _memmap_range(k, pnum << k.arch.PFN_SECTION_SHIFT, k.arch.PAGES_PER_SECTION)
    return k.arch.vmemmap_populate(k, s, start, end, nid, altmap)


def sparse_add_one_section(
    k: Kernel, s: KernelState, zone: Zone | None, start_pfn: Word
) -> tuple[KernelState, int]:
    """mm/sparse.c:sparse_add_one_section() as of v4.5 (4b94ffdc4163)."""
    section_nr = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    # kmalloc_section_memmap() -> sparse_mem_map_populate(); NULL -> -ENOMEM
    s, ret = sparse_mem_map_populate(k, s, section_nr, 0, None)
    if ret:
        return s, -ENOMEM
    if s.section(section_nr) is not None:  # "if (ms->section_mem_map & SECTION_MARKED_PRESENT)"
        return s, -EEXIST
    owner = _owner(k, s, start_pfn)
    return _mark_present(s, MemSection(section_nr, zone, owner)), 0


def sparse_remove_one_section(
    k: Kernel, s: KernelState, zone: Zone | None, section_nr: int, map_offset: Word
) -> KernelState:
    """mm/sparse.c:sparse_remove_one_section() as of v4.5 (614186c0, seed 001)."""
    s = _mark_absent(s, section_nr)  # "ms->section_mem_map = 0;"
    s = _drop_memmap_init(k, s, section_nr, k.arch.PAGES_PER_SECTION)
    # clear_hwpoisoned_pages(memmap + map_offset, PAGES_PER_SECTION - map_offset): only reads
    # the struct pages, so it changes nothing the model tracks; the monitor checks map_offset.
    start, end = _memmap_range(k, section_nr << k.arch.PFN_SECTION_SHIFT, k.arch.PAGES_PER_SECTION)
    return k.arch.vmemmap_free(k, s, start, end, None)  # free_section_usemap -> __kfree_section_memmap


def populate_section_memmap(
    k: Kernel, s: KernelState, pfn: Word, nr_pages: int, nid: int, altmap: int | None
) -> tuple[KernelState, int]:
    """mm/sparse.c:populate_section_memmap() as of v5.3 (ba72b4c8cf60).

    With __populate_section_memmap() folded in. nr_memmap_pages: from v6.11 (15995a352474)
    counted here when the population succeeds, from v6.17 (c3576889d87b) in section_activate()
    instead, from 7.2 (memmap-accounting-underflow) here again, whatever the outcome.
    """
    start, end = _memmap_range(k, k.sem.concrete(pfn), nr_pages)
    # Abstraction: the kernel passes params->pgmap down; the model finds the same pgmap by pfn
    # (memremap_pages() stores it in pgmap_array before arch_add_memory()).
    pgmap = memremap.find_dev_pagemap(k, s, pfn << k.arch.PAGE_SHIFT)
    # pgmap->vmemmap_shift first: vmemmap_can_optimize() is false without compound pages at
    # every era, so a run without them asks nothing of compound pages' eras (checker.as_era())
    if (
        pgmap is not None
        and pgmap.vmemmap_shift
        and k.variant.has(patches.COMPOUND_DEVMAP)
        and sparse_vmemmap.vmemmap_can_optimize(k, altmap, pgmap)
    ):
        # __populate_section_memmap(): "if (vmemmap_can_optimize(altmap, pgmap))"
        s, ret = sparse_vmemmap.vmemmap_populate_compound_pages(k, s, pfn, start, end, nid, pgmap)
    else:
        s, ret = k.arch.vmemmap_populate(k, s, start, end, nid, altmap)
    if k.variant.has(patches.MEMMAP_ACCOUNTING_UNDERFLOW):
        # 7.2: "memmap_pages_add(section_nr_vmemmap_pages(pfn, nr_pages, altmap, pgmap));",
        # whether the population succeeded or not: the failure path takes it back
        s = _memmap_pages_add(s, section_nr_vmemmap_pages(k, pfn, nr_pages, altmap, pgmap))
    elif k.variant.has(patches.NR_MEMMAP) and not k.variant.has(patches.MEMMAP_ACCOUNTING) and not ret:
        # v6.11-v6.16, __populate_section_memmap(): "if (r < 0) return NULL; ...
        # memmap_pages_add(DIV_ROUND_UP(end - start, PAGE_SIZE));" -- counted on success only,
        # wherever the memmap lives, altmap or RAM
        s = _memmap_pages_add(s, _memmap_pages(k, nr_pages))
    return s, ret


def depopulate_section_memmap(
    k: Kernel, s: KernelState, pfn: Word, nr_pages: int, altmap: int | None
) -> KernelState:
    """mm/sparse.c:depopulate_section_memmap() as of v5.3 (ba72b4c8cf60).

    nr_memmap_pages is taken back here from v6.11 (15995a352474), in section_deactivate() from
    v6.17 (c3576889d87b), here again from 7.2 (memmap-accounting-underflow).
    """
    start, end = _memmap_range(k, k.sem.concrete(pfn), nr_pages)
    if k.variant.has(patches.MEMMAP_ACCOUNTING_UNDERFLOW):
        # 7.2: "memmap_pages_add(-section_nr_vmemmap_pages(pfn, nr_pages, altmap, pgmap));"
        pgmap = memremap.find_dev_pagemap(k, s, pfn << k.arch.PAGE_SHIFT)
        s = _memmap_pages_add(s, -section_nr_vmemmap_pages(k, pfn, nr_pages, altmap, pgmap))
    elif (
        k.variant.has(patches.NR_MEMMAP)
        and not k.variant.has(patches.MEMMAP_ACCOUNTING)
        and not k.variant.mutated(mutants.MEMMAP_NOT_UNCOUNTED)
    ):
        # v6.11-v6.16: "memmap_pages_add(-1L * (DIV_ROUND_UP(end - start, PAGE_SIZE)));", also
        # when section_activate() rolls back a population that failed and was never counted
        s = _memmap_pages_add(s, -_memmap_pages(k, nr_pages))
    return k.arch.vmemmap_free(k, s, start, end, altmap)


def subsection_mask_set(k: Kernel, pfn: Word, nr_pages: int) -> int:
    """mm/sparse.c:subsection_mask_set() as of v5.3 (ba72b4c8cf60)."""
    # The kernel sets bits in a bitmap; the model returns them as an int.
    first = k.sem.concrete(pfn)
    per = k.arch.PAGES_PER_SUBSECTION
    in_section = k.arch.PAGES_PER_SECTION - 1  # ~PAGE_SECTION_MASK
    idx = (first & in_section) // per  # subsection_map_index(pfn)
    end = ((first + nr_pages - 1) & in_section) // per
    return ((1 << (end + 1)) - 1) & ~((1 << idx) - 1)


def fill_subsection_map(k: Kernel, s: KernelState, pfn: Word, nr_pages: int) -> tuple[int, int]:
    """mm/sparse.c:fill_subsection_map() as of v5.9 (ba72b4c8cf60)."""
    # Returns the error and the map the section would have; the caller stores it on success.
    ms = s.section(memory_hotplug.pfn_to_section_nr(k, pfn))
    subsection_map = ms.subsection_map if ms is not None else 0
    mask = subsection_mask_set(k, pfn, nr_pages)
    if mask == 0:  # "if (bitmap_empty(map, SUBSECTIONS_PER_SECTION)) rc = -EINVAL;"
        return -EINVAL, subsection_map
    if mask & subsection_map:  # "else if (bitmap_intersects(map, subsection_map, ...)) rc = -EEXIST;"
        return -EEXIST, subsection_map
    return 0, subsection_map | mask


def clear_subsection_map(k: Kernel, s: KernelState, pfn: Word, nr_pages: int) -> tuple[int, int]:
    """mm/sparse.c:clear_subsection_map() as of v5.9 (ba72b4c8cf60)."""
    # Returns the error and the map the section is left with.
    ms = s.section(memory_hotplug.pfn_to_section_nr(k, pfn))
    subsection_map = ms.subsection_map if ms is not None else 0
    mask = subsection_mask_set(k, pfn, nr_pages)
    if ms is None or mask & subsection_map != mask:
        # WARN(..., "section already deactivated (%#lx + %ld)\n", pfn, nr_pages)
        return -EINVAL, subsection_map
    return 0, subsection_map & ~mask


def section_activate(
    k: Kernel, s: KernelState, nid: int, pfn: Word, nr_pages: int, altmap: int | None
) -> tuple[KernelState, int]:
    """mm/sparse.c:section_activate() as of v5.3 (ba72b4c8cf60).

    From v6.17 to v7.1 (c3576889d87b) it counts nr_memmap_pages after a successful population.
    """
    rc, subsection_map = fill_subsection_map(k, s, pfn, nr_pages)
    if rc:
        return s, rc
    section_nr = memory_hotplug.pfn_to_section_nr(k, pfn)
    ms = s.section(section_nr)
    if ms is not None:
        # The bits are set before the memmap is populated ("bitmap_or(subsection_map, map,
        # subsection_map, SUBSECTIONS_PER_SECTION)"), so pfn_valid() of a section that is already
        # valid sees them during populate_section_memmap(). A new section is not valid
        # (SECTION_HAS_MEM_MAP) until sparse_add_section() makes it so.
        s = _set_subsection_map(s, section_nr, subsection_map)
    s, ret = populate_section_memmap(k, s, pfn, nr_pages, nid, altmap)
    counted = k.variant.has(patches.MEMMAP_ACCOUNTING) and not k.variant.has(
        patches.MEMMAP_ACCOUNTING_UNDERFLOW
    )
    if ret:
        # "section_deactivate(pfn, nr_pages, altmap); return ERR_PTR(-ENOMEM);": the bits just
        # filled are cleared again and the part-populated memmap freed
        if not k.variant.mutated(mutants.ACTIVATE_NO_ROLLBACK):
            s = _set_subsection_map(s, section_nr, _map_of(ms))
            if counted:
                # v6.17-v7.1, section_deactivate(): "memmap_pages_add(-1L * (DIV_ROUND_UP(nr_pages
                # * sizeof(struct page), PAGE_SIZE)));", for a population never counted
                s = _memmap_pages_add(s, -_memmap_pages(k, nr_pages))
            s = depopulate_section_memmap(k, s, pfn, nr_pages, altmap)
        if k.variant.mutated(mutants.POPULATE_ERROR_EINVAL):
            return s, -EINVAL
        return s, -ENOMEM
    if counted:
        # v6.17: "memmap_pages_add(DIV_ROUND_UP(nr_pages * sizeof(struct page), PAGE_SIZE));"
        s = _memmap_pages_add(s, _memmap_pages(k, nr_pages))
    return s, 0


def sparse_add_section(
    k: Kernel, s: KernelState, nid: int, start_pfn: Word, nr_pages: int, altmap: int | None
) -> tuple[KernelState, int]:
    """mm/sparse.c:sparse_add_section() as of v5.9 (ba72b4c8cf60)."""
    s, ret = section_activate(k, s, nid, start_pfn, nr_pages, altmap)
    if ret:
        return s, ret
    section_nr = memory_hotplug.pfn_to_section_nr(k, start_pfn)
    if s.section(section_nr) is not None:  # a further sub-section: section_activate() set its bits
        return s, 0
    # section_mark_present(ms); the zone is set later by move_pfn_range_to_zone()
    owner = _owner(k, s, start_pfn)
    subsection_map = subsection_mask_set(k, start_pfn, nr_pages)
    return _mark_present(s, MemSection(section_nr, None, owner, subsection_map)), 0


def section_deactivate(
    k: Kernel, s: KernelState, pfn: Word, nr_pages: int, altmap: int | None
) -> KernelState:
    """mm/sparse.c:section_deactivate() as of v5.3 (ba72b4c8cf60).

    From v6.17 to v7.1 (c3576889d87b) it takes nr_memmap_pages back before depopulating.
    """
    rc, subsection_map = clear_subsection_map(k, s, pfn, nr_pages)
    if rc:
        return s
    section_nr = memory_hotplug.pfn_to_section_nr(k, pfn)
    if subsection_map == 0:  # "empty = bitmap_empty(subsection_map, ...)"
        s = _mark_absent(s, section_nr)
        s = _drop_memmap_init(k, s, section_nr, nr_pages)
    else:
        end_pfn = pfn + nr_pages
        kept = tuple(
            iv for iv in s.memmap_init if not k.sem.branch((pfn <= iv.start_pfn) & (iv.end_pfn <= end_pfn))
        )
        s = evolve(_set_subsection_map(s, section_nr, subsection_map), memmap_init=kept)
    if k.variant.has(patches.MEMMAP_ACCOUNTING) and not k.variant.has(patches.MEMMAP_ACCOUNTING_UNDERFLOW):
        # v6.17-v7.1: "if (!section_is_early) { memmap_pages_add(-1L * (DIV_ROUND_UP(nr_pages *
        # sizeof(struct page), PAGE_SIZE))); depopulate_section_memmap(pfn, nr_pages, altmap); }"
        s = _memmap_pages_add(s, -_memmap_pages(k, nr_pages))
    # "depopulate_section_memmap(pfn, nr_pages, altmap)": exactly the sub-section range
    return depopulate_section_memmap(k, s, pfn, nr_pages, altmap)


def sparse_remove_section(
    k: Kernel,
    s: KernelState,
    pfn: Word,
    nr_pages: int,
    map_offset: Word | None,
    altmap: int | None,
) -> tuple[KernelState, int]:
    """mm/sparse.c:sparse_remove_section() as of v5.3 (ba72b4c8cf60).

    Until v6.2 it also ran "clear_hwpoisoned_pages(pfn_to_page(pfn) + map_offset, nr_pages -
    map_offset);", which only reads struct pages; from v6.5 (map-offset-removed) it takes no
    map_offset (None here).
    """
    section_nr = memory_hotplug.pfn_to_section_nr(k, pfn)
    rc, _ = clear_subsection_map(k, s, pfn, nr_pages)
    if rc:
        # clear_subsection_map(): WARN "section already deactivated"; nothing is freed
        return s, -EINVAL
    k.trace(SectionRemoved(section_nr, map_offset))
    return section_deactivate(k, s, pfn, nr_pages, altmap), 0


@helper
def _memmap_pages(k: Kernel, nr_pages: int) -> int:
    """DIV_ROUND_UP(nr_pages * sizeof(struct page), PAGE_SIZE)."""
    return -(-(nr_pages * k.arch.STRUCT_PAGE_SIZE) // (1 << k.arch.PAGE_SHIFT))


@helper
def _memmap_pages_add(s: KernelState, delta: int) -> KernelState:
    """memmap_pages_add(delta): the global nr_memmap_pages counter (mm/vmstat.c, 9d8573111024)."""
    return evolve(s, nr_memmap_pages=s.nr_memmap_pages + delta)


def section_nr_vmemmap_pages(
    k: Kernel, pfn: Word, nr_pages: int, altmap: int | None, pgmap: DeviceRange | None
) -> int:
    """mm/sparse-vmemmap.c:section_nr_vmemmap_pages() as of v7.2 (dax-vmemmap-accounting)."""
    optimized = k.variant.has(patches.DAX_VMEMMAP_ACCOUNTING) and sparse_vmemmap.vmemmap_can_optimize(
        k, altmap, pgmap
    )
    if not optimized or pgmap is None:
        # "if (!vmemmap_can_optimize(altmap, pgmap)) return DIV_ROUND_UP(nr_pages * sizeof(struct
        # page), PAGE_SIZE);"
        return _memmap_pages(k, nr_pages)
    # "if (order < PFN_SECTION_SHIFT) return VMEMMAP_RESERVE_NR * nr_pages / pages_per_compound;"
    # Abstraction: compound pages larger than a section are not modelled.
    return sparse_vmemmap.VMEMMAP_RESERVE_NR * nr_pages // (1 << pgmap.vmemmap_shift)


@helper
def _set_subsection_map(s: KernelState, section_nr: int, subsection_map: int) -> KernelState:
    """The state with present section `section_nr`'s sub-section map set to `subsection_map`."""
    sections = tuple(
        evolve(x, subsection_map=subsection_map) if x.section_nr == section_nr else x for x in s.sections
    )
    return evolve(s, sections=sections)


@helper
def _map_of(ms: MemSection | None) -> int:
    """A section's sub-section map, or 0 for a section that is not present."""
    return ms.subsection_map if ms is not None else 0


@helper
def _drop_memmap_init(k: Kernel, s: KernelState, section_nr: int, nr_pages: int) -> KernelState:
    """The section's struct pages go with its memmap: forget which of them were initialised."""
    kept = tuple(iv for iv in s.memmap_init if iv.section_nr != section_nr)
    return evolve(s, memmap_init=kept)


@helper
def _owner(k: Kernel, s: KernelState, pfn: Word) -> int:
    """Which device's dev_pagemap holds `pfn` (find_dev_pagemap()), or RAM_OWNER: for traces."""
    r = memremap.find_dev_pagemap(k, s, pfn << k.arch.PAGE_SHIFT)
    return r.dev if r is not None else RAM_OWNER

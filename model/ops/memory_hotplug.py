"""mm/memory_hotplug.c: adding and removing pages section by section, zones, RAM hotplug."""

from __future__ import annotations

from mhpcheck.core.values import Word
from mhpcheck.model.errno import E2BIG, EBUSY, EEXIST, EINVAL, ENOMEM
from mhpcheck.model.events import AltmapReleased, BadPageAccess, PagesOnlined, SectionRemoved
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory, memremap, page_alloc, resource, sparse
from mhpcheck.model.state import RAM_OWNER, KernelState, VmemAltmap, Zone, evolve, mhp_altmap_ref
from mhpcheck.model.variants import mutants, patches


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
    """mm/memory_hotplug.c:check_hotplug_memory_addressable() as of v5.6 (hotplug-addressable)."""
    # "const u64 max_addr = PFN_PHYS(pfn + nr_pages) - 1; if (max_addr >> MAX_PHYSMEM_BITS)"
    max_addr = ((pfn + nr_pages) << k.arch.PAGE_SHIFT) - 1
    if k.sem.branch((max_addr >> k.arch.MAX_PHYSMEM_BITS) != 0):
        return -E2BIG  # "Hotplugged memory exceeds maximum addressable address"
    return 0


def mhp_range_allowed(k: Kernel, start_pfn: Word, nr_pages: Word, need_mapping: bool) -> bool:
    """mm/memory_hotplug.c:mhp_range_allowed() as of v5.12 (bca3feaa0764)."""
    # mhp_get_pluggable_range(): "const u64 max_phys = (1ULL << MAX_PHYSMEM_BITS) - 1;"
    # Abstraction: with need_mapping the range is also clipped to arch_get_mappable_range(),
    # the linear map's reach; the window the explorer hot-adds lies far inside every arch's.
    start = start_pfn << k.arch.PAGE_SHIFT
    end = start + (nr_pages << k.arch.PAGE_SHIFT)
    max_phys = (1 << k.arch.MAX_PHYSMEM_BITS) - 1
    # "if (start < end && start >= mhp_range.start && (end - 1) <= mhp_range.end) return true;"
    return k.sem.branch((start < end) & (end - 1 <= max_phys))


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
    # v5.6 to v5.11 only: bca3feaa0764 (v5.12) "drops now redundant
    # check_hotplug_memory_addressable() check in __add_pages()" for mhp_range_allowed() in the
    # callers, leaving "VM_BUG_ON(!mhp_range_allowed(PFN_PHYS(pfn), nr_pages * PAGE_SIZE, false));"
    # here: a debug assertion, off in the kernels the model follows.
    if k.variant.has(patches.HOTPLUG_ADDRESSABLE) and not k.variant.has(patches.MHP_RANGE_ALLOWED):
        err = check_hotplug_memory_addressable(k, phys_start_pfn, nr_pages)
        if err:
            return s, err
    if not explicit and k.variant.has(patches.ALTMAP_HOTPLUG):
        altmap = memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, phys_start_pfn))
    if altmap is not None and k.variant.has(patches.ALTMAP_HOTPLUG):
        a = s.altmap_of(altmap)
        assert a is not None
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
    if explicit and k.variant.has(patches.SUBSECTION_HOTPLUG):
        err = check_pfn_span(k, phys_start_pfn, nr_pages)
        if err:
            return s, err
        # "for (; pfn < end_pfn; pfn += cur_nr_pages) { /* Select all remaining pages up to the
        # next section boundary */ cur_nr_pages = min(end_pfn - pfn, SECTION_ALIGN_UP(pfn + 1) - pfn);"
        for pfn, cur_nr_pages in _section_chunks(k, phys_start_pfn, nr_pages):
            s, err = sparse.sparse_add_section(k, s, nid, pfn, cur_nr_pages, altmap)
            if k.variant.mutated(mutants.ENOMEM_SWALLOWED) and err == -ENOMEM:
                err = 0
            if err:
                break
        return s, err
    start_sec = pfn_to_section_nr(k, phys_start_pfn)
    end_sec = pfn_to_section_nr(k, phys_start_pfn + nr_pages - 1)
    err = 0
    for i in range(start_sec, end_sec + 1):
        s, err = _add_section(k, s, nid, zone, section_nr_to_pfn(k, i))
        if not k.variant.has(patches.SUBSECTION_HOTPLUG) and err == -EEXIST:
            # "EEXIST is finally dealt with by ioresource collision check."
            err = 0
        if k.variant.mutated(mutants.ENOMEM_SWALLOWED) and err == -ENOMEM:
            err = 0
        if err:
            break
    return s, err


def check_pfn_span(k: Kernel, pfn: Word, nr_pages: Word) -> int:
    """mm/memory_hotplug.c:check_pfn_span() as of v5.3 (ba72b4c8cf60)."""
    # "Disallow all operations smaller than a sub-section and only allow operations smaller
    # than a section for SPARSEMEM_VMEMMAP."
    min_align = k.arch.PAGES_PER_SUBSECTION
    if k.sem.branch(((pfn | nr_pages) & (min_align - 1)) != 0):
        return -EINVAL
    return 0


@helper
def _section_chunks(k: Kernel, pfn: Word, nr_pages: Word) -> list[tuple[Word, int]]:
    """[pfn, pfn + nr_pages) cut at section boundaries: __add_pages()'s cur_nr_pages loop."""
    first, end = k.sem.concrete(pfn), k.sem.concrete(pfn) + k.sem.concrete(nr_pages)
    pps = k.arch.PAGES_PER_SECTION
    out: list[tuple[Word, int]] = []
    cur = first
    while cur < end:
        cur_nr = min(end - cur, (cur // pps + 1) * pps - cur)  # SECTION_ALIGN_UP(pfn + 1) - pfn
        out.append((k.sem.word(cur), cur_nr))
        cur += cur_nr
    return out


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
    """mm/memory_hotplug.c:__remove_pages() as of v4.5 (614186c0, seed 001).

    From v4.16 (24e6d5a59ac7) the altmap is passed in; from v5.3 (ba72b4c8cf60) it removes
    sub-section chunks; from v6.5 (map-offset-removed) it passes no map_offset.
    """
    k.call("__remove_pages", pfn=phys_start_pfn, nr_pages=nr_pages)
    map_offset: Word | None = k.sem.word(0)
    explicit = k.variant.has(patches.EXPLICIT_ALTMAP)
    ret = 0
    if k.variant.has(patches.MAP_OFFSET_REMOVED):
        map_offset = None  # v6.5: "sparse_remove_section(pfn, cur_nr_pages, altmap);"
    elif explicit:
        # v5.3+: "map_offset = vmem_altmap_offset(altmap);" for every caller
        if altmap is not None and k.variant.has(patches.ALTMAP_HOTPLUG):
            map_offset = memremap.vmem_altmap_offset(k, s.altmap_of(altmap))
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
    if explicit:
        if check_pfn_span(k, phys_start_pfn, nr_pages):
            return (
                s,
                0,
            )  # "if (check_pfn_span(pfn, nr_pages)) { WARN(1, "Misaligned %s start: ..."); return; }"
        for pfn, cur_nr_pages in _section_chunks(k, phys_start_pfn, nr_pages):
            # __remove_section() is void from v5.3: an absent section is WARNed and skipped
            s, _ = sparse.sparse_remove_section(k, s, pfn, cur_nr_pages, map_offset, altmap)
            if map_offset is not None and not k.variant.mutated(mutants.MAP_OFFSET_EVERY_SECTION):
                map_offset = k.sem.word(0)
        return s, 0
    assert map_offset is not None  # v4.5-v4.15: always passed
    nr_sections = k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    first = pfn_to_section_nr(k, phys_start_pfn)
    for i in range(nr_sections):
        s, ret = _remove_section(k, s, zone, first + i, map_offset)
        if not k.variant.mutated(mutants.MAP_OFFSET_EVERY_SECTION):
            map_offset = k.sem.word(0)
        if ret:
            break
    return s, ret


MHP_MEMMAP_ON_MEMORY = 1 << 1  # include/linux/memory_hotplug.h: "((__force mhp_t)BIT(1))"


def add_memory(
    k: Kernel,
    s: KernelState,
    nid: int,
    start_pfn: Word,
    nr_pages: Word,
    mhp_flags: int = 0,
    memmap_on_memory: bool = False,
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:add_memory() as of v4.5 (4b94ffdc4163)."""
    k.call("add_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    # register_memory_resource(): "if (!mhp_range_allowed(start, size, true)) return ERR_PTR(-E2BIG);"
    if k.variant.has(patches.MHP_RANGE_ALLOWED) and not mhp_range_allowed(k, start_pfn, nr_pages, True):
        return s, -E2BIG
    s, ret = resource.request_mem_region(k, s, start_pfn, nr_pages, RAM_OWNER)
    if ret:
        return s, -EEXIST  # register_memory_resource(): "System RAM resource ... cannot be added"
    if k.variant.has(patches.MEMMAP_ON_MEMORY):
        return add_memory_resource(k, s, nid, start_pfn, nr_pages, mhp_flags, memmap_on_memory)
    s, ret = k.arch.arch_add_memory(k, s, nid, start_pfn, nr_pages, False, None)
    if ret < 0:
        # "error: ... release_memory_resource(res);" -- sections already added stay.
        s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
        return s, ret
    if k.variant.has(patches.ZONES_AT_ONLINE):
        # Abstraction: before v5.15 onlining is not modelled; memory is placed in its zone at
        # add time. From v5.15, where memmap_on_memory makes it matter, blocks are onlined.
        s = move_pfn_range_to_zone(k, s, Zone.ZONE_NORMAL, start_pfn, nr_pages, None)
    return s, 0


def remove_memory(
    k: Kernel, s: KernelState, nid: int, start_pfn: Word, nr_pages: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:remove_memory() as of v4.5 (4b94ffdc4163)."""
    k.call("remove_memory", start_pfn=start_pfn, nr_pages=nr_pages)
    if k.variant.has(patches.MEMMAP_ON_MEMORY):
        return try_remove_memory(k, s, start_pfn, nr_pages)
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


def mhp_supports_memmap_on_memory(k: Kernel, size: int, memmap_on_memory: bool) -> bool:
    """mm/memory_hotplug.c:mhp_supports_memmap_on_memory() as of v5.13 (a08a2ae34613).

    From v6.6 (2d1f649c7c08, 85a2b4b08f20) the memmap must cover whole pageblocks, not all of the
    block, and the arch decides on its PMD alignment; from v6.8 (6b8f0798b85a) it is asked about
    one memory block, whatever the size of the request (the caller passes a block).
    """
    # Abstraction: `memmap_on_memory` is the boot parameter memory_hotplug.memmap_on_memory
    # (mhp_memmap_on_memory()), passed in so that one exploration covers both settings; its
    # "force" mode (v6.6) is not modelled.
    if not k.arch.has.memmap_on_memory:  # IS_ENABLED(CONFIG_MHP_MEMMAP_ON_MEMORY)
        return False
    pageblock_pages = 1 << k.arch.pageblock_order
    if k.variant.has(patches.MEMMAP_ON_MEMORY_PAGEBLOCK):
        block_pages = memory.memory_block_size_bytes(k) >> k.arch.PAGE_SHIFT
        vmemmap_size = block_pages * k.arch.STRUCT_PAGE_SIZE  # memory_block_memmap_size()
        page_size = 1 << k.arch.PAGE_SHIFT
        memmap_pages = memory_block_memmap_on_memory_pages(k)
        if not memmap_on_memory:  # "if (!mhp_memmap_on_memory()) return false;"
            return False
        if vmemmap_size % page_size:  # "if (!IS_ALIGNED(vmemmap_size, PAGE_SIZE))"
            return False
        if memmap_pages % pageblock_pages:  # "if (!pageblock_aligned(memmap_pages))"
            return False
        if memmap_pages == block_pages:  # "No effective hotplugged memory doesn't make sense."
            return False
        supports = k.arch.arch_supports_memmap_on_memory or arch_supports_memmap_on_memory
        return bool(supports(k, vmemmap_size))
    nr_vmemmap_pages = size >> k.arch.PAGE_SHIFT
    vmemmap_size = nr_vmemmap_pages * k.arch.STRUCT_PAGE_SIZE
    remaining_size = size - vmemmap_size
    pmd_size = 1 << k.arch.PMD_SHIFT
    pageblock_size = pageblock_pages << k.arch.PAGE_SHIFT
    # "a) We span a single memory block; b) ... vmemmap pages span complete PMDs;
    #  c) The vmemmap pages (and thereby the pages that will be exposed to the buddy) have to
    #  cover full pageblocks."
    single_block = size == memory.memory_block_size_bytes(k)
    if k.variant.mutated(mutants.MEMMAP_ON_MEMORY_ANY_SIZE):
        single_block = size % memory.memory_block_size_bytes(k) == 0
    return (
        memmap_on_memory
        and single_block
        and vmemmap_size % pmd_size == 0
        and remaining_size % pageblock_size == 0
    )


def arch_supports_memmap_on_memory(k: Kernel, vmemmap_size: int) -> bool:
    """mm/memory_hotplug.c:arch_supports_memmap_on_memory() as of v6.6 (85a2b4b08f20)."""
    # "As default, we want the vmemmap to span a complete PMD such that we can map the vmemmap
    # using a single PMD if supported by the architecture."
    return vmemmap_size % (1 << k.arch.PMD_SHIFT) == 0


def memory_block_memmap_on_memory_pages(k: Kernel) -> int:
    """mm/memory_hotplug.c:memory_block_memmap_on_memory_pages() as of v6.6 (2d1f649c7c08)."""
    # "unsigned long nr_pages = PFN_UP(memory_block_memmap_size());" -- without "force"
    block_pages = memory.memory_block_size_bytes(k) >> k.arch.PAGE_SHIFT
    page_size = 1 << k.arch.PAGE_SHIFT
    return -(-(block_pages * k.arch.STRUCT_PAGE_SIZE) // page_size)


@helper
def _memmap_on_memory_possible(k: Kernel) -> bool:
    """Whether this kernel can put a memory block's memmap on the block at all (the arch opts in
    and mhp_supports_memmap_on_memory() accepts a block with the parameter on)."""
    block = memory.memory_block_size_bytes(k)
    return k.variant.has(patches.MEMMAP_ON_MEMORY) and mhp_supports_memmap_on_memory(k, block, True)


@helper
def _mhp_altmap(k: Kernel, start_pfn: Word, size: int) -> VmemAltmap:
    """The struct vmem_altmap memmap_on_memory builds: base at the range, reserve 0.

    Its free is the whole range until v6.6 ("mhp_altmap.free = PHYS_PFN(size);"), then the
    block's memmap (".free = memory_block_memmap_on_memory_pages()", 2d1f649c7c08).
    """
    w = k.sem.word
    free = size >> k.arch.PAGE_SHIFT
    if k.variant.has(patches.MEMMAP_ON_MEMORY_PAGEBLOCK):
        free = memory_block_memmap_on_memory_pages(k)
    return VmemAltmap(start_pfn, w(0), w(free), w(0), w(0))


@helper
def _put_altmap(s: KernelState, ref: int, altmap: VmemAltmap | None) -> KernelState:
    """The state with memmap_on_memory altmap `ref` set to `altmap`, or removed (None)."""
    rest = tuple(x for x in s.mhp_altmaps if x[0] != ref)
    if altmap is not None:
        rest = tuple(sorted((*rest, (ref, altmap)), key=lambda x: -x[0]))
    return evolve(s, mhp_altmaps=rest)


def add_memory_resource(
    k: Kernel,
    s: KernelState,
    nid: int,
    start_pfn: Word,
    nr_pages: Word,
    mhp_flags: int,
    memmap_on_memory: bool,
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:add_memory_resource() as of v5.15 (a08a2ae34613)."""
    size = k.sem.concrete(nr_pages) << k.arch.PAGE_SHIFT
    block = memory.memory_block_size_bytes(k)
    if k.variant.has(patches.MEMMAP_ON_MEMORY_PER_BLOCK):
        # "if ((mhp_flags & MHP_MEMMAP_ON_MEMORY) && mhp_supports_memmap_on_memory())":
        # otherwise fall back to a memmap in RAM
        if mhp_flags & MHP_MEMMAP_ON_MEMORY and mhp_supports_memmap_on_memory(k, block, memmap_on_memory):
            s, ret = create_altmaps_and_memory_blocks(k, s, nid, start_pfn, nr_pages)
            if ret:
                s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
            return s, ret
    elif mhp_flags & MHP_MEMMAP_ON_MEMORY:
        if not mhp_supports_memmap_on_memory(k, size, memmap_on_memory):
            s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
            return s, -EINVAL
        # Abstraction: the kernel's altmap lives on the stack and the block keeps only
        # nr_vmemmap_pages (try_remove_memory() rebuilds one with alloc = nr_vmemmap_pages);
        # the model keeps the altmap itself until the block is removed.
        ref = mhp_altmap_ref(pfn_to_section_nr(k, start_pfn))
        s = _put_altmap(s, ref, _mhp_altmap(k, start_pfn, size))
        s, ret = k.arch.arch_add_memory(k, s, nid, start_pfn, nr_pages, False, ref)
        if ret < 0:
            s = _put_altmap(s, ref, None)
            s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
            return s, ret
        a = s.altmap_of(ref)
        assert a is not None
        nr_vmemmap = k.sem.concrete(a.alloc)  # "mhp_altmap.alloc"
        s, ret = memory.create_memory_block_devices(k, s, start_pfn, nr_pages, ref, nr_vmemmap)
        if ret:
            # v5.15: "arch_remove_memory(start, size, NULL); goto error;", params.altmap from
            # f42ce5f087eb (v6.7)
            passed = ref if k.variant.has(patches.MHP_ADD_ERROR_PATH_ALTMAP) else None
            s, _ = k.arch.arch_remove_memory(k, s, start_pfn, nr_pages, passed)
            s = _put_altmap(s, ref, None)
            s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
            return s, ret
        return s, 0
    s, ret = k.arch.arch_add_memory(k, s, nid, start_pfn, nr_pages, False, None)
    if ret < 0:
        # "error: ... release_memory_resource(res);" -- sections already added stay.
        s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
        return s, ret
    s, ret = memory.create_memory_block_devices(k, s, start_pfn, nr_pages, None, 0)
    if ret:
        # "arch_remove_memory(start, size, params.altmap); goto error;" with no altmap
        s, _ = k.arch.arch_remove_memory(k, s, start_pfn, nr_pages, None)
        s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
        return s, ret
    return s, 0


def create_altmaps_and_memory_blocks(
    k: Kernel, s: KernelState, nid: int, start_pfn: Word, nr_pages: Word
) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:create_altmaps_and_memory_blocks() as of v6.8 (6b8f0798b85a)."""
    block = memory.memory_block_size_bytes(k)
    block_pages = block >> k.arch.PAGE_SHIFT
    count = k.sem.concrete(nr_pages) // block_pages
    for i in range(count):
        cur_start = start_pfn + i * block_pages
        ref = mhp_altmap_ref(pfn_to_section_nr(k, cur_start))
        # ".base_pfn = PHYS_PFN(cur_start), .end_pfn = PHYS_PFN(cur_start + memblock_size - 1),
        #  .free = memory_block_memmap_on_memory_pages()"
        s = _put_altmap(s, ref, _mhp_altmap(k, cur_start, block))
        s, ret = k.arch.arch_add_memory(k, s, nid, cur_start, k.sem.word(block_pages), False, ref)
        if ret < 0:
            s = _put_altmap(s, ref, None)  # kfree(params.altmap)
            # "out: if (ret && cur_start != start) remove_memory_blocks_and_altmaps(start, cur_start - start)"
            if i:
                s = remove_memory_blocks_and_altmaps(k, s, start_pfn, k.sem.word(i * block_pages))
            return s, ret
        a = s.altmap_of(ref)
        assert a is not None
        # create_memory_block_devices(cur_start, memblock_size, params.altmap, group): the
        # block's vmemmap pages are altmap->free (memory_block_online(), v6.6)
        s, ret = memory.create_memory_block_devices(
            k, s, cur_start, k.sem.word(block_pages), ref, k.sem.concrete(a.free)
        )
        if ret:
            # v6.8: "arch_remove_memory(cur_start, memblock_size, NULL);", params.altmap
            # since the fix of its error path
            passed = ref if k.variant.has(patches.MHP_ERROR_PATH_ALTMAP) else None
            if k.variant.mutated(mutants.MHP_ERROR_PATH_NULL_ALTMAP):
                passed = None
            s, _ = k.arch.arch_remove_memory(k, s, cur_start, k.sem.word(block_pages), passed)
            s = _put_altmap(s, ref, None)  # kfree(params.altmap)
            if i:
                s = remove_memory_blocks_and_altmaps(k, s, start_pfn, k.sem.word(i * block_pages))
            return s, ret
    return s, 0


def remove_memory_blocks_and_altmaps(
    k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word
) -> KernelState:
    """mm/memory_hotplug.c:remove_memory_blocks_and_altmaps() as of v6.8 (6b8f0798b85a)."""
    block_pages = memory.memory_block_size_bytes(k) >> k.arch.PAGE_SHIFT
    for i in range(k.sem.concrete(nr_pages) // block_pages):
        cur_start = start_pfn + i * block_pages
        mem = s.memory_block(pfn_to_section_nr(k, cur_start))
        if mem is None:  # WARN_ON_ONCE(!mem)
            continue
        altmap = mem.altmap
        s = memory.set_block_altmap(s, mem, None)  # "mem->altmap = NULL;"
        s = memory.remove_memory_block_devices(k, s, cur_start, k.sem.word(block_pages))
        passed = altmap
        if k.variant.mutated(mutants.MHP_ALTMAP_NOT_PASSED):
            passed = None
        s, _ = k.arch.arch_remove_memory(k, s, cur_start, k.sem.word(block_pages), passed)
        if altmap is not None:
            a = s.altmap_of(altmap)
            if a is not None:
                k.trace(AltmapReleased(altmap, a.alloc))  # WARN(altmap->alloc, "Altmap not fully unmapped")
            s = _put_altmap(s, altmap, None)
    return s


def try_remove_memory(k: Kernel, s: KernelState, start_pfn: Word, nr_pages: Word) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:try_remove_memory() as of v5.15 (a08a2ae34613)."""
    first = pfn_to_section_nr(k, start_pfn)
    last = first + k.sem.concrete(nr_pages) // k.arch.PAGES_PER_SECTION
    blocks = [b for b in s.memory_blocks if first <= b.start_section_nr < last]
    if any(b.zone is not None for b in blocks):
        return s, -EBUSY  # check_memblock_offlined_cb(): "memory is not offline"
    with_altmap = [b for b in blocks if b.altmap is not None]
    if k.variant.has(patches.MEMMAP_ON_MEMORY_PER_BLOCK) and with_altmap:
        if len(with_altmap) != len(blocks):
            return s, -EINVAL  # WARN_ON_ONCE(num_memblocks != num_altmaps)
        s = remove_memory_blocks_and_altmaps(k, s, start_pfn, nr_pages)
    else:
        altmap = None
        if with_altmap:
            if k.sem.concrete(nr_pages) << k.arch.PAGE_SHIFT != memory.memory_block_size_bytes(k):
                return s, -EINVAL  # "Refuse to remove %#llx - %#llx, wrong granularity"
            altmap = with_altmap[0].altmap  # "mhp_altmap.alloc = nr_vmemmap_pages"
        s = memory.remove_memory_block_devices(k, s, start_pfn, nr_pages)
        s, _ = k.arch.arch_remove_memory(k, s, start_pfn, nr_pages, altmap)
        if altmap is not None:
            a = s.altmap_of(altmap)
            if a is not None:
                k.trace(AltmapReleased(altmap, a.alloc))
            s = _put_altmap(s, altmap, None)
    s, _ = resource.release_mem_region_adjustable(k, s, start_pfn, nr_pages, True)
    return s, 0


def online_pages(k: Kernel, s: KernelState, pfn: Word, nr_pages: Word, zone: Zone) -> tuple[KernelState, int]:
    """mm/memory_hotplug.c:online_pages() as of v5.15 (a08a2ae34613)."""
    # "associate pfn range with the zone": move_pfn_range_to_zone(zone, pfn, nr_pages, NULL, ...)
    s = move_pfn_range_to_zone(k, s, zone, pfn, nr_pages, None)
    # online_pages_range() -> generic_online_page(): every page goes to the buddy allocator
    k.trace(PagesOnlined(pfn, nr_pages))
    return s, 0


def offline_pages(k: Kernel, s: KernelState, start_pfn: Word, nr_pages: int) -> KernelState:
    """mm/memory_hotplug.c:offline_pages() as of v5.15 (a08a2ae34613)."""
    # The pages are isolated, migrated away and taken from the buddy; then
    # remove_pfn_range_from_zone() poisons their struct pages.
    return remove_pfn_range_from_zone(k, s, start_pfn, nr_pages)


def remove_pfn_range_from_zone(k: Kernel, s: KernelState, start_pfn: Word, nr_pages: int) -> KernelState:
    """mm/memory_hotplug.c:remove_pfn_range_from_zone() as of v5.15 (a08a2ae34613)."""
    first = pfn_to_section_nr(k, start_pfn)
    last = pfn_to_section_nr(k, start_pfn + nr_pages - 1)
    sections = tuple(evolve(ms, zone=None) if first <= ms.section_nr <= last else ms for ms in s.sections)
    # page_init_poison(): the struct pages are no longer initialised
    end_pfn = start_pfn + nr_pages
    kept = tuple(
        iv for iv in s.memmap_init if not k.sem.branch((start_pfn <= iv.start_pfn) & (iv.end_pfn <= end_pfn))
    )
    return evolve(s, sections=sections, memmap_init=kept)


def mhp_init_memmap_on_memory(k: Kernel, s: KernelState, pfn: Word, nr_pages: int, zone: Zone) -> KernelState:
    """mm/memory_hotplug.c:mhp_init_memmap_on_memory() as of v5.15 (a08a2ae34613)."""
    # "move_pfn_range_to_zone(zone, pfn, nr_pages, NULL, MIGRATE_UNMOVABLE)": initialised, in
    # the zone, never given to the buddy
    return move_pfn_range_to_zone(k, s, zone, pfn, k.sem.word(nr_pages), None)


def mhp_deinit_memmap_on_memory(k: Kernel, s: KernelState, pfn: Word, nr_pages: int) -> KernelState:
    """mm/memory_hotplug.c:mhp_deinit_memmap_on_memory() as of v5.15 (a08a2ae34613)."""
    return remove_pfn_range_from_zone(k, s, pfn, nr_pages)

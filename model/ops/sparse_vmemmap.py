"""mm/sparse-vmemmap.c: vmemmap leaves, and carving them out of a device's altmap."""

from __future__ import annotations

from mhpcheck.core.values import ULONG_MAX_INT, Word
from mhpcheck.model import pgtable
from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel, memoised
from mhpcheck.model.state import SYSMEM, DeviceRange, KernelState, VmemAltmap, VmemmapLeaf, evolve
from mhpcheck.model.variants import mutants, patches

AltmapRef = int  # the dev whose dev_pagemap embeds the altmap: `struct vmem_altmap *`


def vmem_altmap_next_pfn(k: Kernel, altmap: VmemAltmap) -> Word:
    """mm/sparse-vmemmap.c:vmem_altmap_next_pfn() as of v4.5 (4b94ffdc4163)."""
    return altmap.base_pfn + altmap.reserve + altmap.alloc + altmap.align


def vmem_altmap_nr_free(k: Kernel, altmap: VmemAltmap) -> Word:
    """mm/sparse-vmemmap.c:vmem_altmap_nr_free() as of v4.5 (4b94ffdc4163)."""
    allocated = altmap.alloc + altmap.align
    if k.variant.mutated(mutants.NR_FREE_IGNORES_ALIGN):
        allocated = altmap.alloc
    if k.sem.branch(altmap.free > allocated):
        return altmap.free - allocated
    return k.sem.word(0)


@helper
def _bump_key(altmap: VmemAltmap, nr_pfns: Word) -> tuple[int, ...] | None:
    """_altmap_bump()'s arguments as ints, or None if any is a term."""
    a = altmap
    # a chain of `is` rather than all(): this runs for every base page allocated from an altmap
    concrete = type(a.base_pfn) is type(a.reserve) is type(a.free) is type(a.align) is Word
    if concrete and type(a.alloc) is type(nr_pfns) is Word:
        return (a.base_pfn.v, a.reserve.v, a.free.v, a.align.v, a.alloc.v, nr_pfns.v)
    return None


@helper
@memoised(_bump_key)
def _altmap_bump(k: Kernel, altmap: VmemAltmap, nr_pfns: Word) -> tuple[VmemAltmap, Word | None]:
    """The bump allocation of vmem_altmap_alloc() (v4.5), which v4.16 merged into altmap_alloc_block_buf().

    The altmap after the allocation and its first pfn, or None where the request is refused
    ("mm: merge vmem_altmap_alloc into altmap_alloc_block_buf", Christoph Hellwig's series).
    """
    pfn = vmem_altmap_next_pfn(k, altmap)
    nr_align = nr_pfns.lowest_set_bit()  # 1UL << find_first_bit(&nr_pfns, BITS_PER_LONG)
    nr_align = pfn.align_up(nr_align) - pfn  # ALIGN(pfn, nr_align) - pfn
    if k.sem.branch(nr_pfns + nr_align > vmem_altmap_nr_free(k, altmap)):
        return altmap, None
    new_align = altmap.align + nr_align
    if k.variant.mutated(mutants.ALIGN_NOT_COUNTED):
        new_align = altmap.align
    altmap = VmemAltmap(altmap.base_pfn, altmap.reserve, altmap.free, new_align, altmap.alloc + nr_pfns)
    return altmap, pfn + nr_align


def vmem_altmap_alloc(k: Kernel, altmap: VmemAltmap, nr_pfns: Word) -> tuple[VmemAltmap, Word]:
    """mm/sparse-vmemmap.c:vmem_altmap_alloc() as of v4.5 (4b94ffdc4163).

    The first pfn, or ULONG_MAX where the request is refused.
    """
    altmap, pfn = _altmap_bump(k, altmap, nr_pfns)
    return altmap, k.sem.word(ULONG_MAX_INT) if pfn is None else pfn


def vmem_altmap_free(k: Kernel, s: KernelState, altmap: AltmapRef, nr_pfns: int) -> KernelState:
    """kernel/memremap.c:vmem_altmap_free() as of v4.5 (4b94ffdc4163)."""
    a = s.altmap_of(altmap)
    assert a is not None
    # No underflow check: "altmap->alloc -= nr_pfns;"
    return s.with_altmap(altmap, VmemAltmap(a.base_pfn, a.reserve, a.free, a.align, a.alloc - nr_pfns))


def altmap_alloc_block_buf(
    k: Kernel, s: KernelState, size: int, altmap: AltmapRef
) -> tuple[KernelState, Word | None]:
    """mm/sparse-vmemmap.c:altmap_alloc_block_buf() as of v4.5 (4b94ffdc4163).

    From v4.16 (explicit-altmap series) with vmem_altmap_alloc() merged in.
    """
    current = s.altmap_of(altmap)
    assert current is not None
    # "if (size & ~PAGE_MASK)" cannot hold: every caller asks for whole pages.
    nr_pfns = k.sem.word(size >> k.arch.PAGE_SHIFT)
    if k.variant.has(patches.EXPLICIT_ALTMAP):
        # v4.16 merged vmem_altmap_alloc() in: NULL when refused, whatever pfn a good one has
        a, got = _altmap_bump(k, current, nr_pfns)
        if got is None:
            return s, None
        return s.with_altmap(altmap, a), got
    a, pfn = vmem_altmap_alloc(k, current, nr_pfns)
    # v4.5: "if (pfn < ULONG_MAX) ... else ptr = NULL": a good allocation whose pfn is ULONG_MAX
    # (a range wrapping the top of the pfn space) reads as a failure, its alloc already counted
    s = s.with_altmap(altmap, a)
    if k.sem.branch(pfn == ULONG_MAX_INT):
        return s, None
    return s, pfn


def vmemmap_alloc_block_buf(
    k: Kernel, s: KernelState, size: int, node: int, altmap: AltmapRef | None
) -> tuple[KernelState, int | None, Word]:
    """mm/sparse-vmemmap.c:vmemmap_alloc_block_buf() as of v5.9 (01091d25, seed 003).

    v4.5 spells it __vmemmap_alloc_block_buf(size, node, altmap); the dispatch is the same.
    Returns the state, the source of the block (an altmap's dev, SYSMEM, or None on failure)
    and its first pfn.
    """
    if k.allocation_fails(size, altmap):
        # Abstraction: fault injection; the kernel's allocation returned NULL here.
        return s, None, k.sem.word(0)
    if altmap is not None:
        s, pfn = altmap_alloc_block_buf(k, s, size, altmap)
        if pfn is None:
            return s, None, k.sem.word(0)
        return s, altmap, pfn
    # Abstraction: the page allocator never fails here (fault injection fails the caller). The
    # pfn it gives is settled when the block is mapped: pgtable.set_leaf() backs a leaf from
    # system memory with boot RAM at the leaf's own vmemmap offset (sysmem_pfn()), so pfns are
    # known, never shared by two live leaves, below every hot-pluggable range, and no state
    # depends on the order in which blocks were allocated.
    s = evolve(s, sysmem_vmemmap_pages=s.sysmem_vmemmap_pages + (size >> k.arch.PAGE_SHIFT))
    return s, SYSMEM, k.sem.word(0)


def vmemmap_populate_basepages(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: AltmapRef | None
) -> tuple[KernelState, int]:
    """mm/sparse-vmemmap.c:vmemmap_populate_basepages() as of v5.9 (01091d25, seed 003)."""
    page_shift = k.arch.PAGE_SHIFT
    new: list[VmemmapLeaf] = []  # set_pte_at() of this walk, installed together below
    for addr in range(start, end, 1 << page_shift):
        if pgtable.leaf_at(s, addr) is not None:
            continue  # pte_none() is false: already populated
        s, src, pfn = vmemmap_alloc_block_buf(k, s, 1 << page_shift, node, altmap)
        if src is None:
            return pgtable.set_leaves(k, s, new), -ENOMEM
        new.append(VmemmapLeaf(addr >> page_shift, page_shift, src, pfn))
    return pgtable.set_leaves(k, s, new), 0


def vmemmap_check_pmd(k: Kernel, s: KernelState, addr: int, end: int) -> bool:
    """mm/sparse-vmemmap.c:vmemmap_check_pmd() as of v6.2 (2045a3b8911b).

    The __weak default: 0 until 7.2 (generic-vmemmap-pmd), then "if (!pmd_leaf(pmdp_get(pmd)))
    return 0; vmemmap_verify((pte_t *)pmd, node, addr, next); return 1;". An arch's own copy
    (k.arch.vmemmap_check_pmd) takes its place.
    """
    if k.variant.has(patches.GENERIC_VMEMMAP_PMD):
        return pgtable.pmd_leaf(s, addr, k.arch.PMD_SHIFT)
    return False


def vmemmap_populate_hugepages(
    k: Kernel, s: KernelState, start: int, end: int, node: int, altmap: AltmapRef | None
) -> tuple[KernelState, int]:
    """mm/sparse-vmemmap.c:vmemmap_populate_hugepages() as of v6.2 (2045a3b8911b)."""
    pmd_shift = k.arch.PMD_SHIFT
    check_pmd = k.arch.vmemmap_check_pmd or vmemmap_check_pmd
    addr = start
    while addr < end:
        nxt = min(((addr >> pmd_shift) + 1) << pmd_shift, end)  # pmd_addr_end(addr, end)
        if pgtable.pmd_none(s, addr, pmd_shift):  # pmd_none(pmdp_get(pmd))
            s, src, pfn = vmemmap_alloc_block_buf(k, s, 1 << pmd_shift, node, altmap)
            if src is not None:
                # vmemmap_set_pmd(pmd, p, node, addr, next)
                s = pgtable.set_leaf(k, s, addr >> pmd_shift, pmd_shift, src, pfn)
                addr = nxt
                continue
            if altmap is not None:
                return s, -ENOMEM  # "No fallback: ... return an error here"
        elif check_pmd(k, s, addr, nxt):  # "else if (vmemmap_check_pmd(pmd, node, addr, next))"
            addr = nxt
            continue
        # "if (vmemmap_populate_basepages(addr, next, node, altmap)) return -ENOMEM;"
        s, err = vmemmap_populate_basepages(k, s, addr, nxt, node, altmap)
        if err:
            return s, -ENOMEM
        addr = nxt
    return s, 0


VMEMMAP_RESERVE_NR = 2  # "head and first tail page": populated, the rest reuse the tail page


def vmemmap_can_optimize(k: Kernel, altmap: AltmapRef | None, pgmap: DeviceRange | None) -> bool:
    """include/linux/mm.h:vmemmap_can_optimize() as of v6.4 (87a7ae75d738).

    Before v6.4 the same test stood inline in __populate_section_memmap() (4917f55b4ef9, v5.19)
    on every arch; from v6.4 it is false unless the arch opts in (x86_64, and radix from v6.6);
    from v6.6 (vmemmap-can-optimize-reserve) a compound page needs more than VMEMMAP_RESERVE_NR
    pages of memmap.
    """
    if k.variant.has(patches.COMPOUND_DEVMAP_OPT_IN) and not k.arch.has.optimize_dax_vmemmap:
        return False  # "static inline bool vmemmap_can_optimize(...) { return false; }"
    if pgmap is None or altmap is not None:
        return False
    nr_pages = 1 << pgmap.vmemmap_shift  # pgmap_vmemmap_nr(pgmap)
    if k.variant.has(patches.VMEMMAP_CAN_OPTIMIZE_RESERVE):
        # "nr_vmemmap_pages = ((nr_pages * sizeof(struct page)) >> PAGE_SHIFT);
        #  return !altmap && (nr_vmemmap_pages > VMEMMAP_RESERVE_NR);"
        return (nr_pages * k.arch.STRUCT_PAGE_SIZE) >> k.arch.PAGE_SHIFT > VMEMMAP_RESERVE_NR
    # "return is_power_of_2(sizeof(struct page)) && pgmap && (pgmap_vmemmap_nr(pgmap) > 1) && !altmap;"
    # Abstraction: radix's own vmemmap_populate_compound_pages() (v6.6) is stood for by the
    # generic one.
    return nr_pages > 1


def vmemmap_populate_compound_pages(
    k: Kernel, s: KernelState, start_pfn: Word, start: int, end: int, node: int, pgmap: DeviceRange
) -> tuple[KernelState, int]:
    """mm/sparse-vmemmap.c:vmemmap_populate_compound_pages() as of v5.17 (4917f55b4ef9)."""
    page_shift = k.arch.PAGE_SHIFT
    page_size = 1 << page_shift
    size = min(end - start, (1 << pgmap.vmemmap_shift) * k.arch.STRUCT_PAGE_SIZE)  # pgmap_vmemmap_nr()
    # Abstraction: compound pages no larger than a section (device-dax align 2 MiB); the reuse of
    # the previous section's tail page (compound_section_tail_page()) is not modelled.
    new: list[VmemmapLeaf] = []
    for addr in range(start, end, size):
        reuse: VmemmapLeaf | None = None
        for i, page in enumerate(range(addr, addr + size, page_size)):
            if pgtable.leaf_at(s, page) is not None:
                continue
            if i < VMEMMAP_RESERVE_NR:
                # "Populate the head page vmemmap page. It can fall in different pmd, hence
                # vmemmap_populate_address()": and the first tail page, both from RAM
                s, src, pfn = vmemmap_alloc_block_buf(k, s, page_size, node, None)
                if src is None:
                    return pgtable.set_leaves(k, s, new), -ENOMEM
                pfn = pgtable.sysmem_pfn(k, page >> page_shift, page_shift) if src == SYSMEM else pfn
                reuse = VmemmapLeaf(page >> page_shift, page_shift, src, pfn)
                new.append(reuse)
                continue
            # "Reuse the page that was populated in the prior iteration with just tail struct pages"
            assert reuse is not None
            new.append(VmemmapLeaf(page >> page_shift, page_shift, reuse.source, reuse.pfn, reused=True))
    return pgtable.set_leaves(k, s, new), 0

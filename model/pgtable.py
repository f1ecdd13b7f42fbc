"""The vmemmap page table as the model keeps it: populated leaves, looked up and changed."""

from __future__ import annotations

import bisect

from mhpcheck.core.values import Word
from mhpcheck.model.events import VmemmapAllocated, VmemmapFreed
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import FIRST_PAGE_ONLY, SYSMEM, KernelState, VmemmapLeaf, evolve


def set_leaf(k: Kernel, s: KernelState, index: int, leaf_shift: int, source: int, pfn: Word) -> KernelState:
    """Install a populated vmemmap leaf (set_pmd / set_pte_at / the hash bolted mapping)."""
    # Abstraction: page tables are not modelled; installing a leaf is recording it.
    if source == SYSMEM:
        pfn = sysmem_pfn(k, index, leaf_shift)
    leaf = VmemmapLeaf(index, leaf_shift, source, pfn)
    k.trace(VmemmapAllocated(index, leaf_shift, source, pfn))
    key = index << leaf_shift
    leaves = s.vmemmap
    i = bisect.bisect_right(leaves, key, key=_leaf_start)
    return evolve(s, vmemmap=(*leaves[:i], leaf, *leaves[i:]))


def sysmem_pfn(k: Kernel, index: int, leaf_shift: int) -> Word:
    """The boot-RAM pfn backing a vmemmap leaf from system memory: its vmemmap offset in pages.

    The memmap takes 64 bytes a page, so the offset of a pfn's struct page, in pages, lies far
    below that pfn: for the window the explorer hot-adds, in boot RAM under HOTPLUG_BASE_PFN.
    Leaves never overlap, so neither do their pfns, and each is aligned to its own size as the
    buddy's blocks are.
    """
    return k.sem.word((index << leaf_shift) >> k.arch.PAGE_SHIFT)


def _leaf_start(leaf: VmemmapLeaf) -> int:
    return leaf.index << leaf.leaf_shift


def leaf_at(s: KernelState, offset: int) -> VmemmapLeaf | None:
    """The leaf mapping byte `offset` of the vmemmap area, if any (a page-table walk)."""
    leaves = s.vmemmap
    i = bisect.bisect_right(leaves, offset, key=_leaf_start)
    if i == 0:
        return None
    leaf = leaves[i - 1]
    if offset < (leaf.index << leaf.leaf_shift) + (1 << leaf.leaf_shift):
        return leaf
    return None


def leaves_in(s: KernelState, start: int, end: int) -> list[VmemmapLeaf]:
    """The leaves mapping any byte of [start, end) of the vmemmap area, in address order."""
    leaves = s.vmemmap
    i = max(0, bisect.bisect_right(leaves, start, key=_leaf_start) - 1)
    out = []
    for leaf in leaves[i:]:
        lo = leaf.index << leaf.leaf_shift
        if lo >= end:
            break
        if lo + (1 << leaf.leaf_shift) > start:
            out.append(leaf)
    return out


def pmd_none(s: KernelState, offset: int, pmd_shift: int) -> bool:
    """Whether the PMD covering byte `offset` of the vmemmap is empty: no leaf, huge or base, maps any
    of its 2 MiB (pmd_none(*pmd); a PTE table is not none)."""
    lo = (offset >> pmd_shift) << pmd_shift
    hi = lo + (1 << pmd_shift)
    leaves = s.vmemmap
    i = bisect.bisect_left(leaves, hi, key=_leaf_start)
    if i == 0:
        return True
    leaf = leaves[i - 1]
    return (leaf.index << leaf.leaf_shift) + (1 << leaf.leaf_shift) <= lo


def pmd_leaf(s: KernelState, offset: int, pmd_shift: int) -> bool:
    """Whether the PMD covering byte `offset` of the vmemmap is itself a leaf (pmd_leaf(*pmd))."""
    leaf = leaf_at(s, offset)
    return leaf is not None and leaf.leaf_shift == pmd_shift


def clear_leaf(k: Kernel, s: KernelState, leaf: VmemmapLeaf, to: int) -> KernelState:
    """Clear a vmemmap leaf (pmd_clear / pte_clear / vmemmap_remove_mapping), freed to `to`."""
    return clear_leaves(k, s, [(leaf, to)])


def set_leaves(k: Kernel, s: KernelState, leaves: list[VmemmapLeaf]) -> KernelState:
    """Install several leaves populated by one loop (vmemmap_populate_basepages) at once."""
    if not leaves:
        return s
    leaves = [
        VmemmapLeaf(x.index, x.leaf_shift, x.source, sysmem_pfn(k, x.index, x.leaf_shift))
        if x.source == SYSMEM and not x.reused
        else x
        for x in leaves
    ]
    for x in leaves:
        k.trace(VmemmapAllocated(x.index, x.leaf_shift, x.source, x.pfn))
    return evolve(s, vmemmap=tuple(sorted((*s.vmemmap, *leaves), key=_leaf_start)))


def clear_leaves(k: Kernel, s: KernelState, freed: list[tuple[VmemmapLeaf, int]]) -> KernelState:
    """Clear several leaves unmapped by one walk (unmap_hotplug_range), each freed to its pool."""
    if not freed:
        return s
    gone = set()
    to_page_allocator = 0  # free_pages() / free_reserved_page() of the backing pages
    for leaf, to in freed:
        k.trace(VmemmapFreed(leaf.index, leaf.leaf_shift, leaf.source, to, leaf.pfn))
        gone.add(id(leaf))
        if to == SYSMEM and not leaf.reused:  # a reused page is freed with the leaf that owns it
            to_page_allocator += 1 << (leaf.leaf_shift - k.arch.PAGE_SHIFT)
        elif to == FIRST_PAGE_ONLY:
            to_page_allocator += 1
    return evolve(
        s,
        vmemmap=tuple(x for x in s.vmemmap if id(x) not in gone),
        sysmem_vmemmap_pages=s.sysmem_vmemmap_pages - to_page_allocator,
    )

"""The vmemmap page table as the model keeps it: populated leaves, base pages in runs, looked up, changed."""

from __future__ import annotations

import bisect

from mhpcheck.core.values import ULONG_MAX_INT, Word
from mhpcheck.model.events import VmemmapAllocated, VmemmapFreed
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import FIRST_PAGE_ONLY, SYSMEM, KernelState, VmemmapLeaf, evolve


def set_leaf(k: Kernel, s: KernelState, index: int, leaf_shift: int, source: int, pfn: Word) -> KernelState:
    """Install a populated vmemmap leaf (set_pmd / set_pte_at / the hash bolted mapping)."""
    # Abstraction: page tables are not modelled; installing a leaf is recording it.
    key = index << leaf_shift
    runs = s.vmemmap
    if leaf_shift == k.arch.PAGE_SHIFT or _within_a_run(runs, key):
        return set_leaves(k, s, [VmemmapLeaf(index, leaf_shift, source, pfn)])
    # a larger leaf joins no run: it goes in after the leaves that start where it does or before
    if source == SYSMEM:
        pfn = sysmem_pfn(k, index, leaf_shift)
    k.trace(VmemmapAllocated(index, leaf_shift, source, pfn))
    i = bisect.bisect_right(runs, key, key=_leaf_start)
    return evolve(s, vmemmap=(*runs[:i], VmemmapLeaf(index, leaf_shift, source, pfn), *runs[i:]))


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


def _run_end(run: VmemmapLeaf) -> int:
    return (run.index + run.count) << run.leaf_shift


def _nth(run: VmemmapLeaf, i: int) -> VmemmapLeaf:
    """Leaf i of a run, as a leaf of its own (runs are of base pages: a pfn each)."""
    return run if run.count == 1 else VmemmapLeaf(run.index + i, run.leaf_shift, run.source, run.pfn + i)


def leaves_of(run: VmemmapLeaf) -> list[VmemmapLeaf]:
    """The leaves of a run, each on its own."""
    return [run] if run.count == 1 else [_nth(run, i) for i in range(run.count)]


def each_leaf(s: KernelState) -> list[VmemmapLeaf]:
    """Every populated leaf of the vmemmap, each on its own, in address order."""
    return [leaf for run in s.vmemmap for leaf in leaves_of(run)]


def leaf_at(s: KernelState, offset: int) -> VmemmapLeaf | None:
    """The leaf mapping byte `offset` of the vmemmap area, if any (a page-table walk)."""
    runs = s.vmemmap
    i = bisect.bisect_right(runs, offset, key=_leaf_start)
    if i == 0:
        return None
    run = runs[i - 1]
    if offset >= _run_end(run):
        return None
    return _nth(run, (offset >> run.leaf_shift) - run.index)


def leaves_in(s: KernelState, start: int, end: int) -> list[VmemmapLeaf]:
    """The leaves mapping any byte of [start, end) of the vmemmap area, in address order."""
    runs = s.vmemmap
    i = max(0, bisect.bisect_right(runs, start, key=_leaf_start) - 1)
    out: list[VmemmapLeaf] = []
    for run in runs[i:]:
        if _leaf_start(run) >= end:
            break
        if _run_end(run) <= start:
            continue
        shift = run.leaf_shift
        first = max(run.index, start >> shift)
        last = min(run.index + run.count, -(-end >> shift))  # leaves up to the one holding end - 1
        out.extend(_nth(run, j - run.index) for j in range(first, last))
    return out


def pmd_none(s: KernelState, offset: int, pmd_shift: int) -> bool:
    """Whether the PMD covering byte `offset` of the vmemmap is empty: no leaf, huge or base, maps any
    of its 2 MiB (pmd_none(*pmd); a PTE table is not none)."""
    lo = (offset >> pmd_shift) << pmd_shift
    hi = lo + (1 << pmd_shift)
    runs = s.vmemmap
    i = bisect.bisect_left(runs, hi, key=_leaf_start)
    if i == 0:
        return True
    return _run_end(runs[i - 1]) <= lo


def pmd_leaf(s: KernelState, offset: int, pmd_shift: int) -> bool:
    """Whether the PMD covering byte `offset` of the vmemmap is itself a leaf (pmd_leaf(*pmd))."""
    leaf = leaf_at(s, offset)
    return leaf is not None and leaf.leaf_shift == pmd_shift


def clear_leaf(k: Kernel, s: KernelState, leaf: VmemmapLeaf, to: int) -> KernelState:
    """Clear a vmemmap leaf (pmd_clear / pte_clear / vmemmap_remove_mapping), freed to `to`."""
    return clear_leaves(k, s, [(leaf, to)])


def _joined(k: Kernel, ordered: list[VmemmapLeaf]) -> tuple[VmemmapLeaf, ...]:
    """Leaves and runs in address order, as the longest runs they make: base pages at the next
    index, from the same source at the next pfn, whose pfns stay below 2^64 (so that no page's
    end pfn wraps)."""
    if k.sem.symbolic:  # a pfn is a term: every leaf stays a record of its own
        return tuple(ordered)
    page_shift = k.arch.PAGE_SHIFT
    out: list[VmemmapLeaf] = []
    run: VmemmapLeaf | None = None
    n = first = 0  # the leaves the run has so far, and its first pfn
    joins = False  # whether the run may take more
    for x in ordered:
        # Only base pages make runs: a larger leaf is a section's memmap or more on its own.
        # A pfn must be an int: the symbolic engine's states hold terms, and a concrete kernel
        # runs on them to list the steps they offer.
        x_joins = x.leaf_shift == page_shift and not x.reused and isinstance(x.pfn, Word)
        x_first = k.sem.concrete(x.pfn) if x_joins else 0
        if (
            joins
            and x_joins
            and run is not None
            and run.index + n == x.index
            and x.source == run.source
            and first + n == x_first
            and x_first + x.count <= ULONG_MAX_INT
        ):
            n += x.count
            continue
        if run is not None:
            out.append(_grown(run, n))
        run, n, first, joins = x, x.count, x_first, x_joins
    if run is not None:
        out.append(_grown(run, n))
    return tuple(out)


def _grown(run: VmemmapLeaf, count: int) -> VmemmapLeaf:
    return (
        run
        if count == run.count
        else VmemmapLeaf(run.index, run.leaf_shift, run.source, run.pfn, False, count)
    )


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
    runs = s.vmemmap
    starts = [_leaf_start(run) for run in runs]
    if any(_within(runs, starts, _leaf_start(x)) for x in leaves):
        # a page mapped over another (v5.3 can): placed among the run's own leaves, where a
        # table of single leaves would have it
        return evolve(s, vmemmap=_joined(k, sorted((*each_leaf(s), *leaves), key=_leaf_start)))
    return evolve(s, vmemmap=_joined(k, sorted((*runs, *leaves), key=_leaf_start)))


def _within_a_run(runs: tuple[VmemmapLeaf, ...], offset: int) -> bool:
    """Whether byte `offset` of the vmemmap lies in one of `runs`, past its start or at it."""
    return _within(runs, [_leaf_start(run) for run in runs], offset)


def _within(runs: tuple[VmemmapLeaf, ...], starts: list[int], offset: int) -> bool:
    i = bisect.bisect_right(starts, offset)
    return i > 0 and offset < _run_end(runs[i - 1])


def clear_leaves(k: Kernel, s: KernelState, freed: list[tuple[VmemmapLeaf, int]]) -> KernelState:
    """Clear several leaves unmapped by one walk (unmap_hotplug_range), each freed to its pool."""
    if not freed:
        return s
    # A leaf handed out whole (a run of one) is cleared as that very record: v5.3 can map one
    # page twice, and clearing one mapping leaves the other. A leaf of a longer run is cleared
    # by its place and backing, once per time it was handed out.
    records = {id(run) for run in s.vmemmap}
    whole = set()
    of_runs: dict[tuple[int, int, int, int], int] = {}
    to_page_allocator = 0  # free_pages() / free_reserved_page() of the backing pages
    for leaf, to in freed:
        k.trace(VmemmapFreed(leaf.index, leaf.leaf_shift, leaf.source, to, leaf.pfn))
        if id(leaf) in records or not isinstance(leaf.pfn, Word):
            whole.add(id(leaf))
        else:  # a leaf of a run: concrete, as runs are
            key = (leaf.index, leaf.leaf_shift, leaf.source, k.sem.concrete(leaf.pfn))
            of_runs[key] = of_runs.get(key, 0) + 1
        if to == SYSMEM and not leaf.reused:  # a reused page is freed with the leaf that owns it
            to_page_allocator += 1 << (leaf.leaf_shift - k.arch.PAGE_SHIFT)
        elif to == FIRST_PAGE_ONLY:
            to_page_allocator += 1
    # the indices of leaves of runs that go, by leaf size, sorted: a run is touched when one of
    # them falls inside it
    indices: dict[int, list[int]] = {}
    for index, shift, _, _ in of_runs:
        indices.setdefault(shift, []).append(index)
    for at in indices.values():
        at.sort()
    kept: list[VmemmapLeaf] = []
    for run in s.vmemmap:
        if id(run) in whole:
            continue
        shift = run.leaf_shift
        at = indices.get(shift, [])
        i = bisect.bisect_left(at, run.index)
        if run.count == 1 or i == len(at) or at[i] >= run.index + run.count:
            kept.append(run)
            continue
        # the leaves of the run that stay, joined again below into the runs they make
        first = k.sem.concrete(run.pfn)
        for i in range(run.count):
            key = (run.index + i, shift, run.source, first + i)
            if of_runs.get(key, 0) > 0:
                of_runs[key] -= 1
            else:
                kept.append(_nth(run, i))
    return evolve(
        s,
        vmemmap=_joined(k, kept),
        sysmem_vmemmap_pages=s.sysmem_vmemmap_pages - to_page_allocator,
    )

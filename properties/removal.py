"""Removal gives every vmemmap page back to where it came from, and leaves nothing behind."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, monitor
from mhpcheck.model.events import AltmapReleased, VmemmapFreed
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import FIRST_PAGE_ONLY, SYSMEM, KernelState
from mhpcheck.properties.common import hexw, leaf_name


def _where(src: int) -> str:
    if src == FIRST_PAGE_ONLY:
        return "its first page only (the rest to nobody)"
    return "system memory" if src == SYSMEM else f"dev {src}'s altmap"


@monitor(kills=("altmap-freed-to-page-allocator", "mhp-altmap-not-passed", "mhp-error-path-null-altmap"))
def removal_returns_every_leaf_to_its_source(k: Kernel, step: Step) -> Iterator[Claim]:
    """vmemmap_free() gives altmap pages back to their altmap and other pages to the page allocator (seeds 002, 003)."""
    for e in step.events:
        if isinstance(e, VmemmapFreed):
            yield check(
                k.sem.true() if e.to == e.source else k.sem.false(),
                lambda: (
                    f"vmemmap page {e.index:#x} came from {_where(e.source)} but was freed to {_where(e.to)}"
                ),
            )


@monitor(
    kills=("altmap-free-skipped", "alloc-not-reset", "mhp-altmap-not-passed"),
    applies=lambda a, v: v.at_least(4, 5),
)
def altmap_fully_freed_on_release(k: Kernel, step: Step) -> Iterator[Claim]:
    """When a dev_pagemap is torn down its altmap's alloc is 0 (WARN 'failed to free all reserved pages', kernel/memremap.c)."""
    for e in step.events:
        if isinstance(e, AltmapReleased):
            yield check(e.alloc == 0, lambda: f"dev {e.dev} released with altmap alloc {hexw(e.alloc)}")


@invariant(kills=("altmap-freed-to-page-allocator",))
def nothing_left_when_all_removed(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Once every device and every hot-added RAM range is removed, no section, vmemmap page or system memory for the memmap remains."""
    if s.device_ranges or s.resources:
        return
    yield check(
        k.sem.true() if not s.sections else k.sem.false(),
        lambda: f"sections {', '.join(f'{m.section_nr:#x}' for m in s.sections)} are still present",
    )
    yield check(
        k.sem.true() if not s.vmemmap else k.sem.false(),
        lambda: f"{', '.join(leaf_name(x) for x in s.vmemmap)} still mapped",
    )
    yield check(
        k.sem.true() if s.sysmem_vmemmap_pages == 0 else k.sem.false(),
        lambda: f"{s.sysmem_vmemmap_pages} pages of system memory still held for the memmap",
    )


@invariant(kills=("vmemmap-populated-ignored",))
def present_sections_have_memmap(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Every present section's memmap is mapped, once: a vmemmap page is populated only where none is and freed only when no valid section uses it (vmemmap_populated())."""
    # the leaves' byte ranges by start: a span meets only those starting within the largest
    # leaf's size before it (a base-page vmemmap has hundreds of leaves per section)
    leaves = sorted((leaf.index << leaf.leaf_shift, leaf.count << leaf.leaf_shift) for leaf in s.vmemmap)
    starts = [a for a, _ in leaves]
    longest = max((n for _, n in leaves), default=0)
    for ms in s.sections:
        lo = (ms.section_nr << k.arch.PFN_SECTION_SHIFT) * k.arch.STRUCT_PAGE_SIZE
        hi = lo + k.arch.PAGES_PER_SECTION * k.arch.STRUCT_PAGE_SIZE
        # From v5.3 only the present sub-sections of a section have a memmap.
        per = k.arch.PAGES_PER_SUBSECTION * k.arch.STRUCT_PAGE_SIZE
        spans = [(lo, hi)]
        if ms.subsection_map:
            spans = [(lo + i * per, lo + j * per) for i, j in _runs(ms.subsection_map)]
        need = sum(b - a for a, b in spans)
        covered = 0
        for x, y in spans:
            for a, n in leaves[bisect_right(starts, x - longest) : bisect_left(starts, y)]:
                covered += max(0, min(a + n, y) - max(a, x))
        yield check(
            k.sem.true() if covered == need else k.sem.false(),
            lambda: (
                f"section {ms.section_nr:#x} is present but {need - covered:#x} bytes of its memmap are unmapped"
                if covered < need
                else f"section {ms.section_nr:#x} has {covered - need:#x} bytes of its memmap mapped twice"
            ),
        )


def _runs(bits: int) -> list[tuple[int, int]]:
    """The runs of set bits of a subsection map, as [first, end) bit indices."""
    out = []
    i = 0
    while bits >> i:
        if not bits >> i & 1:
            i += ((bits >> i) & -(bits >> i)).bit_length() - 1  # to the next set bit
            continue
        j = i + (~(bits >> i) & ((bits >> i) + 1)).bit_length() - 1  # past this run
        out.append((i, j))
        i = j
    return out

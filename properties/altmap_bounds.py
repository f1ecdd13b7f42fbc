"""The altmap allocator stays inside the altmap's free area (mm/sparse-vmemmap.c)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.spec import Claim, check, invariant
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState
from mhpcheck.properties.common import has_altmaps, hexw, leaf_pages


@invariant(kills=("nr-free-ignores-align",), applies=has_altmaps)
def altmap_alloc_never_exceeds_free(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """alloc + align <= free for every altmap: vmem_altmap_alloc() refuses what does not fit (v4.5)."""
    for r in s.device_ranges:
        a = r.altmap
        if a is not None:
            yield check(
                a.alloc + a.align <= a.free,
                lambda: f"dev {r.dev}: alloc {hexw(a.alloc)} + align {hexw(a.align)} > free {hexw(a.free)}",
            )


@invariant(kills=("nr-free-ignores-align",), applies=has_altmaps)
def altmap_leaves_inside_free_area(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Every altmap-backed vmemmap page lies in [base_pfn + reserve, base_pfn + reserve + free) (v4.5)."""
    for leaf in s.vmemmap:
        r = s.range_of(leaf.source)
        if r is None or r.altmap is None:
            continue
        a = r.altmap
        lo = a.base_pfn + a.reserve
        hi = lo + a.free
        end = leaf.pfn + leaf_pages(k, leaf)
        yield check(
            (leaf.pfn >= lo) & (end <= hi),
            lambda: (
                f"vmemmap page {leaf.index:#x} of dev {r.dev} at pfns [{hexw(leaf.pfn)}, {hexw(end)})"
                f" outside the free area [{hexw(lo)}, {hexw(hi)})"
            ),
        )


@invariant(kills=("align-not-counted",), applies=has_altmaps)
def altmap_leaves_below_next_pfn(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Every altmap-backed vmemmap page lies below vmem_altmap_next_pfn() = base + reserve + alloc + align: the altmap is a bump allocator (v4.5)."""
    for leaf in s.vmemmap:
        r = s.range_of(leaf.source)
        if r is None or r.altmap is None:
            continue
        a = r.altmap
        nxt = a.base_pfn + a.reserve + a.alloc + a.align
        end = leaf.pfn + leaf_pages(k, leaf)
        yield check(
            end <= nxt,
            lambda: (
                f"vmemmap page {leaf.index:#x} of dev {r.dev} ends at pfn {hexw(end)}, past the "
                f"altmap's next pfn {hexw(nxt)}"
            ),
        )

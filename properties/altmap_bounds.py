"""The altmap allocator stays inside the altmap's free area (mm/sparse-vmemmap.c)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, monitor
from mhpcheck.model.events import VmemmapFreed
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import FIRST_PAGE_ONLY, SYSMEM, KernelState
from mhpcheck.properties.common import has_altmaps, hexw, leaf_name, leaf_pages


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
                f"{leaf_name(leaf)} of dev {r.dev} at pfns [{hexw(leaf.pfn)}, {hexw(end)})"
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
                f"{leaf_name(leaf)} of dev {r.dev} ends at pfn {hexw(end)}, past the "
                f"altmap's next pfn {hexw(nxt)}"
            ),
        )


@monitor(kills=("altmap-free-no-lower-bound",), applies=has_altmaps)
def altmap_frees_only_its_own_pages(k: Kernel, step: Step) -> Iterator[Claim]:
    """vmem_altmap_free() is given only pages of its altmap, pfns in [base_pfn, base_pfn + reserve + free), and never more than alloc: alloc is unsigned and never checked (kernel/memremap.c, v4.5)."""
    freed: dict[int, int] = {}
    for e in step.events:
        if not isinstance(e, VmemmapFreed) or e.to in (SYSMEM, FIRST_PAGE_ONLY):
            continue
        a = step.before.altmap_of(e.to)
        if a is None:
            continue
        n = 1 << (e.leaf_shift - k.arch.PAGE_SHIFT)
        lo, hi = a.base_pfn, a.base_pfn + a.reserve + a.free
        end = e.pfn + n
        yield check(
            (e.pfn >= lo) & (end <= hi) & (e.pfn < end),
            lambda: (
                f"vmemmap page {e.index:#x} at pfns [{hexw(e.pfn)}, {hexw(end)}) was given to the "
                f"altmap of [{hexw(lo)}, {hexw(hi)})"
            ),
        )
        total = freed.get(e.to, 0) + n
        freed[e.to] = total
        yield check(
            a.alloc >= k.sem.word(total),
            lambda: f"{total:#x} pages given back to an altmap whose alloc was {hexw(a.alloc)}",
        )

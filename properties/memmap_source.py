"""Where a device's memmap lives: in its own altmap, not in system memory (seeds 002, 003)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, step_property
from mhpcheck.model.events import AltmapFallback, VmemmapAllocated
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import SYSMEM, DeviceRange, KernelState, VmemAltmap
from mhpcheck.model.transitions import AddDeviceMemory
from mhpcheck.properties.common import described, has_altmaps, leaf_name, overlaps


def _added_with_altmap(step: Step) -> tuple[AddDeviceMemory, DeviceRange, VmemAltmap] | None:
    """The add of a device with an altmap that `step` made, its range and altmap, if it made one."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory) or t.altmap is None or step.ret != 0:
        return None
    r = step.after.range_of(t.dev)
    if r is None or r.altmap is None:
        return None
    return t, r, r.altmap


@step_property(
    kills=("v4.13-pre-powerpc-altmap", "v5.9-pre-arm64-altmap"),
    applies=has_altmaps,
    observes=(AddDeviceMemory,),
)
def altmap_device_memmap_not_from_system_memory(k: Kernel, step: Step) -> Iterator[Claim]:
    """A device added with an altmap gets no vmemmap page from system memory, except where the arch falls back on purpose: powerpc when the altmap is exhausted or the page would cross the device (seeds 002, 003), x86 from v5.3 for a range smaller than a section."""
    added = _added_with_altmap(step)
    if added is None:
        return
    t, r, _ = added
    fallback = {(e.index, e.leaf_shift) for e in step.events if isinstance(e, AltmapFallback)}
    for e in step.events:
        if not isinstance(e, VmemmapAllocated) or e.source != SYSMEM:
            continue
        lo = (e.index << e.leaf_shift) // k.arch.STRUCT_PAGE_SIZE
        hi = lo + (1 << e.leaf_shift) // k.arch.STRUCT_PAGE_SIZE
        if (e.index, e.leaf_shift) in fallback:
            continue
        yield check(
            ~overlaps(k, lo, hi, r),
            lambda: (
                f"dev {t.dev} has an altmap, yet vmemmap page {e.index:#x} (pfns {lo:#x}-{hi:#x})"
                " came from system memory"
            ),
        )


@step_property(
    kills=("cross-boundary-end-inclusive",),
    applies=has_altmaps,
    observes=(AddDeviceMemory,),
)
def cross_boundary_fallback_only_across_the_boundary(k: Kernel, step: Step) -> Iterator[Claim]:
    """A vmemmap page leaves the altmap for system memory as crossing the namespace only if it describes a pfn outside [base_pfn, end_pfn] (powerpc altmap_cross_boundary(), c8eebc4a99f1)."""
    added = _added_with_altmap(step)
    if added is None:
        return
    t, r, altmap = added
    end = r.start_pfn + r.nr_pages  # one past altmap->end_pfn, the namespace's last pfn
    for e in step.events:
        if not isinstance(e, AltmapFallback) or e.reason != "cross-boundary":
            continue
        lo = (e.index << e.leaf_shift) // k.arch.STRUCT_PAGE_SIZE
        hi = lo + (1 << e.leaf_shift) // k.arch.STRUCT_PAGE_SIZE
        inside = (k.sem.word(lo) >= altmap.base_pfn) & (k.sem.word(hi) <= end)
        yield check(
            ~inside,
            lambda: (
                f"vmemmap page {e.index:#x} describes pfns {lo:#x}-{hi:#x}, all of dev {t.dev}'s altmap"
                " range, yet was taken from system memory as crossing its boundary"
            ),
        )


@invariant(kills=("cross-boundary-ignored",), applies=has_altmaps)
def altmap_leaves_describe_own_device(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """A device's altmap never holds another device's struct pages: powerpc altmap_cross_boundary(), the 'b)' rule of memmap_on_memory."""
    for leaf in s.vmemmap:
        r = s.range_of(leaf.source)
        if r is None:
            continue
        lo, hi = described(k, leaf)
        for other in s.device_ranges:
            if other.dev != r.dev:
                yield check(
                    ~overlaps(k, lo, hi, other),
                    lambda: (
                        f"{leaf_name(leaf)}, backed by dev {r.dev}'s altmap, holds struct "
                        f"pages of dev {other.dev}"
                    ),
                )


@invariant(kills=("cross-boundary-ignored",), applies=has_altmaps)
def altmap_leaves_belong_to_present_devices(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Every altmap-backed vmemmap page belongs to a present device: removal unmaps them all first (WARN 'failed to free all reserved pages')."""
    for leaf in s.vmemmap:
        if leaf.source != SYSMEM:
            yield check(
                k.sem.true() if s.altmap_of(leaf.source) is not None else k.sem.false(),
                lambda: f"{leaf_name(leaf)} still lives in the altmap of dev {leaf.source}, which is gone",
            )

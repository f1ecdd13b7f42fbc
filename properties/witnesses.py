"""States and steps the bounds must reach, or the invariants prove nothing."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import ON_STEP, Claim, check, reachable
from mhpcheck.model import pgtable
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.errno import EINVAL, ENOMEM
from mhpcheck.model.events import AltmapFallback, SectionRemoved, VmemmapAllocated
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops.sparse_vmemmap import vmem_altmap_nr_free
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import AddDeviceMemory, RemoveDeviceMemory
from mhpcheck.model.variants import Variant, patches
from mhpcheck.properties.common import described, overlaps


def _uses_altmap(arch: ArchConfig, v: Variant) -> bool:
    """The arch's vmemmap_populate() takes the memmap from the altmap a driver passes."""
    return arch.has.altmap


@reachable(applies=_uses_altmap)
def altmap_exhausted(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Some present device's altmap has no room for another vmemmap page, so exhaustion is explored."""
    conds = []
    for r in s.device_ranges:
        if r.altmap is not None:
            nr_free = vmem_altmap_nr_free(k, r.altmap)
            conds.append((r.altmap.free != 0) & (nr_free < k.arch.vmemmap_leaf_pages))
    yield check(k.sem.any(conds), "no altmap is exhausted")


@reachable(applies=lambda a, v: a.has.vmemmap_page_spans_sections)
def devices_share_a_vmemmap_page(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Two present devices have struct pages in one vmemmap page (powerpc: 16 MiB / 2 MiB pages span many sections)."""
    conds = []
    for leaf in pgtable.each_leaf(s):
        lo, hi = described(k, leaf)
        users = [r for r in s.device_ranges if k.sem.branch(overlaps(k, lo, hi, r))]
        conds.append(k.sem.true() if len(users) >= 2 else k.sem.false())
    yield check(k.sem.any(conds), "no vmemmap page is shared by two devices")


@reachable(applies=lambda a, v: v.has(patches.ALTMAP_HOTPLUG), on=ON_STEP, observes=(AddDeviceMemory,))
def add_rejected_by_validation(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add with an invalid altmap is tried and refused with -EINVAL."""
    ok = isinstance(step.transition, AddDeviceMemory) and step.ret == -EINVAL
    yield check(k.sem.true() if ok else k.sem.false(), "no add was refused with -EINVAL")


@reachable(applies=_uses_altmap, on=ON_STEP, observes=(AddDeviceMemory,))
def add_fails_for_lack_of_memmap(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add runs out of vmemmap backing part-way and returns -ENOMEM (or powerpc falls back)."""
    ok = isinstance(step.transition, AddDeviceMemory) and (
        step.ret == -ENOMEM or any(isinstance(e, AltmapFallback) for e in step.events)
    )
    yield check(k.sem.true() if ok else k.sem.false(), "no add ran out of vmemmap backing")


@reachable(on=ON_STEP, observes=(RemoveDeviceMemory,))
def multi_section_device_removed(k: Kernel, step: Step) -> Iterator[Claim]:
    """A device range of two or more sections is removed, so map_offset's 'first section only' is exercised."""
    n = sum(isinstance(e, SectionRemoved) for e in step.events)
    ok = isinstance(step.transition, RemoveDeviceMemory) and n >= 2
    yield check(k.sem.true() if ok else k.sem.false(), "no multi-section device was removed")


@reachable(applies=lambda a, v: a.has.altmap_falls_back_to_ram, on=ON_STEP)
def powerpc_falls_back_to_system_memory(k: Kernel, step: Step) -> Iterator[Claim]:
    """powerpc's deliberate fallback to system memory (altmap exhausted or page crossing the device) is reached."""
    ok = any(isinstance(e, AltmapFallback) for e in step.events) and any(
        isinstance(e, VmemmapAllocated) for e in step.events
    )
    yield check(k.sem.true() if ok else k.sem.false(), "powerpc never fell back to system memory")

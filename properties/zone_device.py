"""Device memory lives in ZONE_DEVICE and its iomem resource belongs to the driver (seed 004)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, monitor
from mhpcheck.model.events import BadPageAccess, ResourceReleased
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import RAM_OWNER, KernelState, Zone
from mhpcheck.properties.common import hexw


@invariant(kills=("v4.3-pre-zone-device",))
def device_memory_in_zone_device(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """The sections of a present device range are in ZONE_DEVICE, never an allocatable zone (seed 004)."""
    for ms in s.sections:
        if ms.owner == RAM_OWNER or s.range_of(ms.owner) is None:
            continue
        zone = ms.zone.name if ms.zone is not None else "no zone"
        yield check(
            k.sem.true() if ms.zone is Zone.ZONE_DEVICE else k.sem.false(),
            lambda: f"section {ms.section_nr:#x} of dev {ms.owner} is in {zone}",
        )


@monitor(kills=("v4.3-pre-zone-device", "device-resource-released"))
def device_resource_left_to_driver(k: Kernel, step: Step) -> Iterator[Claim]:
    """__remove_pages() never releases a ZONE_DEVICE range's iomem resource: the driver owns it (seed 004)."""
    for e in step.events:
        if isinstance(e, ResourceReleased) and e.by_mm:
            yield check(
                k.sem.true() if e.owner == RAM_OWNER else k.sem.false(),
                lambda: f"mm released dev {e.owner}'s resource [{hexw(e.start_pfn)}, +{hexw(e.nr_pages)})",
            )


@monitor(kills=("zone-from-page-past-end",))
def no_struct_page_read_outside_memmap(k: Kernel, step: Step) -> Iterator[Claim]:
    """No kernel function reads a struct page whose memmap is not populated (an oops, or a stale page)."""
    for e in step.events:
        if isinstance(e, BadPageAccess):
            yield check(
                k.sem.false(),
                lambda: f"{e.function}() read the struct page of pfn {hexw(e.pfn)}, which has no memmap",
            )

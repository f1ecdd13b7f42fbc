"""__remove_pages() gives map_offset to the first section of a removal only (seed 001)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, monitor
from mhpcheck.model.events import SectionRemoved
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memremap
from mhpcheck.model.transitions import RemoveDeviceMemory
from mhpcheck.properties.common import has_altmaps, hexw


@monitor(kills=("v4.5-pre-altmap-hotplug", "map-offset-every-section"), applies=has_altmaps)
def map_offset_first_section_only(k: Kernel, step: Step) -> Iterator[Claim]:
    """__remove_pages() passes vmem_altmap_offset() to the first section of a device and 0 to the rest (seed 001)."""
    t = step.transition
    if not isinstance(t, RemoveDeviceMemory):
        return
    r = step.before.range_of(t.dev)
    removed = [e for e in step.events if isinstance(e, SectionRemoved)]
    if r is None or not removed:
        return
    expected = memremap.vmem_altmap_offset(k, r.altmap)
    first = removed[0]
    yield check(
        first.map_offset == expected,
        lambda: (
            f"section {first.section_nr:#x}, the first of dev {t.dev}, got map_offset "
            f"{hexw(first.map_offset)} (expected vmem_altmap_offset() = {hexw(expected)})"
        ),
    )
    for e in removed[1:]:
        yield check(
            e.map_offset == 0,
            lambda: f"section {e.section_nr:#x} is not the first, yet got map_offset {hexw(e.map_offset)}",
        )

"""__remove_pages() gives map_offset to the first section of a removal only (seed 001)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, monitor
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.events import SectionRemoved
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memremap
from mhpcheck.model.transitions import RemoveDeviceMemory
from mhpcheck.model.variants import Variant, patches
from mhpcheck.properties.common import has_altmaps, hexw


def has_map_offset(arch: ArchConfig, v: Variant) -> bool:
    """__remove_pages() passes a map_offset from v4.5 (seed 001) until v6.5 (map-offset-removed)."""
    return has_altmaps(arch, v) and not v.has(patches.MAP_OFFSET_REMOVED)


@monitor(kills=("v4.5-pre-altmap-hotplug", "map-offset-every-section"), applies=has_map_offset)
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
    got = first.map_offset
    assert got is not None  # the property does not apply where there is none
    yield check(
        got == expected,
        lambda: (
            f"section {first.section_nr:#x}, the first of dev {t.dev}, got map_offset "
            f"{hexw(got)} (expected vmem_altmap_offset() = {hexw(expected)})"
        ),
    )
    for e in removed[1:]:
        offset = e.map_offset
        assert offset is not None
        yield check(
            offset == 0,
            lambda: f"section {e.section_nr:#x} is not the first, yet got map_offset {hexw(offset)}",
        )

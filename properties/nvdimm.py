"""The nvdimm pfn driver's layout of a namespace: the info block stays in the altmap's reserve."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, step_property
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops.pfn_devs import SZ_8K
from mhpcheck.model.transitions import AddDeviceMemory
from mhpcheck.properties.common import hexw


@step_property(kills=("info-block-outside-reserve",), observes=(AddDeviceMemory,))
def pfn_info_block_inside_reserve(k: Kernel, step: Step) -> Iterator[Claim]:
    """The namespace's info block, its first SZ_8K, lies in the altmap's reserve, where no memmap goes: reserve = nd_info_block_reserve() = ALIGN(SZ_8K, PAGE_SIZE) (drivers/nvdimm/pfn_devs.c, v5.3)."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory) or not getattr(t.altmap, "namespace_align", 0) or step.ret:
        return
    r = step.after.range_of(t.dev)
    if r is None or r.altmap is None:
        return
    a = r.altmap
    reserve_end = (a.base_pfn + a.reserve) << k.arch.PAGE_SHIFT
    info_end = k.sem.word((t.start_pfn << k.arch.PAGE_SHIFT) + SZ_8K)
    yield check(
        reserve_end >= info_end,
        lambda: (
            f"dev {t.dev}: the info block ends at {hexw(info_end)}, past the reserve's end "
            f"{hexw(reserve_end)}"
        ),
    )

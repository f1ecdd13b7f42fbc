"""memmap_init_zone() honours the altmap's reserve (seed 000)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.spec import Claim, check, invariant
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState
from mhpcheck.properties.common import has_altmaps, hexw


@invariant(kills=("v5.9-pre-altmap-reserve", "reserve-skip-inverted"), applies=has_altmaps)
def reserve_pfns_never_initialised(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """No struct page is initialised over an altmap's reserve [base_pfn, base_pfn + reserve) (seed 000)."""
    for r in s.device_ranges:
        a = r.altmap
        if a is None:
            continue
        lo, hi = a.base_pfn, a.base_pfn + a.reserve
        for iv in s.memmap_init:
            yield check(
                (iv.end_pfn <= lo) | (hi <= iv.start_pfn),
                lambda: (
                    f"memmap_init_zone initialised [{hexw(iv.start_pfn)}, {hexw(iv.end_pfn)}), "
                    f"over dev {r.dev}'s reserve [{hexw(lo)}, {hexw(hi)})"
                ),
            )

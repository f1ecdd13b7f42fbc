"""What several properties read off the model: the pfns a vmemmap leaf describes and holds."""

from __future__ import annotations

from mhpcheck.core.values import Cond, Word
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import DeviceRange, VmemmapLeaf
from mhpcheck.model.variants import Variant


def described(k: Kernel, leaf: VmemmapLeaf) -> tuple[int, int]:
    """The pfns [lo, hi) whose struct pages live in `leaf` (all the leaves of a run)."""
    lo = (leaf.index << leaf.leaf_shift) // k.arch.STRUCT_PAGE_SIZE
    return lo, lo + (leaf.count << leaf.leaf_shift) // k.arch.STRUCT_PAGE_SIZE


def leaf_pages(k: Kernel, leaf: VmemmapLeaf) -> int:
    """Base pages backing `leaf` (all the leaves of a run, whose pfns follow on)."""
    return leaf.count << (leaf.leaf_shift - k.arch.PAGE_SHIFT)


def leaf_name(leaf: VmemmapLeaf) -> str:
    """'vmemmap page 0x..', or the pages of a run: 'vmemmap pages 0x..-0x..'."""
    if leaf.count == 1:
        return f"vmemmap page {leaf.index:#x}"
    return f"vmemmap pages {leaf.index:#x}-{leaf.index + leaf.count - 1:#x}"


def overlaps(k: Kernel, lo: int, hi: int, r: DeviceRange) -> Cond:
    """Whether pfns [lo, hi) meet the device range."""
    return (r.start_pfn < hi) & (k.sem.word(lo) < r.start_pfn + r.nr_pages)


def has_altmaps(arch: ArchConfig, v: Variant) -> bool:
    """Drivers pass altmaps from v4.5 on (4b94ffdc4163)."""
    return v.at_least(4, 5)


def hexw(w: Word | int) -> str:
    return f"{w.v if isinstance(w, Word) else w:#x}"

"""memmap_on_memory: a block's memmap lives inside the block and never reaches the page allocator."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, invariant, monitor, reachable
from mhpcheck.core.values import CONCRETE
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.events import PagesOnlined
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug
from mhpcheck.model.state import KernelState, is_mhp_altmap
from mhpcheck.model.variants import Variant
from mhpcheck.properties.common import described, leaf_name, leaf_pages


def has_memmap_on_memory(arch: ArchConfig, v: Variant) -> bool:
    """memmap_on_memory exists from v5.13 (a08a2ae34613) where the arch opts in and a memory
    block's memmap can live on the block (mhp_supports_memmap_on_memory())."""
    return arch.has.memmap_on_memory and memory_hotplug._memmap_on_memory_possible(Kernel(CONCRETE, arch, v))


def _block_of(k: Kernel, ref: int) -> tuple[int, int]:
    """The pfns [lo, hi) of the memory block whose memmap_on_memory altmap is `ref`."""
    lo = (-2 - ref) << k.arch.PFN_SECTION_SHIFT
    return lo, lo + k.arch.PAGES_PER_SECTION


@monitor(kills=("online-includes-vmemmap",), applies=has_memmap_on_memory)
def memmap_on_memory_pages_never_given_to_page_allocator(k: Kernel, step: Step) -> Iterator[Claim]:
    """online_pages() never hands a block's memmap_on_memory pages to the buddy: memory_block_online() onlines [start + nr_vmemmap_pages, end) only (drivers/base/memory.c, v5.15)."""
    for e in step.events:
        if not isinstance(e, PagesOnlined):
            continue
        lo, hi = k.sem.concrete(e.start_pfn), k.sem.concrete(e.start_pfn + e.nr_pages)
        for leaf in step.after.vmemmap:
            if not is_mhp_altmap(leaf.source):
                continue
            first = k.sem.concrete(leaf.pfn)
            last = first + leaf_pages(k, leaf)
            yield check(
                k.sem.true() if last <= lo or first >= hi else k.sem.false(),
                lambda: (
                    f"pfns {lo:#x}-{hi:#x} went to the page allocator, yet pfns {first:#x}-{last:#x} "
                    f"hold the memmap ({leaf_name(leaf)})"
                ),
            )


@invariant(kills=("memmap-on-memory-any-size",), applies=has_memmap_on_memory)
def block_memmap_lies_inside_its_block(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """A memmap_on_memory block's vmemmap pages lie inside that block and hold only its own struct pages: 'a) We span a single memory block', one altmap per block from v6.8 (mm/memory_hotplug.c)."""
    for leaf in s.vmemmap:
        if not is_mhp_altmap(leaf.source):
            continue
        lo, hi = _block_of(k, leaf.source)
        first = k.sem.concrete(leaf.pfn)
        last = first + leaf_pages(k, leaf)
        dlo, dhi = described(k, leaf)
        yield check(
            k.sem.true() if lo <= first and last <= hi else k.sem.false(),
            lambda: (
                f"{leaf_name(leaf)} is backed by pfns {first:#x}-{last:#x}, outside its block {lo:#x}-{hi:#x}"
            ),
        )
        yield check(
            k.sem.true() if lo <= dlo and dhi <= hi else k.sem.false(),
            lambda: (
                f"{leaf_name(leaf)}, in block {lo:#x}-{hi:#x}, holds struct pages of pfns {dlo:#x}-{dhi:#x}"
            ),
        )


@reachable(applies=has_memmap_on_memory)
def memmap_on_memory_block_online(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """Some block whose memmap lives on itself is online, so the online path with vmemmap pages is explored."""
    yield check(
        k.sem.true()
        if any(b.nr_vmemmap_pages and b.zone is not None for b in s.memory_blocks)
        else k.sem.false(),
        lambda: "no memmap_on_memory block was ever online",
    )

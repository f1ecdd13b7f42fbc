"""Memory-block devices: a block's altmap pointer is detached before the block is released."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, monitor
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.events import MemoryBlockReleased
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.variants import Variant, patches
from mhpcheck.properties.memmap_on_memory import has_memmap_on_memory


def _blocks_keep_altmaps(arch: ArchConfig, v: Variant) -> bool:
    """From v6.6 (1a8c64e11043) a memory block keeps the altmap its memmap came from."""
    return v.has(patches.MEMORY_BLOCK_ALTMAP) and has_memmap_on_memory(arch, v)


@monitor(kills=("mem-altmap-before-registration",), applies=_blocks_keep_altmaps)
def memory_block_released_without_altmap(k: Kernel, step: Step) -> Iterator[Claim]:
    """memory_block_release() never finds mem->altmap set: the altmap is detached before the block's device goes (WARN_ON(mem->altmap), drivers/base/memory.c, v6.6)."""
    for e in step.events:
        if isinstance(e, MemoryBlockReleased):
            yield check(
                k.sem.true() if e.altmap is None else k.sem.false(),
                lambda: f"memory block {e.section_nr:#x} released with mem->altmap still set",
            )

"""drivers/nvdimm/pfn_devs.c: laying out an fsdax/devdax namespace: info block, memmap, data."""

from __future__ import annotations

from dataclasses import dataclass

from mhpcheck.model.errno import ENXIO
from mhpcheck.model.helpers import helper
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import VmemAltmap
from mhpcheck.model.variants import mutants

SZ_8K = 8 << 10
MAX_STRUCT_PAGE_SIZE = 64  # drivers/nvdimm/pfn.h: the memmap is reserved at 64 bytes a page
PFN_MODE_PMEM = 1  # --map=dev: the memmap lives on the device, in the altmap
PFN_MODE_RAM = 2  # --map=mem: the memmap comes from RAM


@dataclass(frozen=True, slots=True)
class NdPfnSb:
    """drivers/nvdimm/pfn.h:struct nd_pfn_sb as of v5.3 (ba72b4c8cf60), the fields hotplug reads."""

    mode: int
    dataoff: int  # bytes from the namespace start to the data (info block + memmap + padding)
    npfns: int  # data pages: what ndctl reports as the namespace size
    end_trunc: int


def memremap_compat_align(k: Kernel) -> int:
    """mm/memremap.c:memremap_compat_align() as of v5.7 (9ffc1d19fc4a)."""
    # the __weak default, "return SUBSECTION_SIZE;"; powerpc hash has its own (16 MiB)
    return 1 << SUBSECTION_SHIFT


def nd_pfn_init(k: Kernel, start: int, size: int, mode: int, pfn_align: int) -> tuple[NdPfnSb | None, int]:
    """drivers/nvdimm/pfn_devs.c:nd_pfn_init() as of v5.7 (9ffc1d19fc4a)."""
    page_shift = k.arch.PAGE_SHIFT
    npfns = (size - SZ_8K) >> page_shift  # PHYS_PFN(size - SZ_8K)
    align = max(pfn_align, (k.arch.memremap_compat_align or memremap_compat_align)(k))
    end_trunc = start + size - ((start + size) // align) * align  # start + size - ALIGN_DOWN(...)
    if mode == PFN_MODE_PMEM:
        page_map_size = MAX_STRUCT_PAGE_SIZE * npfns
        offset = _align(start + SZ_8K + page_map_size, align) - start
    elif mode == PFN_MODE_RAM:
        offset = _align(start + SZ_8K, align) - start
    else:
        return None, -ENXIO
    if offset >= size - end_trunc:
        return None, -ENXIO  # "unable to satisfy requested alignment"
    npfns = (size - offset - end_trunc) >> page_shift
    return NdPfnSb(mode, offset, npfns, end_trunc), 0


def nd_info_block_reserve(k: Kernel) -> int:
    """drivers/nvdimm/pfn_devs.c:nd_info_block_reserve() as of v5.3 (ba72b4c8cf60)."""
    # "return ALIGN(SZ_8K, PAGE_SIZE);"
    reserve = _align(SZ_8K, 1 << k.arch.PAGE_SHIFT)
    if k.variant.mutated(mutants.INFO_BLOCK_OUTSIDE_RESERVE):
        reserve = SZ_8K & ~((1 << k.arch.PAGE_SHIFT) - 1)
    return reserve


def init_altmap_base(k: Kernel, base: int) -> int:
    """drivers/nvdimm/pfn_devs.c:init_altmap_base() as of v5.3 (ba72b4c8cf60)."""
    base_pfn = base >> k.arch.PAGE_SHIFT
    per_subsection = 1 << (SUBSECTION_SHIFT - k.arch.PAGE_SHIFT)
    return base_pfn - base_pfn % per_subsection  # SUBSECTION_ALIGN_DOWN(base_pfn)


def init_altmap_reserve(k: Kernel, base: int) -> int:
    """drivers/nvdimm/pfn_devs.c:init_altmap_reserve() as of v5.3 (ba72b4c8cf60)."""
    reserve = nd_info_block_reserve(k) >> k.arch.PAGE_SHIFT
    base_pfn = base >> k.arch.PAGE_SHIFT
    return reserve + base_pfn - init_altmap_base(k, base)


SUBSECTION_SHIFT = 21  # include/linux/mmzone.h (ba72b4c8cf60): 2 MiB sub-sections


def _nvdimm_setup_pfn(k: Kernel, sb: NdPfnSb, start: int) -> VmemAltmap:
    """drivers/nvdimm/pfn_devs.c:__nvdimm_setup_pfn() as of v5.3 (ba72b4c8cf60)."""
    # PFN_MODE_PMEM: "struct vmem_altmap __altmap = { .base_pfn = init_altmap_base(base),
    #  .reserve = init_altmap_reserve(base), ... }; altmap->free = PHYS_PFN(offset - reserve);
    #  altmap->alloc = 0;" with base the namespace start (start_pad 0: the namespace is aligned)
    # Abstraction: .end_pfn (cf387d9644d8) is the range end; the model's altmap keeps none.
    w = k.sem.word
    reserve = nd_info_block_reserve(k)
    free = (sb.dataoff - reserve) >> k.arch.PAGE_SHIFT
    return VmemAltmap(w(init_altmap_base(k, start)), w(init_altmap_reserve(k, start)), w(free), w(0), w(0))


@helper
def _align(x: int, a: int) -> int:
    """ALIGN(x, a) on plain ints, for sizes the driver computes."""
    return -(-x // a) * a

"""What the model predicts a real kernel shows in the QEMU conformance scenarios, step by step.

Every figure comes from running the model's transitions and kernel functions at the era that
matches the kernel (ERAS) on the guest's arch and reading the resulting state the way
/proc/meminfo, /proc/zoneinfo, /proc/vmstat and ndctl read the kernel's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mhpcheck.conform.scenarios import ARCH_SCENARIOS, ARCHES, KERNELS, SCENARIOS, Figure
from mhpcheck.model import build
from mhpcheck.model.counters import mem_total_pages, memmap_ram_pages, zone_page_counts
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import kmem, pfn_devs
from mhpcheck.model.state import KernelState, Zone
from mhpcheck.model.transitions import (
    AddDeviceMemory,
    AddMemory,
    AltmapChoice,
    OfflineMemoryBlock,
    OnlineMemoryBlock,
    RemoveDeviceMemory,
    RemoveMemory,
    Transition,
)
from mhpcheck.model.variants import patches

# The model's era for each kernel series Debian ships a linux-image of.
ERAS = {"6.1": "v6.1", "6.12": "v6.12", "7.2": "v7.2"}

ARCH = "x86_64"  # the QEMU pc machine: 4 KiB pages, 128 MiB sections and memory blocks, PSE
GIB = 1 << 30
MIB = 1 << 20
DIMM_BASE = 4 * GIB  # where QEMU places the first pc-dimm (and the NVDIMM) on the pc machine
# QEMU's arm64 virt machine with 2 GiB of RAM at 0x40000000 puts device memory at 0xc0000000
NVDIMM_BASE = {"x86_64": DIMM_BASE, "arm64-4k": 3 * GIB, "arm64-16k": 3 * GIB}
NAMESPACE_SIZE = GIB
# ndctl's default --align for fsdax and devdax: the PMD size, 2 MiB with 4 KiB pages, 32 MiB with 16 KiB
PFN_ALIGN = {"x86_64": 2 * MIB, "arm64-4k": 2 * MIB, "arm64-16k": 32 * MIB}
MEMMAP_TOLERANCE_KIB = 1024  # measured RAM cost varies by up to ~0.6 MiB between runs


class _Run:
    """A scenario being run: the kernel, the state, and the figures taken after each step."""

    def __init__(self, kernel: str, scenario: str, arch: str = ARCH) -> None:
        self.kernel = kernel
        self.scenario = scenario
        self.base = NVDIMM_BASE[arch]
        self.align = PFN_ALIGN[arch]
        self.k: Kernel = build(arch, ERAS[kernel])
        self.s = KernelState()
        self.figures: list[Figure] = []
        self._mark()

    def _mark(self) -> None:
        self.total = mem_total_pages(self.k, self.s)
        self.ram = memmap_ram_pages(self.k, self.s)

    def apply(self, t: Transition) -> None:
        s, ret = t.apply(self.k, self.s)
        self.k.take_events()
        if ret:
            raise RuntimeError(f"{self.scenario} on {self.kernel}: {t} failed with {ret}")
        self.s = s

    def step(self, name: str, *, memory_figures: bool = True, extra: tuple[Figure, ...] = ()) -> None:
        k, s = self.k, self.s
        kib = (1 << k.arch.PAGE_SHIFT) >> 10
        out = list(extra)
        total, ram = mem_total_pages(k, s), memmap_ram_pages(k, s)
        out.append(self._fig(name, "mem_total_kib", (total - self.total) * kib, "KiB"))
        out.append(self._fig(name, "memmap_ram_kib", -(ram - self.ram) * kib, "KiB", MEMMAP_TOLERANCE_KIB))
        if memory_figures:
            present, managed = zone_page_counts(k, s, Zone.ZONE_MOVABLE)
            out.append(self._fig(name, "movable_present_pages", present, "pages"))
            out.append(self._fig(name, "movable_managed_pages", managed, "pages"))
        if k.variant.has(patches.NR_MEMMAP):
            out.append(self._fig(name, "nr_memmap_pages", s.nr_memmap_pages, "pages"))
        self.figures.extend(out)
        self._mark()

    def _fig(self, step: str, name: str, value: int, unit: str, tolerance: int = 0) -> Figure:
        return Figure(self.scenario, step, name, value, unit, tolerance)

    def pfn(self, phys: int) -> int:
        return phys >> self.k.arch.PAGE_SHIFT

    def blocks(self, start: int, size: int) -> Iterator[int]:
        first = self.pfn(start) >> self.k.arch.PFN_SECTION_SHIFT
        yield from range(first, first + (size >> self.k.arch.SECTION_SIZE_BITS))


def _dimm(run: _Run, mom: bool) -> None:
    d1, d1_size = DIMM_BASE, 128 * MIB
    d2, d2_size = DIMM_BASE + d1_size, GIB
    run.apply(AddMemory(run.pfn(d1), run.pfn(d1_size), memmap_on_memory=mom))
    run.step("add-d1")
    for nr in run.blocks(d1, d1_size):
        run.apply(OnlineMemoryBlock(nr))
    run.step("online-d1")
    run.apply(AddMemory(run.pfn(d2), run.pfn(d2_size), memmap_on_memory=mom))
    run.step("add-d2")
    for nr in run.blocks(d2, d2_size):
        run.apply(OnlineMemoryBlock(nr))
    run.step("online-d2")
    for nr in run.blocks(d1, d1_size):
        run.apply(OfflineMemoryBlock(nr))
    run.step("offline-d1")
    for nr in run.blocks(d2, d2_size):
        run.apply(OfflineMemoryBlock(nr))
    run.step("offline-d2")
    run.apply(RemoveMemory(run.pfn(d1), run.pfn(d1_size)))
    run.step("remove-d1")
    run.apply(RemoveMemory(run.pfn(d2), run.pfn(d2_size)))
    run.step("remove-d2")


def _namespace(run: _Run, mode: int, devdax: bool) -> AddDeviceMemory:
    """ndctl create-namespace: nd_pfn_init() lays it out, nvdimm_setup_pfn() builds the pgmap."""
    k, base = run.k, run.base
    sb, ret = pfn_devs.nd_pfn_init(k, base, NAMESPACE_SIZE, mode, run.align)
    if sb is None:
        raise RuntimeError(f"{run.scenario}: nd_pfn_init() failed with {ret}")
    run.sb = sb  # type: ignore[attr-defined]
    altmap = None
    if mode == pfn_devs.PFN_MODE_PMEM:
        # __nvdimm_setup_pfn(): .base_pfn = init_altmap_base(base), .reserve =
        # init_altmap_reserve(base), free = PHYS_PFN(offset - nd_info_block_reserve())
        base_pfn = pfn_devs.init_altmap_base(k, base)
        reserve = pfn_devs.init_altmap_reserve(k, base)
        free = (sb.dataoff - pfn_devs.nd_info_block_reserve(k)) >> k.arch.PAGE_SHIFT
        altmap = AltmapChoice(base_pfn - run.pfn(base), reserve, free)
    # dev_dax_probe(): "if (dev_dax->align > PAGE_SIZE) pgmap->vmemmap_shift =
    # order_base_2(dev_dax->align >> PAGE_SHIFT)"; fsdax pages are not compound
    shift = (run.align >> k.arch.PAGE_SHIFT).bit_length() - 1 if devdax else 0
    nr = run.pfn(NAMESPACE_SIZE - sb.end_trunc)
    return AddDeviceMemory(0, run.pfn(base), nr, altmap, vmemmap_shift=shift)


def _create(run: _Run, mode: int, devdax: bool) -> None:
    add = _namespace(run, mode, devdax)
    run.apply(add)
    sb = run.sb  # type: ignore[attr-defined]
    page = 1 << run.k.arch.PAGE_SHIFT
    extra = (
        run._fig("create", "namespace_size_bytes", sb.npfns * page, "bytes"),
        run._fig("create", "data_offset_bytes", sb.dataoff, "bytes"),
    )
    run.step("create", memory_figures=False, extra=extra)


def _kmem(run: _Run, dax_mom: bool) -> None:
    """daxctl reconfigure-device --mode=system-ram on a devdax --map=dev namespace, and back."""
    add = _namespace(run, pfn_devs.PFN_MODE_PMEM, True)
    run.apply(add)
    run._mark()
    sb = run.sb  # type: ignore[attr-defined]
    # device_dax unbinds (memunmap_pages()), kmem binds: the dax range is the namespace's data
    run.apply(RemoveDeviceMemory(0))
    start = run.base + sb.dataoff
    end = run.base + NAMESPACE_SIZE - sb.end_trunc - 1
    # The conformance runs boot with memory_hotplug.memmap_on_memory=1.
    s, ret, start_pfn, nr_pages = kmem.dev_dax_kmem_probe(run.k, run.s, start, end, dax_mom, True)
    run.k.take_events()
    if ret:
        raise RuntimeError(f"{run.scenario} on {run.kernel}: dev_dax_kmem_probe() failed with {ret}")
    run.s = s
    phys, size = start_pfn.v << run.k.arch.PAGE_SHIFT, nr_pages.v << run.k.arch.PAGE_SHIFT
    for nr in run.blocks(phys, size):
        run.apply(OnlineMemoryBlock(nr))
    run.step("online")
    for nr in run.blocks(phys, size):
        run.apply(OfflineMemoryBlock(nr))
    run.apply(RemoveMemory(start_pfn.v, nr_pages.v))  # dev_dax_kmem_remove()
    run.apply(add)  # device_dax binds again, with the same pgmap
    run.step("back-to-devdax")


_SCENARIOS: dict[str, Callable[[_Run], None]] = {
    "dimm-mom1": lambda r: _dimm(r, True),
    "dimm-mom0": lambda r: _dimm(r, False),
    "fsdax-map-dev": lambda r: _create(r, pfn_devs.PFN_MODE_PMEM, False),
    "fsdax-map-mem": lambda r: _create(r, pfn_devs.PFN_MODE_RAM, False),
    "devdax-map-dev": lambda r: _create(r, pfn_devs.PFN_MODE_PMEM, True),
    "devdax-map-mem": lambda r: _create(r, pfn_devs.PFN_MODE_RAM, True),
    "kmem-mom0": lambda r: _kmem(r, False),
    "kmem-mom1": lambda r: _kmem(r, True),
}


def predict(kernel: str, scenario: str, arch: str = ARCH) -> list[Figure]:
    """The figures the model predicts for `scenario` on `kernel` and `arch`; ValueError for unknown
    names or a scenario the arch does not run."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel '{kernel}'; valid: {', '.join(KERNELS)}")
    if arch not in ARCHES:
        raise ValueError(f"unknown arch '{arch}'; valid: {', '.join(ARCHES)}")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario '{scenario}'; valid: {', '.join(SCENARIOS)}")
    if scenario not in ARCH_SCENARIOS[arch]:
        raise ValueError(f"scenario '{scenario}' does not run on {arch}")
    run = _Run(kernel, scenario, arch)
    _SCENARIOS[scenario](run)
    return run.figures

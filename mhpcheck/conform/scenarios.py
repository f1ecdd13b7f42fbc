"""The QEMU conformance scenarios and their figures: the names the model's predictions and the
real kernels' measurements share, and the kernels each guest arch boots."""

from __future__ import annotations

from dataclasses import dataclass

ARCHES = ("x86_64", "arm64-4k", "arm64-16k")
KERNELS = ("6.1", "6.12", "7.2")
SCENARIOS: tuple[str, ...] = (
    "dimm-mom1",
    "dimm-mom0",
    "fsdax-map-dev",
    "fsdax-map-mem",
    "devdax-map-dev",
    "devdax-map-mem",
    "kmem-mom0",
    "kmem-mom1",
)
# arm64 has no ACPI memory hotplug in Debian's kernels (CONFIG_ACPI_HOTPLUG_MEMORY is not set), so
# no pc-dimm scenario; its NVDIMM comes through UEFI's ACPI NFIT like x86's.
ARCH_SCENARIOS: dict[str, tuple[str, ...]] = {
    "x86_64": SCENARIOS,
    "arm64-4k": ("fsdax-map-dev", "fsdax-map-mem", "devdax-map-dev", "devdax-map-mem"),
    "arm64-16k": ("fsdax-map-dev", "fsdax-map-mem", "devdax-map-dev", "devdax-map-mem"),
}


@dataclass(frozen=True)
class KernelSource:
    """Where a stock kernel comes from: the Debian suite and the meta package pointing at it."""

    suite: str
    meta: str


# Debian 12 (bookworm) ships 6.1, its backports 6.12, unstable 7.2. No 16K kernel before 6.12.
SOURCES: dict[str, dict[str, KernelSource]] = {
    "x86_64": {
        "6.1": KernelSource("bookworm", "linux-image-amd64"),
        "6.12": KernelSource("bookworm-backports", "linux-image-amd64"),
        "7.2": KernelSource("sid", "linux-image-amd64"),
    },
    "arm64-4k": {
        "6.1": KernelSource("bookworm", "linux-image-arm64"),
        "6.12": KernelSource("bookworm-backports", "linux-image-arm64"),
        "7.2": KernelSource("sid", "linux-image-arm64"),
    },
    "arm64-16k": {
        "6.12": KernelSource("bookworm-backports", "linux-image-arm64-16k"),
        "7.2": KernelSource("sid", "linux-image-arm64-16k"),
    },
}


def arch_kernels(arch: str) -> tuple[str, ...]:
    """The stock kernel series an arch boots, oldest first."""
    return tuple(k for k in KERNELS if k in SOURCES[arch])


@dataclass(frozen=True)
class Figure:
    """One number after a step of a scenario: a delta from the step before unless the name says."""

    scenario: str
    step: str
    name: str
    value: int
    unit: str
    tolerance: int = 0

"""The QEMU conformance scenarios and their figures: the names the model's predictions and the
real kernels' measurements share."""

from __future__ import annotations

from dataclasses import dataclass

KERNELS = ("6.1", "6.12")
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


@dataclass(frozen=True)
class Figure:
    """One number after a step of a scenario: a delta from the step before unless the name says."""

    scenario: str
    step: str
    name: str
    value: int
    unit: str
    tolerance: int = 0

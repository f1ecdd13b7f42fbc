"""Kernel figures against the model's predictions: one row per figure, with a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

# Page counts, sizes and offsets are exact in the kernel: run after run they repeat to the page. The
# memmap's RAM cost moves with page-cache and slab noise, a few hundred KiB at most; a model's
# tolerance is honoured up to this cap and no further.
TOLERANCE_CAP = {"memmap_ram_kib": 1024}


class FigureLike(Protocol):
    """A figure as the parser and the model both give it."""

    @property
    def scenario(self) -> str:
        """dimm-mom1, fsdax-map-dev, ..."""

    @property
    def step(self) -> str:
        """The step after which the figure holds: add-d1, create, online, ..."""

    @property
    def name(self) -> str:
        """mem_total_kib, memmap_ram_kib, movable_present_pages, ..."""

    @property
    def value(self) -> int:
        """The number, in `unit`."""

    @property
    def unit(self) -> str:
        """KiB, pages, bytes or blocks."""

    @property
    def tolerance(self) -> int:
        """How far a kernel value may be from this one and still match (predictions only)."""


class Verdict(Enum):
    """How one figure came out."""

    MATCH = "match"
    MISMATCH = "MISMATCH"
    NOT_MODELLED = "not modelled"  # the kernel shows it, the model predicts nothing for it
    NOT_MEASURED = "not measured"  # the model predicts it, the run did not produce it
    SKIPPED = "skipped"  # the kernel cannot run the scenario (a missing knob): shown, unchecked
    FAILED = "failed"  # the scenario did not run to the end: timeout, a failing command


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    kernel: str
    scenario: str
    step: str
    figure: str
    unit: str
    kernel_value: int | None
    model_value: int | None
    tolerance: int
    verdict: Verdict
    note: str = ""
    arch: str = "x86_64"


def compare(kernel: str, observed: Sequence[FigureLike], predicted: Sequence[FigureLike]) -> list[Row]:
    """Rows in the kernel's step order, then predicted figures the kernel did not show."""
    want = {(f.scenario, f.step, f.name): f for f in predicted}
    rows: list[Row] = []
    seen: set[tuple[str, str, str]] = set()
    for k in observed:
        key = (k.scenario, k.step, k.name)
        seen.add(key)
        m = want.get(key)
        if m is None:
            rows.append(Row(kernel, *key, k.unit, k.value, None, 0, Verdict.NOT_MODELLED))
            continue
        tol = min(max(m.tolerance, 0), TOLERANCE_CAP.get(k.name, 0))
        note = ""
        if m.unit.lower() != k.unit.lower():
            verdict, note = Verdict.MISMATCH, f"unit: kernel {k.unit}, model {m.unit}"
        else:
            verdict = Verdict.MATCH if abs(k.value - m.value) <= tol else Verdict.MISMATCH
        if m.tolerance > tol:
            note = note or f"model tolerance {m.tolerance} capped at {tol}"
        rows.append(Row(kernel, *key, k.unit, k.value, m.value, tol, verdict, note))
    for key, m in want.items():
        if key not in seen:
            rows.append(Row(kernel, *key, m.unit, None, m.value, m.tolerance, Verdict.NOT_MEASURED))
    return rows

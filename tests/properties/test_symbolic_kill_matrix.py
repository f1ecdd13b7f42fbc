"""The kill matrix under the symbolic engine: every mutant is caught with its altmaps left unknown."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import MUTANTS, Mutant
from mhpcheck.properties import PROPERTIES
from mhpcheck.results import Verdict
from mhpcheck.symbolic import check_symbolic

# One device and depth 2 (add, then remove) catch most mutants. A vmemmap page shared by two
# devices needs two one-section devices, and, to go missing, one of them removed after both adds.
SHARED_PAGE = {"sections": 2, "devices": 2, "max_device_sections": 1}
OVERRIDES = {
    "vmemmap-populated-ignored": {**SHARED_PAGE, "depth": 3},
    "cross-boundary-ignored": SHARED_PAGE,
}
# arm64 allocates its vmemmap leaf by leaf, one path per leaf the altmap may run out at: one
# section keeps those within reach.
ONE_SECTION = {"sections": 1, "max_device_sections": 1}
MAX_PATHS = 256

CASES = [(m, a) for m in MUTANTS for a in m.archs]


def _kill(case: tuple[Mutant, str]) -> tuple[str, str, dict[str, str], str]:
    m, arch = case
    claimed = [p for p in PROPERTIES if m.name in p.kills]
    bounds = Bounds(
        depth=2,
        sections=m.max_device_sections,
        devices=1,
        max_device_sections=m.max_device_sections,
        partial_failures=m.partial_failures,
        faults=m.faults,
    )
    over = ONE_SECTION if arch.startswith("arm64") else OVERRIDES.get(m.name, {})
    bounds = replace(bounds, **over)  # type: ignore[arg-type]
    cell = check_symbolic(arch, f"{m.era}+{m.name}", bounds, claimed, max_paths=MAX_PATHS)
    return m.name, arch, {p.name: p.verdict.value for p in cell.properties}, cell.budget


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], tuple[dict[str, str], str]]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        return {(name, arch): (v, cut) for name, arch, v, cut in pool.map(_kill, CASES)}


@pytest.mark.parametrize(("mutant", "arch"), CASES, ids=[f"{m.name}@{a}" for m, a in CASES])
def test_each_mutant_is_killed_by_the_symbolic_engine(verdicts, mutant: Mutant, arch: str) -> None:  # type: ignore[no-untyped-def]
    v, cut = verdicts[(mutant.name, arch)]
    killers = [name for name, verdict in v.items() if verdict == Verdict.VIOLATED.value]
    assert killers, f"{mutant.name} survives the symbolic engine on {arch}: {v} {cut}"

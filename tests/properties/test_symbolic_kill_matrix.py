"""The kill matrix under the symbolic engine: every mutant is caught with its altmaps left unknown."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest
from test_kill_matrix import SEED_ARCHS

from mhpcheck.checker import judge
from mhpcheck.core.results import Verdict
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.symbolic.engine import check_symbolic
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import MUTANTS, Mutant, variant_named
from mhpcheck.properties import PROPERTIES

# the symbolic engine over every mutant and seed: minutes; .ci/run runs it with -m long
pytestmark = pytest.mark.long

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

# The symbolic engine takes any altmap a driver may pass; the pfn driver's own layout of a
# namespace (--namespaces) is concrete, so a bug in it is the explicit kill matrix's alone.
EXPLICIT_ONLY = {m.name for m in MUTANTS if m.namespaces}
CASES = [(m, a) for m in MUTANTS for a in m.archs if m.name not in EXPLICIT_ONLY]


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
    cell = check_symbolic(Cell(arch, f"{m.era}+{m.name}", bounds, claimed, "symbolic"), max_paths=MAX_PATHS)
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


# Each seed on the archs it concerns (the explicit kill matrix's table): the pre-patch variant is
# violated by the property that claims it, with values Z3 chose and the concrete engine
# replayed; the patched era holds.
SEED_CASES = [(v, a) for v, archs in SEED_ARCHS.items() for a in archs]
SEED_BOUNDS = Bounds(depth=2, sections=1, devices=1, max_device_sections=1, faults=0, subsections=False)


def _seed(case: tuple[str, str]) -> tuple[str, str, dict[str, str], dict[str, str]]:
    variant, arch = case
    claimed = [p for p in PROPERTIES if variant in p.kills]
    era = variant_named(variant).version
    out = []
    for v in (variant, era):
        cell = check_symbolic(
            Cell(arch, v, SEED_BOUNDS, claimed, "symbolic")
        )  # arm64-16k v5.9: 256 leaves a section
        judge(cell)
        out.append({p.name: p.verdict.value for p in cell.properties})
    return variant, arch, out[0], out[1]


@pytest.fixture(scope="module")
def seed_verdicts() -> dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        return {(v, a): (pre, post) for v, a, pre, post in pool.map(_seed, SEED_CASES)}


@pytest.mark.parametrize(("variant", "arch"), SEED_CASES, ids=[f"{v}@{a}" for v, a in SEED_CASES])
def test_each_pre_patch_seed_is_violated_symbolically_and_its_era_holds(  # type: ignore[no-untyped-def]
    seed_verdicts, variant: str, arch: str
) -> None:
    pre, post = seed_verdicts[(variant, arch)]
    assert pre, f"no property claims {variant}"
    for name in pre:
        assert pre[name] == Verdict.VIOLATED.value, f"{name} does not catch {variant} on {arch}: {pre}"
        assert post[name] in (Verdict.HOLDS.value, Verdict.FINDING.value), f"{name} fails on the era: {post}"


def test_the_symbolic_check_exits_1_on_a_seed_and_0_on_its_era(cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    args = ["check", "--engine", "symbolic", "--arch", "x86_64", "--no-cache", "--trace-dir", str(tmp_path)]
    rc, out, _ = cli_run(*args, "--variant", "v4.3-pre-zone-device")
    assert rc == 1 and "device_memory_in_zone_device   violated at step 1" in out
    rc, out, _ = cli_run(*args, "--variant", "v4.3")
    assert rc == 0 and "hold for all values up to depth 2" in out

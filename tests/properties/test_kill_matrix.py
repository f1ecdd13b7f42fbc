"""The kill matrix: every seeded bug is caught, every property catches one, post-patch eras hold."""

import pytest

from mhpcheck.checker import judge
from mhpcheck.core.results import Verdict
from mhpcheck.core.spec import REACHABLE
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import MUTANTS, PRE_PATCH, variant_named
from mhpcheck.properties import PROPERTIES

# The archs each seed concerns, for its pre-patch variant.
SEED_ARCHS = {
    "v4.3-pre-zone-device": ("x86_64",),
    "v4.5-pre-altmap-hotplug": ("x86_64",),
    "v4.13-pre-powerpc-altmap": ("powerpc64-hash", "powerpc64-radix"),
    "v5.9-pre-arm64-altmap": ("arm64-4k", "arm64-16k", "arm64-64k"),
    "v5.9-pre-altmap-reserve": ("x86_64", "powerpc64-hash", "arm64-4k"),
}
# Seed 000 at its own era: the recorded finding reserve-skip-dead makes it a no-op there.
IDENTICAL_TO_ERA = {"v4.5-pre-altmap-reserve": ("x86_64",)}

DEPTH = 3


def _cell(arch, variant, partial_failures=False, faults=0, max_device_sections=2, namespaces=False):
    # Without sub-section ranges: the mutants are about whole sections, and on arm64 shared
    # sections show recorded findings on the very properties that must hold unmutated.
    b = Bounds(
        depth=DEPTH,
        sections=max(3, max_device_sections),
        partial_failures=partial_failures,
        faults=faults,
        max_device_sections=max_device_sections,
        subsections=False,
        namespaces=namespaces,
    )
    r = explore(Cell(arch, variant, b, PROPERTIES))
    judge(r)
    return {p.name: p for p in r.properties}, r


MUTANT_CASES = [(m, a) for m in MUTANTS for a in m.archs]


@pytest.mark.parametrize(("mutant", "arch"), MUTANT_CASES, ids=[f"{m.name}@{a}" for m, a in MUTANT_CASES])
def test_each_mutant_is_killed_by_every_property_that_claims_it(mutant, arch):
    claimed = [p.name for p in PROPERTIES if mutant.name in p.kills]
    assert claimed, f"no property claims to kill {mutant.name}"
    extra = (mutant.partial_failures, mutant.faults, mutant.max_device_sections, mutant.namespaces)
    base, _ = _cell(arch, mutant.era, *extra)
    bad, _ = _cell(arch, f"{mutant.era}+{mutant.name}", *extra)
    for name in claimed:
        assert base[name].verdict == Verdict.HOLDS, f"{name} must hold on {mutant.era} for the kill to count"
        assert bad[name].verdict == Verdict.VIOLATED, f"{name} does not kill {mutant.name} on {arch}"


PRE_CASES = [(v, a) for v, archs in SEED_ARCHS.items() for a in archs]
# arm64-16k maps its memmap with base pages: its pre-patch cell alone takes about 25 s
SLOW_PRE = {("v5.9-pre-arm64-altmap", "arm64-16k")}


@pytest.mark.parametrize(
    ("variant", "arch"),
    [pytest.param(v, a, marks=pytest.mark.long) if (v, a) in SLOW_PRE else (v, a) for v, a in PRE_CASES],
    ids=[f"{v}@{a}" for v, a in PRE_CASES],
)
def test_each_pre_patch_variant_violates_what_its_seed_restores(variant, arch):
    claimed = [p.name for p in PROPERTIES if variant in p.kills]
    assert claimed, f"no property claims {variant}"
    era = variant_named(variant).version
    pre, _ = _cell(arch, variant)
    post, _ = _cell(arch, era)
    for name in claimed:
        assert pre[name].verdict == Verdict.VIOLATED, f"{name} does not catch {variant} on {arch}"
        assert post[name].verdict in (Verdict.HOLDS, Verdict.FINDING), f"{name} fails on {era} {arch}"


@pytest.mark.parametrize(
    ("variant", "arch"), [(v, a) for v, archs in IDENTICAL_TO_ERA.items() for a in archs]
)
def test_seed_000_pre_patch_is_identical_to_v4_5(variant, arch):
    pre, rp = _cell(arch, variant)
    post, rq = _cell(arch, variant_named(variant).version)
    assert rp.states == rq.states
    assert {n: p.verdict for n, p in pre.items()} == {n: p.verdict for n, p in post.items()}


def test_every_property_kills_something_and_every_seeded_bug_is_claimed():
    for p in PROPERTIES:
        if p.kind != REACHABLE:
            assert p.kills, f"{p.name} claims to kill nothing"
    claimed = {k for p in PROPERTIES for k in p.kills}
    for m in MUTANTS:
        assert m.name in claimed, f"mutant {m.name} is claimed by no property"
    for v in PRE_PATCH:
        assert v.name in claimed or v.name in IDENTICAL_TO_ERA, f"{v.name} is claimed by no property"
    known = {m.name for m in MUTANTS} | {v.name for v in PRE_PATCH}
    assert claimed <= known, f"kills= names unknown bugs: {claimed - known}"

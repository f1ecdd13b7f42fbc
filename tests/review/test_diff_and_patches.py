"""Design review: diff reports each seed's fix, a patch re-introducing a seed's bug is a regression."""

import subprocess
import sys
from pathlib import Path

import pytest

from mhpcheck import patching
from mhpcheck.core.errors import InputError
from mhpcheck.model.transitions import Bounds
from mhpcheck.review.bisect import bisect
from mhpcheck.review.diff import CHANGE, FIX, REGRESSION, diff

PATCHES = Path(__file__).resolve().parents[1] / "patches"
B = Bounds(depth=2, faults=0)
# Whole-section ranges for the seeds: with sub-section ranges, seed 003's altmaps on arm64 also
# back the memmap pages that devices sharing a section share (findings
# arm64-subsection-pmd-memmap, arm64-subsection-shared-vmemmap-page), which the diff then
# reports as regressions of the seed, though the sharing predates it.
SEED_BOUNDS = Bounds(depth=3, faults=0, subsections=False)

SEEDS = [
    ("x86_64", "v4.3-pre-zone-device", "v4.3", "device_memory_in_zone_device"),
    ("x86_64", "v4.5-pre-altmap-hotplug", "v4.5", "map_offset_first_section_only"),
    ("x86_64", "v5.9-pre-altmap-reserve", "v5.9", "reserve_pfns_never_initialised"),
    ("powerpc64-hash", "v4.13-pre-powerpc-altmap", "v4.13", "altmap_device_memmap_not_from_system_memory"),
    ("arm64-64k", "v5.9-pre-arm64-altmap", "v5.9", "altmap_device_memmap_not_from_system_memory"),
]


# What a seed brought in beside its fix, unmasked by the findings recorded for its era: seed 002's
# altmap backs a neighbouring device's struct pages (finding powerpc-shared-vmemmap-page, fixed
# by cf387d9644d8), where the pre-patch kernel took system memory.
SEED_REGRESSIONS = {"v4.13-pre-powerpc-altmap": "altmap_leaves_describe_own_device"}


@pytest.mark.parametrize(("arch", "pre", "post", "prop"), SEEDS, ids=[s[1] for s in SEEDS])
def test_diff_of_each_seed_reports_its_fix_and_only_the_regressions_it_brought(arch, pre, post, prop):
    r = diff(arch, pre, post, SEED_BOUNDS)
    assert FIX in r.differences
    assert prop in r.differences[FIX].properties or prop == "map_offset_first_section_only"
    if pre in SEED_REGRESSIONS:
        assert r.differences[REGRESSION].properties == (SEED_REGRESSIONS[pre],)
        assert r.verdict == REGRESSION  # a fix only if it adds no violation
    else:
        assert REGRESSION not in r.differences
        assert r.verdict == FIX


# The other differences the seeds make, each explained:
# - seed 001 resets a stale altmap->alloc (a driver re-enabling its pgmap): a behaviour change;
# - seeds 002 and 003 make an altmap with no room fail the add (-ENOMEM, no fallback at v4.13
#   or on arm64), where the pre-patch kernels took system memory: a behaviour change.
@pytest.mark.parametrize(("arch", "pre", "post"), [(a, p, q) for a, p, q, _ in SEEDS[1:2] + SEEDS[3:]])
def test_the_seeds_other_differences_are_behaviour_changes(arch, pre, post):
    r = diff(arch, pre, post, SEED_BOUNDS)
    assert set(r.differences) - {REGRESSION} == {FIX, CHANGE}


def test_a_variant_is_identical_to_itself_and_seed_000_at_v4_5_to_its_pre_patch():
    assert diff("x86_64", "v4.5", "v4.5", B).identical
    assert diff("x86_64", "v4.5-pre-altmap-reserve", "v4.5", B).identical


BUG_PATCHES = [
    ("seed004_bug.py", "v4.3", "x86_64"),
    ("seed000_bug.py", "v5.9", "x86_64"),
    ("seed001_bug.py", "v5.9", "x86_64"),
    ("seed002_bug.py", "v5.9", "powerpc64-hash"),
    ("seed003_bug.py", "v5.9", "arm64-4k"),
]


@pytest.mark.parametrize(("patch", "era", "arch"), BUG_PATCHES, ids=[p[0] for p in BUG_PATCHES])
def test_a_patch_reintroducing_a_seeds_bug_is_a_regression(patch, era, arch):
    p = patching.activate(PATCHES / patch)
    r = diff(arch, era, f"{era}@{p.name}", Bounds(depth=2, faults=0))
    assert REGRESSION in r.differences


def test_the_readme_example_patch_fixes_the_shared_vmemmap_page():
    root = Path(__file__).resolve().parents[2]
    p = patching.activate(root / "examples" / "powerpc-altmap-cross-boundary.py")
    r = diff("powerpc64-hash", "v4.13", f"v4.13@{p.name}", Bounds(depth=2, faults=0))
    assert "altmap_leaves_describe_own_device" in r.differences[FIX].properties


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("raises.py", "raised RuntimeError: boom"),
        ("unknown_function.py", "unknown kernel function 'mm/memory_hotplug.c:__add_pagez'"),
        ("bad_signature.py", "must keep the signature"),
        ("syntax_error.py", "does not parse"),
        ("import_error.py", "raised ModuleNotFoundError"),
        ("no_such_file.py", "no such patch file"),
    ],
)
def test_a_bad_patch_file_is_one_line_of_bad_input(patch, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        patching.load_patch(PATCHES / patch)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mhpcheck",
            "diff",
            "--variant",
            "v4.5",
            "--patch",
            str(PATCHES / patch),
            "--arch",
            "x86_64",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr


def test_bisect_finds_the_commit_that_fixed_the_shared_vmemmap_page():
    r = bisect("altmap_leaves_describe_own_device", "powerpc64-hash", Bounds(depth=2, faults=0))
    assert r.flip == ("v5.3", "v5.9")  # v5.3 still lacks end_pfn (v5.5)
    assert r.patch is not None and r.patch.key == "altmap-end-pfn"

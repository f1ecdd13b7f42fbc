"""A patched cell whose unpatched twin ran none of the functions the patch replaces is derived
from the twin, and is what checking it would have given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mhpcheck import codec, patching
from mhpcheck.checker import REACHES, CheckRequest, derived, run_cell, run_check
from mhpcheck.core.results import REGRESSION
from mhpcheck.engines.cell import CellRequest
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.model.transitions import Bounds

# vmem_altmap_alloc() is merged into altmap_alloc_block_buf() at v4.16: v4.5 calls it, later eras never
PATCH = '''"""vmem_altmap_alloc(), its allocation not counted."""

from mhpcheck.core.values import ULONG_MAX_INT
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces


@replaces("mm/sparse-vmemmap.c:vmem_altmap_alloc")
def vmem_altmap_alloc(k, altmap, nr_pfns):
    new, pfn = sparse_vmemmap._altmap_bump(k, altmap, nr_pfns)
    return altmap, k.sem.word(ULONG_MAX_INT) if pfn is None else pfn
'''
BOUNDS = Bounds(depth=2)


def test_probes_note_what_runs_and_leave_the_model_as_it_was() -> None:
    before = dict(vars(sparse_vmemmap))
    with patching.reaching() as reached:
        assert sparse_vmemmap.vmem_altmap_alloc is not before["vmem_altmap_alloc"]
        results, _ = run_cell(CellRequest("x86_64", "v4.5", Bounds(depth=1, faults=0)))
    assert dict(vars(sparse_vmemmap)) == before
    assert "mhpcheck.model.ops.sparse_vmemmap:vmem_altmap_alloc" in reached
    assert "mhpcheck.model.ops.memory_hotplug:_add_pages" in reached
    assert not any(name.startswith("mhpcheck.model.arch.arm64:") for name in reached)
    # run_cell notes them itself for an unpatched cell
    assert set(results[0].stats[REACHES]) == reached


def _encoded(judged: codec.Judged) -> object:
    doc = codec.encode_judged(judged)
    for c in doc["cells"]:
        c["seconds"] = 0.0  # the only thing that differs: how long it took
    return doc


@pytest.mark.parametrize(
    ("arch", "variant"),
    [
        ("x86_64", "v5.9"),
        ("x86_64", "v5.9+map-offset-every-section"),  # violations: minimised counterexamples
        ("powerpc64-hash", "v6.12"),  # recorded findings
        ("arm64-64k", "v7.2"),
    ],
)
def test_a_derived_cell_is_the_cell_checked(tmp_path: Path, arch: str, variant: str) -> None:
    path = tmp_path / "uncounted.py"
    path.write_text(PATCH)
    patch = patching.activate(path)
    twin = run_cell(CellRequest(arch, variant, BOUNDS))
    req = CellRequest(arch, f"{variant}@{patch.name}", BOUNDS, patch=str(path))
    derived_cell = derived(twin, req, patch)
    assert derived_cell is not None
    checked = run_cell(req)
    assert _encoded(derived_cell) == _encoded(checked)
    assert REACHES in twin[0][0].stats  # the twin's own results are left as they were


def test_a_cell_the_patch_reaches_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "uncounted.py"
    path.write_text(PATCH)
    patch = patching.activate(path)
    twin = run_cell(CellRequest("x86_64", "v4.5", BOUNDS))
    req = CellRequest("x86_64", f"v4.5@{patch.name}", BOUNDS, patch=str(path))
    assert derived(twin, req, patch) is None
    cut = run_cell(CellRequest("x86_64", "v5.9", BOUNDS, max_states=10))
    assert derived(cut, CellRequest("x86_64", f"v5.9@{patch.name}", BOUNDS, patch=str(path)), patch) is None


def test_check_derives_what_the_patch_does_not_reach(tmp_path: Path) -> None:
    path = tmp_path / "uncounted.py"
    path.write_text(PATCH)
    req = CheckRequest(
        archs=("x86_64",),
        variants=("v4.5", "v5.9"),
        bounds=Bounds(depth=2, faults=0),
        jobs=1,
        patch=str(path),
    )
    report = run_check(req)
    assert report.derived == 1
    calls = {c.variant: sum(c.stats["patch_calls"].values()) for c in report.cells}
    assert calls["v4.5@uncounted"] > 0 and calls["v5.9@uncounted"] == 0
    # the cell the patch reaches fails where the unpatched kernel holds: it was checked
    v45 = next(c for c in report.cells if c.variant == "v4.5@uncounted")
    assert any(p.change == REGRESSION for p in v45.properties)


def test_a_patch_that_changes_the_model_when_loaded_is_never_derived(tmp_path: Path) -> None:
    # the unpatched cell comes from the cache of a run without the patch: loading this file
    # changes the model beyond its replacement, so no cell of it is taken from that run
    path = tmp_path / "loaded.py"
    path.write_text(PATCH + "\nfrom mhpcheck.model import pgtable\n\npgtable.VMEMMAP_NOTHING = 0\n")
    bounds = Bounds(depth=2, faults=0)
    plain = CheckRequest(
        archs=("x86_64",), variants=("v5.9",), bounds=bounds, jobs=1, cache_dir=str(tmp_path / "c")
    )
    run_check(plain)
    report = run_check(replace(plain, patch=str(path)))
    assert report.derived == 0 and report.cached == 0
    assert patching.activate(path).outline is None

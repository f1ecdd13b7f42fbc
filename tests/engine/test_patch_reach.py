"""Cells a patch file does not reach: derived from the unpatched twin (checker.derived()) and
cached by the file's outline (patching.outline()), so that they are never explored twice and an
edit of a body re-checks only the cells that reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mhpcheck import codec, patching
from mhpcheck.cache import CellCache
from mhpcheck.checker import REACHES, CheckRequest, derived, run_cell, run_check
from mhpcheck.core.results import REGRESSION, Report
from mhpcheck.engines.cell import CellRequest
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.model.transitions import Bounds
from mhpcheck.patching import outline
from mhpcheck.review.diff import REGRESSION as DIFF_REGRESSION
from mhpcheck.review.diff import DiffRequest, diff_all

# vmem_altmap_alloc() is merged into altmap_alloc_block_buf() at v4.16: v4.5 calls it, later eras never
HEAD = '''"""vmem_altmap_alloc() as the model has it."""

from mhpcheck.core.values import ULONG_MAX_INT
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.patching import replaces

'''
BODY = """

@replaces("mm/sparse-vmemmap.c:vmem_altmap_alloc")
def vmem_altmap_alloc(k, altmap, nr_pfns):
    altmap, pfn = sparse_vmemmap._altmap_bump(k, altmap, nr_pfns)
    return altmap, k.sem.word(ULONG_MAX_INT) if pfn is None else pfn
"""
UNCOUNTED = """

@replaces("mm/sparse-vmemmap.c:vmem_altmap_alloc")
def vmem_altmap_alloc(k, altmap, nr_pfns):
    # the allocation is not counted: removal gives back pages the altmap never counted
    new, pfn = sparse_vmemmap._altmap_bump(k, altmap, nr_pfns)
    return altmap, k.sem.word(ULONG_MAX_INT) if pfn is None else pfn
"""
PATCH = HEAD + UNCOUNTED
BOUNDS = Bounds(depth=2)


def check_x86(patch: Path | None, cache: Path | None = None) -> Report:
    """x86_64 at v4.5 (which calls vmem_altmap_alloc()) and v5.9 (which does not), no fault."""
    return run_check(
        CheckRequest(
            archs=("x86_64",),
            variants=("v4.5", "v5.9"),
            bounds=Bounds(depth=2, faults=0),
            jobs=1,
            patch=None if patch is None else str(patch),
            cache_dir=None if cache is None else str(cache),
        )
    )


def test_the_outline_sets_aside_only_function_bodies() -> None:
    base = outline(HEAD + BODY)
    assert base is not None
    assert outline(HEAD + UNCOUNTED) == base  # another body, comments included
    assert outline(HEAD + BODY.replace("    altmap, pfn", "\n\n    altmap,   pfn")) == base  # layout
    assert outline(HEAD + "LIMIT = 3\n" + BODY) != base  # module-level code runs when loaded
    assert outline(HEAD + BODY.replace("alloc(k, altmap, nr_pfns)", "alloc(k, altmap, n)")) != base
    assert outline(HEAD + BODY.replace("sparse-vmemmap.c:vmem", "sparse-vmemmap.c:_vmem")) != base
    assert outline("def (:\n") is None


@pytest.mark.parametrize(
    "extra",
    [
        "\nFIRST = vmem_altmap_alloc(None, None, None)\n",  # a call when the file is loaded
        "\nimport os\n",  # code that is not mhpcheck's, run when imported
        "\nfrom mhpcheck.model import pgtable\npgtable.clear_leaves = None\n",  # into the model
        "\nclass Table:\n    rows = 1\n",  # a class body runs when loaded
        "\n\ndef replaces(name):\n    return lambda fn: fn\n",  # not mhpcheck's @replaces
        "\n\ndef helper(k, f=print()):\n    return f\n",  # a default argument that calls
    ],
)
def test_a_file_that_may_run_code_when_loaded_has_no_outline(extra: str) -> None:
    assert outline(HEAD + BODY + extra) is None


def test_a_body_under_another_decorator_has_no_outline() -> None:
    wrapped = "\n\ndef run(fn):\n    fn(None, None, None)\n    return fn\n"
    assert outline(HEAD + wrapped + BODY.replace("\n@replaces", "\n@run\n@replaces")) is None


def test_helpers_and_constants_keep_a_file_inert() -> None:
    helper = "\nLIMIT = 1 << 3\n\n\ndef helper(k, f=print):\n    return f\n"
    assert outline(HEAD + BODY + helper) is not None
    # a helper runs only from a replacement: its body is set aside too
    assert outline(HEAD + BODY + helper) == outline(HEAD + BODY + helper.replace("return f", "return 0"))


def test_editing_a_body_rechecks_only_the_cells_that_reach_it(tmp_path: Path) -> None:
    edits = iter(range(3))

    def run(text: str) -> tuple[int, dict[str, int], dict[str, str]]:
        # each edit in a folder of its own: a process loads a patch file once (by its path)
        patch = tmp_path / str(next(edits)) / "alloc.py"
        patch.parent.mkdir()
        patch.write_text(text)
        report = check_x86(patch, tmp_path / "cache")
        calls = {c.variant: sum(c.stats["patch_calls"].values()) for c in report.cells}
        verdicts = {f"{c.variant} {p.name}": p.verdict.value for c in report.cells for p in c.properties}
        return report.cached, calls, verdicts

    cached, calls, first = run(HEAD + BODY)
    assert cached == 0 and calls["v4.5@alloc"] > 0 and calls["v5.9@alloc"] == 0
    # the body v4.5 runs changes: v4.5 is checked again and fails where it held,
    # v5.9, which never ran it, comes from the cache
    cached, calls, uncounted = run(HEAD + UNCOUNTED)
    assert cached == 1 and calls["v4.5@alloc"] > 0
    assert {v for v in uncounted if v.startswith("v5.9") and uncounted[v] != first[v]} == set()
    assert any(uncounted[v] != first[v] for v in uncounted if v.startswith("v4.5"))
    # code outside the bodies changes: every patched cell is checked again
    cached, calls, _ = run("LIMIT = 3\n" + HEAD + UNCOUNTED)
    assert cached == 0 and calls["v5.9@alloc"] == 0


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
    report = check_x86(path)
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
    check_x86(None, tmp_path / "c")
    report = check_x86(path, tmp_path / "c")
    assert report.derived == 0 and report.cached == 0
    assert patching.activate(path).outline is None


def test_diff_takes_what_the_patch_does_not_reach_from_checks_cache(tmp_path: Path) -> None:
    path = tmp_path / "uncounted.py"
    path.write_text(PATCH)
    patching.activate(path)
    bounds = Bounds(depth=2, faults=0)
    requests = [DiffRequest("x86_64", v, f"{v}@uncounted", bounds, str(path)) for v in ("v4.5", "v5.9")]
    store = CellCache(tmp_path / "cache")
    assert [r.reused for r in diff_all(requests, 1, store)] == [False, False]  # nothing cached yet
    check_x86(None, tmp_path / "cache")
    v45, v59 = diff_all(requests, 1, store)
    explored = diff_all(requests[1:], 1)[0]
    assert v59.reused and v59.identical and v59.pairs == explored.pairs and explored.identical
    assert not v45.reused and DIFF_REGRESSION in v45.differences
    # a patch file that may change the model when loaded is explored
    loaded = tmp_path / "loaded.py"
    loaded.write_text(PATCH + "\nfrom mhpcheck.model import pgtable\n\npgtable.VMEMMAP_NOTHING = 0\n")
    patching.activate(loaded)
    assert not diff_all([DiffRequest("x86_64", "v5.9", "v5.9@loaded", bounds, str(loaded))], 1, store)[
        0
    ].reused

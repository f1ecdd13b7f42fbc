"""A patched cell in which none of the patch's replacements ran is kept by the patch's outline:
editing a replacement's body re-checks only the cells that reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mhpcheck.checker import CheckRequest, run_check
from mhpcheck.model.transitions import Bounds
from mhpcheck.patching import outline

# vmem_altmap_alloc() is merged into altmap_alloc_block_buf() at v4.16: v4.5 calls it, v5.9 never
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
        req = CheckRequest(
            archs=("x86_64",),
            variants=("v4.5", "v5.9"),
            bounds=Bounds(depth=2, faults=0),
            jobs=1,
            patch=str(patch),
            cache_dir=str(tmp_path / "cache"),
        )
        report = run_check(req)
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

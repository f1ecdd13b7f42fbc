"""Review of a C patch: applied in memory, mapped onto the functions the model follows, scaffolds written."""

import os
import tomllib
from pathlib import Path

import pytest

from mhpcheck import patching
from mhpcheck.core.errors import InputError
from mhpcheck.review import cpatch, kernel_source

PATCHES = Path(__file__).parent / "kernel"
REVERT_6722 = PATCHES / "6722b2571205-reverted.patch"  # powerpc/mm/altmap: Fix altmap boundary check, undone

BASE = """\
static int helper(int a)
{
	return a;
}

int vmemmap_free(int start)
{
	int end = start + 1;
	return end;
}
"""
PATCH = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -6,4 +6,4 @@\n int vmemmap_free(int start)\n {\n"
    "-\tint end = start + 1;\n+\tint end = start + 2;\n \treturn end;\n"
)


def test_a_patch_is_applied_in_memory_and_refused_where_it_does_not_apply() -> None:
    out = cpatch.apply_patch(PATCH, {"mm/x.c": BASE}.get)
    assert out["mm/x.c"] == BASE.replace("start + 1", "start + 2")
    with pytest.raises(InputError, match=r"does not apply to mm/x\.c"):
        cpatch.apply_patch(PATCH, {"mm/x.c": BASE.replace("start + 1", "start - 1")}.get)
    with pytest.raises(InputError, match="does not have"):
        cpatch.apply_patch(PATCH, {}.get)
    with pytest.raises(InputError, match="no unified diff"):
        cpatch.apply_patch("just words\n", {}.get)
    created = "--- /dev/null\n+++ b/mm/new.c\n@@ -0,0 +1,2 @@\n+int f(void)\n+{ return 0; }\n"
    assert cpatch.apply_patch(created, {}.get) == {"mm/new.c": "int f(void)\n{ return 0; }"}


def test_review_on_a_tree_that_is_not_a_kernel_tree_is_bad_input(tmp_path: Path, cli_run) -> None:
    code, _, err = cli_run("review", "--kernel-tree", str(tmp_path))
    assert code == 2 and "not a kernel tree" in err and err.count("\n") == 1
    code, _, err = cli_run("review", "--diff", str(tmp_path / "none.patch"))
    assert code == 2 and "cannot read" in err
    code, _, err = cli_run("review", "--diff", str(REVERT_6722), "--base", "v9.9")
    assert code == 2 and "not an era" in err


def debian_612() -> Path:
    root = kernel_source.cached_tree("6.12")
    if root is None:
        pytest.skip(
            "Debian's linux-source-6.12 is not in the cache (mhpcheck provenance --kernel 6.12 fetches it)"
        )
    return root


def expect_vmemmap_free(out: str, scaffolds: Path) -> None:
    modelled = out.split("not modelled")[0]
    assert "arch/powerpc/mm/init_64.c:__vmemmap_free  (arch/powerpc64.py:vmemmap_free)" in modelled
    assert "+\t\t\t  altmap->free + altmap->alloc + altmap->align;" in modelled
    assert "not modelled (0)" in out
    assert sorted(p.name for p in scaffolds.iterdir()) == ["powerpc64-vmemmap_free.py"]
    text = (scaffolds / "powerpc64-vmemmap_free.py").read_text()
    assert '@replaces("arch/powerpc/mm/init_64.c:vmemmap_free")' in text
    assert "#   -\t\talt_end = altmap->base_pfn + altmap->reserve + altmap->free;" in text


def test_review_of_a_real_fix_undone_lists_exactly_the_function_it_touches(tmp_path: Path, cli_run) -> None:
    root = debian_612()
    out_dir = tmp_path / "scaffolds"
    code, out, _ = cli_run(
        "review",
        "--kernel-tree",
        str(root),
        "--diff",
        str(REVERT_6722),
        "--base",
        "v6.12",
        "-o",
        str(out_dir),
    )
    assert code == 0, out
    expect_vmemmap_free(out, out_dir)
    assert patching.load_patch(out_dir / "powerpc64-vmemmap_free.py").replacements


def test_review_of_a_tree_with_the_change_in_it(tmp_path: Path, cli_run) -> None:
    root = debian_612()
    changed = tmp_path / "linux"
    changed.mkdir()
    os.link(root / "Makefile", changed / "Makefile")
    for d in (*cpatch.SEARCH_DIRS, "arch/x86/mm", "arch/powerpc/mm", "arch/arm64/mm"):
        for p in (root / d).rglob("*") if d.startswith("arch/") else (root / d).glob("*"):
            if p.is_file():
                dest = changed / p.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(p, dest)
    target = changed / "arch/powerpc/mm/init_64.c"
    after = cpatch.apply_patch(REVERT_6722.read_text(), lambda rel: (root / rel).read_text())
    target.unlink()  # a hard link to the cache: replace it, never write through it
    target.write_text(after["arch/powerpc/mm/init_64.c"] or "")
    out_dir = tmp_path / "scaffolds"
    code, out, _ = cli_run("review", "--kernel-tree", str(changed), "-o", str(out_dir))
    assert code == 0, out
    assert "against the model at v6.12" in out
    expect_vmemmap_free(out, out_dir)


EXAMPLES = Path(__file__).parents[2] / "examples"
CROSS_BOUNDARY_TEST = """\
            if (
                use is not None
                and k.variant.has(patches.ALTMAP_END_PFN)
                and altmap_cross_boundary(k, s, use, start, page_size)
                and not k.variant.mutated(mutants.CROSS_BOUNDARY_IGNORED)
            ):
                k.trace(AltmapFallback(start >> k.arch.VMEMMAP_SHIFT, "cross-boundary", k.arch.VMEMMAP_SHIFT))
                use = None
"""


def review_then_diff(tmp_path: Path, cli_run, era: str, examples: tuple[Path, ...] = ()) -> None:
    """cf387d9644d8 (libnvdimm/altmap: Track namespace boundaries in altmap) undone in the C of
    Debian's tree of `era`: review lists exactly __vmemmap_populate, and its scaffold, edited as
    the C changed, gives the corpus case's verdict under diff (at the case's bounds: no fault)."""
    patch = EXAMPLES / "powerpc-altmap-cross-boundary-reverted.patch"
    code, out, _ = cli_run("review", "--diff", str(patch), "--base", era, "-o", str(tmp_path))
    assert code == 0
    assert f"against the model at {era}" in out
    modelled = out.split("not modelled")[0]
    assert "modelled functions the patch changes (1)" in modelled
    assert "arch/powerpc/mm/init_64.c:__vmemmap_populate  (arch/powerpc64.py:vmemmap_populate)" in modelled
    assert "not modelled (0)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["powerpc64-vmemmap_populate.py"]
    scaffold = tmp_path / "powerpc64-vmemmap_populate.py"
    text = scaffold.read_text()
    assert f"as the model runs it at {era}" in text and CROSS_BOUNDARY_TEST in text
    scaffold.write_text(text.replace(CROSS_BOUNDARY_TEST, ""))
    case = next(c for c in corpus_cases() if c["commit"] == "cf387d9644d8")
    for edited in (scaffold, *examples):
        code, out, _ = cli_run(
            "diff",
            *("--variant", era, "--arch", "powerpc64-hash", "--depth", "2"),
            *("--faults", str(case["bounds"]["faults"]), "--patch", str(edited)),
        )
        assert code == 1, out
        assert f"{case['expect']}: powerpc64-hash {era}" in out
        for prop in case["properties"]:
            assert f"{case['expect']} [{prop}]" in out


def corpus_cases() -> list[dict]:
    return tomllib.loads((Path(__file__).parent / "upstream" / "corpus.toml").read_text())["case"]


def test_the_readme_flow_from_a_c_patch_to_a_verdict(tmp_path: Path, cli_run) -> None:
    debian_612()
    review_then_diff(tmp_path, cli_run, "v6.12", (EXAMPLES / "powerpc-altmap-cross-boundary-reverted.py",))


@pytest.mark.kernel_trees
def test_the_flow_on_debians_72(tmp_path: Path, cli_run) -> None:
    if kernel_source.cached_tree("7.2") is None:
        pytest.skip(
            "Debian's linux-source-7.2 is not in the cache (mhpcheck provenance --kernel 7.2 fetches it)"
        )
    review_then_diff(tmp_path, cli_run, "v7.2")

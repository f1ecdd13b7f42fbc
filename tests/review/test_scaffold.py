"""Scaffolds: the model's function as a patch file that, loaded unchanged, changes nothing."""

from pathlib import Path

import pytest

from mhpcheck.engines.cell import CellRequest
from mhpcheck.engines.explicit import explore
from mhpcheck.model.transitions import Bounds
from mhpcheck.review import provenance as pv
from mhpcheck.review.scaffold import imports_for, scaffold

BOUNDS = Bounds(depth=2)


def outcome(arch: str, variant: str, patch: str | None = None) -> tuple:
    r = explore(CellRequest(arch, variant, BOUNDS, patch=patch).cell())
    return r.states, r.transitions, [(p.name, p.verdict, p.path) for p in r.properties]


@pytest.mark.parametrize(
    ("kernel_function", "arch", "era"),
    [
        ("mm/memory_hotplug.c:__add_pages", "arm64-64k", "v6.12"),
        ("arch/powerpc/mm/init_64.c:vmemmap_populate", "powerpc64-hash", "v5.9"),
    ],
)
def test_a_scaffold_loaded_unchanged_gives_the_unpatched_verdicts(
    tmp_path: Path, cli_run, kernel_function: str, arch: str, era: str
) -> None:
    out = tmp_path / "scaffold.py"
    code, stdout, _ = cli_run("patch", "new", kernel_function, "--variant", era, "-o", str(out))
    assert code == 0 and str(out) in stdout
    text = out.read_text()
    assert f'@replaces("{kernel_function}")' in text and "from mhpcheck.patching import replaces" in text
    assert outcome(arch, f"{era}@scaffold", str(out)) == outcome(arch, era)
    code, stdout, _ = cli_run("diff", "--variant", era, "--arch", arch, "--depth", "2", "--patch", str(out))
    assert code == 0 and "identical behaviour" in stdout


def test_a_scaffold_imports_what_its_function_uses_from_its_module() -> None:
    fn = pv.model_function("mm/memory_hotplug.c:__add_pages")
    lines = imports_for(fn)
    assert any(line.startswith("from mhpcheck.model.ops.memory_hotplug import") for line in lines)
    assert "_section_chunks" in lines[-1]
    text = scaffold(fn, "v6.12", "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "why")
    assert "#   -a\n#   +b\n" in text
    compile(text, "scaffold.py", "exec")


def test_patch_new_refuses_an_unknown_function_and_era(tmp_path: Path, cli_run) -> None:
    code, _, err = cli_run("patch", "new", "mm/memory_hotplug.c:__add_pagez", "-o", str(tmp_path / "x.py"))
    assert code == 2 and err.count("\n") == 1 and "no such kernel function" in err
    code, _, err = cli_run("patch", "new", "__add_pages", "--variant", "v9.9", "-o", str(tmp_path / "x.py"))
    assert code == 2 and "not an era" in err

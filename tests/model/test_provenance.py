"""Every model function names the kernel function it follows; the model's own helpers say so.

A top-level function of model/ops/ and model/arch/ is either a kernel function, whose one-line
docstring reads "<path>:<function>() as of <version> (<commit>)" and whose Python name follows
the kernel's (`__add_pages` is `_add_pages`), or it is decorated `@helper` and names no kernel
file. A leading underscore decides nothing: `_add_pages` is a kernel function. Where the commit
that brought the modelled code has no known mainline id, its place is taken by the key of the
patch record that says where the change was read (`(hotplug-addressable)`).
"""

import ast
import re
from pathlib import Path

import pytest

from mhpcheck.model.variants import PATCHES

ROOT = Path(__file__).resolve().parents[2] / "model"
FILES = sorted(
    [
        *ROOT.joinpath("ops").glob("*.py"),
        *(p for p in ROOT.joinpath("arch").glob("*.py") if p.stem != "__init__"),
    ]
)
DOC = re.compile(
    r"^(?P<path>[\w./-]+\.[ch]):(?P<name>\w+)\(\) as of (?P<ver>v\d+\.\d+) "
    r"\((?P<commit>[0-9a-f]{8,40}|[a-z0-9-]+)(, seed (?P<seed>\d{3}))?\)\.$"
)
KERNEL_PATHS = ("mm/", "arch/", "kernel/", "include/", "drivers/")
HEX = re.compile(r"^[0-9a-f]{8,40}$")
# the patch records without a mainline id, which a docstring may name in its stead
UNNUMBERED = {p.key for p in PATCHES if not p.commit}


def _is_helper(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "helper" for d in fn.decorator_list)


def problems(source: str, filename: str = "<src>") -> list[str]:
    """What is wrong with the provenance of each top-level function in a model source file."""
    out = []
    for fn in ast.parse(source, filename).body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        where = f"{filename}:{fn.name}"
        doc = ast.get_docstring(fn)
        first = doc.splitlines()[0] if doc else ""
        if _is_helper(fn):
            if not first:
                out.append(f"{where}: a helper needs a one-line docstring saying what it is")
            elif first.startswith(KERNEL_PATHS) or DOC.match(first):
                out.append(f"{where}: a @helper must not pose as a kernel function ({first!r})")
            continue
        m = DOC.match(first)
        if not m:
            out.append(
                f"{where}: docstring {first!r} is not '<path>:<function>() as of <version> (<commit>)' "
                "(a helper of the model's own is marked @helper)"
            )
            continue
        ref = m.group("commit")
        if not HEX.match(ref) and ref not in UNNUMBERED:
            out.append(f"{where}: {ref!r} is neither a commit id nor a patch record without one")
        kernel = m.group("name")
        expected = "_" + kernel[2:] if kernel.startswith("__") else kernel
        if fn.name != expected:
            out.append(f"{where} models {kernel}: the Python name must be {expected}")
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_model_functions_name_their_kernel_function(path: Path) -> None:
    assert problems(path.read_text(), path.name) == []


def test_the_scan_sees_every_function_of_the_model() -> None:
    tops = [fn for p in FILES for fn in ast.parse(p.read_text()).body]
    names = {fn.name for fn in tops if isinstance(fn, ast.FunctionDef)}
    assert {"_add_pages", "_remove_pages", "vmemmap_populate", "section_activate"} <= names


def test_a_kernel_function_with_two_underscores_is_checked_like_any_other() -> None:
    # the defect planted in a copy: __add_pages lost its provenance line, and would once have
    # passed as a "private helper" for its leading underscore
    real = ROOT.joinpath("ops", "memory_hotplug.py").read_text()
    assert problems(real) == []
    planted = real.replace('"""mm/memory_hotplug.c:__add_pages()', '"""Adds the pages (', 1)
    assert planted != real
    assert any("_add_pages: docstring" in p for p in problems(planted))
    misnamed = real.replace("def _add_pages(", "def add_pages(", 1)
    assert any("the Python name must be _add_pages" in p for p in problems(misnamed))


def test_an_unmarked_helper_and_a_helper_posing_as_kernel_code_are_refused() -> None:
    real = ROOT.joinpath("ops", "sparse.py").read_text()
    unmarked = real.replace("@helper\ndef _memmap_pages(", "def _memmap_pages(", 1)
    assert unmarked != real
    assert any("_memmap_pages: docstring" in p for p in problems(unmarked))
    posing = '@helper\ndef f(k):\n    """mm/sparse.c:f() as of v5.3 (ba72b4c8cf60)."""\n'
    assert any("must not pose as a kernel function" in p for p in problems(posing))


def test_state_types_name_their_kernel_struct() -> None:
    tree = ast.parse(ROOT.joinpath("state.py").read_text())
    kernel_types = {"VmemAltmap", "DeviceRange", "MemSection", "Zone", "Resource"}
    seen = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in kernel_types:
            doc = ast.get_docstring(node) or ""
            assert doc.split(",")[0].split(" with ")[0].startswith(("include/", "kernel/")), node.name
            seen.add(node.name)
    assert seen == kernel_types


def test_a_reference_is_a_commit_or_a_patch_record_without_one() -> None:
    doc = '\ndef f(k):\n    """mm/sparse.c:f() as of v5.3 ({}).\n"""\n'
    assert problems(doc.format("ba72b4c8cf60")) == []
    assert any("neither a commit id" in p for p in problems(doc.format("no-such-patch")))
    # a record that has an id is named by its id
    assert any("neither a commit id" in p for p in problems(doc.format("subsection-hotplug")))


def test_the_rule_refuses_a_wrong_name() -> None:
    m = DOC.match("mm/memory_hotplug.c:__add_pages() as of v4.5 (614186c0, seed 001).")
    assert m and m.group("name") == "__add_pages"
    assert DOC.match("adds pages") is None

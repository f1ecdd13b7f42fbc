"""Every model function names the kernel function it follows, by the naming rule."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "model"
FILES = sorted(
    [
        *ROOT.joinpath("ops").glob("*.py"),
        *(p for p in ROOT.joinpath("arch").glob("*.py") if p.stem != "__init__"),
    ]
)
DOC = re.compile(
    r"^(?P<path>[\w./-]+\.[ch]):(?P<name>\w+)\(\) as of (?P<ver>v\d+\.\d+) \((?P<commit>[0-9a-f]{8,40})"
    r"(, seed (?P<seed>\d{3}))?\)\.$"
)
TYPE_DOC = re.compile(r"^[\w./-]+\.[ch]:(struct |enum )?\w+ as of v\d+\.\d+ \([0-9a-f]{8,40}\)\.$")


def _functions(path: Path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node


CASES = [(p, f) for p in FILES for f in _functions(p)]


@pytest.mark.parametrize(("path", "fn"), CASES, ids=[f"{p.stem}.{f.name}" for p, f in CASES])
def test_model_function_docstring_names_its_kernel_function(path, fn):
    doc = ast.get_docstring(fn)
    if fn.name.startswith("_") and (doc is None or not DOC.match(doc.splitlines()[0])):
        # a private helper of the model, not a kernel function: it must not pose as one
        assert not (doc or "").startswith(("mm/", "arch/", "kernel/", "include/"))
        return
    assert doc is not None, f"{path.name}:{fn.name} has no docstring"
    first = doc.splitlines()[0]
    m = DOC.match(first)
    assert m, (
        f"{path.name}:{fn.name}: docstring {first!r} is not '<path>:<function>() as of <version> (<commit>)'"
    )
    kernel = m.group("name")
    expected = "_" + kernel[2:] if kernel.startswith("__") else kernel
    assert fn.name == expected, f"{fn.name} models {kernel}: the Python name must be {expected}"


def test_state_types_name_their_kernel_struct():
    tree = ast.parse(ROOT.joinpath("state.py").read_text())
    kernel_types = {"VmemAltmap", "DeviceRange", "MemSection", "Zone", "Resource"}
    seen = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in kernel_types:
            doc = ast.get_docstring(node) or ""
            assert doc.split(",")[0].split(" with ")[0].startswith(("include/", "kernel/")), node.name
            seen.add(node.name)
    assert seen == kernel_types


def test_the_rule_refuses_a_wrong_name():
    m = DOC.match("mm/memory_hotplug.c:__add_pages() as of v4.5 (614186c0, seed 001).")
    assert m and m.group("name") == "__add_pages"
    assert DOC.match("adds pages") is None

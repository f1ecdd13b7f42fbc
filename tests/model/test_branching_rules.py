"""Model code branches on Word comparisons only through k.sem.branch, never with and/or/not."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "model"
# properties run under both back ends too: the symbolic engine judges them on every path
SOURCES = sorted([*MODEL.rglob("*.py"), *(ROOT / "properties").rglob("*.py")])

# Fields and names that hold Words in the model's state and arguments.
WORD_NAMES = {
    "base_pfn",
    "reserve",
    "free",
    "align",
    "alloc",
    "start_pfn",
    "end_pfn",
    "nr_pages",
    "pfn",
    "phys_start_pfn",
    "map_offset",
    "offset",
    "nr_free",
    "nr_pfns",
    "nr_align",
    "phys",
    "page",
    "memmap_start",
    "max_addr",
    "key",
    "lo",
    "hi",
    "alt_start",
    "alt_end",
    "end",
}


def _mentions_word(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in WORD_NAMES:
            return True
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "word":
            return True
    return False


def _is_branch_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr
        in (
            "branch",
            "concrete",
        )
    )


def _of_types(n: ast.Compare) -> bool:
    """`type(x) is type(y) is Word`: which class a value is, never a C comparison of values."""

    def a_class(x: ast.AST) -> bool:
        return isinstance(x, ast.Name) or (isinstance(x, ast.Call) and ast.unparse(x.func) == "type")

    identity = all(isinstance(op, ast.Is | ast.IsNot) for op in n.ops)
    return identity and all(a_class(x) for x in [n.left, *n.comparators])


def _raw_conditions(test: ast.AST) -> list[ast.AST]:
    """Comparisons or bool operators over Words in `test` that are not inside k.sem.branch()."""
    bad: list[ast.AST] = []

    def visit(n: ast.AST) -> None:
        if _is_branch_call(n):
            return
        if isinstance(n, ast.Compare) and not _of_types(n) and _mentions_word(n):
            bad.append(n)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(test)
    return bad


def violations(source: str, filename: str = "<src>") -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source, filename)):
        tests: list[ast.AST] = []
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            tests.append(node.test)
        if isinstance(node, ast.BoolOp):
            tests.extend(node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            tests.append(node.operand)
        if isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
        for t in tests:
            for bad in _raw_conditions(t):
                out.append(f"{filename}:{bad.lineno}: {ast.unparse(bad)}")
    return sorted(set(out))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_model_branches_only_through_sem_branch(path):
    assert violations(path.read_text(), str(path)) == []


def test_the_scan_catches_a_raw_if_and_a_bool_operator():
    src = (
        "def f(k, a):\n"
        "    if a.free > a.alloc:\n"
        "        return 1\n"
        "    x = (a.reserve == 0) and k.ok\n"
        "    if k.sem.branch(a.free > a.alloc):\n"
        "        return 2\n"
        "    if type(a.free) is Word and type(a.alloc) is type(a.align):\n"  # the class, not a value
        "        return 3\n"
        "    if a.free is a.alloc:\n"  # two values that are equal need not be one object
        "        return 4\n"
    )
    found = violations(src)
    assert len(found) == 3
    assert "a.free > a.alloc" in found[0]
    assert "a.reserve == 0" in found[1]
    assert "a.free is a.alloc" in found[2]


def test_a_raw_branch_on_a_word_or_cond_raises_wherever_it_is_written():
    # The defect planted in a copy of a real model function: its k.sem.branch() taken out, the
    # comparison on local names (which the scan above cannot see), and a Word's truth tested.
    import inspect

    from mhpcheck.core.values import ModelDefinitionError
    from mhpcheck.model import build
    from mhpcheck.model.ops import sparse_vmemmap
    from mhpcheck.model.state import VmemAltmap

    src = inspect.getsource(sparse_vmemmap.vmem_altmap_nr_free)
    k = build("x86_64", "v4.5")
    w = k.sem.word
    altmap = VmemAltmap(w(0x140000), w(2), w(0x200), w(0), w(0x10))
    for old, new in (
        ("if k.sem.branch(altmap.free > allocated):", "free = altmap.free\n    if free > allocated:"),
        ("if k.sem.branch(altmap.free > allocated):", "if allocated:"),
        ("if k.sem.branch(altmap.free > allocated):", "if not (altmap.free <= allocated):"),
        ("if k.sem.branch(altmap.free > allocated):", "if (altmap.free > allocated) and True:"),
    ):
        planted = src.replace(old, new)
        assert planted != src
        scope = dict(vars(sparse_vmemmap))
        exec(planted, scope)
        with pytest.raises(ModelDefinitionError, match="branch"):
            scope["vmem_altmap_nr_free"](k, altmap)
    assert sparse_vmemmap.vmem_altmap_nr_free(k, altmap).v == 0x1F0  # the real one runs


def test_properties_compare_states_by_value_not_by_the_truth_of_a_cond():
    # A failed add whose after-state is equal to its before-state but made of other objects (as
    # a decoded state is): the comparison must not ask a Cond for its truth.
    from mhpcheck.core.results import Step
    from mhpcheck.engines.cell import Cell
    from mhpcheck.model.errno import ENOMEM
    from mhpcheck.model.state import KernelState, state_bytes, state_from_bytes
    from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice, Bounds
    from mhpcheck.properties import property_named

    cell = Cell("x86_64", "v5.9", Bounds())
    first = cell.step(KernelState(), AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 0, 0x200)))
    before = first.after
    after = state_from_bytes(state_bytes(before))
    assert after.vmemmap[0] is not before.vmemmap[0]
    step = Step(before, AddDeviceMemory(1, 0x140000, 0x8000, None), -ENOMEM, (), after)
    assert cell.hit(property_named("failed_add_leaves_nothing_behind"), step) is None


def test_events_equal_agrees_with_events_key():
    from mhpcheck.core.values import Word
    from mhpcheck.model.events import Call, SectionRemoved, VmemmapAllocated, events_equal, events_key

    a = (Call("f", (("pfn", Word(3)),)), SectionRemoved(3, Word(5)), VmemmapAllocated(1, 21, 0, Word(9)))
    for b in (
        a,
        (Call("f", (("pfn", Word(3)),)), SectionRemoved(3, Word(5)), VmemmapAllocated(1, 21, 0, Word(9))),
        (Call("f", (("pfn", Word(4)),)), SectionRemoved(3, Word(5)), VmemmapAllocated(1, 21, 0, Word(9))),
        (Call("f", (("pfn", Word(3)),)), SectionRemoved(3, Word(6)), VmemmapAllocated(1, 21, 0, Word(9))),
        a[:2],
        (a[1], a[0], a[2]),
    ):
        assert events_equal(a, b) == (events_key(a) == events_key(b))

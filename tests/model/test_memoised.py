"""@memoised model functions: a kernel gives a kept result only where running the function again
would give the same one and do nothing else."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mhpcheck.core.values import MASK, Word
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.symbolic.z3sem import SymWord, Z3Sem
from mhpcheck.model import build, kernel
from mhpcheck.model.events import Call
from mhpcheck.model.kernel import memoised
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.model.state import VmemAltmap
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES


@pytest.fixture(autouse=True)
def memo_on(monkeypatch):
    # a patch file installed earlier in this process turns the memo off; these tests want it
    monkeypatch.setattr(kernel, "_memo_on", True)


def _counted(traces: bool):
    runs = []

    @memoised(lambda x: x if type(x) is int else None)
    def f(k, x):
        """A test function."""
        runs.append(x)
        if traces:
            k.call("f", x=x)
        return (x, object())

    return f, runs


def test_a_kept_result_is_given_again_without_running_the_function():
    k = build("x86_64", "v6.1")
    f, runs = _counted(traces=False)
    first = f(k, 3)
    assert f(k, 3) is first and runs == [3]
    assert f(k, 4) is not first and runs == [3, 4]
    # each kernel keeps its own: a mutant or a patched callee gives another kernel other results
    assert f(build("x86_64", "v6.1"), 3) is not first and runs == [3, 4, 3]


def test_a_call_that_touches_the_kernel_runs_every_time():
    k = build("x86_64", "v6.1")
    f, runs = _counted(traces=True)
    f(k, 3)
    f(k, 3)
    assert runs == [3, 3] and k.take_events() == (Call("f", (("x", 3),)),) * 2


def test_arguments_that_are_not_concrete_run_the_function():
    k = build("x86_64", "v6.1")
    f, runs = _counted(traces=False)
    f(k, "term")
    f(k, "term")
    assert runs == ["term", "term"]


def test_after_a_patch_is_installed_nothing_is_kept(monkeypatch):
    k = build("x86_64", "v6.1")
    f, runs = _counted(traces=False)
    kernel.keep_no_results()
    assert kernel._memo_on is False
    f(k, 3)
    f(k, 3)
    assert runs == [3, 3]


_word = st.integers(0, MASK)
_small = st.integers(0, 1 << 12)


_nr = st.sampled_from([1, 2, 3, 8, 512])


@given(base=_word, reserve=_small, free=_small, align=_small, alloc=_small, nr=_nr)
def test_the_kept_altmap_bump_is_the_bump(base, reserve, free, align, alloc, nr):
    k = build("arm64-4k", "v6.1")
    a = VmemAltmap(Word(base), Word(reserve), Word(free), Word(align), Word(alloc))
    raw = sparse_vmemmap._altmap_bump.__wrapped__
    for _ in range(2):  # the second call is the kept one
        got, want = sparse_vmemmap._altmap_bump(k, a, Word(nr)), raw(k, a, Word(nr))
        assert repr(got) == repr(want)
    assert len(k.memo) == 1


def test_an_altmap_of_terms_is_not_kept():
    k = build("arm64-4k", "v6.1")
    sym = Z3Sem()
    c = SymWord.const
    a = VmemAltmap(c(0x1000), sym.var("reserve"), c(64), c(0), c(0))
    sparse_vmemmap._altmap_bump(k, a, SymWord.const(1))
    assert k.memo == {}


@pytest.mark.parametrize(("arch", "variant"), [("arm64-4k", "v6.1"), ("x86_64", "v4.5")])
def test_exploring_with_the_memo_reaches_the_same_states_and_verdicts(monkeypatch, arch, variant):
    def run(on):
        monkeypatch.setattr(kernel, "_memo_on", on)
        seen = []
        cell = Cell(arch, variant, Bounds(depth=2, faults=1), PROPERTIES)
        r = explore(cell, on_state=lambda key, s, parent, t: seen.append(key))
        return r.states, r.transitions, [(p.name, p.verdict, p.path) for p in r.properties], seen

    with_memo, without = run(True), run(False)
    assert with_memo == without
    assert with_memo[0] > 100

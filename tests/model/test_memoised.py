"""@memoised model functions: a kernel gives a kept result only where running the function again
would give the same one and do nothing else."""

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mhpcheck import patching
from mhpcheck.core.values import MASK, Word
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.symbolic.z3sem import SymWord, Z3Sem
from mhpcheck.model import build, kernel
from mhpcheck.model.events import Call
from mhpcheck.model.kernel import memoised
from mhpcheck.model.ops import memremap, sparse_vmemmap
from mhpcheck.model.state import VmemAltmap
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES

PATCHES = Path(__file__).resolve().parents[1] / "patches"


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


def test_a_call_into_a_function_a_patch_replaces_is_not_kept(monkeypatch):
    # A kernel without the patch must call vmem_altmap_nr_free() (which _altmap_bump() calls)
    # each time it would without the memo: unpatched_calls() tells diff which steps can change.
    # Here the patch's dispatcher is stood for by one that counts as dispatchers do.
    model_nr_free = sparse_vmemmap.vmem_altmap_nr_free
    runs = []

    def dispatch(k, altmap):
        kernel.replaced_calls[0] += 1
        runs.append(altmap)
        return model_nr_free(k, altmap)

    monkeypatch.setattr(sparse_vmemmap, "vmem_altmap_nr_free", dispatch)
    k = build("arm64-4k", "v6.1")
    w = k.sem.word
    a = VmemAltmap(w(0x1000), w(0), w(64), w(0), w(0))
    sparse_vmemmap._altmap_bump(k, a, w(1))
    sparse_vmemmap._altmap_bump(k, a, w(1))
    assert len(runs) == 2 and k.memo == {}


def test_a_patch_dispatcher_counts_each_call_of_what_it_replaces():
    # the dispatcher activate() installs, built here on its own so that nothing stays installed
    patch = patching.UserPatch("counted", PATCHES / "noop.py")
    # the model's own function, whatever another test of this process has installed over it
    model_offset = getattr(memremap.vmem_altmap_offset, "__wrapped__", memremap.vmem_altmap_offset)
    dispatch = patching._dispatcher(model_offset, model_offset, patch, "vmem_altmap_offset", model_offset)
    for k in (build("x86_64", "v6.1"), build("x86_64", "v6.1@counted")):
        before = kernel.replaced_calls[0]
        dispatch(k, None)
        assert kernel.replaced_calls[0] == before + 1


def test_results_kept_before_functions_are_replaced_are_dropped():
    k = build("arm64-4k", "v6.1")
    w = k.sem.word
    sparse_vmemmap._altmap_bump(k, VmemAltmap(w(0x1000), w(0), w(64), w(0), w(0)), w(1))
    assert len(k.memo) == 1
    kernel.forget_kept()  # what patching.activate() and review.functions.counting() call
    assert k.memo == {}


def test_a_kernel_with_kept_results_pickles():
    k = build("arm64-4k", "v6.1")
    w = k.sem.word
    sparse_vmemmap._altmap_bump(k, VmemAltmap(w(0x1000), w(0), w(64), w(0), w(0)), w(1))
    assert pickle.loads(pickle.dumps(k)).memo.keys() == k.memo.keys()


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


class _Forgetful(dict):
    """A memo that never gives a result back: every call runs."""

    def get(self, key, default=None):
        return default


@pytest.mark.parametrize(("arch", "variant"), [("arm64-4k", "v6.1"), ("x86_64", "v4.5")])
def test_exploring_with_the_memo_reaches_the_same_states_and_verdicts(arch, variant):
    def run(keep):
        # two sections: arm64-4k's PMDs still fall back to base pages, from the altmap too
        cell = Cell(arch, variant, Bounds(depth=2, faults=1, sections=2), PROPERTIES)
        if not keep:
            cell.k.memo = _Forgetful()
        seen = []
        r = explore(cell, on_state=lambda key, s, parent, t: seen.append(key))
        assert not keep or len(cell.k.memo) > 0
        return r.states, r.transitions, [(p.name, p.verdict, p.path) for p in r.properties], seen

    with_memo, without = run(True), run(False)
    assert with_memo == without
    assert with_memo[0] > 100

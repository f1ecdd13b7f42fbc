"""The model's own functions under the Z3 back end agree with the concrete back end on every input."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from mhpcheck.model import build
from mhpcheck.model.ops import sparse_vmemmap
from mhpcheck.model.state import VmemAltmap
from mhpcheck.semantics import CONCRETE, MASK, Word
from mhpcheck.semantics_z3 import PathSet, SymWord, Z3Sem, all_paths

NAMES = ("base_pfn", "reserve", "free", "align", "alloc", "nr_pfns")
EDGES = [0, 1, 0x200, 0x8000, 2**63, MASK - 0x1FF, MASK]
word = st.one_of(st.sampled_from(EDGES), st.integers(0, MASK), st.integers(0, 0x10000))


def flat(x: Any) -> list[Any]:
    """The Words of a result, in order (dataclasses and tuples opened up)."""
    if is_dataclass(x) and not isinstance(x, type):
        return [w for f in fields(x) for w in flat(getattr(x, f.name))]
    if isinstance(x, tuple):
        return [w for y in x for w in flat(y)]
    return [x]


OPS = {
    "alloc": lambda k, a, n: sparse_vmemmap.vmem_altmap_alloc(k, a, n),
    "nr_free": lambda k, a, n: sparse_vmemmap.vmem_altmap_nr_free(k, a),
    "next_pfn": lambda k, a, n: sparse_vmemmap.vmem_altmap_next_pfn(k, a),
}


@cache
def paths_of(name: str) -> PathSet[Any]:
    """Every path of one operation over free 64-bit inputs: computed once, checked per example."""

    def symbolic(sem: Z3Sem) -> Any:
        ks = build("x86_64", "v5.9", sem)
        vs = {n: sem.var(n) for n in NAMES}
        return OPS[name](ks, VmemAltmap(*(vs[n] for n in NAMES[:5])), vs["nr_pfns"])

    return all_paths(symbolic)


def agree(name: str, values: dict[str, int]) -> None:
    k = build("x86_64", "v5.9", CONCRETE)
    altmap = VmemAltmap(*(Word(values[n]) for n in NAMES[:5]))
    want = [w.v for w in flat(OPS[name](k, altmap, Word(values["nr_pfns"])))]
    ps = paths_of(name)
    assert ps.complete
    sub = [(z3.BitVec(n, 64), z3.BitVecVal(v, 64)) for n, v in values.items()]
    on = [p for p in ps.paths if z3.is_true(z3.simplify(z3.substitute(p.cond, *sub)))]
    assert len(on) == 1, f"{len(on)} paths hold for {values}"  # the paths partition the inputs
    got = [
        z3.simplify(z3.substitute(w.e, *sub)).as_long() if isinstance(w, SymWord) else w.v
        for w in flat(on[0].result)
    ]
    assert got == want


@settings(max_examples=150)
@given(st.fixed_dictionaries(dict.fromkeys(NAMES, word)))
def test_altmap_allocation_agrees(values: dict[str, int]) -> None:
    for name in OPS:
        agree(name, values)


def test_allocation_has_the_paths_of_its_branches() -> None:
    # nr_free: free > alloc + align or not; alloc: that, times whether the request fits
    assert len(paths_of("nr_free").paths) == 2
    assert len(paths_of("alloc").paths) == 4

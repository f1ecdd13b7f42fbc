"""The model's own functions under the Z3 back end agree with the concrete back end on every path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from functools import cache
from typing import Any, cast

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from mhpcheck.core.values import CONCRETE, MASK, Cond, Sem, Word
from mhpcheck.engines.symbolic.z3sem import PathSet, SymCond, SymWord, Z3Sem, all_paths, model_values
from mhpcheck.model import build
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.ops import memory_hotplug, memremap, sparse_vmemmap
from mhpcheck.model.state import KernelState, VmemAltmap
from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice

ALTMAP = ("base_pfn", "reserve", "free", "align", "alloc")
NAMES = (*ALTMAP, "nr_pfns")
PMD_PFNS = 0x200  # a 2 MiB vmemmap block in 4 KiB pages: what x86_64 asks vmem_altmap_alloc() for

Op = Callable[[Kernel, VmemAltmap, Word], Any]
OPS: dict[str, Op] = {
    "vmem_altmap_next_pfn": lambda k, a, n: sparse_vmemmap.vmem_altmap_next_pfn(k, a),
    "vmem_altmap_nr_free": lambda k, a, n: sparse_vmemmap.vmem_altmap_nr_free(k, a),
    "vmem_altmap_alloc": sparse_vmemmap.vmem_altmap_alloc,
    "vmem_altmap_offset": lambda k, a, n: memremap.vmem_altmap_offset(k, a),
    "page_to_pfn(pfn_to_page)": lambda k, a, n: memremap.page_to_pfn(k, memremap.pfn_to_page(k, a.base_pfn)),
    "check_hotplug_memory_addressable": lambda k, a, n: memory_hotplug.check_hotplug_memory_addressable(
        k, a.base_pfn, n
    ),
}
# the two mutants whose guarded lines are in these functions, so both sides of each guard run
VARIANTS = ("v5.9", "v5.9+nr-free-ignores-align", "v5.9+align-not-counted")

EDGES = [0, 1, 2, 0x1FF, 0x200, 0x201, 0x8000, 0x140000, 2**46, 2**63, MASK - 0x1FF, MASK - 1, MASK]
word = st.one_of(st.sampled_from(EDGES), st.integers(0, MASK), st.integers(0, 0x10000))
size = st.one_of(st.sampled_from([0, 1, PMD_PFNS, 3 * PMD_PFNS, 2**63, MASK]), word)


def leaves(x: Any, where: str = "") -> list[tuple[str, Any]]:
    """Every scalar of a result with where it sits: dataclasses and tuples opened up, in order."""
    if is_dataclass(x) and not isinstance(x, type):
        return [
            leaf
            for f in fields(x)
            for leaf in leaves(getattr(x, f.name), f"{where}{type(x).__name__}.{f.name}")
        ]
    if isinstance(x, tuple):
        return [leaf for i, y in enumerate(x) for leaf in leaves(y, f"{where}[{i}]")]
    return [(where, x)]


def substitution(values: dict[str, int]) -> list[tuple[z3.BitVecRef, z3.BitVecRef]]:
    return [(z3.BitVec(n, 64), z3.BitVecVal(v, 64)) for n, v in values.items()]


def holds(cond: z3.BoolRef, sub: list[tuple[z3.BitVecRef, z3.BitVecRef]]) -> bool:
    e = z3.simplify(z3.substitute(cond, *sub))
    assert z3.is_true(e) or z3.is_false(e), f"{e}: an unknown outside the drawn ones"
    return bool(z3.is_true(e))


def evaluated(x: Any, sub: list[tuple[z3.BitVecRef, z3.BitVecRef]]) -> Any:
    """A symbolic leaf's value under `sub`; a concrete leaf's value as the concrete run gives it."""
    if isinstance(x, SymWord | SymCond):
        e = z3.simplify(z3.substitute(x.e, *sub))
        return int(e.as_long()) if z3.is_bv_value(e) else bool(z3.is_true(e))
    if isinstance(x, Word | Cond):
        return x.v
    return x


def agree(ps: PathSet[Any], values: dict[str, int], want: Any) -> None:
    """The one path `values` lie on gives, field by field, what the concrete run gave."""
    assert ps.complete, ps.reason
    sub = substitution(values)
    on = [p for p in ps.paths if holds(p.cond, sub)]
    assert len(on) == 1, f"{len(on)} paths hold for {values}"  # every other path is false there
    path = on[0]
    if isinstance(want, BaseException):
        assert path.raised and type(path.error) is type(want), (path.result, want)
        return
    assert not path.raised, path.result
    got = [(where, evaluated(x, sub)) for where, x in leaves(path.value)]
    expected = [(where, evaluated(x, [])) for where, x in leaves(want)]
    assert got == expected, values


def outcome(f: Callable[[], Any]) -> Any:
    try:
        return f()
    except Exception as e:  # what the concrete run raises is its result too
        return e


# ---------------------------------------------------------------------------------------------
# the altmap allocator, one function at a time


@cache
def op_paths(name: str, variant: str) -> PathSet[Any]:
    """Every path of one operation over free 64-bit altmap fields and request size."""

    def run(sem: Z3Sem) -> Any:
        k = build("x86_64", variant, cast(Sem, sem))
        vs: dict[str, Any] = {n: sem.var(n) for n in NAMES}
        return OPS[name](k, VmemAltmap(*(vs[n] for n in ALTMAP)), vs["nr_pfns"])

    return all_paths(run)


def op_agrees(name: str, variant: str, values: dict[str, int]) -> None:
    k = build("x86_64", variant, CONCRETE)
    altmap = VmemAltmap(*(Word(values[n]) for n in ALTMAP))
    want = outcome(lambda: OPS[name](k, altmap, Word(values["nr_pfns"])))
    agree(op_paths(name, variant), values, want)


@settings(max_examples=300)
@given(values=st.fixed_dictionaries({**dict.fromkeys(ALTMAP, word), "nr_pfns": size}))
def test_the_altmap_allocator_agrees_on_drawn_values(values: dict[str, int]) -> None:
    for variant in VARIANTS:
        for name in OPS:
            op_agrees(name, variant, values)


@settings(max_examples=200)
@given(
    base_pfn=word,
    reserve=st.integers(0, 0x1000),
    used=st.integers(0, 0x1000),
    slack=st.integers(0, 0x1000),
    align=st.integers(0, 0x200),
    shift=st.integers(0, 12),
)
def test_the_altmap_allocator_agrees_near_its_limits(
    base_pfn: int, reserve: int, used: int, slack: int, align: int, shift: int
) -> None:
    # free around alloc + align + the request: each of vmem_altmap_alloc()'s outcomes is likely
    nr_pfns = 1 << shift
    values = {
        "base_pfn": base_pfn,
        "reserve": reserve,
        "free": used + align + slack,
        "align": align,
        "alloc": used,
        "nr_pfns": nr_pfns,
    }
    for variant in VARIANTS:
        op_agrees("vmem_altmap_alloc", variant, values)
        op_agrees("vmem_altmap_nr_free", variant, values)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", list(OPS))
def test_every_path_agrees_at_its_least_values_and_at_its_witness(name: str, variant: str) -> None:
    ps = op_paths(name, variant)
    for p in ps.paths:
        if p.witness is None:  # only a run that never had to ask Z3 has none
            assert ps.queries == 0
        else:
            assert z3.is_true(p.witness.eval(p.cond, model_completion=True))
        op_agrees(name, variant, model_values(p.cond, NAMES, witness=p.witness))
        if p.witness is not None:  # the model that proved the path feasible: other, larger values
            m = p.witness
            op_agrees(
                name, variant, {n: m.eval(z3.BitVec(n, 64), model_completion=True).as_long() for n in NAMES}
            )


def test_the_paths_are_the_branches_of_the_c_code() -> None:
    # nr_free: "if (altmap->free > allocated)"; alloc: nr_free's two, times "if (nr_pfns +
    # nr_align > vmem_altmap_nr_free(altmap))"; the others do not branch
    for variant in VARIANTS:
        assert len(op_paths("vmem_altmap_nr_free", variant).paths) == 2
        assert len(op_paths("vmem_altmap_alloc", variant).paths) == 4
        assert len(op_paths("vmem_altmap_next_pfn", variant).paths) == 1
        assert len(op_paths("vmem_altmap_offset", variant).paths) == 1
        assert len(op_paths("check_hotplug_memory_addressable", variant).paths) == 2
    # pfn_to_page() then page_to_pfn() is the identity only below 2^58: the multiply wraps
    (p,) = op_paths("page_to_pfn(pfn_to_page)", "v5.9").paths
    values = {"base_pfn": 2**58 + 5}
    assert evaluated(p.value, substitution(values)) == 5


# ---------------------------------------------------------------------------------------------
# a whole transition: a driver adds a section of device memory with any altmap


FIELDS = ("base_offset", "reserve", "free", "stale_alloc")


@dataclass(frozen=True, slots=True)
class SymbolicAltmapChoice:
    """AltmapChoice with each field a 64-bit unknown, built into the altmap as the driver passes it."""

    def build(self, k: Kernel, start_pfn: Word, nr_pages: Word) -> VmemAltmap:
        sem = k.sem
        assert isinstance(sem, Z3Sem)
        offset, reserve, free, stale = (sem.var(n) for n in FIELDS)
        return VmemAltmap(start_pfn + offset, reserve, free, sem.word(0), stale)  # type: ignore[arg-type]


ADD = AddDeviceMemory(0, 0x140000, 0x8000, None)  # one x86_64 section at the hot-plug window


@cache
def add_paths(variant: str) -> PathSet[Any]:
    def run(sem: Z3Sem) -> Any:
        k = build("x86_64", variant, cast(Sem, sem))
        t = replace(ADD, altmap=SymbolicAltmapChoice())  # type: ignore[arg-type]
        s, ret = t.apply(k, KernelState())
        return s, ret, k.take_events()

    return all_paths(run)


def add_agrees(variant: str, values: dict[str, int]) -> None:
    k = build("x86_64", variant, CONCRETE)
    t = replace(ADD, altmap=AltmapChoice(*(values[n] for n in FIELDS)))
    want = outcome(lambda: (*t.apply(k, KernelState()), k.take_events()))
    agree(add_paths(variant), values, want)


ADD_VARIANTS = ("v4.5", "v4.13", "v5.9", "v5.9+nr-free-ignores-align")
small = st.one_of(
    st.sampled_from([0, 1, 2, 0x1FF, 0x200, 0x201, 0x3FF, 0x400, 0x8000]), st.integers(0, 0x9000)
)


@settings(max_examples=150)
@given(
    values=st.fixed_dictionaries(
        {
            "base_offset": st.one_of(st.sampled_from([0, 0, 0, 1, MASK]), word),
            "reserve": st.one_of(small, word),
            "free": st.one_of(small, word),
            "stale_alloc": st.one_of(small, word),
        }
    )
)
def test_adding_device_memory_agrees_on_drawn_altmaps(values: dict[str, int]) -> None:
    for variant in ADD_VARIANTS:
        add_agrees(variant, values)


@pytest.mark.parametrize("variant", ADD_VARIANTS)
def test_every_path_of_adding_device_memory_agrees_at_its_least_values(variant: str) -> None:
    ps = add_paths(variant)
    assert len(ps.paths) >= 3  # refused, fits, runs out at least
    rets = set()
    for p in ps.paths:
        add_agrees(variant, model_values(p.cond, FIELDS, witness=p.witness))
        rets.add(evaluated(p.value[1], []))
    assert 0 in rets and len(rets) >= 2

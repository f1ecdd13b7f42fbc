"""Consecutive base-page vmemmap leaves are kept as runs: the same page table, fewer records."""

from mhpcheck.core.values import Word
from mhpcheck.model import build, pgtable
from mhpcheck.model.state import SYSMEM, KernelState, VmemmapLeaf, state_bytes, state_from_bytes
from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice, RemoveDeviceMemory


def rows(leaves):
    return [(x.index, x.leaf_shift, x.source, x.pfn.v, x.reused, x.count) for x in leaves]


def add(arch, variant, *transitions):
    k = build(arch, variant)
    s = KernelState()
    for t in transitions:
        s, ret = t.apply(k, s)
        assert ret == 0, t
    return k, s


def test_a_base_page_memmap_is_one_run_per_source_and_reads_back_page_by_page():
    # arm64 16K: a section of 0x2000 pfns has 0x2000 * 64 / 16 KiB = 32 vmemmap pages
    base = build("arm64-16k", "v6.1").arch.HOTPLUG_BASE_PFN
    _, s = add("arm64-16k", "v6.1", AddDeviceMemory(0, base, 0x2000, None))
    (run,) = s.vmemmap
    assert run.count == 32 and run.source == SYSMEM and run.leaf_shift == 14
    leaves = pgtable.each_leaf(s)
    assert [x.index for x in leaves] == [run.index + i for i in range(32)]
    # system memory backs each page at its own vmemmap offset: consecutive pfns
    assert [x.pfn.v for x in leaves] == [run.pfn.v + i for i in range(32)]
    assert rows([pgtable.leaf_at(s, (run.index + 5) << 14)]) == rows(leaves[5:6])
    assert pgtable.leaf_at(s, (run.index + 32) << 14) is None


def test_an_altmap_and_system_memory_make_two_runs_and_removal_clears_both():
    a = build("arm64-16k", "v6.1").arch
    base = a.HOTPLUG_BASE_PFN
    with_altmap = AddDeviceMemory(0, base, 0x2000, AltmapChoice(0, 2, 0x40))
    ram_backed = AddDeviceMemory(1, base + 0x2000, 0x2000, None)
    k, s = add("arm64-16k", "v6.1", with_altmap, ram_backed)
    assert [(x.source, x.count) for x in s.vmemmap] == [(0, 32), (SYSMEM, 32)]
    # the altmap's pages follow its reserve, one pfn each
    assert s.vmemmap[0].pfn.v == base + 2
    s, ret = RemoveDeviceMemory(0).apply(k, s)
    assert ret == 0 and [(x.source, x.count) for x in s.vmemmap] == [(SYSMEM, 32)]
    s, ret = RemoveDeviceMemory(1).apply(k, s)
    assert ret == 0 and s.vmemmap == () and s.sysmem_vmemmap_pages == 0


def test_clearing_part_of_a_run_leaves_the_rest_as_runs():
    k = build("arm64-16k", "v6.1")
    pages = [VmemmapLeaf(100 + i, 14, 0, Word(0x5000 + i)) for i in range(8)]
    s = pgtable.set_leaves(k, KernelState(), pages)
    assert [(x.index, x.count) for x in s.vmemmap] == [(100, 8)]
    middle = pgtable.leaf_at(s, 103 << 14)
    s = pgtable.clear_leaf(k, s, middle, 0)
    assert [(x.index, x.count, x.pfn.v) for x in s.vmemmap] == [(100, 3, 0x5000), (104, 4, 0x5004)]
    k.take_events()


def test_runs_break_where_the_source_or_the_pfns_do_not_follow_on():
    k = build("arm64-16k", "v6.1")
    pages = [
        VmemmapLeaf(1, 14, 0, Word(10)),
        VmemmapLeaf(2, 14, 0, Word(11)),
        VmemmapLeaf(3, 14, 0, Word(13)),  # a pfn skipped (an alignment pad)
        VmemmapLeaf(4, 14, 1, Word(14)),  # another device's altmap
        VmemmapLeaf(5, 14, 1, Word(2**64 - 1)),  # the last pfn: a run past it would wrap
        VmemmapLeaf(6, 14, 1, Word(0)),
    ]
    s = pgtable.set_leaves(k, KernelState(), pages)
    assert [(x.index, x.count) for x in s.vmemmap] == [(1, 2), (3, 1), (4, 1), (5, 1), (6, 1)]
    assert rows(pgtable.each_leaf(s)) == rows(pages)
    k.take_events()


def test_equal_page_tables_encode_alike_whatever_order_they_were_built_in():
    k = build("arm64-16k", "v6.1")
    pages = [VmemmapLeaf(50 + i, 14, 0, Word(0x900 + i)) for i in range(6)]
    one_go = pgtable.set_leaves(k, KernelState(), pages)
    s = KernelState()
    for leaf in (pages[3], pages[0], pages[5], pages[1], pages[4], pages[2]):
        s = pgtable.set_leaves(k, s, [leaf])
    assert state_bytes(s) == state_bytes(one_go)
    assert state_bytes(state_from_bytes(state_bytes(s))) == state_bytes(s)
    k.take_events()


def test_a_page_mapped_twice_is_cleared_once_per_mapping():
    # v5.3 can populate a vmemmap page that is already mapped: clearing one mapping of it leaves
    # the other, as a table of single leaves would
    k = build("arm64-16k", "v6.1")
    pages = [VmemmapLeaf(20 + i, 14, 0, Word(0x100 + i)) for i in range(4)]
    s = pgtable.set_leaves(k, KernelState(), pages)
    again = VmemmapLeaf(21, 14, SYSMEM, Word(0))
    s = pgtable.set_leaves(k, s, [again])
    assert [x.index for x in pgtable.each_leaf(s)] == [20, 21, 21, 22, 23]
    s = pgtable.clear_leaf(k, s, pgtable.each_leaf(s)[1], 0)
    assert [(x.index, x.source) for x in pgtable.each_leaf(s)] == [(20, 0), (21, SYSMEM), (22, 0), (23, 0)]
    k.take_events()


def test_the_symbolic_engine_keeps_every_leaf_a_record_of_its_own():
    from mhpcheck.engines.symbolic.z3sem import Z3Sem
    from mhpcheck.model.kernel import Kernel

    concrete = build("arm64-16k", "v6.1")
    k = Kernel(Z3Sem(), concrete.arch, concrete.variant)
    pages = [VmemmapLeaf(30 + i, 14, 0, k.sem.word(0x700 + i)) for i in range(3)]
    s = pgtable.set_leaves(k, KernelState(), pages)
    assert [x.count for x in s.vmemmap] == [1, 1, 1]


def test_a_concrete_kernel_listing_the_steps_of_a_symbolic_state_keeps_its_leaves_apart():
    # the symbolic engine's states hold terms; choices() and its dry runs use the concrete kernel
    import z3

    from mhpcheck.engines.symbolic.z3sem import SymWord

    k = build("arm64-16k", "v6.1")
    base = SymWord(z3.BitVec("base", 64))
    pages = [VmemmapLeaf(40 + i, 14, 0, base + i) for i in range(3)]
    s = pgtable.set_leaves(k, KernelState(), pages)
    assert [x.count for x in s.vmemmap] == [1, 1, 1]
    s = pgtable.clear_leaf(k, s, s.vmemmap[1], 0)
    assert [x.index for x in s.vmemmap] == [40, 42]
    k.take_events()

"""Each kernel operation against hand-worked examples, each citing the C it follows."""

import itertools

import pytest

from mhpcheck.core.values import MASK, Word
from mhpcheck.engines.cell import Cell
from mhpcheck.model import build, pgtable
from mhpcheck.model.arch import powerpc64
from mhpcheck.model.errno import E2BIG, EINVAL, ENOMEM
from mhpcheck.model.events import BadPageAccess, SectionRemoved, VmemmapFreed
from mhpcheck.model.ops import memory_hotplug, memremap, sparse_vmemmap
from mhpcheck.model.state import SYSMEM, DeviceRange, KernelState, VmemAltmap, Zone, state_bytes
from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice, Bounds, RemoveDeviceMemory
from mhpcheck.properties import property_named

GIB_X86 = 0x40000  # 1 GiB in 4 KiB pfns: 8 sections of 0x8000


def run(arch, variant, *transitions):
    k = build(arch, variant)
    s = KernelState()
    rets = []
    for t in transitions:
        s, ret = t.apply(k, s)
        rets.append(ret)
    return k, s, rets


def test_x86_1gib_device_takes_eight_pmds_from_its_altmap_after_alignment():
    # vmem_altmap_alloc(): pfn = base + reserve + alloc + align = 0x140180; nr_pfns = 512 (PMD_SIZE
    # / PAGE_SIZE), so nr_align = ALIGN(0x140180, 512) - 0x140180 = 0x80 and the first PMD is
    # backed by pfns 0x140200..0x1403ff; the next seven follow with no more padding.
    k, s, rets = run("x86_64", "v4.5", AddDeviceMemory(0, 0x140000, GIB_X86, AltmapChoice(0, 0x180, 0x2000)))
    assert rets == [0]
    assert [(x.index, x.pfn.v) for x in pgtable.each_leaf(s)] == [
        (0x28 + i, 0x140200 + i * 0x200) for i in range(8)
    ]
    assert {x.source for x in s.vmemmap} == {0}
    a = s.device_ranges[0].altmap
    assert (a.alloc.v, a.align.v) == (0x1000, 0x80)
    assert sparse_vmemmap.vmem_altmap_nr_free(k, a).v == 0x2000 - 0x1080
    assert s.sysmem_vmemmap_pages == 0


def test_x86_1gib_device_without_altmap_takes_16mib_of_system_memory():
    _, s, rets = run("x86_64", "v4.5", AddDeviceMemory(0, 0x140000, GIB_X86, None))
    assert rets == [0]
    assert s.sysmem_vmemmap_pages * 4096 == 16 << 20
    assert {x.source for x in s.vmemmap} == {SYSMEM}


@pytest.mark.parametrize("variant", ["v4.5", "v4.13", "v5.9"])
@pytest.mark.parametrize(
    "altmap",
    [AltmapChoice(1, 0, 0x200), AltmapChoice(0, 2, 0x8000)],
    ids=["base_pfn != start", "offset > nr_pages"],
)
def test_an_invalid_altmap_is_refused_with_einval_and_changes_nothing(variant, altmap):
    # __add_pages(): "if (altmap->base_pfn != phys_start_pfn || vmem_altmap_offset(altmap) >
    # nr_pages) { pr_warn_once("memory add fail, invalid altmap\n"); return -EINVAL; }"
    _, s, rets = run("x86_64", variant, AddDeviceMemory(0, 0x140000, 0x8000, altmap))
    assert rets == [-EINVAL]
    assert s == KernelState()


def test_vmem_altmap_offset_wraps_as_c_does():
    # "return altmap->reserve + altmap->free;" in unsigned long: a huge reserve wraps around
    k = build("x86_64", "v4.5")
    a = VmemAltmap(Word(0x140000), Word(MASK), Word(2), Word(0), Word(0))
    assert memremap.vmem_altmap_offset(k, a).v == 1


def test_vmem_altmap_alloc_pads_to_the_block_size_on_the_absolute_pfn():
    k = build("x86_64", "v4.5")
    a = VmemAltmap(Word(0x140003), Word(5), Word(0x1000), Word(0), Word(0))
    a2, pfn = sparse_vmemmap.vmem_altmap_alloc(k, a, Word(0x200))
    assert pfn.v == 0x140200  # ALIGN(0x140008, 0x200)
    assert (a2.alloc.v, a2.align.v) == (0x200, 0x1F8)
    # a request that does not fit leaves the altmap alone and returns ULONG_MAX
    a3, bad = sparse_vmemmap.vmem_altmap_alloc(k, a2, Word(0x1000))
    assert bad.v == MASK
    assert a3 == a2


def test_remove_gives_map_offset_to_the_first_section_and_the_pmds_back_to_the_altmap():
    k = build("x86_64", "v4.5")
    s, _ = AddDeviceMemory(0, 0x140000, 0x10000, AltmapChoice(0, 0x180, 0x600)).apply(k, KernelState())
    k.take_events()
    s, ret = RemoveDeviceMemory(0).apply(k, s)
    events = k.take_events()
    assert ret == 0
    offsets = [e.map_offset.v for e in events if isinstance(e, SectionRemoved)]
    assert offsets == [0x780, 0]
    assert [(e.source, e.to) for e in events if isinstance(e, VmemmapFreed)] == [(0, 0), (0, 0)]
    assert s == KernelState()


def test_v4_5_memmap_init_zone_looks_the_altmap_up_by_a_physical_address():
    # seed 000: to_vmem_altmap(__pfn_to_phys(start_pfn)) treats the physical address as a
    # struct page pointer; page_to_pfn() of it is far past MAX_PHYSMEM_BITS, so it finds nothing
    k = build("x86_64", "v4.5")
    s, _ = AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 2, 0x3FE)).apply(k, KernelState())
    phys = Word(0x140000) << 12
    assert memremap.page_to_pfn(k, phys).v > 1 << (46 - 12)
    assert memremap.to_vmem_altmap(k, s, phys) is None
    assert memremap.to_vmem_altmap(k, s, memremap.pfn_to_page(k, Word(0x140000))) == 0
    assert s.memmap_init[0].start_pfn.v == 0x140000  # the reserve is initialised anyway


def test_powerpc_hash_one_16mib_vmemmap_page_serves_two_devices():
    dev0 = AddDeviceMemory(0, 0x40000, 0x100, AltmapChoice(0, 0, 0x100))
    dev1 = AddDeviceMemory(1, 0x40100, 0x100, None)
    _, s, rets = run("powerpc64-hash", "v4.13", dev0, dev1)
    assert rets == [0, 0]
    assert len(s.vmemmap) == 1
    (leaf,) = s.vmemmap
    assert (leaf.leaf_shift, leaf.source, leaf.pfn.v) == (24, 0, 0x40000)


def test_powerpc_v5_9_falls_back_to_system_memory_for_a_page_crossing_the_device():
    # altmap_cross_boundary(): the 16 MiB page describes 1024 sections, far past this device
    _, s, rets = run("powerpc64-hash", "v5.9", AddDeviceMemory(0, 0x40000, 0x200, AltmapChoice(0, 0, 0x100)))
    assert rets == [0]
    assert [x.source for x in s.vmemmap] == [SYSMEM]


# Each seed's pre-patch variant behaves observably differently from its post-patch variant.


def test_seed_004_device_sections_are_zone_device_only_with_the_patch():
    t = AddDeviceMemory(0, 0x140000, 0x8000, None)
    _, post, _ = run("x86_64", "v4.3", t)
    _, pre, _ = run("x86_64", "v4.3-pre-zone-device", t)
    assert post.sections[0].zone is Zone.ZONE_DEVICE
    assert pre.sections[0].zone is Zone.ZONE_NORMAL


def test_seed_000_skips_the_reserve_where_the_lookup_works():
    t = AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 2, 0x3FE))
    _, post, _ = run("x86_64", "v5.9", t)
    _, pre, _ = run("x86_64", "v5.9-pre-altmap-reserve", t)
    assert post.memmap_init[0].start_pfn.v == 0x140002
    assert pre.memmap_init[0].start_pfn.v == 0x140000


def test_seed_000_at_v4_5_is_observably_identical_to_its_pre_patch_variant():
    # the recorded finding reserve-skip-dead: the v4.5 lookup never finds the altmap
    t = AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 2, 0x3FE))
    same = state_bytes(run("x86_64", "v4.5", t)[1]) == state_bytes(
        run("x86_64", "v4.5-pre-altmap-reserve", t)[1]
    )
    assert same


def test_seed_001_validates_the_altmap_only_with_the_patch():
    t = AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 2, 0x8000))
    assert run("x86_64", "v4.5", t)[2] == [-EINVAL]
    assert run("x86_64", "v4.5-pre-altmap-hotplug", t)[2] == [0]


def test_seed_002_powerpc_memmap_comes_from_the_altmap_only_with_the_patch():
    t = AddDeviceMemory(0, 0x40000, 0x100, AltmapChoice(0, 0, 0x100))
    assert [x.source for x in run("powerpc64-hash", "v4.13", t)[1].vmemmap] == [0]
    assert [x.source for x in run("powerpc64-hash", "v4.13-pre-powerpc-altmap", t)[1].vmemmap] == [SYSMEM]


@pytest.mark.parametrize(("arch", "nr", "free"), [("arm64-4k", 0x40000, 0x1000), ("arm64-64k", 0x4000, 0x10)])
def test_seed_003_arm64_memmap_comes_from_the_altmap_only_with_the_patch(arch, nr, free):
    start = build(arch, "v5.9").arch.HOTPLUG_BASE_PFN
    t = AddDeviceMemory(0, start, nr, AltmapChoice(0, 0, free))
    assert {x.source for x in run(arch, "v5.9", t)[1].vmemmap} == {0}
    assert {x.source for x in run(arch, "v5.9-pre-arm64-altmap", t)[1].vmemmap} == {SYSMEM}


# A range past MAX_PHYSMEM_BITS (46 on x86_64): 2^34 pfns is 64 TiB, one section more is past it.
BEYOND = AddDeviceMemory(0, (1 << 34) - 0x4000, 0x8000, None)


@pytest.mark.parametrize(
    ("variant", "ret"),
    [
        # v5.3: no bounds check yet; the model hot-adds the section as the kernel would
        ("v5.3", 0),
        # v5.6-v5.11: __add_pages(): "if (max_addr >> MAX_PHYSMEM_BITS) ... return -E2BIG;"
        ("v5.9", -E2BIG),
        # v5.12+: pagemap_range(): "if (!mhp_range_allowed(...)) { error = -EINVAL; goto err_kasan; }"
        ("v5.15", -EINVAL),
        ("v6.12", -EINVAL),
    ],
)
def test_a_range_past_max_physmem_bits_is_refused_where_each_era_checks_it(variant, ret):
    _, s, rets = run("x86_64", variant, BEYOND)
    assert rets == [ret]
    if ret:
        assert s == KernelState()


def test_ram_past_max_physmem_bits_is_refused_by_register_memory_resource_from_v5_12():
    # register_memory_resource(): "if (!mhp_range_allowed(start, size, true)) return ERR_PTR(-E2BIG);"
    k = build("x86_64", "v6.12")
    s, ret = memory_hotplug.add_memory(k, KernelState(), 0, Word((1 << 34) - 0x4000), Word(0x8000))
    assert ret == -E2BIG and s == KernelState()


@pytest.mark.parametrize("arch", ["x86_64", "powerpc64-hash"])
def test_v5_3_arch_remove_memory_reads_the_zone_one_past_the_range(arch):
    # v4.16-v5.4: "struct page *page = pfn_to_page(start_pfn) + vmem_altmap_offset(altmap);
    # struct zone *zone = page_zone(page);" -- with reserve + free == nr_pages (which __add_pages()
    # accepts) that is the struct page past the range, in an absent section. feee6b298916 (v5.5)
    # dropped the read.
    start = build(arch, "v5.3").arch.HOTPLUG_BASE_PFN
    pps = build(arch, "v5.3").arch.PAGES_PER_SECTION
    add = AddDeviceMemory(0, start, pps, AltmapChoice(0, 0, pps))
    for variant, reads in (("v5.3", True), ("v5.9", False)):
        k, s, _ = run(arch, variant, add)
        k.take_events()
        s, ret = RemoveDeviceMemory(0).apply(k, s)
        bad = [e for e in k.take_events() if isinstance(e, BadPageAccess)]
        assert ret == 0
        assert [e.pfn.v for e in bad] == ([start + pps] if reads else []), variant


@pytest.mark.parametrize(
    ("variant", "altmap", "ret", "sources"),
    [
        # v5.9: "p = vmemmap_alloc_block_buf(PMD_SIZE, node, altmap); if (!p) return -ENOMEM;"
        ("v5.9", False, -ENOMEM, set()),
        ("v5.9", True, -ENOMEM, set()),
        # v5.11 (9f84f39f5515): "if (!p) { if (vmemmap_populate_basepages(addr, next, node,
        # altmap)) return -ENOMEM; continue; }" -- base pages, from the altmap if there is one
        ("v6.1", False, 0, {SYSMEM}),
        ("v6.1", True, 0, {0}),
        # v6.2 (2045a3b8911b), the generic loop: "} else if (altmap) { /* No fallback */ return
        # -ENOMEM; }", and without an altmap "vmemmap_populate_basepages(addr, next, node, altmap)"
        ("v6.12", False, 0, {SYSMEM}),
        ("v6.12", True, -ENOMEM, set()),
        ("v7.2", False, 0, {SYSMEM}),
        ("v7.2", True, -ENOMEM, set()),
    ],
)
def test_arm64_4k_falls_back_to_base_pages_when_a_pmd_allocation_fails(variant, altmap, ret, sources):
    a = build("arm64-4k", variant).arch
    choice = AltmapChoice(0, 0, 0x1000) if altmap else None
    add = AddDeviceMemory(0, a.HOTPLUG_BASE_PFN, 0x8000, choice, fail_alloc=0)
    _, s, rets = run("arm64-4k", variant, add)
    assert rets == [ret]
    assert {x.source for x in s.vmemmap} == sources
    if ret == 0:  # 2 MiB of memmap in 4 KiB pages
        assert [x.leaf_shift for x in pgtable.each_leaf(s)] == [12] * 512


POWERPC_ERAS_AROUND_V6_5 = [("v6.1", False), ("v6.12", True), ("v7.2", True)]


@pytest.mark.parametrize(("variant", "fixed"), POWERPC_ERAS_AROUND_V6_5)
def test_powerpc_vmemmap_free_bounds_the_altmap_by_reserve_plus_free_from_v6_5(variant, fixed):
    # 6722b2571205 (v6.5): "alt_end = altmap->base_pfn + altmap->reserve + altmap->free;" where
    # the bound had been "... + altmap->free + altmap->alloc + altmap->align". A page backed at
    # pfn base + reserve + free lies past the altmap's free area: before v6.5 it is still
    # credited to the altmap, from v6.5 it is not.
    k = build("powerpc64-hash", variant)
    altmap = VmemAltmap(Word(0x40000), Word(2), Word(0x100), Word(0), Word(0x40))
    s = KernelState(device_ranges=(DeviceRange(0, Word(0x40000), Word(0x200), altmap),))
    pfn = Word(0x40000 + 2 + 0x100)
    owner = powerpc64._altmap_owning_pfn(k, s, 0, pfn)
    assert owner == (None if fixed else 0)
    # inside the free area it is the altmap's in both
    assert powerpc64._altmap_owning_pfn(k, s, 0, pfn - 1) == 0


@pytest.mark.parametrize(("variant", "fixed"), POWERPC_ERAS_AROUND_V6_5)
def test_powerpc_a_vmemmap_page_ending_on_the_namespace_end_does_not_cross_it_from_v6_5(variant, fixed):
    # c8eebc4a99f1 (v6.5): "if ((start_pfn + nr_pfn - 1) > altmap->end_pfn)" where it was
    # "if ((start_pfn + nr_pfn) > altmap->end_pfn)": a 2 MiB radix page describes 0x8000 pfns; a
    # namespace of exactly those pfns no longer counts as crossed by it.
    k = build("powerpc64-radix", variant)
    start_pfn = 0x8000 * 8
    altmap = VmemAltmap(Word(start_pfn), Word(0), Word(0x100), Word(0), Word(0))
    s = KernelState(device_ranges=(DeviceRange(0, Word(start_pfn), Word(0x8000), altmap),))
    crosses = powerpc64.altmap_cross_boundary(k, s, 0, start_pfn * 64, 1 << 21)
    assert crosses is not fixed


def test_map_offset_is_gone_from_v6_5_and_its_property_says_it_does_not_apply():
    # 6.1.176 __remove_pages(): "map_offset = vmem_altmap_offset(altmap); ... __remove_section(pfn,
    # cur_nr_pages, map_offset, altmap); map_offset = 0;"; 6.12.118: "sparse_remove_section(pfn,
    # cur_nr_pages, altmap, pgmap);" -- nothing to check there, rather than a check that holds
    # because it tests nothing
    prop = property_named("map_offset_first_section_only")
    add = AddDeviceMemory(0, 0x140000, 0x10000, AltmapChoice(0, 0x180, 0x600))
    for variant, offsets in (("v6.1", [0x780, 0]), ("v6.12", [None, None])):
        k, s, _ = run("x86_64", variant, add)
        k.take_events()
        s, _ = RemoveDeviceMemory(0).apply(k, s)
        removed = [e.map_offset for e in k.take_events() if isinstance(e, SectionRemoved)]
        assert [None if x is None else x.v for x in removed] == offsets
        assert prop.applies_to(k.arch, k.variant) is (variant == "v6.1")
        assert prop in Cell("x86_64", variant, Bounds()).properties or variant == "v6.12"
    assert prop not in Cell("x86_64", "v6.12", Bounds()).properties


@pytest.mark.parametrize(("variant", "free"), [("v6.1", 0x8000), ("v6.12", 0x200)])
def test_memmap_on_memory_altmap_free_is_the_range_until_v6_6_then_the_blocks_memmap(variant, free):
    # 6.1.176 add_memory_resource(): "mhp_altmap.free = PHYS_PFN(size);"; from v6.6 (2d1f649c7c08)
    # ".free = memory_block_memmap_on_memory_pages()", PFN_UP(32768 * 64) = 512 pages
    k = build("x86_64", variant)
    s, ret = memory_hotplug.add_memory(k, KernelState(), 0, Word(0x140000), Word(0x8000), 1 << 1, True)
    assert ret == 0
    ((_, altmap),) = s.mhp_altmaps
    assert altmap.free.v == free and altmap.alloc.v == 0x200
    assert s.memory_blocks[0].nr_vmemmap_pages == 0x200


@pytest.mark.parametrize(
    ("arch", "variant", "compound"),
    [
        ("x86_64", "v6.1", True),
        ("arm64-4k", "v6.1", True),  # v5.19-v6.3: on every arch
        ("x86_64", "v6.12", True),  # from v6.4 only where the arch opts in (87a7ae75d738)
        ("arm64-4k", "v6.12", False),
        ("powerpc64-hash", "v6.12", False),
        # radix opts in ("select ARCH_WANT_OPTIMIZE_DAX_VMEMMAP if PPC_RADIX_MMU"), but a 2 MiB
        # compound page has 2 KiB of memmap there: "nr_vmemmap_pages > VMEMMAP_RESERVE_NR" fails
        ("powerpc64-radix", "v6.12", False),
    ],
)
def test_compound_devmap_vmemmap_is_shared_only_where_the_arch_opts_in_from_v6_4(arch, variant, compound):
    k = build(arch, variant)
    a = k.arch
    # 2 MiB compound pages (device-dax align), no altmap
    shift = 21 - a.PAGE_SHIFT
    add = AddDeviceMemory(0, a.HOTPLUG_BASE_PFN, a.PAGES_PER_SECTION, None, vmemmap_shift=shift)
    s, ret = add.apply(k, KernelState())
    assert ret == 0
    assert any(x.reused for x in s.vmemmap) is compound


@pytest.mark.parametrize(
    ("arch", "variant", "on_memory"),
    [
        ("x86_64", "v6.12", True),
        ("arm64-4k", "v5.15", True),  # ca6e51d592d2 (v5.13): "select ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE"
        ("arm64-4k", "v6.12", True),
        # 16K pages: a 128 MiB block's memmap is 32 pages, not a 2048-page pageblock
        ("arm64-16k", "v6.12", False),
        # radix opts in from v6.6 (603fd64dfa45), but a 16 MiB block's memmap is one 64K page, not
        # a pageblock of 32: refused unless memory_hotplug.memmap_on_memory=force
        ("powerpc64-radix", "v6.12", False),
        ("powerpc64-hash", "v6.12", False),
    ],
)
def test_memmap_on_memory_per_arch(arch, variant, on_memory):
    k = build(arch, variant)
    a = k.arch
    s, ret = memory_hotplug.add_memory(
        k, KernelState(), 0, Word(a.HOTPLUG_BASE_PFN), Word(a.PAGES_PER_SECTION), 1 << 1, True
    )
    assert ret == 0
    assert bool(s.mhp_altmaps) is on_memory
    assert (s.sysmem_vmemmap_pages == 0) is on_memory


def test_radix_opts_in_to_compound_devmap_vmemmap_from_v6_6():
    # a 1 GiB compound page: 16384 struct pages, 16 vmemmap pages of 64 KiB
    pgmap = DeviceRange(0, Word(0x40000), Word(0x4000), None, vmemmap_shift=14)
    assert sparse_vmemmap.vmemmap_can_optimize(build("powerpc64-radix", "v6.12"), None, pgmap)
    assert not sparse_vmemmap.vmemmap_can_optimize(build("powerpc64-hash", "v6.12"), None, pgmap)
    assert not sparse_vmemmap.vmemmap_can_optimize(build("powerpc64-radix", "v6.12"), 0, pgmap)


NR_MEMMAP_AFTER_A_FAILED_ADD = [
    # v6.11-v6.16: counted in __populate_section_memmap() after "if (r < 0) return NULL;", taken
    # back in depopulate_section_memmap() by the rollback: one section's 512 pages too few
    ("v6.12", -512),
    # v6.17-v7.1 (c3576889d87b): counted in section_activate() after success, taken back in
    # section_deactivate(), which the failure path runs all the same
    ("v6.17", -512),
    # 7.2: populate_section_memmap() counts whatever the outcome, depopulate takes back: balanced
    ("v7.2", 0),
]


@pytest.mark.parametrize(("variant", "counter"), NR_MEMMAP_AFTER_A_FAILED_ADD)
def test_nr_memmap_pages_after_an_add_whose_memmap_allocation_fails(variant, counter):
    _k, s, rets = run(
        "x86_64", variant, AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 0, 0x200), fail_alloc=0)
    )
    assert rets == [-ENOMEM] and s.sections == ()
    assert s.nr_memmap_pages == counter
    # a successful add and its removal balance in every era
    _, s, rets = run("x86_64", variant, AddDeviceMemory(0, 0x140000, 0x8000, None), RemoveDeviceMemory(0))
    assert rets == [0, 0] and s.nr_memmap_pages == 0


@pytest.mark.parametrize(("variant", "leaked"), [("v6.12", 0), ("v6.19", 511), ("v7.2", 0)])
def test_x86_frees_a_ram_pmd_of_vmemmap_as_its_first_page_only_at_v6_19(variant, leaked):
    # bf9e4e30f353 (v6.19): free_pagetable() ends in "pagetable_free(page_ptdesc(page));", i.e.
    # "__free_pages(page, compound_order(page));" of a block that is not compound; 7.2's
    # free_vmemmap_pages() does "__free_pages(page, order);"
    _, s, rets = run("x86_64", variant, AddDeviceMemory(0, 0x140000, 0x8000, None), RemoveDeviceMemory(0))
    assert rets == [0, 0] and s.vmemmap == ()
    assert s.sysmem_vmemmap_pages == leaked


def test_arm64_4k_maps_a_subsection_range_with_base_pages_from_its_altmap_from_v6_14():
    # d4234d131b0a (v6.14): "if (!IS_ENABLED(CONFIG_ARM64_4K_PAGES) || (end - start <
    # PAGES_PER_SECTION * sizeof(struct page))) return vmemmap_populate_basepages(start, end, node,
    # altmap);" -- 32 KiB of memmap per 2 MiB sub-section, in 4 KiB pages from the altmap
    a = build("arm64-4k", "v7.2").arch
    tail = AddDeviceMemory(0, a.HOTPLUG_BASE_PFN + 0x200, 0x7E00, AltmapChoice(0, 0, 0x200))
    _, s, rets = run("arm64-4k", "v6.12", tail)
    assert rets == [0] and [(x.leaf_shift, x.source) for x in s.vmemmap] == [(21, 0)]
    _, s, rets = run("arm64-4k", "v7.2", tail)
    assert rets == [0] and {(x.leaf_shift, x.source) for x in s.vmemmap} == {(12, 0)}
    assert len(pgtable.each_leaf(s)) == 0x7E00 * 64 // 4096


@pytest.mark.parametrize(
    ("arch", "variant"), [("x86_64", "v6.12"), ("powerpc64-hash", "v6.12"), ("arm64-16k", "v6.12")]
)
def test_memmap_from_system_memory_is_boot_ram_each_page_its_own(arch, variant):
    # vmemmap_alloc_block() -> alloc_pages_node(): the model backs a leaf from the page
    # allocator with boot RAM at its vmemmap offset, below every hot-pluggable pfn
    k = build(arch, variant)
    pps = k.arch.PAGES_PER_SECTION
    _, s, rets = run(arch, variant, AddDeviceMemory(0, k.arch.HOTPLUG_BASE_PFN, 2 * pps, None))
    assert rets == [0]
    ram = [x for x in s.vmemmap if x.source == SYSMEM]
    assert ram
    spans = sorted((x.pfn.v, x.pfn.v + (1 << (x.leaf_shift - k.arch.PAGE_SHIFT))) for x in ram)
    assert all(lo > 0 and hi <= k.arch.HOTPLUG_BASE_PFN for lo, hi in spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_powerpc_vmemmap_free_classifies_a_page_by_its_pfn():
    # "if (base_pfn >= alt_start && base_pfn < alt_end)": the 16 MiB page of a device that does
    # not span it comes from boot RAM (altmap_cross_boundary()), below the device, and goes
    # back to the page allocator; without the lower bound it is credited to the altmap
    t = AddDeviceMemory(0, 0x40000, 0x200, AltmapChoice(0, 2, 0x100))
    for variant, to in (("v6.12", SYSMEM), ("v6.12+altmap-free-no-lower-bound", 0)):
        k, s, rets = run("powerpc64-hash", variant, t)
        assert rets == [0]
        (backing,) = s.vmemmap
        assert backing.source == SYSMEM and backing.pfn.v < 0x40000
        k.take_events()
        s, ret = RemoveDeviceMemory(0).apply(k, s)
        assert ret == 0
        assert [e.to for e in k.take_events() if isinstance(e, VmemmapFreed)] == [to]

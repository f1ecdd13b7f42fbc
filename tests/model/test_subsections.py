"""Sub-section hotplug (v5.3, ba72b4c8cf60): ranges that are not section aligned, by 2 MiB."""

import pytest

from mhpcheck.engines.cell import Cell
from mhpcheck.model import build
from mhpcheck.model.errno import EEXIST, EINVAL
from mhpcheck.model.ops import memory_hotplug, sparse
from mhpcheck.model.state import KernelState
from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice, Bounds, RemoveDeviceMemory
from mhpcheck.properties import property_named

BASE = 0x140000  # a section start (section 0x28)
PPS = 0x8000  # PAGES_PER_SECTION on x86_64
SUB = 0x200  # PAGES_PER_SUBSECTION: 2 MiB of 4 KiB pages


def run(variant, *transitions, arch="x86_64"):
    # hand-picked ranges, not only what the explorer's environment offers: steps, not a replay
    cell = Cell(arch, variant, Bounds(faults=0))
    steps, s = [], KernelState()
    for t in transitions:
        steps.append(cell.step(s, t))
        s = steps[-1].after
    return build(arch, variant), steps[-1].after, [x.ret for x in steps]


@pytest.mark.parametrize("variant", ["v5.3", "v6.12"])
def test_two_devices_share_a_section_each_with_its_own_subsections(variant):
    # Device 0: [section + 2 MiB, section end), 63 sub-sections; device 1: the first 2 MiB.
    k, s, rets = run(
        variant,
        AddDeviceMemory(0, BASE + SUB, PPS - SUB, None),
        AddDeviceMemory(1, BASE, SUB, None),
    )
    assert rets == [0, 0]
    assert k.arch.SUBSECTIONS_PER_SECTION == 64
    assert [(m.section_nr, m.subsection_map) for m in s.sections] == [(0x28, (1 << 64) - 1)]
    # "if (end - start < PAGES_PER_SECTION * sizeof(struct page)) vmemmap_populate_basepages(
    # start, end, node, NULL)": 32 KiB of memmap per sub-section, in 4 KiB pages from RAM
    assert {x.leaf_shift for x in s.vmemmap} == {12}
    assert s.sysmem_vmemmap_pages == 64 * 8


def test_removing_one_device_clears_only_its_subsections_and_frees_only_its_memmap():
    k, s, rets = run(
        "v6.12",
        AddDeviceMemory(0, BASE + SUB, PPS - SUB, None),
        AddDeviceMemory(1, BASE, SUB, None),
        RemoveDeviceMemory(0),
    )
    assert rets == [0, 0, 0]
    assert [(m.section_nr, m.subsection_map) for m in s.sections] == [(0x28, 1)]
    assert s.sysmem_vmemmap_pages == 8
    assert s.nr_memmap_pages == 8  # DIV_ROUND_UP(512 * 64, PAGE_SIZE)
    s, ret = RemoveDeviceMemory(1).apply(k, s)
    assert ret == 0 and s.sections == () and s.vmemmap == () and s.sysmem_vmemmap_pages == 0


def test_a_subsection_range_ignores_its_altmap_on_x86():
    # The altmap is valid (base == start, offset <= nr_pages) but the chunk is smaller than a
    # section: x86 takes base pages from RAM and leaves the altmap untouched.
    _, s, rets = run("v6.12", AddDeviceMemory(0, BASE, 4 * SUB, AltmapChoice(0, 2, 0x200)))
    assert rets == [0]
    assert s.device_ranges[0].altmap.alloc.v == 0
    assert {x.source for x in s.vmemmap} == {-1}


def test_fill_subsection_map_refuses_overlap_and_empty_requests():
    k, s, _ = run("v6.12", AddDeviceMemory(0, BASE + SUB, SUB, None))
    w = k.sem.word
    assert sparse.fill_subsection_map(k, s, w(BASE + SUB), SUB) == (-EEXIST, 0b10)
    assert sparse.fill_subsection_map(k, s, w(BASE), SUB) == (0, 0b11)
    assert sparse.clear_subsection_map(k, s, w(BASE), SUB) == (-EINVAL, 0b10)


def test_check_pfn_span_refuses_ranges_smaller_than_a_subsection():
    k = build("x86_64", "v6.12")
    w = k.sem.word
    assert memory_hotplug.check_pfn_span(k, w(BASE + 1), w(SUB)) == -EINVAL
    assert memory_hotplug.check_pfn_span(k, w(BASE), w(SUB - 1)) == -EINVAL
    assert memory_hotplug.check_pfn_span(k, w(BASE + SUB), w(SUB)) == 0
    _, _, rets = run("v6.12", AddDeviceMemory(0, BASE + 8, SUB, None))
    assert rets == [-EINVAL]


def test_partly_present_section_has_memmap_for_its_present_subsections():
    k, s, _ = run("v6.12", AddDeviceMemory(0, BASE + SUB, 2 * SUB, None))
    prop = property_named("present_sections_have_memmap")
    assert prop.first_failure(k, s) is None


def test_sections_before_v5_3_are_all_or_nothing():
    _, s, rets = run("v4.13", AddDeviceMemory(0, BASE, PPS, None))
    assert rets == [0] and s.sections[0].subsection_map == 0


def test_arm64_4k_unmaps_the_shared_pmd_when_either_device_of_a_section_goes():
    # arm64-4k v5.9: sections of 1 GiB, one 2 MiB PMD block of memmap per 32768 pfns. Device 0
    # takes the section less its first 2 MiB, device 1 that 2 MiB: both sub-section ranges,
    # one PMD block between them. Removing device 1 clears the block device 0 still uses.
    a = build("arm64-4k", "v5.9").arch
    pps, sub, start = a.PAGES_PER_SECTION, a.PAGES_PER_SUBSECTION, a.HOTPLUG_BASE_PFN
    k, s, rets = run(
        "v5.9",
        AddDeviceMemory(0, start + sub, pps - sub, None),
        AddDeviceMemory(1, start, sub, None),
        RemoveDeviceMemory(1),
        arch="arm64-4k",
    )
    assert rets == [0, 0, 0]
    prop = property_named("present_sections_have_memmap")
    failure = prop.first_failure(k, s)
    assert failure is not None and "unmapped" in failure


def test_x86_keeps_the_other_devices_memmap_of_a_shared_section():
    k, s, rets = run(
        "v5.9",
        AddDeviceMemory(0, BASE + SUB, PPS - SUB, None),
        AddDeviceMemory(1, BASE, SUB, None),
        RemoveDeviceMemory(1),
    )
    assert rets == [0, 0, 0]
    assert property_named("present_sections_have_memmap").first_failure(k, s) is None


@pytest.mark.parametrize("arch", ["powerpc64-hash", "powerpc64-radix"])
def test_powerpc_v5_3_vmemmap_populated_looks_at_each_sections_first_subsection_only(arch):
    # v5.3 walks the vmemmap page section by section, "if (pfn_valid(page_to_pfn((struct page
    # *)start))) return 1;", and pfn_valid() is per sub-section since ba72b4c8cf60: a section whose
    # first 2 MiB is not present does not count. v5.5 walks every sub-section.
    a = build(arch, "v5.3").arch
    start, pps, sub = a.HOTPLUG_BASE_PFN, a.PAGES_PER_SECTION, a.PAGES_PER_SUBSECTION
    tail = AddDeviceMemory(0, start + sub, pps - sub, None)
    whole = AddDeviceMemory(1, start + pps, pps, None)
    _, s, rets = run("v5.3", tail, whole, arch=arch)
    assert rets == [0, 0]
    # the page holding both sections' memmap is populated a second time, over the first
    assert [x.index for x in s.vmemmap] == [s.vmemmap[0].index] * 2
    _, s, rets = run("v5.9", tail, whole, arch=arch)
    assert rets == [0, 0] and len(s.vmemmap) == 1


RADIX_BASE = 0x40000  # 16 GiB: the first of the 4 sections one 64 KiB vmemmap page describes


def test_radix_v6_6_takes_a_page_shared_with_the_previous_namespace_from_the_new_ones_altmap():
    # radix__vmemmap_populate() at v6.6-v6.14 does not align start, so for a namespace starting at
    # the third section of a 64 KiB vmemmap page altmap_cross_boundary() computes start_pfn from
    # the namespace's first pfn, not the page's: the page holding the two sections before it comes
    # from its altmap. 9cf7e13fecba (v6.15): "start = ALIGN_DOWN(start, PAGE_SIZE);".
    later = AddDeviceMemory(1, RADIX_BASE + 0x200, 0x600, AltmapChoice(0, 0, 0x40))
    earlier = AddDeviceMemory(0, RADIX_BASE, 0x200, None)
    prop = property_named("altmap_leaves_describe_own_device")
    k, s, rets = run("v6.12", later, earlier, arch="powerpc64-radix")
    assert rets == [0, 0]
    assert {(x.index, x.leaf_shift, x.source) for x in s.vmemmap} >= {((RADIX_BASE * 64) >> 16, 16, 1)}
    assert prop.first_failure(k, s) is not None
    k, s, rets = run("v7.2", later, earlier, arch="powerpc64-radix")
    assert rets == [0, 0]
    assert prop.first_failure(k, s) is None
    assert {(x.index, x.leaf_shift, x.source) for x in s.vmemmap} >= {((RADIX_BASE * 64) >> 16, 16, -1)}


@pytest.mark.parametrize(
    ("variant", "altmap", "leaves"),
    [
        # v6.6-v6.14: without an altmap a PMD at whatever addr; with one, base pages when addr is
        # not PMD aligned (and the page crosses a two-section device: RAM)
        ("v6.12", False, {(21, -1)}),
        ("v6.12", True, {(16, -1)}),
        # v6.17 (f5164797284d): "if (altmap) start = ALIGN_DOWN(start, PAGE_SIZE); else start =
        # ALIGN_DOWN(start, PMD_SIZE);" -- a PMD from RAM, or base pages
        ("v7.2", False, {(21, -1)}),
        ("v7.2", True, {(16, -1)}),
    ],
)
def test_radix_maps_a_range_that_is_not_pmd_aligned(variant, altmap, leaves):
    # the second section's memmap starts 16 KiB into the 2 MiB PMD of the first
    choice = AltmapChoice(0, 0, 0x20) if altmap else None
    _, s, rets = run(variant, AddDeviceMemory(0, RADIX_BASE + 0x100, 0x100, choice), arch="powerpc64-radix")
    assert rets == [0]
    assert {(x.leaf_shift, x.source) for x in s.vmemmap} == leaves

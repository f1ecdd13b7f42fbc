"""A failed add: the kernel's error code, what it leaves behind, and what a later removal does."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import ON_STEP, Claim, check, invariant, reachable, step_property
from mhpcheck.core.values import Cond
from mhpcheck.model import pgtable
from mhpcheck.model.arch import ArchConfig
from mhpcheck.model.errno import ENOMEM, errname
from mhpcheck.model.events import AllocationFailed, CallFailed, VmemmapAllocated
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.state import KernelState, VmemmapLeaf
from mhpcheck.model.transitions import AddDeviceMemory, AddMemory
from mhpcheck.model.variants import Variant
from mhpcheck.properties.common import has_altmaps

ADDS = (AddDeviceMemory, AddMemory)  # the steps that add memory, and may fail doing so


def _same_leaves(k: Kernel, a: tuple[VmemmapLeaf, ...], b: tuple[VmemmapLeaf, ...]) -> Cond:
    """Whether two states map the same vmemmap pages, from the same backing pfns."""
    shape = [(x.index, x.leaf_shift, x.source, x.reused, x.count) for x in a]
    if shape != [(x.index, x.leaf_shift, x.source, x.reused, x.count) for x in b]:
        return k.sem.false()
    return k.sem.all(x.pfn == y.pfn for x, y in zip(a, b, strict=True))


def _failed_by_fault(step: Step) -> bool:
    return isinstance(step.transition, AddDeviceMemory | AddMemory) and any(
        isinstance(e, AllocationFailed) for e in step.events
    )


@step_property(kills=("populate-error-einval",), observes=ADDS)
def failed_allocation_fails_the_add_with_enomem(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add whose vmemmap allocation fails returns -ENOMEM, unless the arch falls back (powerpc to system memory, x86 without altmap to base pages) and the fallback succeeds (sparse_add_one_section / section_activate)."""
    if not _failed_by_fault(step) or step.ret == 0:
        return
    yield check(
        k.sem.true() if step.ret == -ENOMEM else k.sem.false(),
        lambda: f"{step.transition} failed an allocation and returned {errname(step.ret)}",
    )


@step_property(kills=("activate-no-rollback",), observes=ADDS)
def failed_add_leaves_nothing_behind(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add that fails leaves no section, vmemmap page, system memory or altmap use behind: the failing section is rolled back by section_deactivate() (v5.3+), the earlier ones by nobody."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory | AddMemory) or step.ret == 0:
        return
    b, a = step.before, step.after
    yield check(
        k.sem.true() if a.sections == b.sections else k.sem.false(),
        lambda: (
            "sections "
            + ", ".join(f"{m.section_nr:#x}" for m in a.sections if m not in b.sections)
            + f" stay present after {t} failed"
        ),
    )
    yield check(
        _same_leaves(k, a.vmemmap, b.vmemmap),
        lambda: (
            f"{len({x.index for x in pgtable.each_leaf(a)} - {x.index for x in pgtable.each_leaf(b)})} vmemmap pages stay "
            f"mapped after {t} failed"
        ),
    )
    yield check(
        k.sem.true() if a.sysmem_vmemmap_pages == b.sysmem_vmemmap_pages else k.sem.false(),
        lambda: (
            f"{a.sysmem_vmemmap_pages - b.sysmem_vmemmap_pages} pages of system memory stay "
            f"taken after {t} failed"
        ),
    )


@step_property(kills=("enomem-swallowed",), observes=ADDS)
def successful_add_has_every_section(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add that returns 0 has made every section of its range present (__add_pages() stops at the first error and returns it)."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory | AddMemory) or step.ret != 0:
        return
    pps = k.arch.PAGES_PER_SECTION
    first = t.start_pfn // pps
    for nr in range(first, first + t.nr_pages // pps):
        yield check(
            k.sem.true() if step.after.section(nr) is not None else k.sem.false(),
            lambda: f"{t} returned 0 but section {nr:#x} is not present",
        )


@invariant(kills=("altmap-freed-to-page-allocator",))
def system_memory_never_over_freed(k: Kernel, s: KernelState) -> Iterator[Claim]:
    """The page allocator never gets back more memmap pages than it gave: nothing is freed twice, nothing of a device lands in it (vmemmap_free())."""
    yield check(
        k.sem.true() if s.sysmem_vmemmap_pages >= 0 else k.sem.false(),
        lambda: (
            f"{-s.sysmem_vmemmap_pages} more pages were freed to the page allocator than it gave "
            "to the memmap"
        ),
    )


def _fails_without_fallback(arch: ArchConfig, v: Variant) -> bool:
    """With an altmap an add has no fallback, except where the arch falls back to RAM (powerpc, v5.0)
    or to base pages from the altmap (arm64 with 4K pages, v5.11 to v6.1): there one injected
    fault never fails an add."""
    return (
        has_altmaps(arch, v)
        and not arch.has.altmap_falls_back_to_ram
        and not arch.has.altmap_pmd_falls_back_to_base_pages
    )


@reachable(applies=_fails_without_fallback, on=ON_STEP, needs="faults", observes=ADDS)
def add_fails_on_an_injected_fault(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add's vmemmap allocation fails (fault injection) and the add returns an error (needs --faults)."""
    ok = _failed_by_fault(step) and step.ret != 0
    yield check(k.sem.true() if ok else k.sem.false(), "no injected fault failed an add")


@reachable(
    # where one vmemmap page holds several sections' memmap, the later sections need no allocation
    applies=lambda a, v: _fails_without_fallback(a, v) and not a.has.vmemmap_page_spans_sections,
    on=ON_STEP,
    needs="failures",
    observes=ADDS,
)
def failed_add_leaves_earlier_sections(k: Kernel, step: Step) -> Iterator[Claim]:
    """A multi-section add fails after its first section, so the kernel's missing rollback is explored (needs --faults or --partial-failures)."""
    t = step.transition
    ok = (
        isinstance(t, AddDeviceMemory | AddMemory)
        and step.ret != 0
        and len(step.after.sections) > len(step.before.sections)
    )
    yield check(k.sem.true() if ok else k.sem.false(), "no failed add left a section behind")


@reachable(applies=lambda a, v: a.has.pmd_falls_back_to_base_pages, on=ON_STEP, needs="faults")
def pmd_failure_falls_back_to_base_pages(k: Kernel, step: Step) -> Iterator[Claim]:
    """vmemmap_populate_hugepages() falls back to base pages when a PMD allocation without altmap fails (x86 "vmemmap: falling back to regular page backing"; arm64 from v5.11)."""
    failed = any(isinstance(e, AllocationFailed) for e in step.events)
    base = any(isinstance(e, VmemmapAllocated) and e.leaf_shift == k.arch.PAGE_SHIFT for e in step.events)
    yield check(k.sem.true() if failed and base else k.sem.false(), "no PMD failure fell back to base pages")


def _free_range_add(k: Kernel, step: Step) -> bool:
    """Whether the step adds device memory to a range nothing holds: no resource overlaps it, no
    section of it is present."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory):
        return False
    start, end = t.start_pfn, t.start_pfn + t.nr_pages
    b = step.before
    for x in b.resources:
        first_pfn = k.sem.concrete(x.start_pfn)
        past = first_pfn + k.sem.concrete(x.nr_pages)
        if first_pfn < end and start < past:
            return False
    first, last = start >> k.arch.PFN_SECTION_SHIFT, (end - 1) >> k.arch.PFN_SECTION_SHIFT
    return not any(first <= m.section_nr <= last for m in b.sections)


@step_property(
    kills=("powerpc-no-ram-fallback",),
    applies=lambda a, v: a.has.altmap_falls_back_to_ram,
    observes=(AddDeviceMemory,),
)
def valid_add_succeeds_without_faults(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add of a free range with a valid altmap returns 0 unless a fault was injected: where the altmap cannot back a vmemmap page the arch falls back to system memory (powerpc vmemmap_populate(), v5.0)."""
    t = step.transition
    if not _free_range_add(k, step) or any(isinstance(e, AllocationFailed | CallFailed) for e in step.events):
        return
    assert isinstance(t, AddDeviceMemory)
    valid = k.sem.true()
    if t.altmap is not None and not getattr(t.altmap, "namespace_align", 0):
        # what __add_pages() accepts: "altmap->base_pfn != pfn || vmem_altmap_offset(altmap) >
        # nr_pages" refused (a namespace the pfn driver laid out is valid by construction)
        offset, reserve, free, _ = t.altmap.words(k)
        valid = (offset == 0) & (reserve + free <= k.sem.word(t.nr_pages))
    yield check(
        ~valid | (k.sem.true() if step.ret == 0 else k.sem.false()),
        lambda: f"{t} failed with {errname(step.ret)} and no fault injected",
    )

"""The symbolic engine: verdicts for every 64-bit altmap value, counterexamples replayed concretely."""

from __future__ import annotations

from mhpcheck.checker import CheckRequest, run_check
from mhpcheck.core.results import Verdict
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.engines.symbolic.engine import check_symbolic
from mhpcheck.model.transitions import AddDeviceMemory, Bounds
from mhpcheck.properties import property_named

MASK = (1 << 64) - 1


def verdicts(cell):  # type: ignore[no-untyped-def]
    return {p.name: p for p in cell.properties}


def test_seed_001_pre_patch_is_violated_with_values_that_replay() -> None:
    prop = property_named("invalid_altmap_rejected_with_einval")
    before = check_symbolic(Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=1), [prop], "symbolic"))
    p = verdicts(before)[prop.name]
    assert p.verdict == Verdict.VIOLATED and len(p.path) == 1
    (t,) = p.path
    assert isinstance(t, AddDeviceMemory) and t.altmap is not None
    a = t.altmap
    assert a.base_offset != 0 or a.reserve + a.free > t.nr_pages  # Z3 chose an invalid altmap
    _, failed_at, message = Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=1)).judge_path(
        prop, p.path
    )
    assert failed_at == 1 and message == p.message  # the concrete engine agrees
    after = check_symbolic(Cell("x86_64", "v4.5", Bounds(depth=1), [prop], "symbolic"))
    q = verdicts(after)[prop.name]
    assert q.verdict == Verdict.HOLDS and q.message == "holds for all values up to depth 1"
    assert after.stats["sequences"] > 0 and after.stats["queries"] > 0


def test_only_the_symbolic_engine_sees_reserve_plus_free_wrap() -> None:
    """__add_pages() checks vmem_altmap_offset() = reserve + free > nr_pages in unsigned long: a
    reserve + free that wraps past 2^64 passes, and the memmap lands outside the altmap's area."""
    prop = property_named("altmap_leaves_inside_free_area")
    explicit = explore(Cell("x86_64", "v4.5", Bounds(depth=2), [prop]))
    assert verdicts(explicit)[prop.name].verdict == Verdict.HOLDS  # small values: nothing to see
    symbolic = check_symbolic(Cell("x86_64", "v4.5", Bounds(depth=1), [prop], "symbolic"))
    p = verdicts(symbolic)[prop.name]
    assert p.verdict == Verdict.VIOLATED
    (t,) = p.path
    assert isinstance(t, AddDeviceMemory) and t.altmap is not None
    assert t.altmap.reserve + t.altmap.free > MASK  # the sum wraps
    assert (t.altmap.reserve + t.altmap.free) & MASK <= t.nr_pages  # so validation lets it through


def test_the_check_command_runs_the_symbolic_engine_and_judges_findings() -> None:
    req = CheckRequest(
        archs=("x86_64",),
        variants=("v4.5-pre-altmap-hotplug", "v4.5"),
        properties=("invalid_altmap_rejected_with_einval", "altmap_leaves_inside_free_area"),
        bounds=Bounds(depth=1),
        engine="symbolic",
        jobs=2,
    )
    report = run_check(req)
    by = {(c.variant, p.name): p.verdict for c in report.cells for p in c.properties}
    assert all(c.engine == "symbolic" for c in report.cells)
    assert by[("v4.5-pre-altmap-hotplug", "invalid_altmap_rejected_with_einval")] == Verdict.VIOLATED
    assert by[("v4.5", "invalid_altmap_rejected_with_einval")] == Verdict.HOLDS
    assert by[("v4.5", "altmap_leaves_inside_free_area")] == Verdict.FINDING  # altmap-offset-wraps


def test_both_engines_agree_where_they_overlap() -> None:
    req = CheckRequest(
        archs=("x86_64",),
        variants=("v4.5-pre-altmap-hotplug",),
        properties=("invalid_altmap_rejected_with_einval", "map_offset_first_section_only"),
        bounds=Bounds(depth=1, faults=0),
        engine="both",
    )
    report = run_check(req)
    assert [c.engine for c in report.cells] == ["explicit", "symbolic"]
    for c in report.cells:
        assert verdicts(c)["invalid_altmap_rejected_with_einval"].verdict == Verdict.VIOLATED


def test_arm64_base_page_adds_are_judged_in_full_with_their_failure_paths_joined() -> None:
    # arm64-64k v5.9: 16 base pages of memmap per section, each a point where the altmap may run
    # out. Every such path is rolled back to the same state, so they continue as one node.
    # (without sub-section ranges, which show finding arm64-subsection-shared-vmemmap-page)
    bounds = Bounds(
        sections=1, devices=2, max_device_sections=1, ram=False, faults=0, depth=2, subsections=False
    )
    props = [
        property_named("altmap_device_memmap_not_from_system_memory"),
        property_named("removal_returns_every_leaf_to_its_source"),
        property_named("altmap_exhausted"),
    ]
    cell = check_symbolic(Cell("arm64-64k", "v5.9", bounds, props, "symbolic"))
    assert cell.complete and cell.depth == 2
    assert cell.stats["merged"] > 0 and cell.stats["paths"] > 16
    assert {p.name: p.verdict for p in cell.properties} == {
        "altmap_device_memmap_not_from_system_memory": Verdict.HOLDS,
        "removal_returns_every_leaf_to_its_source": Verdict.HOLDS,
        "altmap_exhausted": Verdict.HOLDS,  # the witness: an altmap ran out
    }
    before = check_symbolic(Cell("arm64-64k", "v5.9-pre-arm64-altmap", bounds, props[:1], "symbolic"))
    assert before.properties[0].verdict == Verdict.VIOLATED

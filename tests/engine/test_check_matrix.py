"""The matrix: the default check holds on every era; each seed's pre-patch variant is caught."""

import pytest

from mhpcheck.checker import CheckRequest, run_check
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.core.results import Verdict
from mhpcheck.engines.schedule import expected_seconds
from mhpcheck.model.transitions import Bounds


@pytest.mark.long  # every era at the default bounds
def test_the_default_matrix_holds_with_only_recorded_findings():
    report = run_check(CheckRequest(variants=("eras",), jobs=2))
    assert report.exit_code() == ExitCode.HOLDS
    assert not report.stale
    eras = {(c.arch, c.variant) for c in report.cells}
    assert ("x86_64", "v4.3") in eras
    assert ("arm64-16k", "v5.9") in eras
    assert all(p.verdict != Verdict.VIOLATED for c in report.cells for p in c.properties)
    # the findings the model shows in real kernels are reported, not hidden
    assert {p.finding for c in report.cells for p in c.properties if p.finding} == {
        "reserve-skip-dead",
        "altmap-offset-equals-range",
        "powerpc-altmap-lookup-at-page-start",
        "powerpc-shared-vmemmap-page",
        "failed-add-leaks-sections",
        "leaked-sections-reused",
        "arm64-subsection-pmd-memmap",
        "arm64-subsection-shared-vmemmap-page",
        "powerpc-populated-first-subsection",
        "nr-memmap-failed-add-underflow",
        "x86-pmd-vmemmap-leak",
        "memunmap-reads-reserve-page",
        "mhp-add-error-path-null-altmap",
        "mhp-error-path-null-altmap",
        "memory-block-altmap-before-registration",
    }
    # the arm64 4K finding stops with d4234d131b0a (v6.14); the 16K/64K one does not
    shown = {(p.finding, c.variant) for c in report.cells for p in c.properties if p.finding}
    assert ("arm64-subsection-pmd-memmap", "v6.12") in shown
    assert not {v for f, v in shown if f == "arm64-subsection-pmd-memmap"} & {
        "v6.14",
        "v6.17",
        "v6.19",
        "v7.2",
    }
    assert ("arm64-subsection-shared-vmemmap-page", "v7.2") in shown


def test_a_pre_patch_variant_exits_1():
    report = run_check(
        CheckRequest(
            archs=("x86_64",), variants=("v4.5-pre-altmap-hotplug",), bounds=Bounds(depth=3, faults=0)
        )
    )
    assert report.exit_code() == ExitCode.VIOLATED
    violated = {p.name for p in report.cells[0].properties if p.verdict == Verdict.VIOLATED}
    assert {"invalid_altmap_rejected_with_einval", "map_offset_first_section_only"} <= violated


def test_a_budget_gives_inconclusive():
    report = run_check(CheckRequest(archs=("x86_64",), variants=("v5.9",), max_states=40))
    assert report.exit_code() == ExitCode.INCONCLUSIVE


def test_no_variant_means_the_newest_era_and_eras_means_every_era():
    from mhpcheck.checker import cells_of, variant_names_of
    from mhpcheck.model.variants import ERAS

    newest, _ = cells_of(CheckRequest())
    assert {v for _, v in newest} == {"v7.2"} and len(newest) == 6
    req = CheckRequest(variants=("eras", "v6.12", "v4.5-pre-altmap-hotplug"))
    assert variant_names_of(req) == (*(e.name for e in ERAS), "v4.5-pre-altmap-hotplug")


def test_cells_are_scheduled_longest_first_whatever_mutant_or_patch_they_carry():
    # arm64-4k's PMD fallback to base pages (v5.11-v6.1) is the longest cell of the eras
    heaviest = expected_seconds("arm64-4k", "v6.1")
    assert heaviest > expected_seconds("arm64-4k", "v7.2") > expected_seconds("powerpc64-hash", "v7.2")
    assert expected_seconds("arm64-4k", "v6.1+populate-error-einval") == heaviest
    assert expected_seconds("arm64-4k", "v6.1@my_patch") == heaviest
    assert expected_seconds("riscv64", "v7.2") > 0  # an arch it has no figure for still gets one

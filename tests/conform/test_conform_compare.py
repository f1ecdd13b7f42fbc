"""Kernel figures against predictions: exact where the kernel is exact, the memmap's RAM cost within 1 MiB."""

from __future__ import annotations

import pytest

from mhpcheck.conform import parse
from mhpcheck.conform.compare import Row, Verdict, compare
from mhpcheck.conform.runner import GROUPS, Result, judge
from mhpcheck.core.exitcodes import ExitCode


def fig(name, value, unit="pages", tolerance=0, step="online-d1", scenario="dimm-mom1"):
    return parse.Figure(scenario, step, name, value, unit, tolerance)


def verdicts(observed, predicted):
    return [(r.figure, r.verdict) for r in compare("6.12", observed, predicted)]


def test_exact_figures_match_only_when_equal():
    observed = [fig("movable_managed_pages", 32256), fig("movable_present_pages", 32768)]
    predicted = [fig("movable_managed_pages", 32256), fig("movable_present_pages", 32767)]
    assert verdicts(observed, predicted) == [
        ("movable_managed_pages", Verdict.MATCH),
        ("movable_present_pages", Verdict.MISMATCH),
    ]


def test_a_tolerance_on_a_page_count_is_ignored():
    rows = compare(
        "6.1", [fig("movable_present_pages", 32768)], [fig("movable_present_pages", 32760, tolerance=100)]
    )
    assert rows[0].verdict is Verdict.MISMATCH
    assert rows[0].tolerance == 0


def test_memmap_ram_cost_matches_within_the_model_tolerance():
    observed = [fig("memmap_ram_kib", -2092, "KiB", step="add-d1")]
    assert compare("6.1", observed, [fig("memmap_ram_kib", -2048, "KiB", 1024, step="add-d1")])[
        0
    ].verdict is (Verdict.MATCH)
    assert compare("6.1", observed, [fig("memmap_ram_kib", -2048, "KiB", 16, step="add-d1")])[0].verdict is (
        Verdict.MISMATCH
    )


def test_memmap_tolerance_is_capped_at_one_mib():
    observed = [fig("memmap_ram_kib", -2048 - 1500, "KiB", step="add-d1")]
    row = compare("6.1", observed, [fig("memmap_ram_kib", -2048, "KiB", 4096, step="add-d1")])[0]
    assert row.verdict is Verdict.MISMATCH
    assert row.tolerance == 1024
    assert "capped" in row.note


def test_a_figure_the_model_does_not_predict_is_not_a_pass():
    assert verdicts([fig("online_blocks", 5, "blocks")], []) == [("online_blocks", Verdict.NOT_MODELLED)]


def test_a_predicted_figure_the_kernel_did_not_show_is_not_measured():
    rows = compare("6.1", [], [fig("nr_memmap_pages", 512)])
    assert [(r.figure, r.verdict, r.kernel_value, r.model_value) for r in rows] == [
        ("nr_memmap_pages", Verdict.NOT_MEASURED, None, 512)
    ]


def test_units_must_agree():
    row = compare("6.1", [fig("mem_total_kib", 1024, "KiB")], [fig("mem_total_kib", 1024, "bytes")])[0]
    assert row.verdict is Verdict.MISMATCH
    assert "unit" in row.note


def test_units_compare_without_case():
    assert verdicts([fig("mem_total_kib", 1024, "KiB")], [fig("mem_total_kib", 1024, "kib")]) == [
        ("mem_total_kib", Verdict.MATCH)
    ]


def row(verdict):
    return Row("6.1", "dimm-mom1", "add-d1", "mem_total_kib", "KiB", 0, 0, 0, verdict)


def test_exit_code_is_1_on_any_mismatch_whatever_else():
    rows = [row(Verdict.MATCH), row(Verdict.NOT_MEASURED), row(Verdict.MISMATCH)]
    assert Result(rows=rows).exit_code() is ExitCode.VIOLATED


def test_exit_code_is_3_when_a_figure_is_missing_or_nothing_was_compared():
    assert Result(rows=[row(Verdict.MATCH), row(Verdict.NOT_MEASURED)]).exit_code() is ExitCode.INCONCLUSIVE
    assert Result(rows=[row(Verdict.NOT_MODELLED)]).exit_code() is ExitCode.INCONCLUSIVE
    assert Result(rows=[row(Verdict.MATCH), row(Verdict.FAILED)]).exit_code() is ExitCode.INCONCLUSIVE
    assert Result(unavailable="no qemu").exit_code() is ExitCode.INCONCLUSIVE


def test_exit_code_is_0_when_every_compared_figure_matches():
    rows = [row(Verdict.MATCH), row(Verdict.NOT_MODELLED), row(Verdict.SKIPPED)]
    assert Result(rows=rows).exit_code() is ExitCode.HOLDS


NVDIMM = next(g for g in GROUPS if g.name == "nvdimm")
SKIPPED_GUEST = parse.parse_lines(["@@SCENARIO kmem-mom1", "@@SKIP kmem-mom1 no knob", "@@DONE"])


def only(group, scenario):
    return type(group)(group.name, (scenario,), group.append, group.nvdimm)


def test_a_scenario_the_kernel_cannot_run_is_skipped_when_nothing_is_predicted():
    rows = judge("6.1", SKIPPED_GUEST, only(NVDIMM, "kmem-mom1"), None, lambda k, s, a: [])
    assert [(r.verdict, r.note) for r in rows] == [(Verdict.SKIPPED, "no knob")]


def test_what_the_model_says_of_a_skipped_scenario_is_shown_unchecked():
    predicted = [fig("mem_total_kib", 903168, "KiB", step="online", scenario="kmem-mom1")]
    rows = judge("6.1", SKIPPED_GUEST, only(NVDIMM, "kmem-mom1"), None, lambda k, s, a: predicted)
    assert [(r.figure, r.model_value, r.verdict) for r in rows] == [
        ("mem_total_kib", 903168, Verdict.SKIPPED),
        ("-", None, Verdict.SKIPPED),
    ]
    assert Result(rows=[*rows, row(Verdict.MATCH)]).exit_code() is ExitCode.HOLDS


def test_a_boot_that_died_fails_the_scenarios_it_never_reached():
    guest = parse.parse_lines(["@@SCENARIO fsdax-map-dev"])
    group = type(NVDIMM)("nvdimm", ("fsdax-map-dev", "fsdax-map-mem"), NVDIMM.append, True)
    rows = judge("6.12", guest, group, "no @@DONE within 300 s", None)
    assert [(r.scenario, r.verdict, r.note) for r in rows] == [
        ("fsdax-map-dev", Verdict.FAILED, "no @@DONE within 300 s"),
        ("fsdax-map-mem", Verdict.FAILED, "no @@DONE within 300 s"),
    ]


def test_the_model_agrees_with_both_recorded_kernels():
    """The recorded boots against today's model: a model change that breaks conformance fails here."""
    from pathlib import Path

    from mhpcheck.conform import predict

    samples = Path(__file__).parent / "samples"
    rows: list[Row] = []
    for kernel in ("6.1", "6.12"):
        for group in GROUPS:
            guest = parse.parse_lines((samples / f"{kernel}-{group.name}.log").read_text().splitlines())
            rows += judge(kernel, guest, group, None, predict.predict)
    wrong = [r for r in rows if r.verdict in (Verdict.MISMATCH, Verdict.NOT_MEASURED, Verdict.FAILED)]
    assert wrong == []
    assert sum(r.verdict is Verdict.MATCH for r in rows) == 208
    assert Result(rows=rows).exit_code() is ExitCode.HOLDS


# Figures where the kernel and the model differ, each with the kernel's reason; the model's side is
# another piece of work (its 7.2 era, arm64's compound-page vmemmap, arm64's linear map). A model
# change that fixes one fails here until the entry goes.
KNOWN_MISMATCHES = {
    # 6.12 arm64 maps hot-added memory's linear map with base pages (rodata=full: NO_BLOCK_MAPPINGS
    # in arch_add_memory()), 2 MiB of page tables per GiB that nothing accounts and the model does
    # not count (7.2 shows no such cost)
    ("arm64-4k", "6.12", "fsdax-map-dev", "memmap_ram_kib"),
    ("arm64-4k", "6.12", "fsdax-map-mem", "memmap_ram_kib"),
    ("arm64-4k", "6.12", "devdax-map-dev", "memmap_ram_kib"),
    ("arm64-4k", "6.12", "devdax-map-mem", "memmap_ram_kib"),
}


def recorded_rows(arch, kernel):
    from pathlib import Path

    from mhpcheck.conform import predict

    samples = Path(__file__).parent / "samples"
    rows: list[Row] = []
    for group in GROUPS:
        name = f"{kernel}-{group.name}.log" if arch == "x86_64" else f"{arch}-{kernel}-{group.name}.log"
        if not (samples / name).exists():
            continue
        scenarios = tuple(s for s in group.scenarios if s in predict.ARCH_SCENARIOS[arch])
        g = type(group)(group.name, scenarios, group.append, group.nvdimm)
        guest = parse.parse_lines((samples / name).read_text().splitlines())
        rows += judge(kernel, guest, g, None, predict.predict, arch)
    return rows


@pytest.mark.parametrize(
    ("arch", "kernel"),
    [
        ("x86_64", "7.2"),
        ("arm64-4k", "6.12"),
        ("arm64-4k", "7.2"),
        ("arm64-16k", "6.12"),
        ("arm64-16k", "7.2"),
    ],
)
def test_recorded_7_2_and_arm64_boots_differ_from_the_model_only_where_known(arch, kernel):
    rows = recorded_rows(arch, kernel)
    assert rows, f"no recorded transcript of {arch} {kernel}"
    assert not [r for r in rows if r.verdict in (Verdict.NOT_MEASURED, Verdict.FAILED)]
    wrong = {(r.arch, r.kernel, r.scenario, r.figure) for r in rows if r.verdict is Verdict.MISMATCH}
    assert wrong == {m for m in KNOWN_MISMATCHES if m[:2] == (arch, kernel)}
    assert sum(r.verdict is Verdict.MATCH for r in rows) > 0
    # sizes and offsets are exact everywhere
    assert all(
        r.verdict is Verdict.MATCH
        for r in rows
        if r.verdict is not Verdict.NOT_MODELLED
        and r.figure in ("namespace_size_bytes", "data_offset_bytes", "mem_total_kib")
    )


@pytest.mark.parametrize("kernel", ["6.1", "6.12", "7.2"])
def test_the_memmap_of_every_recorded_x86_step_is_within_256_kib_of_the_model(kernel):
    """Measured with the kernel memory /proc/meminfo accounts for taken out, the RAM the memmap
    costs is the model's figure to within a few dozen pages, far inside the 1 MiB tolerance."""
    rows = [
        r
        for r in recorded_rows("x86_64", kernel)
        if r.figure == "memmap_ram_kib" and r.verdict is not Verdict.SKIPPED
    ]
    assert len(rows) == (22 if kernel == "6.1" else 24)  # 6.1 cannot run kmem-mom1
    assert all(r.kernel_value is not None and r.model_value is not None for r in rows)
    assert max(abs(r.kernel_value - r.model_value) for r in rows) <= 256

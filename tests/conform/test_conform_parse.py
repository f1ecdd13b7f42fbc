"""Recorded guest transcripts of both kernels → the figures the model is compared against."""

from __future__ import annotations

from pathlib import Path

import pytest

from mhpcheck.conform import parse, predict
from mhpcheck.conform.runner import GROUPS
from mhpcheck.conform.scenarios import KERNELS, SCENARIOS

SAMPLES = Path(__file__).parent / "samples"
# the figure names the model's predictions use, plus the block counts only the kernel side reports
NAMES = {
    "mem_total_kib",
    "memmap_ram_kib",
    "movable_present_pages",
    "movable_managed_pages",
    "namespace_size_bytes",
    "data_offset_bytes",
    "nr_memmap_pages",
    "online_blocks",
    "offline_blocks",
}
STEPS = {
    "dimm": [
        "add-d1",
        "online-d1",
        "add-d2",
        "online-d2",
        "offline-d1",
        "offline-d2",
        "remove-d1",
        "remove-d2",
    ],
    "fsdax": ["create"],
    "devdax": ["create"],
    "kmem": ["online", "back-to-devdax"],
}


def guest(kernel: str, group: str) -> parse.Guest:
    return parse.parse_lines((SAMPLES / f"{kernel}-{group}.log").read_text().splitlines())


def values(kernel: str, group: str, scenario: str) -> dict[tuple[str, str], int]:
    g = guest(kernel, group)
    return {(f.step, f.name): f.value for f in parse.figures(g.scenarios[scenario])}


@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
@pytest.mark.parametrize("group", ["dimm-mom1", "dimm-mom0", "nvdimm"])
def test_every_recorded_scenario_gives_the_interface_steps_and_names(kernel, group):
    g = guest(kernel, group)
    assert g.done
    for name, s in g.scenarios.items():
        assert name in SCENARIOS
        assert not s.errors
        if s.skipped:
            continue
        figs = parse.figures(s)
        assert {f.name for f in figs} <= NAMES
        assert list(dict.fromkeys(f.step for f in figs)) == STEPS[name.split("-")[0]]


def test_6_1_one_block_with_memmap_on_memory_gives_126_mib_and_keeps_512_pages_unmanaged():
    v = values("6.1", "dimm-mom1", "dimm-mom1")
    assert v["online-d1", "mem_total_kib"] == 126 * 1024
    assert (v["online-d1", "movable_present_pages"], v["online-d1", "movable_managed_pages"]) == (
        32768,
        32256,
    )
    assert abs(v["add-d1", "memmap_ram_kib"]) < 1024


def test_6_1_falls_back_to_a_memmap_in_ram_for_a_multi_block_dimm():
    v = values("6.1", "dimm-mom1", "dimm-mom1")
    assert v["online-d2", "mem_total_kib"] == 1024 * 1024
    assert abs(v["add-d2", "memmap_ram_kib"] + 16384) < 1024


def test_6_12_puts_a_memmap_in_each_block_of_a_multi_block_dimm():
    v = values("6.12", "dimm-mom1", "dimm-mom1")
    assert v["online-d2", "mem_total_kib"] == 8 * 126 * 1024
    assert v["online-d2", "movable_managed_pages"] == 294912 - 9 * 512
    assert abs(v["add-d2", "memmap_ram_kib"]) < 1024
    assert v["add-d1", "nr_memmap_pages"] == 512


def test_without_memmap_on_memory_the_memmap_costs_2_mib_per_block_until_removal():
    for kernel in ("6.1", "6.12"):
        v = values(kernel, "dimm-mom0", "dimm-mom0")
        assert abs(v["add-d1", "memmap_ram_kib"] + 2048) < 1024
        assert abs(v["offline-d1", "memmap_ram_kib"]) < 1024
        assert abs(v["remove-d1", "memmap_ram_kib"] - 2048) < 1024
        assert v["online-d1", "mem_total_kib"] == 128 * 1024


def test_namespace_sizes_and_data_offsets_by_map_location():
    for kernel in ("6.1", "6.12"):
        for mode in ("fsdax", "devdax"):
            dev = values(kernel, "nvdimm", f"{mode}-map-dev")
            mem = values(kernel, "nvdimm", f"{mode}-map-mem")
            assert (dev["create", "namespace_size_bytes"], dev["create", "data_offset_bytes"]) == (
                (1024 - 18) << 20,
                18 << 20,
            )
            assert (mem["create", "namespace_size_bytes"], mem["create", "data_offset_bytes"]) == (
                (1024 - 2) << 20,
                2 << 20,
            )
            assert dev["create", "mem_total_kib"] == mem["create", "mem_total_kib"] == 0
        assert abs(values(kernel, "nvdimm", "fsdax-map-mem")["create", "memmap_ram_kib"] + 16384) < 1024


def test_dax_kmem_memmap_on_memory_is_a_6_12_knob():
    assert guest("6.1", "nvdimm").scenarios["kmem-mom1"].skipped
    v0 = values("6.12", "nvdimm", "kmem-mom0")
    v1 = values("6.12", "nvdimm", "kmem-mom1")
    assert v0["online", "mem_total_kib"] == 7 * 128 * 1024
    assert v1["online", "mem_total_kib"] == 7 * 126 * 1024
    assert v1["online", "movable_managed_pages"] == 7 * (32768 - 512)


def test_a_measurement_outside_any_scenario_is_a_fact_of_the_boot():
    g = parse.parse_lines(
        ["@@M none - kernel 6.1.0-56-amd64", "noise", "@@SCENARIO dimm-mom1", "@@ERROR dimm-mom1 x y"]
    )
    assert g.facts == {"kernel": "6.1.0-56-amd64"}
    assert g.scenarios["dimm-mom1"].errors == ["x y"]
    assert not g.done


def test_a_knob_a_scenario_sets_is_a_fact_not_a_step():
    s = guest("6.12", "nvdimm").scenarios["kmem-mom1"]
    assert s.facts == {"dax_memmap_on_memory": "1"}
    assert list(s.steps) == ["before", "online", "back-to-devdax"]


def test_every_scenario_the_model_predicts_is_booted_exactly_once():
    booted = [name for g in GROUPS for name in g.scenarios]
    assert sorted(booted) == sorted(SCENARIOS)


def test_every_predicted_figure_has_a_kernel_figure_of_the_same_name_and_unit():
    shown: dict[tuple[str, str, str], str] = {}
    for kernel in KERNELS:
        for group in ("dimm-mom1", "dimm-mom0", "nvdimm"):
            for s in guest(kernel, group).scenarios.values():
                for f in parse.figures(s):
                    shown[kernel, f.name, f.scenario] = f.unit
    for kernel in KERNELS:
        for scenario in SCENARIOS:
            for f in predict.predict(kernel, scenario):
                assert f.name in NAMES
                unit = shown.get((kernel, f.name, scenario))
                assert unit is None or unit.lower() == f.unit.lower(), (kernel, scenario, f)

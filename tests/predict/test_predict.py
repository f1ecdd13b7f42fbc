"""The model's predictions for the QEMU conformance scenarios match the kernels' measured figures.

The measured values are those of the conformance README, sections 4 and 5 (first run; RAM
figures are the MemFree+pcp change, which the second run reproduces within 0.2 MiB).
"""

import pytest

from mhpcheck.conform.predict import KERNELS, SCENARIOS, Figure, predict

# (kernel, scenario, step, figure) -> measured value
MEASURED = {}


def _dimm(kernel, scenario, rows):
    steps = (
        "add-d1",
        "online-d1",
        "add-d2",
        "online-d2",
        "offline-d1",
        "offline-d2",
        "remove-d1",
        "remove-d2",
    )
    for step, row in zip(steps, rows, strict=True):
        for name, value in row.items():
            MEASURED[(kernel, scenario, step, name)] = value


P, M, R, T, N = (
    "movable_present_pages",
    "movable_managed_pages",
    "memmap_ram_kib",
    "mem_total_kib",
    "nr_memmap_pages",
)
_dimm("6.1", "dimm-mom1", [
    {T: 0, R: -16, P: 0, M: 0},
    {T: 129024, P: 32768, M: 32256},
    {T: 0, R: -16584},
    {T: 1048576, P: 294912, M: 294400},
    {T: -129024, P: 262144, M: 262144},
    {T: -1048576, P: 0, M: 0},
    {T: 0, R: 56},
    {T: 0, R: 16380},
])  # fmt: skip
_dimm("6.1", "dimm-mom0", [
    {T: 0, R: -2128, P: 0, M: 0},
    {T: 131072, P: 32768, M: 32768},
    {T: 0, R: -16528},
    {T: 1048576, P: 294912, M: 294912},
    {T: -131072, P: 262144, M: 262144},
    {T: -1048576, P: 0, M: 0},
    {T: 0, R: 2084},
    {T: 0, R: 16372},
])  # fmt: skip
_dimm("6.12", "dimm-mom1", [
    {T: 0, R: 32, P: 0, M: 0, N: 512},
    {T: 129024, P: 32768, M: 32256, N: 512},
    {T: 0, R: -104, N: 4608},
    {T: 1032192, P: 294912, M: 290304, N: 4608},
    {T: -129024, P: 262144, M: 258048, N: 4608},
    {T: -1032192, P: 0, M: 0, N: 4608},
    {T: 0, R: 0, N: 4096},
    {T: 0, R: -16, N: 0},
])  # fmt: skip
_dimm("6.12", "dimm-mom0", [
    {T: 0, R: -2064, P: 0, M: 0, N: 512},
    {T: 131072, P: 32768, M: 32768, N: 512},
    {T: 0, R: -16492, N: 4608},
    {T: 1048576, P: 294912, M: 294912, N: 4608},
    {T: -131072, P: 262144, M: 262144, N: 4608},
    {T: -1048576, P: 0, M: 0, N: 4608},
    {T: 0, R: 1984, N: 4096},
    {T: 0, R: 16288, N: 0},
])  # fmt: skip

# Section 5: namespace size (ndctl), data offset, RAM used (run 1), nr_memmap_pages on 6.12.
for kernel, ram in (("6.1", (-56, -16384, -16, -4060)), ("6.12", (-76, -16508, -12, -4268))):
    for i, (scenario, size, offset) in enumerate((
        ("fsdax-map-dev", 1054867456, 0x1200000),
        ("fsdax-map-mem", 1071644672, 0x200000),
        ("devdax-map-dev", 1054867456, 0x1200000),
        ("devdax-map-mem", 1071644672, 0x200000),
    )):  # fmt: skip
        MEASURED[(kernel, scenario, "create", "namespace_size_bytes")] = size
        MEASURED[(kernel, scenario, "create", "data_offset_bytes")] = offset
        MEASURED[(kernel, scenario, "create", R)] = ram[i]
        MEASURED[(kernel, scenario, "create", T)] = 0  # MemTotal never changes for ZONE_DEVICE
        if kernel == "6.12":
            MEASURED[(kernel, scenario, "create", N)] = 4096

# dax kmem: dMemTotal, the memmap's RAM (dFree+pcp - dMemTotal), Movable present/managed, and
# what going back to devdax frees. 6.1 has no per-device knob: both settings behave as 0.
for kernel, scenario, total, free, present, managed, back in (
    ("6.1", "kmem-mom0", 917504, 903236, 229376, 229376, 14288),
    ("6.1", "kmem-mom1", 917504, 903236, 229376, 229376, 14288),
    ("6.12", "kmem-mom0", 917504, 903192, 229376, 229376, 14352),
    ("6.12", "kmem-mom1", 903168, 903016, 229376, 225792, -24),
):
    MEASURED[(kernel, scenario, "online", T)] = total
    MEASURED[(kernel, scenario, "online", R)] = free - total
    MEASURED[(kernel, scenario, "online", P)] = present
    MEASURED[(kernel, scenario, "online", M)] = managed
    MEASURED[(kernel, scenario, "back-to-devdax", R)] = back


def _predicted():
    return {
        (kv, f.scenario, f.step, f.name): f for kv in KERNELS for sc in SCENARIOS for f in predict(kv, sc)
    }


PREDICTED = _predicted()


@pytest.mark.parametrize("key", sorted(MEASURED), ids=["/".join(k) for k in sorted(MEASURED)])
def test_prediction_matches_the_measured_kernel(key):
    f = PREDICTED.get(key)
    assert f is not None, f"the model predicts no {key}"
    assert abs(f.value - MEASURED[key]) <= f.tolerance, (
        f"{key}: predicted {f.value}, measured {MEASURED[key]}"
    )


def test_exact_figures_have_no_tolerance_and_ram_figures_one_mib():
    for f in PREDICTED.values():
        assert isinstance(f, Figure)
        assert f.tolerance == (1024 if f.name == "memmap_ram_kib" else 0), f


def test_nr_memmap_pages_only_on_kernels_that_have_it():
    assert not any(k[0] == "6.1" and k[3] == N for k in PREDICTED)
    assert any(k[0] == "6.12" and k[3] == N for k in PREDICTED)


@pytest.mark.parametrize(("kernel", "scenario"), [("6.2", "dimm-mom1"), ("6.1", "dimm"), ("", "")])
def test_unknown_names_raise_value_error(kernel, scenario):
    with pytest.raises(ValueError, match="unknown"):
        predict(kernel, scenario)


def test_predict_command_prints_every_figure_as_json(cli_run):
    import json

    code, out, err = cli_run("predict", "--kernel", "6.12", "--scenario", "dimm-mom1", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert {(r["kernel"], r["scenario"], r["step"], r["name"]) for r in rows} == {
        k for k in PREDICTED if k[0] == "6.12" and k[1] == "dimm-mom1"
    }

"""mhpcheck conform as a user runs it: bad names, no QEMU, and whole runs on recorded output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mhpcheck.conform import initramfs, parse, qemu, runner, setup
from mhpcheck.conform import predict as model

SAMPLES = Path(__file__).parent / "samples"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--kernel", "5.4"], "unknown kernel '5.4'"),
        (["--kernel", "6.1", "--kernel", "6.2"], "valid: 6.1, 6.12, 7.2"),
        (["--arch", "arm64"], "unknown arch 'arm64' (did you mean"),
        (["--findings", "--kernel", "6.12"], "--findings runs each finding on its own kernels"),
        (["--finding", "arm64-subsection-pmd-memmap"], "--finding and --no-build go with --findings"),
        (["--findings", "--finding", "reserve-skip-dead"], "unknown finding 'reserve-skip-dead'"),
        (["--scenario", "dimm-mom2"], "unknown scenario 'dimm-mom2' (did you mean"),
        (["--scenario", "fsdax"], "valid: dimm-mom1, dimm-mom0, fsdax-map-dev"),
        (["--output", "/no/such/folder/out.json"], "folder /no/such/folder does not exist"),
    ],
)
def test_bad_names_exit_2_with_one_line(cli_run, args, says):
    code, out, err = cli_run("conform", "--no-install", *args)
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mhpcheck: error: ")
    assert says in err
    assert out == ""


def test_without_qemu_it_exits_3_saying_why_and_still_writes_the_json(cli_run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    report = tmp_path / "out.json"
    code, _out, err = cli_run(
        "conform", "--no-install", "--cache-dir", str(tmp_path / "cache"), "-o", str(report)
    )
    assert code == 3
    assert "cannot run QEMU guests here: qemu-system-x86_64" in err
    assert "apt-get install" in err
    assert "Traceback" not in err
    doc = json.loads(report.read_text())
    assert (doc["verdict"], doc["exit_code"], doc["rows"]) == ("inconclusive", 3, [])
    assert "qemu-system-x86_64" in doc["unavailable"]


def fake_kernel(series, root, arch):
    return setup.Kernel(series, series, root, arch)


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """Every boot answered from the committed transcripts instead of QEMU."""
    monkeypatch.setattr(setup, "ensure_packages", lambda install, log, kinds=(): None)
    monkeypatch.setattr(
        setup, "kernel", lambda series, cache, log, arch="x86_64": fake_kernel(series, tmp_path, arch)
    )
    monkeypatch.setattr(initramfs, "initramfs", lambda k, cache, userland=None: tmp_path / "initrd")

    def boot(b: qemu.Boot, timeout: float, echo=None) -> qemu.Transcript:
        series = b.vmlinuz.name.removeprefix("vmlinuz-")
        group = next(g.name for g in runner.GROUPS if b.scenarios[0] in g.scenarios)
        lines = (SAMPLES / f"{series}-{group}.log").read_text().splitlines()
        return qemu.Transcript(lines=lines, wall_s=1.0, done=True)

    monkeypatch.setattr(qemu, "run", boot)


def predictions(figures):
    return lambda k, s, arch="x86_64": [f for f in figures if (k, f.scenario) == ("6.12", s)]


def test_a_recorded_run_compares_only_predicted_figures(cli_run, recorded, monkeypatch, tmp_path):
    fsdax = [
        parse.Figure("fsdax-map-dev", "create", "namespace_size_bytes", 1054867456, "bytes"),
        parse.Figure("fsdax-map-dev", "create", "data_offset_bytes", 0x1200000, "bytes"),
        parse.Figure("fsdax-map-dev", "create", "memmap_ram_kib", 0, "KiB", 1024),
    ]
    monkeypatch.setattr(model, "predict", predictions(fsdax))
    report = tmp_path / "r.json"
    args = ["conform", "--kernel", "6.12", "--scenario", "fsdax-map-dev", "--cache-dir", str(tmp_path), "-o"]
    code, out, err = cli_run(*args, str(report))
    assert code == 0, err
    doc = json.loads(report.read_text())
    verdicts = {(r["figure"], r["verdict"]) for r in doc["rows"]}
    assert {
        ("namespace_size_bytes", "match"),
        ("data_offset_bytes", "match"),
        ("memmap_ram_kib", "match"),
    } <= verdicts
    assert ("mem_total_kib", "not modelled") in verdicts
    assert out.splitlines()[0].split() == [
        "arch",
        "kernel",
        "scenario",
        "step",
        "figure",
        "kernel",
        "model",
        "verdict",
    ]
    assert "exit 0" in err


def test_one_wrong_prediction_makes_it_exit_1(cli_run, recorded, monkeypatch, tmp_path):
    wrong = [parse.Figure("dimm-mom1", "online-d2", "mem_total_kib", 1024 * 1024, "KiB")]
    monkeypatch.setattr(model, "predict", predictions(wrong))
    code, out, _err = cli_run(
        "conform", "--kernel", "6.12", "--scenario", "dimm-mom1", "--cache-dir", str(tmp_path)
    )
    assert code == 1
    assert any(
        "mem_total_kib" in line and "1032192" in line and "MISMATCH" in line for line in out.splitlines()
    )


def test_without_predictions_nothing_is_a_pass(cli_run, recorded, monkeypatch, tmp_path):
    monkeypatch.setattr(model, "predict", lambda k, s, arch="x86_64": [])
    code, out, _err = cli_run(
        "conform", "--kernel", "6.1", "--scenario", "kmem-mom1", "--cache-dir", str(tmp_path)
    )
    assert code == 3
    assert "skipped" in out
    assert "match" not in out


@pytest.mark.conformance
def test_real_6_12_kernel_fsdax_namespace(tmp_path):
    """Boots the real 6.12 kernel (downloads it on first use): the run completes and shows its figures."""
    result = runner.conform(
        ["6.12"], ["fsdax-map-dev"], setup.default_cache_dir(), True, print, model.predict
    )
    if result.unavailable:
        pytest.skip(result.unavailable)
    figures = {(r.figure, r.kernel_value) for r in result.rows}
    assert ("namespace_size_bytes", 1054867456) in figures
    assert ("data_offset_bytes", 0x1200000) in figures
    assert all(r.verdict.value not in ("failed", "not measured") for r in result.rows)


def test_a_qemu_that_cannot_boot_makes_the_run_inconclusive_saying_why(cli_run, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "qemu-system-x86_64"
    fake.write_text("#!/bin/sh\necho 'qemu-system-x86_64: -accel tcg: invalid accelerator tcg' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(setup, "ensure_packages", lambda install, log, kinds=(): None)
    monkeypatch.setattr(
        setup, "kernel", lambda series, cache, log, arch="x86_64": fake_kernel(series, tmp_path, arch)
    )
    monkeypatch.setattr(initramfs, "initramfs", lambda k, cache, userland=None: tmp_path / "initrd")
    report = tmp_path / "r.json"
    code, out, _err = cli_run(
        "conform",
        "--kernel",
        "6.1",
        "--scenario",
        "dimm-mom0",
        "--cache-dir",
        str(tmp_path),
        "-o",
        str(report),
    )
    assert code == 3
    assert "failed: QEMU exited (1) before the guest said @@DONE: qemu-system-x86_64: -accel tcg" in out
    assert json.loads(report.read_text())["runs"][0]["failure"].endswith("invalid accelerator tcg")

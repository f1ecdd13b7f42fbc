"""Bad input of every kind: one line on stderr naming what and where, exit 2, no traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mhpcheck.engines import explicit as explorer


def one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mhpcheck: error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["check", "--arch", "sparc64"], "unknown arch 'sparc64'"),
        (["check", "--arch", "x86-64"], "did you mean 'x86_64'?"),
        (["check", "--arch", "sparc64"], "valid: x86_64, powerpc64-hash"),
        (["check", "--variant", "v4.6"], "unknown variant 'v4.6'"),
        (["check", "--variant", "v4.5+no-such-bug"], "unknown mutant 'no-such-bug'"),
        (
            ["check", "--property", "map_offset_first_section"],
            "did you mean 'map_offset_first_section_only'?",
        ),
        (["check", "--engine", "smt"], "'--engine': 'smt' is not one of 'explicit', 'symbolic', 'both'"),
        (["check", "--executor", "dask"], "'--executor'"),
        (["check", "--depth", "0"], "'--depth': 0 is not in the range 1<=x<=100000"),
        (["check", "--depth", "-3"], "'--depth'"),
        (["check", "--depth", "100000"], "'--depth'"),
        (["check", "--depth", "two"], "'two' is not a valid integer"),
        (["check", "--sections", "18446744073709551617"], "'--sections'"),
        (["check", "--max-states", str(2**64)], "'--max-states'"),
        (["check", "--time-budget", "1e400"], "'--time-budget'"),
        (["check", "--sections", "2", "--max-device-sections", "3"], "exceeds --sections 2"),
        (["check", "--format", "yaml"], "'--format'"),
        (["check", "--dpeth", "2"], "No such option '--dpeth'"),
        (["bisect", "--property", "nope", "--arch", "x86_64"], "unknown property 'nope'"),
        (["graph", "--variant", "v9"], "unknown variant 'v9'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["predict", "--kernel", "6.2"], "unknown kernel '6.2' (did you mean '6.12'?)"),
        (["predict", "--scenario", "dimm"], "unknown scenario 'dimm'"),
        (["predict", "--format", "csv"], "'--format'"),
    ],
)
def test_bad_option(cli_run, args: list[str], says: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli_run(*args)
    assert code == 2 and out == ""
    assert says in one_line_error(err)


def test_output_in_a_missing_folder_fails_before_any_work(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "no" / "such" / "report.json"
    code, out, err = cli_run("check", "--arch", "x86_64", "--format", "json", "--output", str(target))
    assert code == 2 and out == ""
    assert f"folder {target.parent} does not exist" in one_line_error(err)
    assert not (tmp_path / "no").exists()


def test_output_in_a_read_only_folder(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    # /proc/self takes no new files, even for root (which ignores a chmod'ed folder)
    code, _, err = cli_run("check", "--arch", "x86_64", "--variant", "v4.3", "--output", "/proc/self/r.xml")
    assert code == 2
    assert "/proc/self/r.xml" in one_line_error(err)
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        code, _, err = cli_run("check", "--variant", "v4.3", "--output", str(ro / "r.json"))
        assert code == 2 and "not writable" in one_line_error(err)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("depth = ", "not valid TOML"),
        ("dpeth = 2", "unknown key 'dpeth' (did you mean 'depth'?)"),
        ("depth = 0", "depth: 0 is out of range 1..64"),
        ("depth = 99999999999999999999", "depth: 99999999999999999999 is out of range"),
        ('depth = "4"', "depth: must be an integer"),
        ("arch = ['x86_64', 'sparc']", "unknown arch 'sparc'"),
        ("variant = 'v4.5+nope'", "unknown mutant 'nope'"),
        ("format = 'xml'", "format: unknown value 'xml'"),
        ("symmetry = 'yes'", "symmetry: must be true or false"),
        ("time_budget = -1", "time_budget: -1 must be greater than 0"),
        ("sections = 2\nmax-device-sections = 3", "max_device_sections 3 exceeds sections 2"),
    ],
)
def test_bad_config(tmp_path: Path, monkeypatch, cli_run, text: str, says: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mhpcheck.toml").write_text(text + "\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli_run("check")
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "mhpcheck.toml" in line and says in line


def test_bad_pyproject_table_and_unreadable_config(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.mhpcheck]\nfautls = 1\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli_run("check")
    assert code == 2 and "[tool.mhpcheck] unknown key 'fautls' (did you mean 'faults'?)" in one_line_error(
        err
    )
    code, _, err = cli_run("--config", str(tmp_path / "missing.toml"), "check")
    assert code == 2 and "missing.toml: cannot read" in one_line_error(err)


def test_interrupt_keeps_the_cells_done_and_writes_whole_files(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    real = explorer.explore
    calls = []

    def explore_then_interrupt(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[0].variant.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr("mhpcheck.checker.explore", explore_then_interrupt)
    (tmp_path / "out").mkdir()
    out_file = tmp_path / "out" / "report.json"
    args = ["check", "--arch", "x86_64", "--variant", "v4.3-pre-zone-device", "--variant", "v4.5"]
    code, _, err = cli_run(*args, "--jobs", "1", "--no-cache", "--format", "json", "-o", str(out_file))
    assert code == 130 and "interrupted after 1 of 2 cells" in err
    doc = json.loads(out_file.read_text())
    assert [c["variant"] for c in doc["cells"]] == ["v4.3-pre-zone-device"]
    assert doc["context"]["interrupted"] is True
    assert sorted(p.name for p in out_file.parent.iterdir()) == ["report.json"]  # no temporary file left

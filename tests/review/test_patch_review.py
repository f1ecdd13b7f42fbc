"""Reviewing a patch: check --patch judges the patched kernel against the unpatched one; a patch
that changes nothing changes no verdict; what a patch does wrong is bad input, named."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mhpcheck import patching
from mhpcheck.engines.cell import Cell
from mhpcheck.model.events import events_equal
from mhpcheck.model.state import KernelState, state_bytes
from mhpcheck.model.transitions import Bounds
from mhpcheck.review.diff import CHANGE, _same_call, diff

PATCHES = Path(__file__).resolve().parents[1] / "patches"
# every era and arch, at bounds small enough for the default run
SMALL = ["--depth", "2", "--sections", "2", "--jobs", "2", "--no-cache"]


@pytest.mark.long  # every era at the default bounds
def test_a_patch_that_changes_nothing_changes_no_verdict_on_any_era(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    noop = str(PATCHES / "noop.py")
    code, out, err = cli_run(
        "check",
        "--patch",
        noop,
        "--variant",
        "eras",
        *SMALL,
        "--format",
        "json",
        "--trace-dir",
        str(tmp_path),
    )
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["cells"]) == 56
    changes = {p["change"] for c in doc["cells"] for p in c["properties"]}
    assert changes <= {"", "same"}
    code, out, _ = cli_run("diff", "--patch", noop, "--variant", "eras", *SMALL[:-1])
    assert code == 0
    lines = [line for line in out.splitlines() if "→" in line]
    assert len(lines) == 56 and all("identical behaviour" in line for line in lines)
    assert out.splitlines()[-1] == "identical behaviour on every cell compared"


def test_a_patch_raising_at_run_time_is_bad_input_naming_file_and_line() -> None:
    for patch, says in (
        (
            "raises_at_run_time.py",
            "raises_at_run_time.py:8: kernel/memremap.c:vmem_altmap_offset raised ValueError: not yet",
        ),
        (
            "branches_raw.py",
            "branches_raw.py:9: mm/sparse-vmemmap.c:vmem_altmap_nr_free raised ModelDefinitionError: a Word",
        ),
    ):
        for cmd in (["check", "--no-cache"], ["diff"]):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mhpcheck",
                    *cmd,
                    "--patch",
                    str(PATCHES / patch),
                    "--variant",
                    "v6.12",
                    "--arch",
                    "x86_64",
                    "--depth",
                    "1",
                ],
                capture_output=True,
                text=True,
            )
            assert out.returncode == 2, out.stderr
            errors = [line for line in out.stderr.splitlines() if line.startswith("mhpcheck: error:")]
            assert len(errors) == 1 and says in errors[0]
            assert "Traceback" not in out.stderr


def test_a_patch_no_explored_path_runs_is_told_so(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    never = str(PATCHES / "never_called.py")
    code, _, err = cli_run(
        "check",
        "--patch",
        never,
        "--arch",
        "x86_64",
        "--variant",
        "v6.12",
        "--depth",
        "2",
        "--no-cache",
        "--trace-dir",
        str(tmp_path),
    )
    assert code == 0
    (warning,) = [line for line in err.splitlines() if "warning" in line]
    assert "replaces mm/sparse-vmemmap.c:vmem_altmap_alloc, which no explored path" in warning
    code, _, err = cli_run("diff", "--patch", never, "--arch", "x86_64", "--variant", "v6.12", "--depth", "2")
    assert code == 0 and "which no explored path" in err


def test_a_failure_point_a_patch_declares_is_explored_with_faults() -> None:
    p = patching.activate(PATCHES / "memremap_may_fail.py")
    b = f"v6.12@{p.name}"
    assert diff("x86_64", "v6.12", b, Bounds(depth=1, faults=0, subsections=False)).identical
    r = diff("x86_64", "v6.12", b, Bounds(depth=1, faults=1, subsections=False))
    d = r.differences[CHANGE]
    assert d.detail == "returns 0 on A, -12 on B"
    (ta,), (tb,) = d.path, d.path_b
    # the declared point is B's first call that may fail; A never makes it, so nothing fails there
    assert tb.fail_alloc == 0 and ta.fail_alloc is None
    # nor does B's point shift its allocations: B's second call is A's first, and failing it
    # gives the same outcome on both
    add = replace(ta, altmap=None)
    ca, cb = Cell("x86_64", "v6.12", Bounds(faults=1)), Cell("x86_64", b, Bounds(faults=1))
    sa, sb = (
        ca.step(KernelState(), replace(add, fail_alloc=0)),
        cb.step(KernelState(), replace(add, fail_alloc=1)),
    )
    assert sa.ret == sb.ret and state_bytes(sa.after) == state_bytes(sb.after)
    assert sa.after.faults_injected == 1  # the fault did hit (x86 then maps that PMD with base pages)
    assert events_equal(sa.events, sb.events)
    assert not any(
        d.path[-1].fail_alloc == 0 and d.path_b[-1].fail_alloc == 1 for d in r.differences.values()
    )


def test_a_failing_call_is_matched_by_name_and_ordinal_not_by_index() -> None:
    a = ("vmemmap allocation", "vmemmap allocation", "register_memory")
    b = ("percpu_ref_init", "vmemmap allocation", "vmemmap allocation", "register_memory")
    assert [_same_call(a, i, b) for i in range(3)] == [1, 2, 3]
    assert [_same_call(b, i, a) for i in range(4)] == [None, 0, 1, 2]
    assert _same_call(a, 1, ("vmemmap allocation",)) is None  # the other kernel allocates once


def test_list_functions_names_every_replaceable_function_and_the_eras_that_run_it(cli_run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli_run("list", "functions", "--variant", "v4.5", "--variant", "v6.12", "--jobs", "2")
    assert code == 0
    rows = dict(zip(out.splitlines()[1::2], out.splitlines()[2::2], strict=True))
    assert "eras: v4.5, v6.12" in rows["mm/memory_hotplug.c:__add_pages"]
    assert "eras: v4.5" in rows["mm/sparse-vmemmap.c:vmem_altmap_alloc"]
    assert "v6.12" not in rows["mm/sparse-vmemmap.c:vmem_altmap_alloc"]
    assert "[model helper]" in rows["mhpcheck.model.ops.sparse._memmap_pages"]
    assert len(rows) == len(patching.catalogue())


def _mhpcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mhpcheck", *args], capture_output=True, text=True)


def test_a_patch_that_ends_its_process_or_exits_is_bad_input_and_prints_no_report() -> None:
    cell = ["--variant", "v6.12", "--arch", "x86_64", "--depth", "1"]
    for patch, says in (
        ("ends_the_process.py", "ends_the_process.py: the patch ended the process (exit status 0) while"),
        ("exits_3.py", "exits_3.py:10: kernel/memremap.c:vmem_altmap_offset raised exit: 3"),
    ):
        for cmd in (["check", "--no-cache", "--format", "json"], ["diff"]):
            out = _mhpcheck(*cmd, "--patch", str(PATCHES / patch), *cell)
            assert out.returncode == 2, out.stderr
            errors = [line for line in out.stderr.splitlines() if line.startswith("mhpcheck: error:")]
            assert len(errors) == 1 and says in errors[0], out.stderr
            assert out.stdout == "" and "Traceback" not in out.stderr


@pytest.mark.long  # waits out the deadline: about 25 s
def test_the_time_budget_stops_a_patch_that_never_returns() -> None:
    never = str(PATCHES / "never_returns.py")
    cell = ["--variant", "v6.12", "--arch", "x86_64", "--depth", "1", "--time-budget", "1"]
    out = _mhpcheck("check", "--no-cache", "--patch", never, *cell, "--format", "json")
    assert out.returncode == 3, out.stderr
    (patched,) = json.loads(out.stdout)["cells"]
    assert patched["budget"] == "--time-budget 1s (the patch file did not return)"
    assert {p["verdict"] for p in patched["properties"]} == {"inconclusive"}
    out = _mhpcheck("diff", "--patch", never, *cell)
    assert out.returncode == 3 and "inconclusive" in out.stdout, out.stderr

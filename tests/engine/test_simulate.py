"""Simulation: random walks that find what the seeds break, shrink it, and prove nothing otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mhpcheck.checker import CheckRequest, run_check
from mhpcheck.core.results import CellResult, Verdict
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.simulate import simulate
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import property_named


def _walk(variant: str, prop: str, runs: int, depth: int) -> CellResult:
    req = CheckRequest(
        archs=("x86_64",),
        variants=(variant,),
        properties=(prop,),
        bounds=Bounds(depth=depth),
        engine="simulation",
        walks=(runs, 0),
    )
    (cell,) = run_check(req).cells
    return cell


@pytest.mark.long  # about 35 s: walks until seed 001 shows
def test_walks_find_seed_001_and_minimise_it_to_the_shortest_path() -> None:
    prop = property_named("map_offset_first_section_only")
    direct = simulate(Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=20), [prop]), runs=20)
    (found,) = direct.properties
    assert found.verdict == Verdict.VIOLATED
    assert direct.stats["steps"] > 20  # the walks went on past the first failing one
    (p,) = _walk("v4.5-pre-altmap-hotplug", prop.name, 20, 20).properties
    assert p.verdict == Verdict.VIOLATED
    assert len(p.path) == 2 <= len(found.path)  # add, then remove: what BFS finds, nothing shorter
    _, failed_at, message = Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=20)).judge_path(
        prop, p.path
    )
    assert failed_at == 2 and message == p.message


def test_a_walk_that_finds_nothing_is_inconclusive_never_holds() -> None:
    (p,) = _walk("v4.5", "invalid_altmap_rejected_with_einval", 20, 20).properties
    assert p.verdict == Verdict.INCONCLUSIVE and "a sample, not a proof" in p.message


def test_simulate_command_writes_a_trace_that_replays(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli_run(
        "simulate",
        "--arch",
        "x86_64",
        "--variant",
        "v4.5-pre-altmap-hotplug",
        "--property",
        "invalid_altmap_rejected_with_einval",
        "--runs",
        "30",
        "--depth",
        "40",
        "--trace-dir",
        str(tmp_path),
        "--format",
        "json",
    )
    assert code == 1
    (cell,) = json.loads(out)["cells"]
    assert cell["engine"] == "simulation"
    (tr,) = tmp_path.glob("*.trace.json")
    assert cli_run("replay", str(tr))[0] == 1  # the violation reproduces


def test_bad_simulate_options_are_one_line_errors(cli_run) -> None:  # type: ignore[no-untyped-def]
    for args in (["--runs", "0"], ["--seed", "-1"], ["--depth", "0"], ["--arch", "sparc"]):
        code, _, err = cli_run("simulate", *args)
        assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_the_same_seed_gives_the_same_walks_under_any_hash_seed(tmp_path: Path) -> None:
    def run(hashseed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        args = ["simulate", "--arch", "x86_64", "--variant", "v4.5-pre-altmap-hotplug", "--runs", "8"]
        args += ["--seed", "7", "--format", "json", "--trace-dir", str(tmp_path)]
        r = subprocess.run([sys.executable, "-m", "mhpcheck", *args], capture_output=True, text=True, env=env)
        doc = json.loads(r.stdout)
        for c in doc["cells"]:
            c.pop("seconds", None)
        doc.pop("context", None)
        return json.dumps(doc["cells"], sort_keys=True)

    assert run("1") == run("2")

"""Trace files: written by check, valid against the schema, replayed, shown, turned into pytest tests."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import networkx as nx
import pydot
import pytest

from mhpcheck import cli, trace
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.minimise import minimise
from mhpcheck.model.arch import archs
from mhpcheck.model.transitions import (
    AddDeviceMemory,
    AddMemory,
    AltmapChoice,
    Bounds,
    RemoveDeviceMemory,
    RemoveMemory,
)
from mhpcheck.model.variants import PRE_PATCH
from mhpcheck.properties import PROPERTIES, property_named

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "trace.schema.json").read_text())
SEED_001 = "v4.5-pre-altmap-hotplug"


@pytest.fixture(scope="module")
def seed001_traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traces")
    args = ["check", "--variant", SEED_001, "--arch", "x86_64", "--jobs", "1", "--trace-dir", str(out)]
    assert cli.cli.main(args, standalone_mode=False) == 1
    return out


def test_check_writes_a_valid_trace_for_every_violation(seed001_traces: Path) -> None:
    files = sorted(seed001_traces.glob("*.trace.json"))
    names = {f.name.split("--")[0] for f in files}
    assert {"map_offset_first_section_only", "invalid_altmap_rejected_with_einval"} <= names
    for f in files:
        doc = json.loads(f.read_text())
        jsonschema.validate(doc, SCHEMA)
        assert doc["#meta"]["arch"] == "x86_64" and doc["#meta"]["variant"] == SEED_001
        assert doc["#meta"]["property_doc"] == property_named(doc["#meta"]["property"]).doc
        assert doc["states"][0]["#meta"]["action"] == "init"
        assert all(s["#meta"]["calls"] for s in doc["states"][1:])  # every step made kernel calls
    assert not list(seed001_traces.glob(".*")), "a temporary file was left behind"


def test_replay_reproduces_and_the_fix_does_not(seed001_traces: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    f = str(seed001_traces / f"map_offset_first_section_only--x86_64--{SEED_001}.trace.json")
    code, out, _ = cli_run("replay", f)
    assert code == 1 and "reproduces" in out and "stale" not in out
    code, out, _ = cli_run("replay", f, "--variant", "v4.5")
    assert code == 0 and "no longer fails" in out


def test_emitted_pytest_fails_before_the_patch_and_passes_after(
    seed001_traces: Path, tmp_path: Path, cli_run
) -> None:  # type: ignore[no-untyped-def]
    f = str(seed001_traces / f"map_offset_first_section_only--x86_64--{SEED_001}.trace.json")
    test_file = tmp_path / "test_regression.py"
    code, _, _ = cli_run("replay", f, "--emit-pytest", str(test_file))
    assert code == 1 and test_file.exists()

    def pytest_on(variant: str) -> int:
        env = {**os.environ, "MHPCHECK_VARIANT": variant}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)]
        return subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, check=False).returncode

    assert pytest_on(SEED_001) == 1
    assert pytest_on("v4.5") == 0


def test_show_draws_the_memory_map(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    f = REPO / "traces" / "reserve_pfns_never_initialised--x86_64--v5.9-pre-altmap-reserve.trace.json"
    svg = tmp_path / "map.svg"
    code, out, _ = cli_run("show", str(f), "--svg", str(svg))
    assert code == 1
    assert "memory map after step 1" in out
    zoom = next(line for line in out.splitlines() if "pfns 0x140000 … 0x140400" in line)
    assert zoom.strip().startswith("|R") and "#" in zoom  # the reserve, then the pages backing the leaf
    assert "struct pages initialised" in out  # memmap_init ran over the reserve: the bug, drawn
    titles = [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}title")]
    assert "reserve [0x140000, 0x140002)" in titles
    assert any(t and t.startswith("struct pages initialised [0x140000") for t in titles)


def test_show_marks_a_leaf_whose_device_is_gone(seed001_traces: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    f = seed001_traces / f"removal_returns_every_leaf_to_its_source--x86_64--{SEED_001}.trace.json"
    if not f.exists():
        pytest.skip("seed 001 shows this only as a known finding at these bounds")
    _, out, _ = cli_run("show", str(f))
    assert "✗ its device is gone" in out


# One curated trace per pre-patch seed variant on each arch it concerns (traces/README.md).
CURATED = sorted((REPO / "traces").glob("*.trace.json"))


@pytest.mark.parametrize("path", CURATED, ids=lambda p: p.name.removesuffix(".trace.json"))
def test_curated_trace_still_reproduces(path: Path) -> None:
    t = trace.load_trace(path)
    rp = trace.replay_trace(t)
    regen = t.meta["command"].replace("--trace-dir traces", "").strip() + " --trace-dir traces"
    assert rp.stale is None, (
        f"{path.name} is stale: {rp.stale}; if the change is intended, regenerate: {regen}"
    )
    assert rp.reproduces, f"{path.name}: {t.property} no longer fails on {t.arch} {t.variant}"


def test_every_seed_has_curated_traces() -> None:
    have = {(t.name.split("--")[2].removesuffix(".trace.json"), t.name.split("--")[1]) for t in CURATED}
    for v in PRE_PATCH:
        if v.name == "v4.5-pre-altmap-reserve":
            continue  # observably identical to v4.5: the seed's skip is dead code there (findings)
        claimed = [p for p in PROPERTIES if v.name in p.kills]
        for a in archs():
            if a.supports(v) and any(p.applies_to(a.resolve(v), v) for p in claimed):
                if v.name in ("v4.13-pre-powerpc-altmap", "v5.9-pre-arm64-altmap") and not a.name.startswith(
                    v.name.split("-")[2]
                ):
                    continue  # an arch's own seed only concerns that arch
                assert (v.name, a.name) in have, f"no curated trace for {v.name} on {a.name}"


def test_a_changed_state_is_reported_as_stale(tmp_path: Path) -> None:
    src = REPO / "traces" / f"map_offset_first_section_only--x86_64--{SEED_001}.trace.json"
    doc = json.loads(src.read_text())
    doc["states"][1]["sections"][0]["zone"] = "ZONE_NORMAL"
    f = tmp_path / "edited.trace.json"
    f.write_text(json.dumps(doc))
    rp = trace.replay_trace(trace.load_trace(f))
    assert rp.stale is not None and "sections[0].zone" in rp.stale and "ZONE_DEVICE" in rp.stale


def _bad(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "bad.trace.json"
    f.write_text(text)
    return f


GOOD = (REPO / "traces" / f"map_offset_first_section_only--x86_64--{SEED_001}.trace.json").read_text()


def _edit(path: str, value: object) -> str:
    doc = json.loads(GOOD)
    *keys, last = path.split("/")
    obj = doc
    for k in keys:
        obj = obj[int(k)] if k.isdigit() else obj[k]
    obj[last] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("this is not json", "not JSON"),
        (GOOD[: len(GOOD) // 2], "not JSON"),  # truncated
        ('{"vars": [], "states": []}', "not an mhpcheck trace"),
        (json.dumps({"#meta": {"source": "apalache"}}), "not an mhpcheck trace"),
        (_edit("#meta/arch", "sparc64"), "unknown arch 'sparc64'"),
        (_edit("#meta/variant", "v9.9"), "unknown variant 'v9.9'"),
        (_edit("states/1/#meta/args/start_pfn", "0x1ffffffffffffffff"), "states/1/#meta/args/start_pfn"),
        (_edit("states/1/sections/0/owner", "zero"), "states/1/sections/0/owner"),
        (_edit("states/1/device_ranges/0/nr_pages", 32768), "states/1/device_ranges/0/nr_pages"),
        (_edit("states/1/#meta/action", "Reboot"), "states/1/#meta/action"),
    ],
    ids=[
        "not-json",
        "truncated",
        "no-meta",
        "other-tool",
        "arch",
        "variant",
        "hex-too-wide",
        "owner",
        "not-hex",
        "action",
    ],
)
def test_bad_trace_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, cli_run, text: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    f = _bad(tmp_path, text)
    emit = tmp_path / "test_out.py"
    for args in (
        ["replay", str(f), "--emit-pytest", str(emit)],
        ["show", str(f), "--svg", str(tmp_path / "m.svg")],
    ):
        code, out, err = cli_run(*args)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1 and str(f) in err and says in err, err
        assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.trace.json"]


def test_missing_trace_file_is_bad_input(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli_run("replay", str(tmp_path / "none.trace.json"))
    assert code == 2 and "cannot read" in err


# pydot's DOT parser (used here only to read the output back) calls pyparsing's old names
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_graph_highlights_the_violating_path(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    dot_file, gml_file = tmp_path / "g.dot", tmp_path / "g.graphml"
    prop = "invalid_altmap_rejected_with_einval"
    small = ["--depth", "2", "--sections", "2", "--devices", "1", "--faults", "0"]
    args = ["graph", "--variant", SEED_001, "--property", prop, *small]
    code, _, err = cli_run(*args, "--output", str(dot_file))
    assert code == 0 and f"violated: {prop}" in err
    (g,) = pydot.graph_from_dot_data(dot_file.read_text())
    red = [e for e in g.get_edges() if e.get("color") == "red"]
    assert len(red) == 1 and prop in red[0].get("label")  # the add that should have been refused
    code, _, _ = cli_run(*args, "--format", "graphml", "--output", str(gml_file))
    gm = nx.read_graphml(gml_file)
    states = [n for n in g.get_nodes() if n.get_name() not in ("node", "edge")]  # not the defaults
    assert gm.number_of_nodes() == len(states) > 10
    assert [d.get("violates") for *_, d in gm.edges(data=True) if d.get("color") == "red"] == [prop]
    code, _, err = cli_run("graph", "--variant", "v4.5", "--property", prop, *small)
    assert code == 0 and "violated" not in err


def test_minimise_drops_steps_and_shrinks_values() -> None:
    prop = property_named("invalid_altmap_rejected_with_einval")
    b = Bounds(faults=0)
    big = AddDeviceMemory(0, 0x148000, 0x10000, AltmapChoice(0, 2, 0x10000))  # offset past the range
    path = (AddMemory(0x140000, 0x8000), big, RemoveDeviceMemory(0))
    (small,) = minimise(Cell("x86_64", SEED_001, b), prop, path)
    assert isinstance(small, AddDeviceMemory)
    assert (small.start_pfn, small.nr_pages) == (0x140000, 0x8000)  # lowest section, one section
    assert small.altmap is not None and small.altmap.free < big.altmap.free  # type: ignore[union-attr]
    # on the fixed kernel nothing fails, and nothing is changed
    assert minimise(Cell("x86_64", "v4.5", b), prop, path) == path


def test_a_trace_with_a_step_the_environment_does_not_offer_is_bad_input(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    # A trace whose first step removes RAM that was never added: the environment offers no such
    # step, so the trace shows nothing, whatever its property says along it.
    src = REPO / "traces" / f"map_offset_first_section_only--x86_64--{SEED_001}.trace.json"
    doc = json.loads(src.read_text())
    first = doc["states"][1]
    first["#meta"]["action"] = "RemoveMemory"
    first["#meta"]["args"] = {"start_pfn": "0x140000", "nr_pages": "0x8000"}
    f = tmp_path / "forged.trace.json"
    f.write_text(json.dumps(doc))
    code, out, err = cli_run("replay", str(f))
    assert code == 2 and out == "" and "reproduces" not in err
    (line,) = err.strip().splitlines()
    assert "step 1, RemoveMemory(start_pfn=0x140000, nr_pages=0x8000), is not enabled" in line


def test_minimised_counterexamples_take_only_enabled_steps() -> None:
    # the minimiser may drop a step only if every later step stays one the environment offers:
    # dropping the RAM add here would leave a RemoveMemory of RAM that is not there
    from mhpcheck.engines.cell import NotEnabled

    prop = property_named("map_offset_first_section_only")
    b = Bounds(faults=0)
    ram = AddMemory(0x150000, 0x8000)
    path = (
        ram,
        AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 0, 0x200)),
        RemoveMemory(0x150000, 0x8000),
        RemoveDeviceMemory(0),
    )
    cell = Cell("x86_64", SEED_001, b)
    with pytest.raises(NotEnabled):
        cell.replay(path[1:])
    small = minimise(cell, prop, path)
    cell.replay(small)  # every step enabled
    assert len(small) == 2 and isinstance(small[-1], RemoveDeviceMemory)


def test_the_svg_map_has_a_legend_end_addresses_and_marks_what_is_wrong(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    ns = "{http://www.w3.org/2000/svg}"
    for f in CURATED:
        svg = tmp_path / "map.svg"
        code, _, _ = cli_run("show", str(f), "--svg", str(svg))
        assert code == 1
        root = ET.parse(svg).getroot()
        texts = [(t.get("y"), float(t.get("x", 0)), t.text or "") for t in root.iter(f"{ns}text")]
        words = [t for _, _, t in texts]
        assert "legend" in words and any("named in the violation" in t for t in words), f.name
        # the window's end pfn is drawn at its right edge, and bars say where they end
        assert any(t.get("text-anchor") == "end" for t in root.iter(f"{ns}text")), f.name
        # the rejected add of invalid_altmap_* leaves nothing of its device to draw
        empty = f.name.startswith("invalid_altmap")
        assert empty or any(", 0x" in t and t.rstrip().endswith((")", "+altmap")) for t in words), f.name
        # labels on one row never run into each other (monospace 11 px: 6.7 px a character)
        rows: dict[str | None, list[tuple[float, float]]] = {}
        for y, x, t in texts:
            if t and x > 120 and not t.startswith("close-up"):
                rows.setdefault(y, []).append((x, x + len(t) * 6.7))
        for spans in rows.values():
            spans.sort()
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), (f.name, spans)
        # what the violation names is outlined in red
        marked = [
            r for r in root.iter(f"{ns}rect") if r.get("stroke") == "#d62728" and r.get("stroke-width") == "3"
        ]
        assert len(marked) >= (1 if empty else 2), f.name  # an element, and the legend's swatch

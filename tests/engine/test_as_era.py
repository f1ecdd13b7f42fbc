"""Cells that make the same run as another era's: the model asks its variant questions
(has(), mutated(), at_least()), an unpatched cell notes them with their answers, and a cell
of the same arch whose variant answers each alike is that run, judged again
(checker.as_era())."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mhpcheck import codec
from mhpcheck.checker import ASKED, REACHES, CheckRequest, Judged, as_era, run_cell, run_check
from mhpcheck.core.results import ERA_OF, FIXED, Verdict
from mhpcheck.engines.cell import CellRequest
from mhpcheck.engines.pool import chain_map
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import asking, patches, variant_named
from mhpcheck.report.text import render

ROOT = Path(__file__).resolve().parents[2]
BOUNDS = Bounds(depth=2)
_RUNS: dict[CellRequest, Judged] = {}


def ran(arch: str, variant: str, bounds: Bounds = BOUNDS, **kw: Any) -> tuple[CellRequest, Judged]:
    req = CellRequest(arch, variant, bounds, **kw)
    if req not in _RUNS:
        _RUNS[req] = run_cell(req)
    return req, _RUNS[req]


def plain(judged: Judged) -> Any:
    """A judged cell as data, without what differs between two runs of it (the times taken)."""

    def strip(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("seconds", "solver_seconds", ERA_OF)}
        if isinstance(o, list | tuple):
            return [strip(x) for x in o]
        return o

    return strip(codec.encode_judged(judged))


@pytest.mark.parametrize(
    ("arch", "was", "now"),
    [
        ("powerpc64-radix", "v5.15", "v6.1"),  # compound devmaps (v6.1): not asked without compound pages
        ("x86_64", "v6.12", "v6.14"),  # arm64's sub-section base pages: not x86's code
        ("arm64-64k", "v6.17", "v6.19"),  # x86's page-table freeing
    ],
)
def test_a_cell_taken_from_another_era_is_the_cell_explored(arch: str, was: str, now: str) -> None:
    twin_req, twin = ran(arch, was)
    req, explored = ran(arch, now)
    got = as_era(twin_req, twin, req)
    assert got is not None
    assert plain(got) == plain(explored)
    assert got[0][0].variant == now and got[0][0].stats[ERA_OF] == was
    # what it asked and ran are the twin's, and the explored cell's
    assert got[0][0].stats[ASKED] == explored[0][0].stats[ASKED] == twin[0][0].stats[ASKED]
    assert got[0][0].stats[REACHES] == explored[0][0].stats[REACHES]
    assert twin[0][0].variant == was  # the twin is left as it was


def test_a_symbolic_cell_taken_from_another_era_is_the_cell_explored() -> None:
    twin_req, twin = ran("powerpc64-hash", "v6.12", Bounds(depth=1, faults=0), engine="symbolic")
    req, explored = ran("powerpc64-hash", "v6.14", Bounds(depth=1, faults=0), engine="symbolic")
    got = as_era(twin_req, twin, req)
    assert got is not None and got[0][0].engine == "symbolic"
    assert plain(got) == plain(explored)


def test_a_cell_whose_variant_answers_otherwise_is_explored() -> None:
    twin_req, twin = ran("x86_64", "v6.1")
    req, _ = ran("x86_64", "v6.12")
    asked = twin[0][0].stats[ASKED]
    assert asked[patches.MAP_OFFSET_REMOVED.key] is False  # v6.12 answers True
    assert as_era(twin_req, twin, req) is None


def test_findings_are_judged_again_and_a_changed_verdict_means_exploring() -> None:
    """v6.12 and v7.2 of arm64-64k differ in what their runs ask and in the findings recorded
    for them. Told (falsely) that v6.12's run asked nothing v7.2 answers otherwise, as_era()
    judges the findings again, sees verdicts other than v6.12's, and gives nothing."""
    twin_req, twin = ran("arm64-64k", "v6.12")
    req = CellRequest("arm64-64k", "v7.2", BOUNDS)
    now = variant_named("v7.2")
    forged = codec.decode_judged(codec.encode_judged(twin))
    for c in forged[0]:
        # decoding shares the twin's dicts: new ones
        c.stats = {**c.stats, ASKED: {q: a for q, a in c.stats[ASKED].items() if now.answers({q: a})}}
    assert forged[0][0].stats[ASKED] != twin[0][0].stats[ASKED]
    findings = lambda j: sorted(p.name for p in j[0][0].properties if p.verdict == Verdict.FINDING)  # noqa: E731
    _, explored = ran("arm64-64k", "v7.2")
    assert findings(explored) != findings(twin)
    assert as_era(twin_req, forged, req) is None


@pytest.mark.parametrize(
    "change",
    [
        {"bounds": Bounds(depth=1)},
        {"properties": ("altmap_within_bounds",)},
        {"max_states": 50},
        {"engine": "symbolic"},
        {"engine": "simulation"},
    ],
)
def test_only_the_same_request_at_another_variant(change: dict[str, Any]) -> None:
    twin_req, twin = ran("x86_64", "v6.12")
    req = replace(CellRequest("x86_64", "v6.14", BOUNDS), **change)
    assert as_era(twin_req, twin, req) is None


def test_a_run_cut_short_is_not_taken() -> None:
    twin_req, twin = ran("x86_64", "v6.12", max_states=50)
    assert not twin[0][0].complete
    req = CellRequest("x86_64", "v6.14", BOUNDS, max_states=50)
    assert as_era(twin_req, twin, req) is None


def test_a_mutant_reached_is_asked_about() -> None:
    """The mutant's one guarded line is a question: its era's run answered it 'no'."""
    twin_req, twin = ran("x86_64", "v6.12")
    asked = twin[0][0].stats[ASKED]
    mutant = next(q for q in asked if q.startswith("+"))
    req = CellRequest("x86_64", f"v6.12{mutant}", BOUNDS)
    assert asked[mutant] is False
    assert as_era(twin_req, twin, req) is None


def test_asking_hears_every_variant_and_nests() -> None:
    v = variant_named("v6.1")
    with asking() as outer:
        v.has(patches.COMPOUND_DEVMAP)
        with asking() as inner:
            assert v.at_least(6, 2) is False
        assert inner == {">=v6.2": False}
    assert outer == {patches.COMPOUND_DEVMAP.key: True, ">=v6.2": False}
    assert variant_named("v6.12").answers({patches.COMPOUND_DEVMAP.key: True, ">=v6.2": True})
    assert not variant_named("v5.15").answers({patches.COMPOUND_DEVMAP.key: True})


# Where the model reads its variant otherwise than by asking (a release number compared, the
# list of patches), two kernels that answered alike could still run apart.
QUESTIONS = {"has", "mutated", "at_least"}
# Arch.constants_at() (compared by as_era()) and Arch.supports() (the matrix) read the release.
READ_RELEASE = {("model/arch/__init__.py", "constants_at"), ("model/arch/__init__.py", "supports")}


def test_the_model_and_properties_only_ask_their_variant() -> None:
    unasked = []
    for folder in ("model", "properties"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("model/variants/"):
                continue
            tree = ast.parse(path.read_text())
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.Lambda):
                    continue
                name = getattr(fn, "name", "<lambda>")
                if (rel, name) in READ_RELEASE:
                    continue
                # a lambda's v (applies=), a function's parameter of type Variant
                params = {
                    a.arg
                    for a in fn.args.args
                    if (
                        isinstance(fn, ast.Lambda)
                        or (a.annotation and ast.unparse(a.annotation) == "Variant")
                    )
                }
                for node in ast.walk(fn):
                    if not isinstance(node, ast.Attribute) or node.attr in QUESTIONS:
                        continue
                    of = node.value
                    is_variant = (isinstance(of, ast.Attribute) and of.attr == "variant") or (
                        isinstance(of, ast.Name) and of.id in {"v", "variant"} & params
                    )
                    if is_variant:
                        unasked.append(f"{rel}:{node.lineno} .{node.attr}")
    assert unasked == []


def double(x: int) -> int:
    return 2 * x


@pytest.mark.parametrize("jobs", [1, 2])
def test_chain_map_runs_a_chain_in_order_and_derives_from_what_came_before(jobs: int) -> None:
    """Odd items are derived from the item before them in their chain, which must be in."""
    got: dict[int, int] = {}
    derived = []

    def derive(x: int) -> int | None:
        if x % 2 and x - 1 in got:
            derived.append(x)
            return -x
        return None

    chains = [[0, 1, 2, 3], [10, 11], [20]]
    chain_map(
        double, chains, jobs, lambda r: got.__setitem__(abs(r) // (1 if r < 0 else 2), r), derive, float
    )
    assert sorted(got) == [0, 1, 2, 3, 10, 11, 20]
    assert sorted(derived) == [1, 3, 11]
    assert got[3] == -3 and got[2] == 4


def test_check_takes_a_cell_from_an_earlier_era_and_says_so(tmp_path: Path) -> None:
    req = CheckRequest(archs=("x86_64",), variants=("v6.12", "v6.14"), bounds=BOUNDS, jobs=1)
    report = run_check(req)
    assert report.as_era == 1
    by = {c.variant: c for c in report.cells}
    assert by["v6.14"].stats[ERA_OF] == "v6.12"
    _, explored = ran("x86_64", "v6.14")
    assert plain(([by["v6.14"]], [])) == plain((explored[0], []))
    # its line says whose run it is, in place of the time it took
    line = next(x for x in render(report) if x.startswith("x86_64") and "v6.14" in x)
    assert "same run as v6.12" in line and "states/s" not in line


NOOP = ROOT / "tests" / "patches" / "noop.py"
SEED000 = ROOT / "tests" / "patches" / "seed000_bug.py"  # the reserve skipped again
# noop.py's replacement, reading the release number: what it decides is not asked
READS_RELEASE = '''"""vmem_altmap_offset() with a release check the kernel never had."""

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    if altmap is None or k.variant.version_tuple < (6, 14):
        return k.sem.word(0) if altmap is None else altmap.reserve + altmap.free
    return altmap.reserve + altmap.free
'''


@pytest.mark.parametrize(
    ("body", "only"),
    [
        ("return k.variant.has(patches.NR_MEMMAP)", True),
        ("return k.variant.at_least(6, 14) and k.variant.mutated(m)", True),
        ("return k.variant.version_tuple >= (6, 14)", False),
        ("return k.variant.name", False),
        ("v = k.variant\n    return v.has(patches.NR_MEMMAP)", False),
        ("return getattr(k, 'variant').has(patches.NR_MEMMAP)", False),
        ("return variant_named('v6.12').has(patches.NR_MEMMAP)", False),
    ],
)
def test_a_patch_asks_only_where_every_read_of_its_variant_is_a_question(body: str, only: bool) -> None:
    from mhpcheck.patching import asks_only

    assert asks_only(ast.parse(f"def f(k, m):\n    {body}\n")) is only


@pytest.mark.parametrize("patch", [NOOP, SEED000])
def test_a_patched_cell_is_taken_from_the_patched_cell_of_another_era(patch: Path) -> None:
    """Both patches replace a function every add calls, so no patched cell is the unpatched one
    (derived()); v6.14's patched cell is v6.12's patched run, judged again. seed000_bug.py
    re-introduces a bug: its violations' counterexamples are minimised, and copied."""
    eras = ("v6.12", "v6.14")
    req = CheckRequest(archs=("powerpc64-hash",), variants=eras, bounds=BOUNDS, patch=str(patch))
    report = run_check(req)
    assert report.derived == 0 and report.as_era == 1
    by = {c.variant: c for c in report.cells}
    assert by[f"v6.14@{patch.stem}"].stats[ERA_OF] == f"v6.12@{patch.stem}"
    _, explored = ran("powerpc64-hash", f"v6.14@{patch.stem}", patch=str(patch))
    assert plain(([by[f"v6.14@{patch.stem}"]], [])) == plain((explored[0], []))
    violated = [p.name for p in by[f"v6.14@{patch.stem}"].properties if p.verdict == Verdict.VIOLATED]
    assert bool(violated) is (patch == SEED000)


def test_a_patched_twin_leaves_its_comparison_with_its_own_era_behind() -> None:
    """check --patch compares a patched cell with its era's unpatched one in place (against());
    taken for another era, the copy carries none of that, to be compared with that era's."""
    twin_req, twin = ran("powerpc64-hash", "v6.12@noop", patch=str(NOOP))
    req = CellRequest("powerpc64-hash", "v6.14@noop", BOUNDS, patch=str(NOOP))
    compared = codec.decode_judged(codec.encode_judged(twin))
    for p in compared[0][0].properties:
        p.change, p.baseline, p.note = FIXED, "violated", "violated unpatched"
    got = as_era(twin_req, compared, req)
    assert got is not None
    assert {(p.change, p.baseline, p.note) for p in got[0][0].properties} == {("", "", "")}


def test_a_patch_that_reads_its_variant_otherwise_is_checked_at_every_era(tmp_path: Path) -> None:
    path = tmp_path / "reads_release.py"
    path.write_text(READS_RELEASE)
    req = CheckRequest(archs=("powerpc64-hash",), variants=("v6.12", "v6.14"), bounds=BOUNDS, patch=str(path))
    report = run_check(req)
    assert report.as_era == 0
    assert all(ERA_OF not in c.stats and ASKED not in c.stats for c in report.cells)


@pytest.mark.parametrize("patch", [NOOP, SEED000])
def test_a_diff_is_taken_from_the_same_diff_at_another_era(patch: Path) -> None:
    from mhpcheck.review.diff import DiffRequest, diff_all, run_diff

    arch = "powerpc64-hash"
    reqs = [DiffRequest(arch, v, f"{v}@{patch.stem}", BOUNDS, str(patch)) for v in ("v6.12", "v6.14")]
    got = diff_all(reqs, 1)
    assert [d.as_era for d in got] == ["", "v6.12"]
    explored = run_diff(reqs[1])
    assert (got[1].a, got[1].b, got[1].pairs, got[1].differences, got[1].patch_calls) == (
        explored.a,
        explored.b,
        explored.pairs,
        explored.differences,
        explored.patch_calls,
    )
    assert got[1].asked == explored.asked
    assert bool(got[1].differences) is (patch == SEED000)  # a regression, and its sequence


def test_bisect_takes_a_verdict_from_a_run_that_asked_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    from mhpcheck.review import bisect as b

    prop, arch, bounds = "altmap_leaves_describe_own_device", "powerpc64-hash", Bounds(depth=2, faults=0)
    runs: list[str] = []
    real = b._verdict
    monkeypatch.setattr(b, "_verdict", lambda ask: runs.append(ask.variant.name) or real(ask))
    r = b.bisect(prop, arch, bounds)
    assert r.flip == ("v5.3", "v5.9") and r.patch is not None and r.patch.key == "altmap-end-pfn"
    assert "v6.14" not in runs and "v6.1" not in runs  # v6.12's and v5.15's runs
    # each era's verdict as its own run gives it
    for era, verdict in r.verdicts:
        ask = b._Ask(arch, variant_named(era), prop, bounds, "explicit", None, None, False)
        assert real(ask)[0] == verdict

"""The explorer: deterministic under any PYTHONHASHSEED, shortest counterexamples, honest budgets."""

import hashlib
import os
import subprocess
import sys

import pytest

from mhpcheck.core.results import Verdict
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES, property_named

ORDER = """
import hashlib, sys
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES
h = hashlib.blake2b()
def on_state(key, s, parent, t):
    h.update(key); h.update(str(t).encode())
r = explore(Cell(sys.argv[1], sys.argv[2], Bounds(depth=3), PROPERTIES), on_state=on_state)
print(h.hexdigest(), r.states, [(p.name, p.verdict.value, [str(t) for t in p.path]) for p in r.properties])
"""


def _order(seed: str, arch: str, variant: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [sys.executable, "-c", ORDER, arch, variant], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def test_bfs_order_and_counterexamples_are_identical_under_two_hash_seeds():
    for arch, variant in (("x86_64", "v4.5-pre-altmap-hotplug"), ("powerpc64-hash", "v4.13")):
        assert _order("0", arch, variant) == _order("1", arch, variant)


def test_counterexamples_are_shortest():
    # depth 3 leaves room for longer counterexamples than the shortest ones
    r = explore(Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=3), PROPERTIES))
    by = {p.name: p for p in r.properties}
    assert len(by["invalid_altmap_rejected_with_einval"].path) == 1  # one bad add is enough
    assert len(by["map_offset_first_section_only"].path) == 2  # add, then remove


def test_a_state_budget_makes_the_run_inconclusive_and_names_the_budget():
    r = explore(
        Cell("x86_64", "v4.5", Bounds(depth=4), [property_named("altmap_alloc_never_exceeds_free")]),
        max_states=50,
    )
    assert not r.complete
    assert r.budget == "--max-states 50"
    assert r.properties[0].verdict == Verdict.INCONCLUSIVE


def test_a_depth_bound_reached_is_not_a_budget():
    r = explore(Cell("x86_64", "v4.3", Bounds(depth=2), PROPERTIES))
    assert r.complete
    assert all(p.verdict == Verdict.HOLDS for p in r.properties)


def test_states_are_fingerprinted_without_hash():
    # the visited set's keys are marshal bytes; their digest is stable across processes
    assert hashlib.blake2b(b"x").hexdigest() == hashlib.blake2b(b"x").hexdigest()


def test_equal_states_built_differently_have_equal_keys():
    from mhpcheck.model import build
    from mhpcheck.model.state import KernelState, state_bytes
    from mhpcheck.model.transitions import AddDeviceMemory, AltmapChoice

    t = AddDeviceMemory(0, 0x140000, 0x8000, AltmapChoice(0, 0, 0x200))
    a, _ = t.apply(build("x86_64", "v5.9"), KernelState())
    b, _ = t.apply(build("x86_64", "v5.9-pre-altmap-reserve"), KernelState())
    assert state_bytes(a) == state_bytes(b)


@pytest.mark.long  # about 20 s: explores each cell twice
def test_symmetry_reduction_keeps_every_verdict_with_fewer_states():
    for arch, variant, b in (
        ("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=3, faults=0)),
        ("powerpc64-hash", "v4.13", Bounds(depth=4, faults=0)),
        ("x86_64", "v5.9", Bounds(depth=3, faults=1)),
    ):
        full = explore(Cell(arch, variant, b, PROPERTIES))
        reduced = explore(Cell(arch, variant, b, PROPERTIES), symmetry=True)
        assert reduced.states < full.states
        assert [(p.name, p.verdict) for p in reduced.properties] == [
            (p.name, p.verdict) for p in full.properties
        ]


@pytest.mark.long  # about 18 s: every property judged on every transition
def test_what_a_property_declares_it_observes_is_all_that_decides_it():
    # each property of steps that names the transitions it observes is judged on every step of
    # these cells too, and a step of another transition deciding it would raise
    for arch, variant in (("x86_64", "v4.5"), ("powerpc64-hash", "v5.9"), ("arm64-64k", "v6.12")):
        checked = explore(Cell(arch, variant, Bounds(depth=3), PROPERTIES, check_observes=True))
        fast = explore(Cell(arch, variant, Bounds(depth=3), PROPERTIES))
        assert [(p.name, p.verdict, p.path) for p in checked.properties] == [
            (p.name, p.verdict, p.path) for p in fast.properties
        ]


def test_a_wrong_observes_declaration_is_caught():
    from dataclasses import replace

    import pytest

    from mhpcheck.core.values import ModelDefinitionError
    from mhpcheck.model.transitions import RemoveDeviceMemory

    # the defect planted in a copy: a property of adds said to observe removals only
    wrong = replace(property_named("invalid_altmap_rejected_with_einval"), observes=(RemoveDeviceMemory,))
    with pytest.raises(ModelDefinitionError, match="observes RemoveDeviceMemory only"):
        explore(Cell("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=1), [wrong], check_observes=True))

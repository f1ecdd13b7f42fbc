"""Pinned state spaces: per (arch, variant, bounds) the distinct-state count and every verdict.

A changed count is a semantic change of the model: regenerate with
`python tests/golden/regen.py` and say why in the commit message. The test itself only ever
compares with the manifest on disk, whatever the environment says.
"""

import os
import subprocess
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest

from mhpcheck.checker import judge
from mhpcheck.engines.cell import Cell
from mhpcheck.engines.explicit import explore
from mhpcheck.model.transitions import Bounds
from mhpcheck.properties import PROPERTIES

MANIFEST = Path(__file__).with_name("manifest.toml")
CELLS = [
    ("x86_64", "v4.3", Bounds(depth=4)),
    ("x86_64", "v4.5", Bounds(depth=3, faults=0)),
    ("x86_64", "v4.5", Bounds(depth=3, faults=1)),
    ("x86_64", "v4.5-pre-altmap-hotplug", Bounds(depth=3, faults=0)),
    ("x86_64", "v5.9", Bounds(depth=3, faults=0, partial_failures=True)),
    ("x86_64", "v5.9", Bounds(depth=3, faults=1)),
    ("powerpc64-hash", "v4.13", Bounds(depth=3, faults=0)),
    ("powerpc64-radix", "v5.9", Bounds(depth=3, faults=1)),
    ("arm64-4k", "v5.9", Bounds(depth=3, faults=1)),
    ("arm64-64k", "v5.9-pre-arm64-altmap", Bounds(depth=3, faults=0)),
]


def _key(arch, variant, b):
    return f"{arch}/{variant}/" + ",".join(f"{k}={v}" for k, v in asdict(b).items())


def _run(arch, variant, b):
    r = explore(Cell(arch, variant, b, PROPERTIES))
    judge(r)
    return {
        "states": r.states,
        "transitions": r.transitions,
        "verdicts": {p.name: p.verdict.value for p in r.properties},
    }


def manifest_text() -> str:
    """The manifest of today's model, as regen.py writes it."""
    lines = []
    for arch, variant, b in CELLS:
        got = _run(arch, variant, b)
        lines.append(f'["{_key(arch, variant, b)}"]')
        lines.append(f"states = {got['states']}")
        lines.append(f"transitions = {got['transitions']}")
        lines.append("[" + f'"{_key(arch, variant, b)}".verdicts]')
        lines.extend(f'{n} = "{v}"' for n, v in got["verdicts"].items())
        lines.append("")
    return "\n".join(lines)


@pytest.mark.parametrize(("arch", "variant", "bounds"), CELLS, ids=[f"{a}-{v}" for a, v, _ in CELLS])
def test_state_space_and_verdicts_match_the_manifest(arch, variant, bounds):
    manifest = tomllib.loads(MANIFEST.read_text())
    expected = manifest[_key(arch, variant, bounds)]
    got = _run(arch, variant, bounds)
    assert got["states"] == expected["states"]
    assert got["transitions"] == expected["transitions"]
    assert got["verdicts"] == expected["verdicts"]


def test_a_wrong_manifest_fails_even_when_asked_to_regenerate(tmp_path):
    # the defect planted in a copy: a manifest whose count is wrong, run with the variable that
    # once made the test regenerate the manifest and then compare the run with itself
    here = Path(__file__).parent
    (tmp_path / "test_manifest.py").write_text((here / "test_manifest.py").read_text())
    wrong = MANIFEST.read_text().replace("states = 331\n", "states = 332\n", 1)
    assert wrong != MANIFEST.read_text()
    (tmp_path / "manifest.toml").write_text(wrong)
    env = dict(os.environ, MHPCHECK_REGEN_GOLDEN="1")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "x86_64-v4.3 and match"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stdout
    assert "332" in run.stdout and tmp_path.joinpath("manifest.toml").read_text() == wrong

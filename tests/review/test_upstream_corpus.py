"""Real upstream fixes re-introduced as patch files: diff and check --patch give the verdict the
corpus (tests/review/upstream/corpus.toml) asserts; behaviour-preserving rewrites change nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from mhpcheck import patching
from mhpcheck.model.transitions import Bounds
from mhpcheck.review.diff import REGRESSION, diff

UPSTREAM = Path(__file__).resolve().parent / "upstream"
CASES = tomllib.loads((UPSTREAM / "corpus.toml").read_text())["case"]
PAIRS = [(c, a) for c in CASES for a in c["archs"]]


def _flags(case: dict) -> list[str]:  # type: ignore[type-arg]
    out = []
    for key, value in case["bounds"].items():
        flag = key.replace("_", "-")
        if isinstance(value, bool):
            out.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            out += [f"--{flag}", str(value)]
    return out


def test_every_case_names_a_real_commit_and_its_kernel_lines() -> None:
    for c in CASES:
        text = (UPSTREAM / c["file"]).read_text()
        assert c["file"].startswith(c["commit"]) and c["commit"] in text
        quoted = [line for line in text.split('"""')[1].splitlines() if line.startswith("    ")]
        assert any(";" in line or "{" in line for line in quoted), f"{c['file']}: quote the kernel lines"
    assert sum(c["expect"] == "identical" for c in CASES) >= 3


@pytest.mark.parametrize(("case", "arch"), PAIRS, ids=[f"{c['commit']}@{a}" for c, a in PAIRS])
def test_diff_gives_the_cases_verdict(case: dict, arch: str) -> None:  # type: ignore[type-arg]
    p = patching.activate(UPSTREAM / case["file"])
    r = diff(arch, case["era"], f"{case['era']}@{p.name}", Bounds(**case["bounds"]))
    if case["expect"] == "identical":
        assert r.identical, r.differences
    else:
        assert r.verdict == REGRESSION
        assert set(case["properties"]) & set(r.differences[REGRESSION].properties)


@pytest.mark.parametrize(("case", "arch"), PAIRS, ids=[f"{c['commit']}@{a}" for c, a in PAIRS])
def test_check_patch_gives_the_cases_verdict(case: dict, arch: str, cli_run, tmp_path: Path) -> None:  # type: ignore[type-arg,no-untyped-def]
    args = ["check", "--patch", str(UPSTREAM / case["file"]), "--variant", case["era"], "--arch", arch]
    args += [*_flags(case), "--no-cache", "--jobs", "1", "--format", "json", "--trace-dir", str(tmp_path)]
    code, out, _ = cli_run(*args)
    (cell,) = json.loads(out)["cells"]
    changes = {p["name"]: p["change"] for p in cell["properties"]}
    if case["expect"] == "identical":
        assert code == 0 and set(changes.values()) <= {"", "same"}
    else:
        assert code == 1
        # "worse": the era records a finding on the property, and it now shows where it did not
        # check names every property the patch breaks; diff's shortest regression may show others
        want = set(case.get("check_properties", case["properties"]))
        assert {n for n, ch in changes.items() if ch in ("regression", "worse")} >= want

"""The optional Ray executor runs the same cells as the process pool and gives the same verdicts."""

from __future__ import annotations

import pytest

from mhpcheck.checker import CheckRequest, run_check

ray = pytest.importorskip("ray")


@pytest.mark.long  # starts a local Ray cluster
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::ResourceWarning")
def test_ray_matches_the_process_pool() -> None:
    req = {"archs": ("x86_64",), "variants": ("v4.3", "v4.5-pre-altmap-hotplug"), "jobs": 2}
    local = run_check(CheckRequest(**req))  # type: ignore[arg-type]
    try:
        on_ray = run_check(CheckRequest(**req, executor="ray"))  # type: ignore[arg-type]
    finally:
        ray.shutdown()

    def verdicts(report):  # type: ignore[no-untyped-def]
        return [
            (c.arch, c.variant, c.states, [(p.name, p.verdict, p.path) for p in c.properties])
            for c in report.cells
        ]

    assert verdicts(on_ray) == verdicts(local)
    assert any(p.verdict == "violated" for c in on_ray.cells for p in c.properties)

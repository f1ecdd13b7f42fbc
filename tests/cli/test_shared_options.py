"""Every command that explores offers the same selection, bound and run options, with the same
defaults, and a configuration file reaches each of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mhpcheck.cli import cli

EXPLORING = ("check", "diff", "simulate", "bisect", "graph")
SHARED = (
    "arch_names",
    "variant_names",
    "property_names",
    "engine",
    "depth",
    "faults",
    "sections",
    "devices",
    "max_device_sections",
    "partial_failures",
    "subsections",
    "symmetry",
    "max_states",
    "time_budget",
    "jobs",
)


def _params(command: str) -> dict[str, Any]:
    return {p.name: p for p in cli.commands[command].params}  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", EXPLORING[1:])
def test_each_exploring_command_offers_checks_options_with_its_defaults(command: str) -> None:
    mine, checks = _params(command), _params("check")
    for name in SHARED:
        assert name in mine, f"{command} lacks {name}"
        a, b = mine[name], checks[name]
        assert (a.opts, a.default, a.help, str(a.type)) == (b.opts, b.default, b.help, str(b.type)), name


@pytest.mark.parametrize("command", EXPLORING)
def test_the_configuration_file_reaches_each_exploring_command(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mhpcheck.toml").write_text("depth = 2\nsections = 2\nfaults = 0\nsubsections = false\n")
    monkeypatch.chdir(tmp_path)
    seen: list[Any] = []

    class Stop(Exception):
        pass

    def capture(bounds: Any) -> None:
        seen.append(bounds)
        raise Stop

    import mhpcheck.cli.bisect as cb
    import mhpcheck.cli.check as cc
    import mhpcheck.cli.diff as cd
    import mhpcheck.cli.graph as cg
    import mhpcheck.cli.simulate as cs

    monkeypatch.setattr(cc, "run_and_report", lambda req, *a: capture(req.bounds))
    monkeypatch.setattr(cs, "run_and_report", lambda req, *a: capture(req.bounds))
    monkeypatch.setattr(cd, "diff_all", lambda reqs, jobs, store: capture(reqs[0].bounds))
    monkeypatch.setattr(cb.bis, "bisect", lambda prop, arch, bounds, *a: capture(bounds))
    monkeypatch.setattr(cg.state_graph, "state_graph", lambda cell, *a: capture(cell.bounds))
    args = {
        "diff": ["--variant", "v4.5", "--variant", "v4.13"],
        "bisect": ["--property", "altmap_exhausted", "--arch", "x86_64"],
    }.get(command, [])
    with pytest.raises(Stop):
        cli.main([command, *args], standalone_mode=False)
    (b,) = seen
    assert (b.depth, b.sections, b.faults, b.subsections) == (2, 2, 0, False)


@pytest.mark.parametrize(
    ("settings", "root"),
    [("", "mhpcheck-out/cache"), ("cache-dir = 'kept'\n", "kept"), ("cache = false\n", None)],
)
def test_diff_reads_checks_cache_where_the_file_says(
    settings: str, root: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mhpcheck.toml").write_text(settings)
    monkeypatch.chdir(tmp_path)
    stores: list[Any] = []

    class Stop(Exception):
        pass

    def capture(reqs: Any, jobs: int, store: Any) -> None:
        stores.append(store)
        raise Stop

    import mhpcheck.cli.diff as cd
    from mhpcheck import patching

    monkeypatch.setattr(cd, "diff_all", capture)
    noop = Path(__file__).resolve().parents[1] / "patches" / "noop.py"
    # loaded, not installed: a dispatcher installed here would stay for every later test
    monkeypatch.setattr(cd.patching, "activate", patching.load_patch)
    with pytest.raises(Stop):
        cli.main(["diff", "--variant", "v4.5", "--patch", str(noop)], standalone_mode=False)
    (store,) = stores
    assert (None if store is None else store.root) == (None if root is None else Path(root))

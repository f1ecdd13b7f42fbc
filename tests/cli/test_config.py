"""Configuration: defaults < mhpcheck.toml or [tool.mhpcheck] (nearest folder up) < flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mhpcheck.config import load_config


def effective(cli_run, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    code, out, _ = cli_run("check", "--variant", "v4.3", "--arch", "x86_64", "--format", "json", *args)
    assert code == 0, out
    doc = json.loads(out)
    return doc["context"]["config"] | {"file": doc["context"]["config_file"], "cells": doc["cells"]}


def test_precedence_file_then_flags(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text("[tool.mhpcheck]\ndepth = 2\nfaults = 0\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)  # found in a parent folder
    cfg = effective(cli_run, "--no-cache")
    assert (cfg["depth"], cfg["faults"], cfg["file"]) == (2, 0, str(tmp_path / "pyproject.toml"))
    assert cfg["cells"][0]["bounds"]["depth"] == 2
    (tmp_path / "mhpcheck.toml").write_text("depth = 3\ntrace-dir = 'out'\n")  # wins over pyproject
    cfg = effective(cli_run, "--no-cache")
    assert (cfg["depth"], cfg["faults"], cfg["trace_dir"]) == (3, 1, "out")
    cfg = effective(cli_run, "--no-cache", "--depth", "2")  # a flag wins over both
    assert cfg["depth"] == 2 and cfg["cells"][0]["bounds"]["depth"] == 2
    explicit = tmp_path / "other.toml"
    explicit.write_text("sections = 2\n")
    _, out, _ = cli_run(
        "--config", str(explicit), "check", "--variant", "v4.3", "--format", "json", "--no-cache"
    )
    doc = json.loads(out)
    assert (
        doc["context"]["config"]["sections"] == 2 and doc["cells"][0]["bounds"]["depth"] == 4
    )  # no discovery


def test_values_are_typed_and_lists(tmp_path: Path) -> None:
    f = tmp_path / "mhpcheck.toml"
    f.write_text("arch = 'x86_64'\nvariant = ['v4.5', 'v5.9+map-offset-every-section']\nsymmetry = true\n")
    cfg = load_config(tmp_path)
    assert cfg.values == {
        "arch_names": ("x86_64",),
        "variant_names": ("v4.5", "v5.9+map-offset-every-section"),
        "symmetry": True,
    }


def test_cache_second_run_rechecks_nothing(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    args = [
        "check",
        "--variant",
        "v4.5-pre-altmap-hotplug",
        "--arch",
        "x86_64",
        "--depth",
        "2",
        "--jobs",
        "1",
    ]
    code1, out1, err1 = cli_run(*args)
    code2, out2, err2 = cli_run(*args)
    assert code1 == code2 == 1
    assert "from the cache" not in err1 and "(1 from the cache, re-checked nothing)" in err2
    strip = lambda out: [line.split(" s ")[-1] for line in out.splitlines()]  # noqa: E731 (timings differ)
    assert strip(out1) == strip(out2)
    entries = list((tmp_path / "mhpcheck-out" / "cache").glob("*.json"))
    assert len(entries) == 1
    entries[0].write_bytes(b"not JSON")  # a corrupt entry is a miss, and is replaced
    _, _, err3 = cli_run(*args)
    assert "from the cache" not in err3
    _, _, err4 = cli_run(*args, "--depth", "3")  # other bounds: another key
    assert "from the cache" not in err4
    _, _, err5 = cli_run(*args, "--time-budget", "60")  # not reproducible: never cached
    _, _, err6 = cli_run(*args, "--time-budget", "60")
    assert "from the cache" not in err5 + err6
    _, _, err7 = cli_run(*args, "--no-cache")
    assert "from the cache" not in err7


def test_cache_key_follows_version_and_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from mhpcheck import cache
    from mhpcheck.engines.cell import CellRequest
    from mhpcheck.model.transitions import Bounds

    work = CellRequest("x86_64", "v4.5", Bounds())
    k = cache.cell_key(work, None)
    assert k == cache.cell_key(work, None)
    assert k != cache.cell_key(work, "patch text")
    assert k != cache.cell_key(replace(work, bounds=Bounds(depth=3)), None)
    assert k != cache.cell_key(replace(work, engine="symbolic"), None)
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    assert k != cache.cell_key(work, None)

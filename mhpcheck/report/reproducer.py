"""`mhpcheck replay --emit-pytest`: a trace as a standalone pytest regression test."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from mhpcheck.codec import HEX_ARGS
from mhpcheck.model.transitions import AltmapChoice, Bounds, Transition
from mhpcheck.properties import property_named
from mhpcheck.trace import Trace


def _value(name: str, value: object) -> str:
    if isinstance(value, AltmapChoice):
        inner = ", ".join(f"{f.name}={getattr(value, f.name):#x}" for f in fields(value))
        return f"AltmapChoice({inner})"
    if isinstance(value, int) and name in HEX_ARGS:
        return f"{value:#x}"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def transition_source(t: Transition | Bounds) -> str:
    """Python source that builds `t` (a step, or the bounds), pfns and sizes in hex."""
    args = ", ".join(f"{f.name}={_value(f.name, getattr(t, f.name))}" for f in fields(t))  # type: ignore[arg-type]
    return f"{type(t).__name__}({args})"


def pytest_source(trace: Trace, variant: str | None = None, patch: str | None = None) -> str:
    """A pytest test that rebuilds the trace's steps and asserts the property on `variant` (by
    default the trace's kernel); with `patch`, the patch file the user gave is applied to it."""
    prop = property_named(trace.property)
    v = variant or trace.variant.partition("@")[0]
    if patch is not None:
        v = f"{v}@{Path(patch).stem}"
    activate = (
        "\n    patching.activate(PATCH)  # the user's patch file: code, run with the test's rights"
        if patch is not None
        else ""
    )
    patch_import = "from mhpcheck import patching\n" if patch is not None else ""
    patch_line = f"PATCH = {json.dumps(str(Path(patch).resolve()))}\n" if patch is not None else ""
    classes = sorted({type(t).__name__ for t in trace.path} | {"AltmapChoice", "Bounds"})
    steps = "".join(f"    {transition_source(t)},\n" for t in trace.path)
    return f'''"""Regression test: {prop.name} on {trace.arch}, from the mhpcheck trace
{trace.file}.

{prop.doc}
It fails while the model shows the violation and passes once it does not; run it on another
variant with MHPCHECK_VARIANT=<name>.
"""

import os

{patch_import}from mhpcheck.engines.cell import Cell
from mhpcheck.model.transitions import {", ".join(classes)}
from mhpcheck.properties import property_named

ARCH = {json.dumps(trace.arch)}
VARIANT = os.environ.get("MHPCHECK_VARIANT", {json.dumps(v)})
BOUNDS = {transition_source(trace.bounds)}
{patch_line}STEPS = (
{steps})


def test_{prop.name}() -> None:
    prop = property_named({json.dumps(prop.name)}){activate}
    _, failed_at, message = Cell(ARCH, VARIANT, BOUNDS).judge_path(prop, STEPS)
    assert failed_at is None, f"fails on {{ARCH}} {{VARIANT}} after step {{failed_at}}: {{message}}"
'''

"""`mhpcheck show`: a trace as text (changed fields, kernel calls, the broken claim) and its memory map."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.spec import ON_STEP
from mhpcheck.model.state import KernelState
from mhpcheck.properties import property_named
from mhpcheck.report.memmap import marks_from, svg_map, text_map
from mhpcheck.report.text import steps_lines
from mhpcheck.trace import Replay


def state_at(rp: Replay, step: int | None) -> tuple[int, KernelState]:
    """The state after `step`; by default the one an invariant failed in, or the one a failing
    step started from (after a removal the interesting memory is gone)."""
    if step is None:
        step = len(rp.steps)
        if rp.steps and property_named(rp.trace.property).judged_on == ON_STEP:
            st = rp.steps[-1]
            if len(st.after.device_ranges) + len(st.after.sections) < len(st.before.device_ranges) + len(
                st.before.sections
            ):
                step -= 1
    n = step
    n = max(0, min(n, len(rp.steps)))
    return n, rp.steps[n - 1].after if n else KernelState()


def render(rp: Replay, step: int | None = None) -> Iterator[str]:
    t = rp.trace
    prop = property_named(t.property)
    yield f"{t.file}"
    yield f"  {t.property} ({prop.kind}) on {t.arch} {rp.variant}, {t.meta['engine']} engine"
    if t.meta.get("command"):
        yield f"  from: {t.meta['command']}"
    if rp.stale:
        yield f"  ! the trace no longer matches today's model: {rp.stale}; showing today's states"
    yield from steps_lines(rp.steps)
    yield f"  {prop.doc}"
    if rp.reproduces:
        yield f"  ✗ {rp.message}"
    else:
        yield f"  ✓ holds along these steps on today's model at {rp.variant}"
        yield f"    (the trace said: {t.meta['message']})"
    n, s = state_at(rp, step)
    k = rp.cell.k
    yield ""
    yield f"memory map after step {n}:"
    yield from text_map(k, s)


def svg(rp: Replay, step: int | None = None) -> str:
    t = rp.trace
    n, s = state_at(rp, step)
    k = rp.cell.k
    verdict = f"✗ {rp.message}" if rp.reproduces else "holds along these steps"
    marks = marks_from(rp.message) if rp.reproduces else None
    return svg_map(k, s, f"{t.property} — {t.arch} {rp.variant}, after step {n}", verdict, marks)

"""The text report: per cell a verdict line; per violation the steps, kernel calls and changes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields

from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.core.results import (
    ERA_OF,
    FIXED,
    SAME,
    WORSE,
    CellResult,
    PropertyResult,
    Report,
    Step,
    Verdict,
)
from mhpcheck.model.errno import errname
from mhpcheck.model.events import AllocationFailed, Call, SectionRemoved, VmemmapAllocated, VmemmapFreed
from mhpcheck.model.state import KernelState
from mhpcheck.properties import property_named

MARK = {
    Verdict.HOLDS: "✓",
    Verdict.VIOLATED: "✗",
    Verdict.FINDING: "⚑",
    Verdict.INCONCLUSIVE: "?",
    Verdict.NOT_APPLICABLE: "-",
}


def _fmt(x: object) -> str:
    if hasattr(x, "v") and isinstance(x.v, int):  # a Word
        return f"{x.v:#x}"
    if isinstance(x, tuple):
        return "(" + ", ".join(_fmt(y) for y in x) + ")"
    if hasattr(x, "__dataclass_fields__"):
        inner = ", ".join(f"{f.name}={_fmt(getattr(x, f.name))}" for f in fields(x))  # type: ignore[arg-type]
        return f"{type(x).__name__}({inner})"
    if hasattr(x, "name") and hasattr(x, "value"):  # an enum
        return str(x.name)
    return repr(x)


def state_changes(before: KernelState, after: KernelState) -> Iterator[str]:
    """Only what changed between two states, one line per field (TLC -difftrace)."""
    # compared as rendered: a Word's == is a C comparison (a Cond), not Python equality
    for f in fields(KernelState):
        a, b = getattr(before, f.name), getattr(after, f.name)
        if isinstance(a, tuple) and isinstance(b, tuple):
            fa, fb = [_fmt(x) for x in a], [_fmt(x) for x in b]
            for x in fa:
                if x not in fb:
                    yield f"- {f.name}: {x}"
            for x in fb:
                if x not in fa:
                    yield f"+ {f.name}: {x}"
        elif _fmt(a) != _fmt(b):
            yield f"  {f.name}: {_fmt(a)} → {_fmt(b)}"


def calls_line(events: tuple[object, ...]) -> str:
    names: list[str] = []
    counts: dict[str, int] = {}
    for e in events:
        if isinstance(e, Call):
            name = e.function
        elif isinstance(e, VmemmapAllocated):
            name = "vmemmap_populate"
        elif isinstance(e, VmemmapFreed):
            name = "vmemmap_free"
        elif isinstance(e, AllocationFailed):
            src = "system memory" if e.source < 0 else f"dev {e.source}'s altmap"
            name = f"✗ allocation #{e.n} ({e.size >> 10} KiB from {src}) fails"
        elif isinstance(e, SectionRemoved):
            offset = e.map_offset
            if offset is None:
                name = f"sparse_remove_section({e.section_nr:#x})"
            else:
                name = f"__remove_section({e.section_nr:#x}, map_offset={offset.v:#x})"
        else:
            continue
        if name not in counts:
            names.append(name)
            counts[name] = 0
        counts[name] += 1
    return " → ".join(n if counts[n] == 1 else f"{n} ×{counts[n]}" for n in names)


def steps_lines(steps: Iterable[Step]) -> Iterator[str]:
    """Each step: the transition and its return value, the kernel calls, only the changed fields."""
    yield "   0  init"
    for i, st in enumerate(steps, 1):
        yield f"  {i:2d}  {st.transition}  = {errname(st.ret)}"
        calls = calls_line(st.events)
        if calls:
            yield f"        {calls}"
        for line in state_changes(st.before, st.after):
            yield f"        {line}"


def render_violation(cell: CellResult, p: PropertyResult) -> Iterator[str]:
    prop = property_named(p.name)
    change = f", {p.change}: {p.note}" if p.change and p.change != SAME else ""
    yield f"  {MARK[p.verdict]} {p.name}   {p.verdict.value} at step {len(p.path)}{change}"
    if p.finding:
        yield f"    known kernel finding: {p.finding} (mhpcheck list findings)"
    for line in steps_lines(p.steps):
        yield f"  {line}"
    yield f"    {prop.doc}"
    yield f"    {p.message}"
    if p.trace_file:
        yield f"    trace   {p.trace_file}"
        yield f"    replay  mhpcheck replay {p.trace_file}"


def render(report: Report, verbose: bool = False) -> Iterator[str]:
    for cell in report.cells:
        counts: dict[Verdict, int] = {}
        for p in cell.properties:
            counts[p.verdict] = counts.get(p.verdict, 0) + 1
        summary = ", ".join(f"{n} {v.value}" for v, n in counts.items())
        cut = f", cut by {cell.budget}" if cell.budget else ""
        if cell.engine == "symbolic":
            if Verdict.HOLDS in counts and cell.complete:
                summary = summary.replace(" holds", f" hold for all values up to depth {cell.depth}", 1)
            q = cell.stats.get("queries", 0)
            took = f"{cell.seconds:.1f} s"
            if cell.stats.get(ERA_OF):
                took = f"same run as {cell.stats[ERA_OF]}"
            yield (
                f"{cell.arch:16s} {cell.variant:28s} symbolic: {cell.transitions} sequences, {cell.states} "
                f"paths, {q} Z3 queries ({cell.stats.get('solver_seconds', 0.0):.1f} s in Z3), "
                f"{took}  {summary}{cut}"
            )
        elif cell.engine == "simulation":
            yield (
                f"{cell.arch:16s} {cell.variant:28s} simulation: {cell.stats.get('runs', 0)} walks of up to "
                f"{cell.depth} steps (seed {cell.stats.get('seed', 0)}), {cell.transitions} steps through "
                f"{cell.states} distinct states, "
                f"{cell.seconds:.1f} s  {summary}{cut}"
            )
        else:
            rate = cell.states / max(cell.seconds, 1e-9)
            took = f"{cell.seconds:6.2f} s {rate:7.0f} states/s"
            if cell.stats.get(ERA_OF):  # not explored: the same run as that variant's, judged again
                took = f"{'same run as ' + cell.stats[ERA_OF]:>25s}"
            yield (
                f"{cell.arch:16s} {cell.variant:28s} {cell.states:7d} states "
                f"{cell.transitions:8d} transitions depth {cell.depth}  {took}  {summary}{cut}"
            )
        for p in cell.properties:
            shown = verbose or p.change == WORSE
            if p.verdict == Verdict.VIOLATED or (p.verdict == Verdict.FINDING and shown):
                yield from render_violation(cell, p)
            elif p.verdict == Verdict.FINDING:
                yield f"  {MARK[p.verdict]} {p.name}: known finding {p.finding}"
            elif p.change == FIXED:
                yield f"  {MARK[p.verdict]} {p.name}: fixed by the patch ({p.note})"
            elif p.verdict == Verdict.INCONCLUSIVE and (verbose or cell.engine != "simulation"):
                # walks that found nothing say so once, on the cell's line
                yield f"  {MARK[p.verdict]} {p.name}: inconclusive, {p.message}"
    findings = {p.finding for c in report.cells for p in c.properties if p.verdict == Verdict.FINDING}
    if findings:
        yield (
            f"{MARK[Verdict.FINDING]} = a known finding ({len(findings)} distinct here): the kernel of "
            "that era itself breaks the property, as recorded, which does not fail the run; what each "
            "is: mhpcheck list findings; its steps: -v; README: What is a finding"
        )
    for arch, variant, why in report.skipped:
        yield f"{arch:16s} {variant:28s} skipped: {why}"
    for fid, prop, arch, variant in report.stale:
        yield f"✗ recorded finding {fid} no longer shows: {prop} holds on {arch} {variant}"
    if report.interrupted is not None:
        yield (
            f"interrupted ({interrupted_signal(report)}) after {len(report.cells)} of {report.planned} "
            "cells: the others were not checked, and the run holds nothing"
        )


def interrupted_signal(report: Report) -> str:
    """The signal that stopped the run, by name."""
    return "SIGTERM" if report.interrupted == ExitCode.TERMINATED else "SIGINT"

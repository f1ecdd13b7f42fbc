"""`mhpcheck conform` and `mhpcheck predict` as text: the figures a kernel shows beside the model's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mhpcheck.conform.compare import Row
from mhpcheck.conform.findings import FindingRow
from mhpcheck.conform.scenarios import Figure


def table(rows: Sequence[Row]) -> list[str]:
    """The rows as an aligned text table."""
    head = ("arch", "kernel", "scenario", "step", "figure", "kernel", "model", "verdict")
    cells = [head] + [
        (
            r.arch,
            r.kernel,
            r.scenario,
            r.step,
            r.figure,
            "" if r.kernel_value is None else str(r.kernel_value),
            "" if r.model_value is None else str(r.model_value) + (f" ±{r.tolerance}" if r.tolerance else ""),
            r.verdict.value + (f": {r.note}" if r.note else ""),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head) - 1)]
    right = {5, 6}
    out = []
    for c in cells:
        parts = [c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i]) for i in range(len(widths))]
        out.append("  ".join([*parts, c[-1]]).rstrip())
    return out


def predictions(rows: Sequence[tuple[str, Figure]]) -> Iterator[str]:
    """The model's predicted figures, one aligned line each."""
    head = ("kernel", "scenario", "step", "figure", "value")
    cells = [
        (
            kernel,
            f.scenario,
            f.step,
            f.name,
            f"{f.value} {f.unit}" + (f" ±{f.tolerance}" if f.tolerance else ""),
        )
        for kernel, f in rows
    ]
    widths = [max(len(c[i]) for c in (head, *cells)) for i in range(len(head))]
    for c in (head, *cells):
        yield "  ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)).rstrip()


def findings(rows: Sequence[FindingRow]) -> list[str]:
    """Each finding on each kernel: the result, whether it was expected, why, and the console lines."""
    out = []
    for r in rows:
        head = f"{r.finding}  {r.arch}  {r.kernel}" + (f" ({r.release})" if r.release != "-" else "")
        result = r.outcome.value
        if r.expected is not None:
            result += " (as expected)" if r.agrees else f" (UNEXPECTED: expected {r.expected.value})"
        if r.wall_s is not None:
            result += f", {r.wall_s:.1f} s"
        out.append(head)
        out.append(f"    result  {result}")
        if r.model:
            out.append(f"    model   {r.model}")
        if r.fix:
            out.append(f"    fix     {r.fix}")
        if r.note:
            out.append(f"    why     {r.note}")
        for e in r.evidence[:8]:
            out.append(f"    console [{e.step}] {e.line}")
        if len(r.evidence) > 8:
            out.append(f"    console ... {len(r.evidence) - 8} more lines in {r.transcript}")
    return out

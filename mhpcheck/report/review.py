"""`mhpcheck diff` and `mhpcheck bisect` as text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mhpcheck.review.bisect import BisectResult
from mhpcheck.review.diff import CHANGE, FIX, REGRESSION, DiffResult


def diff_lines(results: Sequence[DiffResult]) -> Iterator[str]:
    """Per arch: what differs, each difference's shortest sequence; then the archs per kind."""
    affected: dict[str, list[str]] = {}
    for r in results:
        if r.skipped:
            yield f"{r.arch:16s} skipped: {r.skipped}"
            continue
        head = "identical behaviour" if r.identical else r.verdict
        if len(r.differences) > 1:
            head += f" ({', '.join(r.differences)})"
        cut = f", cut by {r.budget}: inconclusive" if r.budget else ""
        how = f"{r.seconds:.1f} s{cut}"
        if r.reused:
            how = "the patch reaches nothing A runs: from check's cache"
        if r.as_era:  # both kernels answer everything its runs asked as at that era
            how = f"the same runs as at {r.as_era}"
        yield f"{r.arch:16s} {r.a} → {r.b}: {head}  ({r.pairs} step pairs, {how})"
        for d in r.differences.values():
            props = f" [{', '.join(d.properties)}]" if d.properties else ""
            yield f"  {d.kind}{props}: {d.detail}"
            for i, (t, tb) in enumerate(zip(d.path, d.path_b or d.path, strict=True), 1):
                # a patch's own failure point shifts the index of every later call B makes
                yield f"    {i}  {t}" + (f"   (on B: fail_alloc={tb.fail_alloc})" if tb != t else "")  # type: ignore[attr-defined]
        if not r.identical:
            affected.setdefault(r.verdict, []).append(f"{r.arch} {r.a}")
    for kind in (REGRESSION, FIX, CHANGE, "inconclusive"):
        if kind in affected:
            yield f"{kind}: {', '.join(affected[kind])}"
    if not affected:
        yield "identical behaviour on every cell compared"


def unreached_lines(names: Sequence[str], patch: str) -> Iterator[str]:
    """A warning per replaced function that no explored path ran."""
    for name in names:
        yield (
            f"mhpcheck: warning: {patch} replaces {name}, which no explored path of the selected "
            "eras and archs runs: the patch changes nothing there"
        )


def bisect_lines(r: BisectResult) -> Iterator[str]:
    """Each era's verdict, the first flip, and the commit that flipped it."""
    for era, verdict in r.verdicts:
        yield f"{era:8s} {verdict.value}"
    if r.flip is None:
        yield "no flip: the verdict is the same in every era"
        return
    yield f"flips between {r.flip[0]} and {r.flip[1]}"
    if r.patch is not None:
        yield f"flipped by {r.patch.key}: {r.patch.id} {r.patch.title} ({r.patch.version})"

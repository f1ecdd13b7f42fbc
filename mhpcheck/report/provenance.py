"""`mhpcheck provenance` and `mhpcheck review` as text and JSON."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

from mhpcheck.review.cpatch import Review
from mhpcheck.review.provenance import CHANGED, MISSING, SAME, UNRECORDED, Comparison, Report


def _indent(text: str, by: str = "      ") -> Iterator[str]:
    for line in text.rstrip("\n").splitlines():
        yield f"{by}{line}"


def _departs(note: str) -> list[str]:
    return textwrap.wrap(
        note, 100, initial_indent="      the model departs here on purpose: ", subsequent_indent="        "
    )


def _what(c: Comparison) -> str:
    return f"{c.record.location}  ({c.function.package}/{c.function.module}.py:{c.function.attr})"


def provenance_lines(r: Report, diffs: bool = True) -> Iterator[str]:
    """One line per function (same, changed, missing, unrecorded), each change's C diff, a summary."""
    yield f"the model at {r.era} against {r.tree} ({r.release})"
    for c in r.comparisons:
        extra = []
        if c.moved:
            extra.append(f"now in {c.path}")
        if c.conditions_changed and c.found is not None:
            extra.append(f"under {' / '.join(c.found.conditions) or 'no #if'}")
        tail = f"  [{'; '.join(extra)}]" if extra else ""
        yield f"{c.status:10s}  {_what(c)}{tail}"
        if c.status == CHANGED:
            for a in c.departs:
                yield from _departs(a)
            if c.note:
                yield f"      {c.note}"
            if diffs and c.diff:
                yield from _indent(c.diff)
        elif c.status == MISSING:
            yield f"      not defined at {c.record.path}, nor in another file of the tree: removed or renamed"
        elif c.status == UNRECORDED:
            yield f"      no fingerprint recorded for {r.era}: {c.note}"
    departing = sum(1 for c in r.comparisons if c.status == CHANGED and c.departs)
    changed = f"{r.count(CHANGED)} changed" + (
        f" ({departing} in functions where the model notes an abstraction)" if departing else ""
    )
    yield (
        f"{len(r.comparisons)} functions at {r.era}: {r.count(SAME)} same, {changed}, "
        f"{r.count(MISSING)} missing, {r.count(UNRECORDED)} unrecorded (exit {r.exit_code})"
    )


def provenance_json(r: Report) -> dict[str, Any]:
    """The same as a document: one entry per function."""
    return {
        "format": "mhpcheck-provenance",
        "tree": r.tree,
        "release": r.release,
        "era": r.era,
        "functions": [
            {
                "kernel": c.function.kernel,
                "model": c.function.key,
                "status": c.status,
                "recorded": {
                    "path": c.record.path,
                    "name": c.record.name,
                    "conditions": list(c.record.conditions),
                    "fingerprint": c.record.fingerprint,
                    "source": c.record.source,
                },
                "found": c.path or None,
                "fingerprint": c.found.fingerprint if c.found is not None else None,
                "abstractions": list(c.departs),
                "diff": c.diff,
                "note": c.note,
            }
            for c in r.comparisons
        ],
        "counts": {s: r.count(s) for s in (SAME, CHANGED, MISSING, UNRECORDED)},
        "exit_code": r.exit_code,
    }


def review_lines(rv: Review, written: dict[str, str]) -> Iterator[str]:
    """The modelled functions the patch changes (C diff, scaffold), the others, and lines outside any."""
    yield f"modelled functions the patch changes ({len(rv.modelled)}), against the model at {rv.era}:"
    for t in rv.modelled:
        assert t.model is not None
        yield f"  {t.path}:{t.name}  ({t.model.package}/{t.model.module}.py:{t.model.attr})"
        for a in t.model.abstractions:
            yield from _departs(a)
        yield from _indent(t.c_diff)
        if t.model.key in written:
            yield f"      scaffold: {written[t.model.key]}"
    if not rv.modelled:
        yield "  none"
    yield f"not modelled ({len(rv.not_modelled)}): the model does not follow these, so it is silent on them"
    for t in rv.not_modelled:
        yield f"  {t.path}:{t.name}"
    for o in rv.outside:
        yield f"changed outside any function: {o}"

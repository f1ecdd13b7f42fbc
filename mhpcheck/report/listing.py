"""What `mhpcheck list` prints: archs with constants and sources, variants, properties, mutants."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mhpcheck.model.arch import archs as all_archs
from mhpcheck.model.variants import ERAS, MUTANTS, PATCHES, PRE_PATCH, VARIANTS
from mhpcheck.properties import PROPERTIES
from mhpcheck.properties.findings import FINDINGS
from mhpcheck.review.functions import Listed


def archs() -> Iterator[str]:
    for a in all_archs():
        yield f"{a.name}: {a.description}"
        yield f"  device memory since {a.zone_device_since} ({a.zone_device_source})"
        for name, c in a.constants:
            vals = ", ".join(
                f"{c.values[i][1]:#x}" + (f" from {since}" if i else "")
                if name.endswith(("START", "PFN"))
                else f"{c.values[i][1]}" + (f" from {since}" if i else "")
                for i, (since, _) in enumerate(c.values)
            )
            yield f"  {name:18s} {vals:32s} {c.source}"


def variants() -> Iterator[str]:
    yield "eras (--variant eras checks them all; with no --variant, check runs the newest):"
    for v in ERAS:
        yield f"  {v.name}: " + ", ".join(f"{p.key} {p.id}" for p in v.patches)
    yield "pre-patch variants (each seed's commit left out):"
    for v in PRE_PATCH:
        assert v.reverts is not None
        seed = f"seed {v.reverts.seed}, " if v.reverts.seed else ""
        r = v.reverts
        yield f"  {v.name}: {v.version} without {r.key} ({seed}{r.id} {r.title})"
    yield "patches:"
    for p in PATCHES:
        seed = f"  [seed {p.seed}" + (f", upstream {p.upstream}]" if p.upstream else "]") if p.seed else ""
        source = f"  [read in {p.source}]" if p.source else ""
        yield f"  {p.key:24s} {p.id:16s} {p.version:6s} {p.title}{seed}{source}"
    yield "mutants apply on top of any variant: <variant>+<mutant> (mhpcheck list mutants)"
    _ = VARIANTS


def mutants() -> Iterator[str]:
    for m in MUTANTS:
        yield f"{m.name}: {m.why}"
        on = f"{m.era} {', '.join(m.archs)}"
        yield f"  at {m.where}; breaks {m.breaks.key} ({m.breaks.id}); checked on {on}"


def properties() -> Iterator[str]:
    for p in PROPERTIES:
        yield f"{p.name} [{p.kind}]"
        yield f"  {p.doc}"
        if p.kills:
            yield f"  kills: {', '.join(p.kills)}"


def findings() -> Iterator[str]:
    for f in FINDINGS:
        yield f"{f.id}: {f.title}"
        yield f"  eras {', '.join(f.eras)} on {', '.join(f.archs)}; properties {', '.join(f.properties)}"
        yield f"  {f.detail}"
        if f.fixed_by:
            yield f"  fixed by {f.fixed_by}"


def kill_matrix() -> Iterator[str]:
    """The declared kills: which property must catch which mutant or pre-patch variant."""
    bugs = [m.name for m in MUTANTS] + [v.name for v in PRE_PATCH]
    width = max(len(b) for b in bugs)
    for b in bugs:
        killers = [p.name for p in PROPERTIES if b in p.kills]
        yield f"{b:{width}s}  {', '.join(killers) if killers else '(none: a defect)'}"


def functions(rows: Sequence[Listed]) -> Iterator[str]:
    """Each replaceable function: the name @replaces() takes, its signature, the eras that run it."""
    yield "# name for @replaces(...)   signature   eras whose paths run it (at small bounds)"
    for row in rows:
        f = row.function
        eras = ", ".join(row.eras) if row.eras else "none"
        kind = "model helper" if f.helper else f.kernel_file
        yield f"{f.name}"
        yield f"    {f.signature}   [{kind}]   eras: {eras}"

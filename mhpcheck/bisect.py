"""Verdict bisection over eras: the first era where a property's verdict flips, and the patch that did it."""

from __future__ import annotations

from dataclasses import dataclass

from mhpcheck.explorer import explore
from mhpcheck.model.arch import arch_named
from mhpcheck.model.transitions import Bounds
from mhpcheck.model.variants import ERAS, Patch, Variant
from mhpcheck.properties import property_named
from mhpcheck.results import Verdict


@dataclass
class BisectResult:
    """Each era's verdict, the first flip, and the commit between the two eras that flipped it."""

    prop: str
    arch: str
    verdicts: list[tuple[str, Verdict]]
    flip: tuple[str, str] | None = None  # (era before, era after)
    patch: Patch | None = None


def _verdict(arch: str, variant: Variant, prop: str, bounds: Bounds) -> Verdict:
    # Recorded findings are not applied: a flip is a flip whether or not it is known.
    cell = explore(arch, variant, bounds, [property_named(prop)])
    if not cell.properties:
        return Verdict.NOT_APPLICABLE
    return cell.properties[0].verdict


def bisect(prop: str, arch: str, bounds: Bounds) -> BisectResult:
    """Walk the eras in order; at the first flip, add the later era's new commits one by one."""
    spec = arch_named(arch)
    eras = [v for v in ERAS if spec.supports(v)]
    res = BisectResult(prop, arch, [(v.name, _verdict(arch, v, prop, bounds)) for v in eras])
    for (a, va), (b, vb), before, after in zip(res.verdicts, res.verdicts[1:], eras, eras[1:], strict=False):
        if va == vb or Verdict.NOT_APPLICABLE in (va, vb):
            continue
        res.flip = (a, b)
        added = [p for p in after.patches if p not in before.patches]
        kept = list(before.patches)
        for patch in added:
            kept.append(patch)
            step = Variant(
                f"{a}+{patch.key}", after.version, tuple(kept), keys=frozenset(x.key for x in kept)
            )
            if _verdict(arch, step, prop, bounds) == vb:
                res.patch = patch
                break
        break
    return res

"""The kernel model: state, kernel functions per source file, architectures, variants, transitions."""

from __future__ import annotations

from mhpcheck.core.values import CONCRETE, Sem
from mhpcheck.model.arch import arch_named
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.variants import Variant, variant_named

__all__ = ["Kernel", "build"]


def build(arch: str, variant: str | Variant, sem: Sem = CONCRETE) -> Kernel:
    """A kernel for `arch` at `variant` under the value back end `sem` (concrete by default)."""
    v = variant_named(variant) if isinstance(variant, str) else variant
    return Kernel(sem, arch_named(arch).resolve(v), v)

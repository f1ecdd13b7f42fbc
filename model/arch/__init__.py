"""Architecture configurations: real constants per kernel era, and each arch's vmemmap functions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mhpcheck.model.variants import Patch, Variant


@dataclass(frozen=True, slots=True)
class Constant:
    """One architecture constant, its value per era, and the kernel header that defines it."""

    values: tuple[tuple[str, int], ...]  # (first release with this value, value), oldest first
    source: str

    def at(self, version: tuple[int, ...]) -> int:
        chosen = self.values[0][1]
        for since, value in self.values:
            if _vt(since) <= version:
                chosen = value
        return chosen


def _vt(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.lstrip("v").split("."))


def const(value: int, source: str) -> Constant:
    return Constant((("v4.0", value),), source)


@dataclass(frozen=True, slots=True)
class Capability:
    """Something an arch config's kernel does, from the commit that brought it, and the source."""

    since: Patch | None  # None: in every era the config has
    source: str
    until: Patch | None = None  # the commit that took it away again, if any

    def at(self, variant: Variant) -> bool:
        return (self.since is None or variant.has(self.since)) and (
            self.until is None or not variant.has(self.until)
        )


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an arch config's kernel does at one variant; False where the arch does not declare it."""

    altmap: bool = False  # vmemmap_populate() takes the memmap from a device's altmap
    altmap_falls_back_to_ram: bool = False  # an altmap that cannot back a vmemmap page: RAM, not -ENOMEM
    pmd_falls_back_to_base_pages: bool = False  # a failed PMD allocation without altmap: base pages
    altmap_pmd_falls_back_to_base_pages: bool = False  # ... with an altmap too: base pages from it
    vmemmap_page_spans_sections: bool = False  # one vmemmap page holds several sections' memmap
    memmap_on_memory: bool = False  # ARCH_MHP_MEMMAP_ON_MEMORY_ENABLE: hot-added RAM holds its memmap
    optimize_dax_vmemmap: bool = False  # ARCH_WANT_OPTIMIZE_DAX_VMEMMAP: compound devmaps share tail pages
    radix_vmemmap: bool = False  # radix_enabled(): vmemmap_populate() is radix__vmemmap_populate()


CAPABILITIES = tuple(Capabilities.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Arch:
    """An architecture configuration: constants with their sources, and its kernel functions."""

    name: str
    description: str
    constants: tuple[tuple[str, Constant], ...]
    zone_device_since: str  # the first release where this config can hot-add device memory
    zone_device_source: str
    functions: tuple[tuple[str, Callable[..., Any]], ...]  # arch_add_memory, vmemmap_populate, ...
    capabilities: tuple[tuple[str, Capability], ...] = ()

    def __post_init__(self) -> None:
        unknown = {n for n, _ in self.capabilities} - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"{self.name}: unknown capabilities {sorted(unknown)}; known: {CAPABILITIES}")

    def constants_at(self, variant: Variant) -> dict[str, int]:
        """Each constant's value in the release of `variant`."""
        vt = variant.version_tuple
        return {name: c.at(vt) for name, c in self.constants}

    def runs_alike(self, was: Variant, now: Variant, asked: dict[str, bool]) -> bool:
        """Whether `now` makes the run `was` made, which asked its variant `asked` (asking()): the
        same constants, and every question answered alike."""
        return self.constants_at(was) == self.constants_at(now) and now.answers(asked)

    def resolve(self, variant: Variant) -> ArchConfig:
        values = self.constants_at(variant)
        # Looked up through their modules, so that a user patch installed there takes effect.
        functions = {n: getattr(sys.modules[f.__module__], f.__name__) for n, f in self.functions}
        has = Capabilities(**{n: c.at(variant) for n, c in self.capabilities})
        return ArchConfig(self, values, functions, has)

    def supports(self, variant: Variant) -> bool:
        return _vt(self.zone_device_since) <= variant.version_tuple


class ArchConfig:
    """An Arch resolved for one variant: constants as attributes (k.arch.PAGE_SHIFT)."""

    # Constants only some arch configs define (an AttributeError elsewhere, never a silent 0)
    PMD_SHIFT: int
    pageblock_order: int

    def __init__(
        self, arch: Arch, values: dict[str, int], functions: dict[str, Any], has: Capabilities
    ) -> None:
        self.arch = arch
        self.name = arch.name
        self.has = has
        for key, value in values.items():
            setattr(self, key, value)
        self.STRUCT_PAGE_SIZE: int = values["STRUCT_PAGE_SIZE"]
        self.PAGE_SHIFT: int = values["PAGE_SHIFT"]
        self.SECTION_SIZE_BITS: int = values["SECTION_SIZE_BITS"]
        self.VMEMMAP_START: int = values["VMEMMAP_START"]
        self.VMEMMAP_SHIFT: int = values["VMEMMAP_SHIFT"]
        self.MAX_PHYSMEM_BITS: int = values["MAX_PHYSMEM_BITS"]
        self.PFN_SECTION_SHIFT = self.SECTION_SIZE_BITS - self.PAGE_SHIFT
        self.PA_SECTION_SHIFT = self.SECTION_SIZE_BITS
        self.PAGES_PER_SECTION = 1 << self.PFN_SECTION_SHIFT
        # include/linux/mmzone.h (ba72b4c8cf60, v5.3): "#define SUBSECTION_SHIFT 21"
        self.SUBSECTION_SHIFT = 21
        self.PAGES_PER_SUBSECTION = 1 << (self.SUBSECTION_SHIFT - self.PAGE_SHIFT)
        self.SUBSECTIONS_PER_SECTION = 1 << (self.SECTION_SIZE_BITS - self.SUBSECTION_SHIFT)
        self.HOTPLUG_BASE_PFN: int = values["HOTPLUG_BASE_PFN"]
        self.arch_add_memory = functions["arch_add_memory"]
        self.arch_remove_memory = functions["arch_remove_memory"]
        self.vmemmap_populate = functions["vmemmap_populate"]
        self.vmemmap_free = functions["vmemmap_free"]
        # an arch's own copy of a __weak generic function, where it has one
        self.vmemmap_check_pmd = functions.get("vmemmap_check_pmd")
        self.arch_supports_memmap_on_memory = functions.get("arch_supports_memmap_on_memory")
        self.memremap_compat_align = functions.get("memremap_compat_align")

    @property
    def memmap_pages_per_section(self) -> int:
        """Base pages of memmap one section needs: PAGES_PER_SECTION * sizeof(struct page)."""
        return (self.PAGES_PER_SECTION * self.STRUCT_PAGE_SIZE) >> self.PAGE_SHIFT

    @property
    def vmemmap_leaf_pages(self) -> int:
        """Base pages in one vmemmap leaf."""
        return 1 << (self.VMEMMAP_SHIFT - self.PAGE_SHIFT)


def archs() -> tuple[Arch, ...]:
    from mhpcheck.model.arch.arm64 import ARM64_4K, ARM64_16K, ARM64_64K
    from mhpcheck.model.arch.powerpc64 import POWERPC64_HASH, POWERPC64_RADIX
    from mhpcheck.model.arch.x86_64 import X86_64

    return (X86_64, POWERPC64_HASH, POWERPC64_RADIX, ARM64_4K, ARM64_16K, ARM64_64K)


def arch_named(name: str) -> Arch:
    for a in archs():
        if a.name == name:
            return a
    raise KeyError(name)

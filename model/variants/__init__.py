"""Variants: kernel eras, each seed's pre-patch variant, and mutants applied on top ("v4.5+<mutant>")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mhpcheck.model.variants import patches as p
from mhpcheck.model.variants.mutants import MUTANTS, Mutant
from mhpcheck.model.variants.patches import PATCHES, Patch

__all__ = [
    "ALL_ERAS",
    "ASKED",
    "ERAS",
    "MUTANTS",
    "PATCHES",
    "PRE_PATCH",
    "VARIANTS",
    "Mutant",
    "Patch",
    "Variant",
    "asking",
    "variant_named",
]


@dataclass(frozen=True, slots=True)
class Variant:
    """A kernel the model follows: an era's patches, maybe one reverted, maybe one mutant applied."""

    name: str
    version: str
    patches: tuple[Patch, ...]
    reverts: Patch | None = None  # the seed patch a pre-patch variant leaves out
    mutant: Mutant | None = None
    keys: frozenset[str] = frozenset()
    user_patch: str = ""  # the name of a user patch file applied on top (mhpcheck --patch)

    def has(self, patch: Patch) -> bool:
        """Whether this kernel carries `patch` (an era's commit, not reverted)."""
        got = patch.key in self.keys
        if _asked is not None:
            _asked[patch.key] = got
        return got

    def mutated(self, mutant: Mutant) -> bool:
        """Whether the seeded bug `mutant` is applied (guards exactly one line of the model)."""
        got = self.mutant is mutant
        if _asked is not None:
            _asked[f"+{mutant.name}"] = got
        return got

    def at_least(self, *version: int) -> bool:
        """Whether this kernel is release `version` or a later one: at_least(4, 5)."""
        got = self.version_tuple >= version
        if _asked is not None:
            _asked[">=v" + ".".join(map(str, version))] = got
        return got

    def answers(self, asked: dict[str, bool]) -> bool:
        """Whether this kernel answers every question of `asked` (asking()) the same way."""
        return all(self._answer(q) == got for q, got in asked.items())

    def _answer(self, question: str) -> bool:
        if question.startswith(">=v"):
            return self.version_tuple >= tuple(int(x) for x in question[3:].split("."))
        if question.startswith("+"):
            return self.mutant is not None and self.mutant.name == question[1:]
        return question in self.keys

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The release as numbers. The model and its properties ask at_least() instead, which
        asking() hears: two kernels that answer alike behave alike (mhpcheck.checker.as_era())."""
        return tuple(int(x) for x in self.version.lstrip("v").split("."))

    @property
    def era(self) -> str:
        return self.version


# What the variants were asked while asking() listens: question -> answer
ASKED = dict[str, bool]
_asked: ASKED | None = None


@contextmanager
def asking() -> Iterator[ASKED]:
    """Note every question the model and the properties put to any variant (has(), mutated(),
    at_least()) and its answer: a run is all a kernel's variant decides, so another variant
    that answers each of them alike (Variant.answers()) would have made the same run."""
    global _asked
    outer, _asked = _asked, {}
    try:
        yield _asked
    finally:
        heard, _asked = _asked, outer
        if outer is not None:
            outer.update(heard)


def _variant(
    name: str,
    version: str,
    patches: tuple[Patch, ...],
    reverts: Patch | None = None,
    mutant: Mutant | None = None,
) -> Variant:
    kept = tuple(x for x in patches if x is not reverts)
    return Variant(name, version, kept, reverts, mutant, frozenset(x.key for x in kept))


_V4_3 = (p.ZONE_DEVICE,)
_V4_5 = (*_V4_3, p.ALTMAP_RESERVE, p.ALTMAP_HOTPLUG, p.X86_ALTMAP)
_V4_13 = (*_V4_5, p.ZONES_AT_ONLINE, p.POWERPC_ALTMAP)
_V5_9 = (
    *_V4_13,
    p.EXPLICIT_ALTMAP,
    p.MEMMAP_INIT_ZONE_DEVICE,
    p.SUBSECTION_HOTPLUG,
    p.POWERPC_ALTMAP_FALLBACK,
    p.ALTMAP_END_PFN,
    p.POWERPC_POPULATED_SUBSECTION,
    p.SHRINK_ZONES,
    p.MEMUNMAP_PFN_FIRST,
    p.HOTPLUG_ADDRESSABLE,
    p.ARM64_ZONE_DEVICE,
    p.ARM64_ALTMAP,
)
# v5.3: sub-section hotplug (ba72b4c8cf60); the altmap is passed explicitly since v4.16 and the
# powerpc fallback to RAM is in (v5.0). Not yet: the namespace end_pfn, powerpc's
# vmemmap_populated() by sub-section and arch_remove_memory() without page_zone() (v5.5),
# __add_pages()'s bounds check (v5.6), arm64 (v5.7).
_V5_3 = (
    *_V4_13,
    p.EXPLICIT_ALTMAP,
    p.MEMMAP_INIT_ZONE_DEVICE,
    p.SUBSECTION_HOTPLUG,
    p.POWERPC_ALTMAP_FALLBACK,
)
_V5_15 = (
    *_V5_9,
    p.MHP_PARAMS,
    p.MULTI_RANGE_PGMAP,
    p.ARM64_VMEMMAP_FALLBACK,
    p.MHP_RANGE_ALLOWED,
    p.MEMMAP_ON_MEMORY,
)
_V6_1 = (*_V5_15, p.COMPOUND_DEVMAP)
_V6_12 = (
    *_V6_1,
    p.GENERIC_VMEMMAP_HUGEPAGES,
    p.POWERPC_CROSS_BOUNDARY_END,
    p.POWERPC_ALTMAP_BOUNDARY,
    p.MAP_OFFSET_REMOVED,
    p.COMPOUND_DEVMAP_OPT_IN,
    p.MEMMAP_ON_MEMORY_PAGEBLOCK,
    p.ARCH_SUPPORTS_MEMMAP_ON_MEMORY,
    p.RADIX_VMEMMAP,
    p.RADIX_MEMMAP_ON_MEMORY,
    p.VMEMMAP_CAN_OPTIMIZE_RESERVE,
    p.RADIX_DAX_VMEMMAP,
    p.MHP_ADD_ERROR_PATH_ALTMAP,
    p.MEMORY_BLOCK_ALTMAP,
    p.MEMMAP_ON_MEMORY_PER_BLOCK,
    p.KMEM_MEMMAP_ON_MEMORY,
    p.NR_MEMMAP,
)

_V6_14 = (*_V6_12, p.ARM64_SUBSECTION_BASEPAGES)
# v6.15's radix start alignment (9cf7e13fecba) is modelled with v6.17's, which changed it again
_V6_17 = (*_V6_14, p.RADIX_VMEMMAP_ALIGN, p.RADIX_VMEMMAP_ALIGN_RAM, p.MEMMAP_ACCOUNTING)
_V6_19 = (*_V6_17, p.X86_PAGETABLE_FREE)
# 7.2 as Debian's 7.2.13 has it
_V7_2 = (
    *_V6_19,
    p.X86_VMEMMAP_FREE,
    p.MEMMAP_ACCOUNTING_UNDERFLOW,
    p.DAX_VMEMMAP_ACCOUNTING,
    p.GENERIC_VMEMMAP_PMD,
    p.MHP_ERROR_PATH_ALTMAP,
    p.MEMORY_BLOCK_ALTMAP_AFTER_REGISTRATION,
)

# The name that stands for every era on the command line and in configuration files.
ALL_ERAS = "eras"

ERAS = (
    _variant("v4.3", "v4.3", _V4_3),
    _variant("v4.5", "v4.5", _V4_5),
    _variant("v4.13", "v4.13", _V4_13),
    _variant("v5.3", "v5.3", _V5_3),
    _variant("v5.9", "v5.9", _V5_9),
    _variant("v5.15", "v5.15", _V5_15),
    _variant("v6.1", "v6.1", _V6_1),
    _variant("v6.12", "v6.12", _V6_12),
    _variant("v6.14", "v6.14", _V6_14),
    _variant("v6.17", "v6.17", _V6_17),
    _variant("v6.19", "v6.19", _V6_19),
    _variant("v7.2", "v7.2", _V7_2),
)

# Each seed's pre-patch variant: its era with the seed's commit left out.
PRE_PATCH = (
    _variant("v4.3-pre-zone-device", "v4.3", _V4_3, reverts=p.ZONE_DEVICE),
    _variant("v4.5-pre-altmap-reserve", "v4.5", _V4_5, reverts=p.ALTMAP_RESERVE),
    _variant("v4.5-pre-altmap-hotplug", "v4.5", _V4_5, reverts=p.ALTMAP_HOTPLUG),
    _variant("v4.13-pre-powerpc-altmap", "v4.13", _V4_13, reverts=p.POWERPC_ALTMAP),
    _variant("v5.9-pre-arm64-altmap", "v5.9", _V5_9, reverts=p.ARM64_ALTMAP),
    # Seed 000's skip is dead code at v4.5-v4.15 (see findings); at v5.9 it is live, so its
    # revert there is where the seed's effect can be seen.
    _variant("v5.9-pre-altmap-reserve", "v5.9", _V5_9, reverts=p.ALTMAP_RESERVE),
)

VARIANTS = ERAS + PRE_PATCH
_BY_NAME = {v.name: v for v in VARIANTS}
_MUTANTS_BY_NAME = {m.name: m for m in MUTANTS}


def variant_named(name: str) -> Variant:
    """The variant called `name`: "v4.5", "v4.5+<mutant>", "v4.5@<user patch>"; KeyError if none."""
    rest, at, user_patch = name.partition("@")
    base, plus, mutant = rest.partition("+")
    if (plus and not mutant) or (at and not user_patch):
        raise KeyError(name)
    v = _BY_NAME[base]
    m = _MUTANTS_BY_NAME[mutant] if mutant else None
    if m is None and not user_patch:
        return v
    return Variant(name, v.version, v.patches, v.reverts, m, v.keys, user_patch)


def variant_names() -> tuple[str, ...]:
    return tuple(v.name for v in VARIANTS)


def mutant_named(name: str) -> Mutant:
    return _MUTANTS_BY_NAME[name]

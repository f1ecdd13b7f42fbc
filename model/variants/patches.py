"""Upstream commits whose behaviour the model follows; the seeds first, then the eras' other changes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Patch:
    """A record of one upstream kernel commit the model follows."""

    key: str
    commit: str  # the seed file's id for the five seeds, else the upstream commit; "" if not found
    title: str
    version: str  # the release that first shipped it
    seed: str = ""  # the seed file number, for the five seed commits
    upstream: str = ""  # the upstream commit of a seed, where it differs from the seed's id
    # where the change was read when its mainline id was not found: a posting, a point release
    source: str = ""

    @property
    def id(self) -> str:
        """The commit id to print: the seed's or upstream id, or a note that none was found."""
        return self.commit or "(id not found)"


ZONE_DEVICE = Patch(
    "zone-device",
    "8c8c1c5c86e9fc59",
    'mm: ZONE_DEVICE for "device memory"',
    "v4.3",
    seed="004",
    upstream="033fbae988fc",
)
ALTMAP_RESERVE = Patch(
    "altmap-reserve",
    "03f8ac62e94d744c",
    "x86, mm: introduce vmem_altmap to augment vmemmap_populate() (mm/page_alloc.c: memmap_init_zone)",
    "v4.5",
    seed="000",
)
ALTMAP_HOTPLUG = Patch(
    "altmap-hotplug",
    "614186c0c6d662a8",
    "x86, mm: introduce vmem_altmap to augment vmemmap_populate() (mm/memory_hotplug.c)",
    "v4.5",
    seed="001",
)
X86_ALTMAP = Patch(
    "x86-altmap",
    "4b94ffdc4163",
    "x86, mm: introduce vmem_altmap to augment vmemmap_populate() (arch/x86, mm/sparse-vmemmap.c)",
    "v4.5",
)
POWERPC_ALTMAP = Patch(
    "powerpc-altmap",
    "d85431d18d96ba40",
    "powerpc/vmemmap: Add altmap support",
    "v4.13",
    seed="002",
    upstream="b584c2544041",
)
ZONES_AT_ONLINE = Patch(
    "zones-at-online",
    "f1dd2cd13c4b",
    "mm, memory_hotplug: do not associate hotadded memory to zones until online",
    "v4.13",
)
EXPLICIT_ALTMAP = Patch(
    "explicit-altmap",
    "24e6d5a59ac7",
    "mm: pass the vmem_altmap to arch_add_memory and __add_pages (and the rest of the series)",
    "v4.16",
)
MEMMAP_INIT_ZONE_DEVICE = Patch(
    "memmap-init-zone-device",
    "966cf44f637e",
    "mm: defer ZONE_DEVICE page initialization to the point where we init pgmap",
    "v4.20",
)
SUBSECTION_HOTPLUG = Patch(
    "subsection-hotplug", "ba72b4c8cf60", "mm/sparsemem: support sub-section hotplug", "v5.3"
)
POWERPC_ALTMAP_FALLBACK = Patch(
    "powerpc-altmap-fallback",
    "9ef34630a461",
    "powerpc/mm: Fallback to RAM if the altmap is unusable",
    "v5.0",
)
ALTMAP_END_PFN = Patch(
    "altmap-end-pfn",
    "cf387d9644d8",
    "libnvdimm/altmap: Track namespace boundaries in altmap",
    "v5.5",
)
# arm64 could select ZONE_DEVICE once it had pte_devmap (73b20c84d42d, v5.3) and hot-remove:
# "select ARCH_ENABLE_MEMORY_HOTREMOVE" is this commit's; mm/Kconfig's "config ZONE_DEVICE"
# depends on MEMORY_HOTREMOVE
ARM64_ZONE_DEVICE = Patch("arm64-zone-device", "bbd6ec605c0f", "arm64/mm: Enable memory hot remove", "v5.7")
POWERPC_POPULATED_SUBSECTION = Patch(
    "powerpc-populated-subsection",
    "",
    "powerpc/nvdimm: Update vmemmap_populated to check sub-section range",
    "v5.5",
    source="[PATCH v2] (Aneesh Kumar K.V, 2019-09-17), in the powerpc-5.5-1 pull",
)
SHRINK_ZONES = Patch(
    "shrink-zones",
    "feee6b298916",
    "mm/memory_hotplug: shrink zones when offlining memory (arch_remove_memory() reads no zone)",
    "v5.5",
)
HOTPLUG_ADDRESSABLE = Patch(
    "hotplug-addressable",
    "",
    "mm/memory_hotplug.c: add a bounds check to __add_pages()",
    "v5.6",
    source="[PATCH v4] memory_hotplug: Add a bounds check to __add_pages (Alastair D'Silva, "
    "2019-09-26); still carried in his series on 2019-12-03, dropped from it as upstream on 2020-02-21",
)
ARM64_ALTMAP = Patch(
    "arm64-altmap",
    "01091d25e39408fc",
    "arm64/mm: enable vmem_altmap support for vmemmap mappings",
    "v5.9",
    seed="003",
    upstream="eee07935bb52",
)

ARM64_VMEMMAP_FALLBACK = Patch(
    "arm64-vmemmap-fallback",
    "9f84f39f5515",
    "arm64/mm: add fallback option to allocate virtually contiguous memory",
    "v5.11",
)
MHP_PARAMS = Patch(
    "mhp-params",
    "f5637d3b42ab",
    "mm/memory_hotplug: rename mhp_restrictions to mhp_params (the altmap travels in struct mhp_params)",
    "v5.8",
)
MULTI_RANGE_PGMAP = Patch(
    "multi-range-pgmap",
    "b7b3c01b1915",
    "mm/memremap_pages: support multiple ranges per invocation (only range 0 may carry the altmap)",
    "v5.10",
)
MHP_RANGE_ALLOWED = Patch(
    "mhp-range-allowed",
    "bca3feaa0764",
    "mm/memory_hotplug: prevalidate the address range being added with platform",
    "v5.12",
)
MEMMAP_ON_MEMORY = Patch(
    "memmap-on-memory",
    "a08a2ae34613",
    "mm,memory_hotplug: allocate memmap from the added memory range",
    "v5.13",
)
COMPOUND_DEVMAP = Patch(
    "compound-devmap",
    "4917f55b4ef9",
    "mm/sparse-vmemmap: improve memory savings for compound devmaps",
    "v5.19",
)
POWERPC_CROSS_BOUNDARY_END = Patch(
    "powerpc-cross-boundary-end",
    "c8eebc4a99f1",
    "powerpc/mm/dax: Fix the condition when checking if altmap vmemap can cross-boundary",
    "v6.5",
)
POWERPC_ALTMAP_BOUNDARY = Patch(
    "powerpc-altmap-boundary",
    "6722b2571205",
    "powerpc/mm/altmap: Fix altmap boundary check",
    "v6.5",
)
COMPOUND_DEVMAP_OPT_IN = Patch(
    "compound-devmap-opt-in",
    "87a7ae75d738",
    "mm/vmemmap/devdax: fix kernel crash when probing devdax devices (vmemmap_can_optimize() only "
    "where the arch opts in)",
    "v6.4",
)
GENERIC_VMEMMAP_HUGEPAGES = Patch(
    "generic-vmemmap-hugepages",
    "2045a3b8911b",
    "mm/sparse-vmemmap: generalise vmemmap_populate_hugepages() (x86 and arm64 use it)",
    "v6.2",
)
MAP_OFFSET_REMOVED = Patch(
    "map-offset-removed",
    "",
    "mm/sparse: remove unused parameters in sparse_remove_section() (map_offset's last use, "
    "clear_hwpoisoned_pages(), went in v6.2)",
    "v6.5",
    source="Yajun Deng's patch in the v6.5 mm pull; __remove_pages() passes map_offset in 6.1.176, "
    "not in 6.12.118",
)
MEMMAP_ON_MEMORY_PAGEBLOCK = Patch(
    "memmap-on-memory-pageblock",
    "2d1f649c7c08",
    "mm/memory_hotplug: support memmap_on_memory when memmap is not aligned to pageblocks",
    "v6.6",
)
ARCH_SUPPORTS_MEMMAP_ON_MEMORY = Patch(
    "arch-supports-memmap-on-memory",
    "85a2b4b08f20",
    "mm/memory_hotplug: allow architecture to override memmap on memory support check",
    "v6.6",
)
RADIX_MEMMAP_ON_MEMORY = Patch(
    "radix-memmap-on-memory",
    "603fd64dfa45",
    "powerpc/book3s64/memhotplug: enable memmap on memory for radix",
    "v6.6",
)
RADIX_VMEMMAP = Patch(
    "radix-vmemmap",
    "368a0590d954",
    "powerpc/book3s64/vmemmap: switch radix to use a different vmemmap handling function",
    "v6.6",
)
VMEMMAP_CAN_OPTIMIZE_RESERVE = Patch(
    "vmemmap-can-optimize-reserve",
    "",
    "mm/vmemmap: Improve vmemmap_can_optimize and allow architectures to override",
    "v6.6",
    source="[PATCH v4 03/13] (Aneesh Kumar K.V, 2023-07-10) of the ppc64 DAX vmemmap series with "
    "f2b79c0d7968; 6.12.118 include/linux/mm.h",
)
RADIX_DAX_VMEMMAP = Patch(
    "radix-dax-vmemmap",
    "f2b79c0d7968",
    "powerpc/book3s64/radix: add support for vmemmap optimization for radix",
    "v6.6",
)
MEMORY_BLOCK_ALTMAP = Patch(
    "memory-block-altmap",
    "1a8c64e11043",
    "mm/memory_hotplug: embed vmem_altmap details in memory block",
    "v6.6",
)
MEMMAP_ON_MEMORY_PER_BLOCK = Patch(
    "memmap-on-memory-per-block",
    "6b8f0798b85a",
    "mm/memory_hotplug: split memmap_on_memory requests across memblocks",
    "v6.8",
)
KMEM_MEMMAP_ON_MEMORY = Patch(
    "kmem-memmap-on-memory",
    "4eca0ef49af9",
    "dax/kmem: allow kmem to add memory with memmap_on_memory",
    "v6.8",
)
ARM64_SUBSECTION_BASEPAGES = Patch(
    "arm64-subsection-basepages",
    "d4234d131b0a",
    "arm64: mm: Populate vmemmap at the page level if not section aligned",
    "v6.14",
)
RADIX_VMEMMAP_ALIGN = Patch(
    "radix-vmemmap-align",
    "9cf7e13fecba",
    "book3s64/radix : Align section vmemmap start address to PAGE_SIZE",
    "v6.15",
)
RADIX_VMEMMAP_ALIGN_RAM = Patch(
    "radix-vmemmap-align-ram",
    "f5164797284d",
    "book3s64/radix : Optimize vmemmap start alignment",
    "v6.17",
)
MEMMAP_ACCOUNTING = Patch(
    "memmap-accounting",
    "c3576889d87b",
    "mm: fix accounting of memmap pages (counted in section_activate(), taken back in section_deactivate())",
    "v6.17",
)
MEMMAP_ACCOUNTING_UNDERFLOW = Patch(
    "memmap-accounting-underflow",
    "",
    "mm/sparse-vmemmap: fix vmemmap accounting underflow",
    "v7.2",
    source="[PATCH v8 1/6] (Muchun Song, 2026-04-28; Fixes: c3576889d87b), in mm-stable on "
    "2026-05-28; 7.2.13 mm/sparse-vmemmap.c populate_section_memmap()",
)
X86_PAGETABLE_FREE = Patch(
    "x86-pagetable-free",
    "bf9e4e30f353",
    "x86/mm: use pagetable_free() (a PMD of vmemmap from RAM is freed as its first page)",
    "v6.19",
)
X86_VMEMMAP_FREE = Patch(
    "x86-vmemmap-free",
    "",
    "x86/mm: fix freeing of PMD-sized vmemmap pages",
    "v7.2",
    source="[PATCH v2] (David Hildenbrand, 2026-04-29; Fixes: bf9e4e30f353); first tag v7.1 or v7.2, "
    "not pinned; 7.2.13 arch/x86/mm/init_64.c free_vmemmap_pages()",
)
DAX_VMEMMAP_ACCOUNTING = Patch(
    "dax-vmemmap-accounting",
    "",
    "mm/sparse-vmemmap: fix DAX vmemmap accounting with optimization",
    "v7.2",
    source="[PATCH v8 4/6] (Muchun Song; Fixes: 15995a352474); 7.2.13 mm/sparse-vmemmap.c "
    "section_nr_vmemmap_pages()",
)
GENERIC_VMEMMAP_PMD = Patch(
    "generic-vmemmap-pmd",
    "",
    "mm/sparse-vmemmap: provide generic vmemmap_set_pmd() and vmemmap_check_pmd() (arm64's own "
    "copies removed)",
    "v7.2",
    source="[PATCH v3 1/5] (Muchun Song, 2026-06-01); 7.2.13 mm/sparse-vmemmap.c, arch/arm64/mm/mmu.c",
)
MEMUNMAP_PFN_FIRST = Patch(
    "memunmap-pfn-first",
    "77e080e7680e",
    "mm/memunmap: don't access uninitialized memmap in memunmap_pages()",
    "v5.4",
)
MHP_ADD_ERROR_PATH_ALTMAP = Patch(
    "mhp-add-error-path-altmap",
    "f42ce5f087eb",
    "mm/memory_hotplug: fix error handling in add_memory_resource()",
    "v6.7",
)
MHP_ERROR_PATH_ALTMAP = Patch(
    "mhp-error-path-altmap",
    "",
    "mm/memory_hotplug: Fix incorrect altmap passing in error path",
    "v7.2",
    source="[PATCH v8 2/6] (Muchun Song, 2026-04-28; Fixes: 6b8f0798b85a); first tag v7.1 or "
    "v7.2, not pinned; 7.2.13 "
    "mm/memory_hotplug.c create_altmaps_and_memory_blocks()",
)
MEMORY_BLOCK_ALTMAP_AFTER_REGISTRATION = Patch(
    "memory-block-altmap-after-registration",
    "a2b8d7827f48",
    "drivers/base/memory: set mem->altmap after successful device registration",
    "v7.2",
    source="Georgi Djakov, 2026-05-14 (Fixes: 1a8c64e11043); first tag v7.1 or v7.2, not pinned; "
    "7.2.13 drivers/base/memory.c add_memory_block()",
)
# 9d8573111024 "mm: don't account memmap per-node" made the counter global before v6.11 shipped;
# one node is modelled, so the two count alike
NR_MEMMAP = Patch("nr-memmap", "15995a352474", "mm: report per-page metadata information", "v6.11")

PATCHES = (
    ZONE_DEVICE,
    ALTMAP_RESERVE,
    ALTMAP_HOTPLUG,
    X86_ALTMAP,
    POWERPC_ALTMAP,
    ZONES_AT_ONLINE,
    EXPLICIT_ALTMAP,
    MEMMAP_INIT_ZONE_DEVICE,
    SUBSECTION_HOTPLUG,
    POWERPC_ALTMAP_FALLBACK,
    ALTMAP_END_PFN,
    POWERPC_POPULATED_SUBSECTION,
    SHRINK_ZONES,
    HOTPLUG_ADDRESSABLE,
    ARM64_ZONE_DEVICE,
    ARM64_ALTMAP,
    ARM64_VMEMMAP_FALLBACK,
    MHP_PARAMS,
    MULTI_RANGE_PGMAP,
    MHP_RANGE_ALLOWED,
    MEMMAP_ON_MEMORY,
    COMPOUND_DEVMAP,
    GENERIC_VMEMMAP_HUGEPAGES,
    POWERPC_CROSS_BOUNDARY_END,
    POWERPC_ALTMAP_BOUNDARY,
    MAP_OFFSET_REMOVED,
    COMPOUND_DEVMAP_OPT_IN,
    MEMMAP_ON_MEMORY_PAGEBLOCK,
    ARCH_SUPPORTS_MEMMAP_ON_MEMORY,
    RADIX_VMEMMAP,
    RADIX_MEMMAP_ON_MEMORY,
    VMEMMAP_CAN_OPTIMIZE_RESERVE,
    RADIX_DAX_VMEMMAP,
    MEMORY_BLOCK_ALTMAP,
    MEMMAP_ON_MEMORY_PER_BLOCK,
    KMEM_MEMMAP_ON_MEMORY,
    NR_MEMMAP,
    ARM64_SUBSECTION_BASEPAGES,
    RADIX_VMEMMAP_ALIGN,
    RADIX_VMEMMAP_ALIGN_RAM,
    MEMMAP_ACCOUNTING,
    X86_PAGETABLE_FREE,
    X86_VMEMMAP_FREE,
    MEMMAP_ACCOUNTING_UNDERFLOW,
    DAX_VMEMMAP_ACCOUNTING,
    GENERIC_VMEMMAP_PMD,
    MEMUNMAP_PFN_FIRST,
    MHP_ADD_ERROR_PATH_ALTMAP,
    MHP_ERROR_PATH_ALTMAP,
    MEMORY_BLOCK_ALTMAP_AFTER_REGISTRATION,
)

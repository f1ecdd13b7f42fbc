"""The properties mhpcheck checks: invariants, step properties, monitors and reachability witnesses."""

from __future__ import annotations

from mhpcheck.core.spec import Property
from mhpcheck.properties.altmap_bounds import (
    altmap_alloc_never_exceeds_free,
    altmap_frees_only_its_own_pages,
    altmap_leaves_below_next_pfn,
    altmap_leaves_inside_free_area,
)
from mhpcheck.properties.failures import (
    add_fails_on_an_injected_fault,
    failed_add_leaves_earlier_sections,
    failed_add_leaves_nothing_behind,
    failed_allocation_fails_the_add_with_enomem,
    pmd_failure_falls_back_to_base_pages,
    successful_add_has_every_section,
    system_memory_never_over_freed,
    valid_add_succeeds_without_faults,
)
from mhpcheck.properties.map_offset import map_offset_first_section_only
from mhpcheck.properties.memmap_init import device_data_pfns_initialised, struct_pages_read_are_initialised
from mhpcheck.properties.memmap_on_memory import (
    block_memmap_lies_inside_its_block,
    memmap_on_memory_block_online,
    memmap_on_memory_pages_never_given_to_page_allocator,
)
from mhpcheck.properties.memmap_source import (
    altmap_device_memmap_not_from_system_memory,
    altmap_leaves_belong_to_present_devices,
    altmap_leaves_describe_own_device,
    cross_boundary_fallback_only_across_the_boundary,
)
from mhpcheck.properties.memory_blocks import memory_block_released_without_altmap
from mhpcheck.properties.nr_memmap import nr_memmap_pages_count_the_memmap_mapped
from mhpcheck.properties.nvdimm import pfn_info_block_inside_reserve
from mhpcheck.properties.removal import (
    altmap_fully_freed_on_release,
    nothing_left_when_all_removed,
    present_sections_have_memmap,
    removal_returns_every_leaf_to_its_source,
)
from mhpcheck.properties.reserve import reserve_pfns_never_initialised
from mhpcheck.properties.validation import invalid_altmap_rejected_with_einval
from mhpcheck.properties.witnesses import (
    add_fails_for_lack_of_memmap,
    add_rejected_by_validation,
    altmap_exhausted,
    devices_share_a_vmemmap_page,
    multi_section_device_removed,
    powerpc_falls_back_to_system_memory,
)
from mhpcheck.properties.zone_device import (
    device_memory_in_zone_device,
    device_resource_left_to_driver,
    no_struct_page_read_outside_memmap,
)

PROPERTIES: tuple[Property, ...] = (
    altmap_alloc_never_exceeds_free,
    altmap_leaves_inside_free_area,
    altmap_leaves_below_next_pfn,
    reserve_pfns_never_initialised,
    invalid_altmap_rejected_with_einval,
    map_offset_first_section_only,
    altmap_device_memmap_not_from_system_memory,
    cross_boundary_fallback_only_across_the_boundary,
    altmap_leaves_describe_own_device,
    altmap_leaves_belong_to_present_devices,
    removal_returns_every_leaf_to_its_source,
    altmap_fully_freed_on_release,
    nothing_left_when_all_removed,
    present_sections_have_memmap,
    device_memory_in_zone_device,
    device_resource_left_to_driver,
    no_struct_page_read_outside_memmap,
    failed_allocation_fails_the_add_with_enomem,
    failed_add_leaves_nothing_behind,
    successful_add_has_every_section,
    system_memory_never_over_freed,
    altmap_exhausted,
    devices_share_a_vmemmap_page,
    add_rejected_by_validation,
    add_fails_for_lack_of_memmap,
    multi_section_device_removed,
    powerpc_falls_back_to_system_memory,
    add_fails_on_an_injected_fault,
    failed_add_leaves_earlier_sections,
    pmd_failure_falls_back_to_base_pages,
    memmap_on_memory_pages_never_given_to_page_allocator,
    block_memmap_lies_inside_its_block,
    memmap_on_memory_block_online,
    nr_memmap_pages_count_the_memmap_mapped,
    memory_block_released_without_altmap,
    altmap_frees_only_its_own_pages,
    struct_pages_read_are_initialised,
    device_data_pfns_initialised,
    pfn_info_block_inside_reserve,
    valid_add_succeeds_without_faults,
)


def property_named(name: str) -> Property:
    for p in PROPERTIES:
        if p.name == name:
            return p
    raise KeyError(name)

"""evolve() and with_altmap(): the generated setters change exactly the field they name."""

from dataclasses import replace

import pytest

from mhpcheck.core.values import Word
from mhpcheck.model.state import DeviceRange, KernelState, VmemAltmap, evolve, state_key


def _state():
    a = VmemAltmap(Word(0x100), Word(2), Word(0x40), Word(0), Word(5))
    ranges = tuple(DeviceRange(d, Word(0x100 * (d + 1)), Word(0x100), a) for d in range(3))
    return KernelState(device_ranges=ranges, sysmem_vmemmap_pages=7, faults_injected=1)


@pytest.mark.parametrize(
    "changes",
    [{"sysmem_vmemmap_pages": 9}, {"faults_injected": 0}, {"sysmem_vmemmap_pages": 1, "nr_memmap_pages": 4}],
)
def test_evolve_is_replace(changes):
    s = _state()
    assert state_key(evolve(s, **changes)) == state_key(replace(s, **changes))
    assert evolve(s, **changes).nr_memmap_pages == replace(s, **changes).nr_memmap_pages


def test_evolve_of_a_field_the_record_lacks_is_a_type_error():
    with pytest.raises(TypeError, match="has no field 'sysmem_pages'"):
        evolve(_state(), sysmem_pages=1)


def test_with_altmap_replaces_that_devices_altmap_only():
    s = _state()
    new = VmemAltmap(Word(0x200), Word(0), Word(0x10), Word(0), Word(1))
    s2 = s.with_altmap(1, new)
    assert s2.device_ranges[0] is s.device_ranges[0] and s2.device_ranges[2] is s.device_ranges[2]
    assert s2.altmap_of(1) is new and s2.device_ranges[1].start_pfn is s.device_ranges[1].start_pfn
    assert state_key(replace(s2, device_ranges=s.device_ranges)) == state_key(s)

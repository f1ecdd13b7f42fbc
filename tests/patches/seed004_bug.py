"""Re-introduces seed 004's bug: device memory is added to the default zone, not ZONE_DEVICE."""

from mhpcheck.model.ops import memory_hotplug
from mhpcheck.patching import replaces

ORIGINAL = memory_hotplug.zone_for_memory


@replaces("mm/memory_hotplug.c:zone_for_memory")
def zone_for_memory(k, nid, for_device):
    return ORIGINAL(k, nid, False)

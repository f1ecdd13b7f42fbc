from mhpcheck.patching import replaces


@replaces("mm/memory_hotplug.c:zone_for_memory")
def zone_for_memory(k, nid):
    return None

from mhpcheck.patching import replaces


@replaces("mm/memory_hotplug.c:__add_pagez")
def _add_pagez(k, s):
    return s, 0

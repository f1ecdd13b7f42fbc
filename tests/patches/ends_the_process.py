"""A patch that ends the process it runs in, as a stray os._exit(0) in a debugging edit would."""

import os

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    os._exit(0)

"""A patch that calls sys.exit(3) while the model runs it."""

import sys

from mhpcheck.patching import replaces


@replaces("kernel/memremap.c:vmem_altmap_offset")
def vmem_altmap_offset(k, altmap):
    sys.exit(3)

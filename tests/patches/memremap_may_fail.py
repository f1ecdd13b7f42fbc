"""memremap_pages() with a call that may fail before anything is mapped (as percpu_ref_init()
can): a failure point the patch declares, explored by --faults like a vmemmap allocation."""

from mhpcheck.model.errno import ENOMEM
from mhpcheck.model.ops import memremap
from mhpcheck.patching import replaces

MODEL = memremap.memremap_pages


@replaces("mm/memremap.c:memremap_pages")
def memremap_pages(k, s, pgmap):
    if k.may_fail("percpu_ref_init"):
        return s, -ENOMEM
    return MODEL(k, s, pgmap)

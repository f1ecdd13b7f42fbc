"""Re-introduces into v7.2 what a2b8d7827f48 ("drivers/base/memory: set mem->altmap after
successful device registration", Georgi Djakov, 2026; Fixes: 1a8c64e11043) fixed:
add_memory_block() hands the altmap to the memory block before the block's device is
registered. When __add_memory_block() fails (device_register() or xa_store()), the put ends in
memory_block_release() with mem->altmap still set, which is its WARN_ON(mem->altmap); the caller
frees that altmap itself.

drivers/base/memory.c:add_memory_block() before the fix (v6.6, 1a8c64e11043):

        mem->start_section_nr = block_id * sections_per_block;
        mem->state = state;
        mem->nid = NUMA_NO_NODE;
        mem->altmap = altmap;
        INIT_LIST_HEAD(&mem->group_next);
        ...
        ret = __add_memory_block(mem);
        if (ret)
                return ret;

as of 7.2 (the fix):

        ret = __add_memory_block(mem);
        if (ret)
                return ret;

        mem->altmap = altmap;
"""

from mhpcheck.model.errno import EEXIST
from mhpcheck.model.ops import memory
from mhpcheck.model.state import MemoryBlock, evolve
from mhpcheck.patching import replaces


@replaces("drivers/base/memory.c:add_memory_block")
def add_memory_block(k, s, section_nr, nr_vmemmap_pages, altmap):
    if s.memory_block(section_nr) is not None:  # find_memory_block_by_id()
        return s, -EEXIST
    # the bug: "mem->altmap = altmap;" before "ret = __add_memory_block(mem);"
    mem = MemoryBlock(section_nr, nr_vmemmap_pages, altmap, None)
    ret = memory._add_memory_block(k, mem)
    if ret:
        return s, ret
    blocks = tuple(sorted((*s.memory_blocks, mem), key=lambda b: b.start_section_nr))
    return evolve(s, memory_blocks=blocks), 0

"""Re-introduces into v7.2 the error path f42ce5f087eb ("mm/memory_hotplug: fix error handling
in add_memory_resource()", Sumanth Korikkar, v6.7) fixed: when create_memory_block_devices()
fails after arch_add_memory() took the memmap from the memory's own altmap, the undo passes
NULL, so vmemmap_free() gives those pages to the page allocator. 6b8f0798b85a (v6.8) moved the
memmap_on_memory add into create_altmaps_and_memory_blocks() with the same NULL, fixed again in
2026 ("mm/memory_hotplug: Fix incorrect altmap passing in error path", Muchun Song); v7.2 is the
first era with both fixes.

mm/memory_hotplug.c:add_memory_resource() before f42ce5f087eb (v5.15):

        /* create memory block devices after memory was added */
        ret = create_memory_block_devices(start, size, mhp_altmap.alloc, group);
        if (ret) {
                arch_remove_memory(start, size, NULL);
                goto error;
        }

create_altmaps_and_memory_blocks() as of 7.2 (both fixes):

                ret = create_memory_block_devices(cur_start, memblock_size, nid,
                                                  params.altmap, group);
                if (ret) {
                        arch_remove_memory(cur_start, memblock_size, params.altmap, NULL);
                        kfree(params.altmap);
                        goto out;
                }
"""

from mhpcheck.model.ops import memory, memory_hotplug
from mhpcheck.model.state import mhp_altmap_ref
from mhpcheck.patching import replaces


@replaces("mm/memory_hotplug.c:create_altmaps_and_memory_blocks")
def create_altmaps_and_memory_blocks(k, s, nid, start_pfn, nr_pages):
    block = memory.memory_block_size_bytes(k)
    block_pages = block >> k.arch.PAGE_SHIFT
    for i in range(k.sem.concrete(nr_pages) // block_pages):
        cur_start = start_pfn + i * block_pages
        ref = mhp_altmap_ref(memory_hotplug.pfn_to_section_nr(k, cur_start))
        s = memory_hotplug._put_altmap(s, ref, memory_hotplug._mhp_altmap(k, cur_start, block))
        s, ret = k.arch.arch_add_memory(k, s, nid, cur_start, k.sem.word(block_pages), False, ref)
        if ret < 0:
            s = memory_hotplug._put_altmap(s, ref, None)
            if i:
                s = memory_hotplug.remove_memory_blocks_and_altmaps(
                    k, s, start_pfn, k.sem.word(i * block_pages)
                )
            return s, ret
        a = s.altmap_of(ref)
        s, ret = memory.create_memory_block_devices(
            k, s, cur_start, k.sem.word(block_pages), ref, k.sem.concrete(a.free)
        )
        if ret:
            # the bug: "arch_remove_memory(cur_start, memblock_size, NULL);"
            s, _ = k.arch.arch_remove_memory(k, s, cur_start, k.sem.word(block_pages), None)
            s = memory_hotplug._put_altmap(s, ref, None)
            if i:
                s = memory_hotplug.remove_memory_blocks_and_altmaps(
                    k, s, start_pfn, k.sem.word(i * block_pages)
                )
            return s, ret
    return s, 0
